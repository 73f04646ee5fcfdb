// SPDX-License-Identifier: ISC
// `filter-arc sealers [FILE] [-c CONFIG] [--suggest]`: every ARC sealer of the state file (the
// newest ARC-Seal's d=, RFC 8617 §4.1.3), how often its chains passed, how often its word would
// have rescued a DMARC failure (the ARC-aware override, RFC 8617 §7.2.1), and whether it is in
// trusted-sealers-file already; --suggest prints candidate lines for that file, the evidence
// as comments, so an operator bootstraps the list from their own traffic.
#include "filter/cli/cli.hpp"
#include "filter/cli/stats_report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace arcf::filter {

namespace {

// The --suggest threshold. Trust is only worth giving where it buys something (a DMARC failure
// the sealer's AAR vouched for) and only to a sealer whose seals reliably verify here: a chain
// that breaks between it and us means mail was changed after sealing or the sealer is broken,
// and a handful of messages is no evidence (README "Statistics").
struct Threshold {
    std::uint64_t min_messages = 20;
    std::uint64_t min_pass_percent = 95;
    std::uint64_t min_rescued = 1;
};

bool rate_ok(const pipeline::SealerCounts& c, const Threshold& t) {
    return c.messages > 0 &&
           static_cast<double>(c.chain_pass) * 100.0 >=
               static_cast<double>(t.min_pass_percent) * static_cast<double>(c.messages);
}

bool meets(const pipeline::SealerCounts& c, const Threshold& t) {
    return c.messages >= t.min_messages && rate_ok(c, t) && c.dmarc_rescued >= t.min_rescued;
}

std::string evidence(const RankedSealer& r) {
    const auto& c = r.counts;
    return std::to_string(c.messages) + " messages, " + std::to_string(c.chain_pass) +
           " chains passed (" + percent(c.chain_pass, c.messages) + "), " +
           std::to_string(c.chain_fail) + " failed, " + std::to_string(c.dmarc_fail_arc_pass) +
           " DMARC failures with a passing chain, " + std::to_string(c.dmarc_rescued) +
           " rescued by its AAR";
}

std::string why_not(const pipeline::SealerCounts& c, const Threshold& t) {
    std::string why;
    auto add = [&](const std::string& s) { why += (why.empty() ? "" : ", ") + s; };
    if (c.messages < t.min_messages)
        add("fewer than " + std::to_string(t.min_messages) + " messages");
    if (!rate_ok(c, t))
        add("pass rate below " + std::to_string(t.min_pass_percent) + "%");
    if (c.dmarc_rescued < t.min_rescued)
        add(c.dmarc_rescued == 0 ? "never rescued a DMARC failure"
                                 : "rescued fewer than " + std::to_string(t.min_rescued));
    return why;
}

void suggest(std::ostream& out,
             const StatsSource& src,
             const std::vector<RankedSealer>& ranked,
             const Threshold& t) {
    const std::set<std::string>* trusted =
        src.config ? &src.config->engine.policy.trusted_sealers : nullptr;
    out << "# Candidates for trusted-sealers-file ("
        << (src.config && !src.config->trusted_sealers_file.empty()
                ? src.config->trusted_sealers_file
                : std::string("none configured"))
        << "), by 'filter-arc sealers --suggest'.\n"
        << "# Evidence: " << printable(src.path) << ", counting since "
        << utc_time(src.file.meta.started) << ", written " << utc_time(src.file.meta.written)
        << ".\n"
        << "# Threshold: at least " << t.min_messages << " messages, chains passed in at least "
        << t.min_pass_percent << "%, at least " << t.min_rescued << " DMARC failure(s) rescued.\n"
        << "# Trust a sealer only if you know who runs it (RFC 8617 section 7.2.1).\n";
    std::size_t suggested = 0;
    for (const auto& r : ranked) {
        if (r.name == pipeline::other_sealers)
            continue;
        if (trusted && trusted->count(r.name) != 0) {
            out << "# already trusted: " << r.name << ": " << evidence(r)
                << (meets(r.counts, t)
                        ? ""
                        : " (below the threshold: " + why_not(r.counts, t) + "; review)")
                << "\n";
            continue;
        }
        if (meets(r.counts, t)) {
            out << "# " << evidence(r) << "\n" << r.name << "\n";
            ++suggested;
        } else {
            out << "# not suggested: " << r.name << ": " << evidence(r) << " ("
                << why_not(r.counts, t) << ")\n";
        }
    }
    if (src.file.stats.sealers().count(pipeline::other_sealers) != 0)
        out << "# not suggested: " << pipeline::other_sealers
            << ": sealers past the table's budget of " << pipeline::max_sealers
            << " names, or d= values that are not domain names\n";
    out << "# " << suggested << " suggested.\n";
}

} // namespace

