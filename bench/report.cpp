// SPDX-License-Identifier: ISC
#include "bench/report.hpp"

#include <openssl/crypto.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace arcf::bench {

namespace {

std::vector<Figure>& all() {
    static std::vector<Figure> v;
    return v;
}

// `v` with `decimals` digits after the point.
std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// 12345.6 -> "12,346": the README's tables group thousands.
std::string grouped(double v) {
    std::string digits = fixed(v, 0), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string target_text(const Figure& f) {
    return (f.at_most ? "<=" : ">=") + fixed(f.target, 2);
}

} // namespace

const std::vector<Figure>& figures() {
    return all();
}

void emit(const Figure& f) {
    all().push_back(f);
    std::printf("BENCH name=%s", f.name.c_str());
    if (f.bytes > 0)
        std::printf(" bytes=%.0f", f.bytes);
    if (f.per_s > 0)
        std::printf(" per_s=%.1f", f.per_s);
    if (f.mb_per_s > 0)
        std::printf(" mb_per_s=%.1f", f.mb_per_s);
    if (f.limit > 0) {
        std::string bound = f.bound; // one token: "2 sign + hash" -> "2_sign_+_hash"
        for (auto& c : bound)
            c = c == ' ' ? '_' : c;
        std::printf(" limit=%.1f bound=%s ratio=%.3f", f.limit, bound.c_str(), f.ratio);
    }
    if (f.target > 0)
        std::printf(" target=%s met=%s", target_text(f).c_str(), f.met() ? "yes" : "no");
    if (!f.extra.empty())
        std::printf(" %s", f.extra.c_str());
    std::printf("\n");
    std::fflush(stdout);
}

void print_table() {
    std::printf("\n%-50s %9s %9s %9s  %-24s %6s %s\n", "figure", "msgs/s", "MB/s", "limit", "bound",
                "ratio", "target");
    std::size_t goals = 0, met = 0;
    std::string missed;
    for (const auto& f : all()) {
        std::string per_s, mb, limit, ratio, target;
        if (f.per_s > 0)
            per_s = fixed(f.per_s, 0);
        if (f.mb_per_s > 0)
            mb = fixed(f.mb_per_s, 1);
        if (f.limit > 0) {
            limit = fixed(f.limit, 0);
            ratio = fixed(f.ratio, 3);
        }
        if (f.target > 0) {
            ++goals;
            met += f.met() ? 1 : 0;
            if (!f.met())
                missed += " " + f.name;
            target = target_text(f) + (f.met() ? " met" : " NOT MET");
        }
        std::printf("%-50s %9s %9s %9s  %-24s %6s %s\n", f.label.c_str(), per_s.c_str(), mb.c_str(),
                    limit.c_str(), f.bound.c_str(), ratio.c_str(), target.c_str());
    }
    // Issue 21 counts a run as good when every goal is met; this line says so at a glance.
    std::printf("\ngoals: %zu of %zu met%s%s\n", met, goals,
                missed.empty() ? "" : "; not met:", missed.c_str());
}

std::string markdown(const std::string& machine, const std::string& peers) {
    std::string md = machine + "\n\n";
    const Figure* limits[3] = {};
    for (const auto& f : all()) {
        if (f.name == "limit_rsa2048_sign")
            limits[0] = &f;
        else if (f.name == "limit_rsa2048_verify")
            limits[1] = &f;
        else if (f.name == "limit_sha256")
            limits[2] = &f;
    }
    if (limits[0] != nullptr && limits[1] != nullptr && limits[2] != nullptr)
        md += "Limit in that run: " + grouped(limits[0]->per_s) + " RSA-2048 signatures/s, " +
              grouped(limits[1]->per_s) + " verifications/s, SHA-256 " +
              grouped(limits[2]->mb_per_s) + " MB/s.\n\n";
    md += "| figure | msgs/s | MB/s | limit | bound | ratio | goal |\n"
          "|---|---:|---:|---:|---|---:|---|\n";
    std::size_t goals = 0, met = 0;
    for (const auto& f : all()) {
        if (f.name.rfind("limit_", 0) == 0)
            continue;
        std::string ratio = f.limit > 0 ? fixed(f.ratio, 3) : "";
        std::string goal;
        if (f.target > 0) {
            ++goals;
            met += f.met() ? 1 : 0;
            ratio = "**" + ratio + "**";
            goal = target_text(f) + (f.met() ? " met" : " **not met**");
        }
        md += "| " + f.label + " | " + (f.per_s > 0 ? grouped(f.per_s) : "") + " | " +
              (f.mb_per_s > 0 ? fixed(f.mb_per_s, 1) : "") + " | " +
              (f.limit > 0 ? grouped(f.limit) : "") + " | " + f.bound + " | " + ratio + " | " +
              goal + " |\n";
    }
    md += "\nGoals: " + std::to_string(met) + " of " + std::to_string(goals) + " met.\n";
    if (!peers.empty())
        md += "\n" + peers;
    return md;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line, model = "unknown CPU";
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos)
                model = line.substr(line.find_first_not_of(' ', colon + 1));
            break;
        }
    return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores";
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

std::string build_description() {
#if defined(__clang__)
    std::string compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    std::string compiler = "g++ " __VERSION__;
#else
    std::string compiler = "unknown compiler";
#endif
#if defined(__OPTIMIZE__)
    compiler += " (optimized)";
#endif
    return compiler + ", " + OpenSSL_version(OPENSSL_VERSION);
}

} // namespace arcf::bench
