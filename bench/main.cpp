// SPDX-License-Identifier: ISC
// filter-arc-bench: ARC sealing and verification against the hardware's limit, measured in one
// run on one core (issue #9). Prints a table and one "BENCH name=... key=value ..." line per
// figure. Run it pinned: `taskset -c 1 filter-arc-bench` (scripts/bench does).
#include "arc/canon.hpp"
#include "arc/header.hpp"
#include "tests/dns/responder.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "bench/corpus.hpp"
#include "bench/filter_run.hpp"
#include "bench/library.hpp"
#include "bench/limits.hpp"
#include "bench/measure.hpp"
#include "bench/stream.hpp"

namespace arcf::bench {

namespace {

struct Options {
    RunShape shape;
    std::string filter = ARCF_FILTER_ARC;
    std::size_t messages = 2000; ///< per whole-filter repetition
    int filter_reps = 3;
    std::string only;         ///< run only figures whose name contains this
    bool limits = true;       ///< --no-limits (for profiling one figure): ratios become meaningless
    std::string save_streams; ///< a directory: each protocol stream is written there too
};

// With --save-streams, the protocol stream of `job` as smtpd would send it (commits after each
// message), for replaying it by hand: filter-arc -c CONFIG < FILE.
void save_stream(const Options& o, const std::string& name, const FilterJob& job) {
    if (o.save_streams.empty())
        return;
    std::ofstream out(o.save_streams + "/" + name + ".stream", std::ios::binary);
    out << job.initial;
    for (const auto& t : job.transactions)
        out << t;
    if (!out)
        throw std::runtime_error("cannot write to " + o.save_streams);
}

/// One figure of the table. `ratio` compares `value` with what bounds it (`bound`).
struct Figure {
    std::string name;
    std::string label;
    double bytes = 0;     ///< message size (0: not a per-message figure)
    double per_s = 0;     ///< messages (or operations) per CPU second
    double mb_per_s = 0;  ///< 10^6 bytes per CPU second
    double limit = 0;     ///< the bound, in the figure's unit
    double ratio = 0;     ///< per_s / limit (or MB/s / SHA-256 MB/s, or RSS / budget)
    std::string bound;    ///< what `limit` is
    double target = 0;    ///< issue #9's target for the ratio (0: none)
    bool at_most = false; ///< the target is a ceiling (RSS), not a floor
    std::string extra;    ///< more key=value pairs for the machine-readable line
};

std::vector<Figure> figures;

void emit(const Figure& f) {
    figures.push_back(f);
    std::printf("BENCH name=%s", f.name.c_str());
    if (f.bytes > 0)
        std::printf(" bytes=%.0f", f.bytes);
    if (f.per_s > 0)
        std::printf(" per_s=%.1f", f.per_s);
    if (f.mb_per_s > 0)
        std::printf(" mb_per_s=%.1f", f.mb_per_s);
    if (f.limit > 0)
        std::printf(" limit=%.1f bound=%s ratio=%.3f", f.limit, f.bound.c_str(), f.ratio);
    if (f.target > 0)
        std::printf(" target=%s%.2f met=%s", f.at_most ? "<=" : ">=", f.target,
                    (f.at_most ? f.ratio <= f.target : f.ratio >= f.target) ? "yes" : "no");
    if (!f.extra.empty())
        std::printf(" %s", f.extra.c_str());
    std::printf("\n");
    std::fflush(stdout);
}

bool wanted(const Options& o, const std::string& name) {
    return o.only.empty() || name.find(o.only) != std::string::npos;
}

std::string size_name(std::size_t bytes) {
    return bytes >= 1024 * 1024 ? std::to_string(bytes / (1024 * 1024)) + "m"
                                : std::to_string(bytes / 1024) + "k";
}

std::string size_label(std::size_t bytes) {
    return bytes >= 1024 * 1024 ? std::to_string(bytes / (1024 * 1024)) + " MiB"
                                : std::to_string(bytes / 1024) + " KiB";
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + path);
    chmod(path.c_str(), 0600);
}

std::string zone_of(const KeyRing& ring) {
    std::string z;
    for (const auto& [name, answer] : ring.answers) {
        z += name.dns_name() + ". 300 IN TXT (";
        const std::string& txt = answer.records.at(0);
        for (std::size_t i = 0; i < txt.size(); i += 250)
            z += " \"" + txt.substr(i, 250) + "\"";
        z += " )\n";
    }
    return z;
}

void print_table() {
    std::printf("\n%-44s %11s %9s %12s  %-22s %6s %s\n", "figure", "msgs/s", "MB/s", "limit",
                "bound", "ratio", "target");
    for (const auto& f : figures) {
        char per_s[32] = "", mb[32] = "", limit[32] = "", ratio[32] = "", target[32] = "";
        if (f.per_s > 0)
            std::snprintf(per_s, sizeof per_s, "%.0f", f.per_s);
        if (f.mb_per_s > 0)
            std::snprintf(mb, sizeof mb, "%.1f", f.mb_per_s);
        if (f.limit > 0) {
            std::snprintf(limit, sizeof limit, "%.0f", f.limit);
            std::snprintf(ratio, sizeof ratio, "%.3f", f.ratio);
        }
        if (f.target > 0) {
            bool met = f.at_most ? f.ratio <= f.target : f.ratio >= f.target;
            std::snprintf(target, sizeof target, "%s%.2f %s", f.at_most ? "<=" : ">=", f.target,
                          met ? "met" : "NOT MET");
        }
        std::printf("%-44s %11s %9s %12s  %-22s %6s %s\n", f.label.c_str(), per_s, mb, limit,
                    f.bound.c_str(), ratio, target);
    }
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--quick") {
            o.shape.reps = 3;
            o.shape.min_seconds = 0.1;
            o.messages = 500;
            o.filter_reps = 1;
        } else if (a == "--reps") {
            o.shape.reps = std::stoi(value());
        } else if (a == "--seconds") {
            o.shape.min_seconds = std::stod(value());
        } else if (a == "--filter") {
            o.filter = value();
        } else if (a == "--messages") {
            o.messages = std::stoul(value());
        } else if (a == "--filter-reps") {
            o.filter_reps = std::stoi(value());
        } else if (a == "--save-streams") {
            o.save_streams = value();
        } else if (a == "--no-limits") {
            o.limits = false;
        } else if (a == "--only") {
            o.only = value();
        } else if (a == "--help" || a == "-h") {
            std::printf("usage: filter-arc-bench [--quick] [--reps N] [--seconds S] "
                        "[--filter PATH] [--messages N] [--filter-reps N] [--only SUBSTRING]\n"
                        "                        [--no-limits] [--save-streams DIR]\n");
            std::exit(0);
        } else {
            throw std::runtime_error("unknown argument " + a);
        }
    }
    return o;
}