std::string printable(const std::string& s) {
    std::string out = s;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            c = '?';
    return out;
}

std::vector<RankedSealer> ranked_sealers(const pipeline::Stats& s) {
    std::vector<RankedSealer> v;
    for (const auto& [name, c] : s.sealers())
        v.push_back({name, c});
    std::sort(v.begin(), v.end(), [](const RankedSealer& a, const RankedSealer& b) {
        const bool ao = a.name == pipeline::other_sealers, bo = b.name == pipeline::other_sealers;
        if (ao != bo)
            return bo;
        if (a.counts.dmarc_rescued != b.counts.dmarc_rescued)
            return a.counts.dmarc_rescued > b.counts.dmarc_rescued;
        // pass rates: pa/ma > pb/mb  <=>  pa*mb > pb*ma (0 messages: rate 0), in double: the
        // counts may be near 2^64
        const double lhs =
            static_cast<double>(a.counts.chain_pass) * static_cast<double>(b.counts.messages);
        const double rhs =
            static_cast<double>(b.counts.chain_pass) * static_cast<double>(a.counts.messages);
        if (lhs != rhs)
            return lhs > rhs;
        if (a.counts.messages != b.counts.messages)
            return a.counts.messages > b.counts.messages;
        return a.name < b.name;
    });
    return v;
}

void print_sealer_table(std::ostream& out,
                        const pipeline::Stats& s,
                        const std::vector<RankedSealer>& ranked,
                        const std::set<std::string>* trusted) {
    if (ranked.empty()) {
        out << "sealers: none seen\n";
        return;
    }
    char line[512];
    std::snprintf(line, sizeof line, "%4s  %-40s %9s %9s %7s %9s %11s %8s %10s%s\n", "rank",
                  "sealer (newest AS d=)", "messages", "pass", "pass%", "fail", "dmarc-fail",
                  "rescued", "overridden", trusted ? "  trusted" : "");
    out << line;
    std::size_t rank = 0;
    for (const auto& r : ranked) {
        const auto& c = r.counts;
        const bool other = r.name == pipeline::other_sealers;
        std::snprintf(line, sizeof line, "%4s  %-40s %9llu %9llu %7s %9llu %11llu %8llu %10llu%s\n",
                      other ? "-" : std::to_string(++rank).c_str(), printable(r.name).c_str(),
                      static_cast<unsigned long long>(c.messages),
                      static_cast<unsigned long long>(c.chain_pass),
                      percent(c.chain_pass, c.messages).c_str(),
                      static_cast<unsigned long long>(c.chain_fail),
                      static_cast<unsigned long long>(c.dmarc_fail_arc_pass),
                      static_cast<unsigned long long>(c.dmarc_rescued),
                      static_cast<unsigned long long>(c.dmarc_overridden),
                      !trusted                      ? ""
                      : other                       ? "  -"
                      : trusted->count(r.name) != 0 ? "  yes"
                                                    : "  no");
        out << line;
    }
    std::size_t named = s.sealers().size() - s.sealers().count(pipeline::other_sealers);
    if (named >= s.max_sealers())
        out << "(the table holds " << s.max_sealers()
            << " sealers by name; later ones are counted in " << pipeline::other_sealers << ")\n";
    out << "dmarc-fail: DMARC failed, chain passed; rescued: ... and the sealer's AAR vouched for "
           "the author domain (trusting it would override the failure, RFC 8617 section 7.2.1)\n";
}

int run_sealers(std::vector<std::string> args) {
    Args a(std::move(args),
           {"-c", "--config", "--min-messages", "--min-pass-rate", "--min-rescued"}, {"--suggest"});
    Threshold t;
    if (auto v = a.value("--min-messages"))
        t.min_messages = parse_unsigned("--min-messages", *v);
    if (auto v = a.value("--min-pass-rate")) {
        t.min_pass_percent = parse_unsigned("--min-pass-rate", *v);
        if (t.min_pass_percent > 100)
            throw UsageError{"sealers: --min-pass-rate is a percentage, 0..100"};
    }
    if (auto v = a.value("--min-rescued"))
        t.min_rescued = parse_unsigned("--min-rescued", *v);
    StatsSource src = open_stats(a, "sealers");
    if (!src.error.empty()) {
        std::cerr << "filter-arc: sealers: " << src.error << "\n";
        return exit_noinput;
    }
    auto ranked = ranked_sealers(src.file.stats);
    if (a.flag("--suggest")) {
        suggest(std::cout, src, ranked, t);
        return exit_ok;
    }
    std::cout << "state file " << printable(src.path) << ", counting since "
              << utc_time(src.file.meta.started) << "\n";
    print_sealer_table(std::cout, src.file.stats, ranked,
                       src.config ? &src.config->engine.policy.trusted_sealers : nullptr);
    return exit_ok;
}

} // namespace arcf::filter
