// SPDX-License-Identifier: ISC
// `filter-arc stats [FILE]`: the counters of a state file ([stats] state-file, written by the
// smtpd filter and merged by the Exim mode: filter/shell/stats_file.hpp) as a table.
#include "filter/cli/cli.hpp"
#include "filter/cli/stats_report.hpp"
#include "filter/config/config.hpp"
#include "filter/shell/stats_file.hpp"

#include <cstdio>
#include <ctime>
#include <iostream>

namespace arcf::filter {

std::string utc_time(std::uint64_t t) {
    if (t == 0)
        return "-";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr)
        return std::to_string(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0)
        return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%",
                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return buf;
}

StatsSource open_stats(const Args& a, const std::string& command) {
    StatsSource src;
    auto file = a.value("-c") ? a.value("-c") : a.value("--config");
    if (file) {
        src.config = load_config(*file);
        src.path = src.config->stats.state_file;
        if (src.path.empty() && a.positional().empty())
            throw UsageError{command + ": " + *file +
                             " writes no state file ([stats] state-file is empty)"};
    } else {
        src.path = pipeline::StatsOptions{}.state_file;
    }
    if (a.positional().size() > 1)
        throw UsageError{command + ": unexpected argument '" + a.positional()[1] + "'"};
    if (!a.positional().empty())
        src.path = a.positional()[0];
    std::string error;
    if (auto f = read_stats(src.path, error))
        src.file = std::move(*f);
    else
        src.error = error;
    return src;
}

int run_stats(std::vector<std::string> args) {
    Args a(std::move(args), {"-c", "--config"}, {});
    StatsSource src = open_stats(a, "stats");
    if (!src.error.empty()) {
        std::cerr << "filter-arc: stats: " << src.error << "\n";
        return exit_noinput;
    }
    const pipeline::Stats& s = src.file.stats;
    const auto& m = src.file.meta;
    std::cout << "state file   " << src.path << "\n"
              << "mode         " << m.mode << "\n"
              << "counting     since " << utc_time(m.started) << "\n"
              << "written      " << utc_time(m.written) << "\n\n";
    std::size_t n = 0;
    const pipeline::CounterFamily* fams = pipeline::counter_families(n);
    char line[256];
    for (std::size_t i = 0; i < n; ++i) {
        const auto& f = fams[i];
        if (f.label.empty()) {
            std::snprintf(line, sizeof line, "%-22s %-22s %12llu\n", std::string(f.name).c_str(),
                          "", static_cast<unsigned long long>(s.count(f.name)));
            std::cout << line;
            continue;
        }
        auto it = s.families().find(f.name);
        if (it == s.families().end() || it->second.empty()) {
            std::snprintf(line, sizeof line, "%-22s %-22s %12s\n", std::string(f.name).c_str(), "-",
                          "0");
            std::cout << line;
            continue;
        }
        bool first = true;
        for (const auto& [label, count] : it->second) {
            std::snprintf(line, sizeof line, "%-22s %-22s %12llu\n",
                          first ? std::string(f.name).c_str() : "", label.c_str(),
                          static_cast<unsigned long long>(count));
            std::cout << line;
            first = false;
        }
    }
    std::cout << "\n";
    print_sealer_table(std::cout, s, ranked_sealers(s), nullptr);
    return exit_ok;
}

} // namespace arcf::filter