struct FilterFigures {
    double per_cpu_s = 0, per_wall_s = 0;
    long rss_kb = 0;
};

FilterFigures whole_filter(const Options& o,
                           const std::string& name,
                           const std::string& config,
                           const std::string& dir,
                           const std::vector<std::string>& lines,
                           std::size_t messages,
                           const std::string& marker,
                           int reps) {
    std::vector<double> cpu, wall;
    long rss = 0;
    for (int r = 0; r < reps; ++r) {
        FilterJob job;
        job.argv = {o.filter, "-c", config};
        job.initial = handshake();
        for (std::size_t i = 0; i < messages; ++i)
            job.transactions.push_back(transaction(session_id(i), lines));
        job.window = 8;
        job.expected = messages;
        job.seal_marker = marker;
        job.stderr_path = dir + "/filter.log";
        if (r == 0)
            save_stream(o, name, job);
        auto run = run_filter(job);
        if (!run.ok)
            throw std::runtime_error("whole filter: " + run.error + " (log: " + job.stderr_path +
                                     ")");
        if (run.sealed != messages)
            throw std::runtime_error("whole filter: " + std::to_string(run.sealed) + " of " +
                                     std::to_string(messages) + " messages sealed");
        cpu.push_back(static_cast<double>(messages) / run.cpu_seconds);
        wall.push_back(static_cast<double>(messages) / run.wall_seconds);
        rss = std::max(rss, run.peak_rss_kb);
    }
    return FilterFigures{median(cpu), median(wall), rss};
}

long filter_rss(const Options& o,
                const std::string& name,
                const std::string& config,
                const std::string& dir,
                std::string initial,
                std::size_t expected) {
    FilterJob job;
    job.argv = {o.filter, "-c", config};
    job.initial = handshake() + initial;
    job.expected = expected;
    job.seal_marker = "|ARC-Seal: i=1;";
    job.stderr_path = dir + "/filter.log";
    save_stream(o, name, job);
    auto run = run_filter(job);
    if (!run.ok || run.sealed != expected)
        throw std::runtime_error("RSS run: " +
                                 (run.ok ? std::to_string(run.sealed) + " sealed" : run.error));
    return run.peak_rss_kb;
}

int run(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    std::printf("filter-arc-bench: %d repetitions of >= %.2f s CPU each, medians; one core\n",
                o.shape.reps, o.shape.min_seconds);

    // The limit.
    Limits lim = o.limits ? measure_limits(o.shape) : Limits{1, 1, 1};
    emit(Figure{"limit_rsa2048_sign", "limit: RSA-2048 sign (EVP)", 0, lim.rsa_sign_per_s});
    emit(Figure{"limit_rsa2048_verify", "limit: RSA-2048 verify (EVP)", 0, lim.rsa_verify_per_s});
    emit(Figure{"limit_sha256", "limit: SHA-256 (EVP)", 0, 0, lim.sha256_bytes_per_s / 1e6});

    // The corpus.
    KeyRing ring = make_keys(3, 2048);
    auto seal_key = std::make_shared<arc::SealKey>();
    seal_key->domain = "bench.test";
    seal_key->selector = "s1";
    seal_key->key = *arc::PrivateKey::generate(arc::KeyType::rsa, 2048);
    const std::vector<std::size_t> sizes = {4 * 1024, 64 * 1024, 1024 * 1024, 10 * 1024 * 1024};
    const double sha = lim.sha256_bytes_per_s;

    double library_seal_4k = 0, library_reseal_4k = 0;
    for (std::size_t size : sizes) {
        const std::string sn = size_name(size), sl = size_label(size);
        const std::string plain = make_message(size, static_cast<std::uint32_t>(size));
        const auto bytes = static_cast<double>(plain.size());
        const bool big = size >= 10 * 1024 * 1024;
        auto finish = [&](Figure f, double limit_s) {
            f.bytes = bytes;
            f.mb_per_s = f.per_s * bytes / 1e6;
            if (big) {
                // Issue #9: a 10 MiB message against SHA-256's speed alone.
                f.limit = sha / 1e6;
                f.ratio = f.mb_per_s / f.limit;
                f.bound = "SHA-256 MB/s";
                f.target = 0.60;
                f.extra = "ratio_to_full_limit=" + std::to_string(f.per_s * limit_s);
            } else {
                f.limit = 1 / limit_s;
                f.ratio = f.per_s * limit_s;
            }
            emit(f);
        };
        if (wanted(o, "seal_" + sn)) {
            Figure f{"seal_" + sn, "seal i=1, " + sl};
            f.per_s = seal_rate(lines_of(plain), seal_key, ring, o.shape);
            f.bound = "2 sign + hash";
            f.target = size == 4 * 1024 ? 0.90 : 0;
            if (size == 4 * 1024)
                library_seal_4k = f.per_s;
            finish(f, lim.seal_seconds(bytes));
        }
        for (unsigned sets : {1u, 3u}) {
            const std::string name = "verify" + std::to_string(sets) + "_" + sn;
            if (!wanted(o, name))
                continue;
            const std::string chained = add_chain(plain, sets, ring);
            Figure f{name, "verify " + std::to_string(sets) + "-set chain, " + sl};
            f.per_s = verify_rate(chained, ring, false, o.shape);
            f.bound = std::to_string(1 + sets) + " verify + hash";
            f.target = size == 4 * 1024 ? 0.50 : 0;
            finish(f, lim.verify_seconds(bytes, sets));
        }
        if (size == 4 * 1024 && wanted(o, "verify3_oldest_pass_4k")) {
            // RFC 8617 §5.2 step 5 (oldest-pass, the filter's default) also checks every
            // older AMS: 2N verifications.
            const std::string chained = add_chain(plain, 3, ring);
            Figure f{"verify3_oldest_pass_4k", "verify 3-set chain + oldest-pass, 4 KiB"};
            f.per_s = verify_rate(chained, ring, true, o.shape);
            f.bound = "6 verify + hash";
            finish(f, 6 / lim.rsa_verify_per_s + bytes / sha);
        }
        if (size == 4 * 1024 && wanted(o, "reseal1_4k")) {
            // A forwarder: verify a 1-set chain, then seal i=2.
            Figure f{"reseal1_4k", "verify 1-set + seal i=2, 4 KiB"};
            f.per_s = seal_rate(lines_of(add_chain(plain, 1, ring)), seal_key, ring, o.shape);
            f.bound = "2 sign + 2 verify + hash";
            library_reseal_4k = f.per_s;
            finish(f, lim.seal_seconds(bytes) + 2 / lim.rsa_verify_per_s);
        }
        if (big) {
            auto split = arc::split_message(plain);
            for (auto c : {arc::Canon::relaxed, arc::Canon::simple}) {
                const std::string cn(arc::to_string(c));
                if (!wanted(o, "canon_" + cn + "_" + sn))
                    continue;
                Figure f{"canon_" + cn + "_" + sn, cn + " body canon + SHA-256, " + sl};
                f.mb_per_s = canon_rate(split.body, c, o.shape) / 1e6;
                f.limit = sha / 1e6;
                f.ratio = f.mb_per_s / f.limit;
                f.bound = "SHA-256 MB/s";
                emit(f);
            }
            if (wanted(o, "canon_relaxed_text_" + sn)) {
                const std::string text = make_text_body(size, 7);
                Figure f{"canon_relaxed_text_" + sn,
                         "relaxed canon + SHA-256, " + sl + " text only"};
                f.mb_per_s = canon_rate(text, arc::Canon::relaxed, o.shape) / 1e6;
                f.limit = sha / 1e6;
                f.ratio = f.mb_per_s / f.limit;
                f.bound = "SHA-256 MB/s";
                emit(f);
            }
        }
    }

    // The whole filter, through the protocol, as smtpd drives it.
    bool want_filter = false;
    for (const char* name : {"filter_seal_4k", "filter_reseal1_4k", "rss_10m", "rss_100x1m"})
        want_filter = want_filter || wanted(o, name);
    if (want_filter) {
        // A private directory for the key, the configuration and the log; with
        // --save-streams, that directory (kept, with the streams next to them).
        std::string tmpl = (std::filesystem::temp_directory_path() / "filter-arc-bench-XXXXXX");
        if (o.save_streams.empty() && mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        const std::string dir = o.save_streams.empty() ? tmpl : o.save_streams;
        struct Cleanup {
            std::string d;
            ~Cleanup() {
                std::error_code ec;
                if (!d.empty())
                    std::filesystem::remove_all(d, ec);
            }
        } cleanup{o.save_streams.empty() ? dir : std::string()};
        dns::test::LoopbackResponder dns_server(zone_of(ring));
        write_file(dir + "/seal.key", seal_key->key.to_pem());
        const std::string config = dir + "/filter-arc.toml";
        write_file(config, "authserv-id = \"mx.bench.test\"\n"
                           "[seal]\ndomain = \"bench.test\"\nselector = \"s1\"\nkey = \"" +
                               dir + "/seal.key\"\n[dns]\nservers = [\"" + dns_server.server() +
                               "\"]\n");
        const std::string plain4k = make_message(4 * 1024, 4 * 1024);
        if (wanted(o, "filter_seal_4k")) {
            if (library_seal_4k == 0)
                library_seal_4k = seal_rate(lines_of(plain4k), seal_key, ring, o.shape);
            auto ff = whole_filter(o, "filter_seal_4k", config, dir, lines_of(plain4k), o.messages,
                                   "|ARC-Seal: i=1;", o.filter_reps);
            Figure f{"filter_seal_4k", "filter-arc process, seal i=1, 4 KiB"};
            f.bytes = static_cast<double>(plain4k.size());
            f.per_s = ff.per_cpu_s;
            f.mb_per_s = f.per_s * f.bytes / 1e6;
            f.limit = library_seal_4k;
            f.ratio = f.per_s / f.limit;
            f.bound = "library msgs/s";
            f.target = 0.80;
            f.extra = "wall_per_s=" + std::to_string(ff.per_wall_s) +
                      " peak_rss_kb=" + std::to_string(ff.rss_kb) +
                      " messages=" + std::to_string(o.messages);
            emit(f);
        }
        if (wanted(o, "filter_reseal1_4k")) {
            const auto lines = lines_of(add_chain(plain4k, 1, ring));
            if (library_reseal_4k == 0)
                library_reseal_4k = seal_rate(lines, seal_key, ring, o.shape);
            auto ff = whole_filter(o, "filter_reseal1_4k", config, dir, lines, o.messages,
                                   "|ARC-Seal: i=2;", o.filter_reps);
            Figure f{"filter_reseal1_4k", "filter-arc process, verify 1 + seal i=2, 4 KiB"};
            f.bytes = static_cast<double>(plain4k.size());
            f.per_s = ff.per_cpu_s;
            f.mb_per_s = f.per_s * f.bytes / 1e6;
            f.limit = library_reseal_4k;
            f.ratio = f.per_s / f.limit;
            f.bound = "library msgs/s";
            f.target = 0.80;
            f.extra = "wall_per_s=" + std::to_string(ff.per_wall_s) +
                      " peak_rss_kb=" + std::to_string(ff.rss_kb) +
                      " messages=" + std::to_string(o.messages);
            emit(f);
        }
        if (wanted(o, "rss_10m")) {
            const auto lines = lines_of(make_message(10 * 1024 * 1024, 10));
            long kb = filter_rss(o, "rss_10m", config, dir, transaction(session_id(0), lines), 1);
            char label[96];
            std::snprintf(label, sizeof label, "filter-arc peak RSS %.1f MiB, one 10 MiB message",
                          static_cast<double>(kb) / 1024);
            Figure f{"rss_10m", label};
            f.limit = 32;
            f.ratio = static_cast<double>(kb) / 1024 / 32;
            f.bound = "RSS / 32 MiB";
            f.target = 1.0;
            f.at_most = true;
            f.extra = "peak_rss_kb=" + std::to_string(kb);
            emit(f);
        }
        if (wanted(o, "rss_100x1m")) {
            const auto lines = lines_of(make_message(1024 * 1024, 1));
            std::vector<std::string> sessions;
            for (std::size_t i = 0; i < 100; ++i)
                sessions.push_back(session_id(i));
            long kb = filter_rss(o, "rss_100x1m", config, dir, interleaved(sessions, lines),
                                 sessions.size());
            char label[96];
            std::snprintf(label, sizeof label,
                          "filter-arc peak RSS %.1f MiB, 100 x 1 MiB in flight",
                          static_cast<double>(kb) / 1024);
            Figure f{"rss_100x1m", label};
            f.limit = 64;
            f.ratio = static_cast<double>(kb) / 1024 / 64;
            f.bound = "RSS / 64 MiB";
            f.target = 1.0;
            f.at_most = true;
            f.extra = "peak_rss_kb=" + std::to_string(kb);
            emit(f);
        }
    }
    print_table();
    return 0;
}

} // namespace

} // namespace arcf::bench

int main(int argc, char** argv) {
    try {
        return arcf::bench::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "filter-arc-bench: %s\n", e.what());
        return 1;
    }
}
