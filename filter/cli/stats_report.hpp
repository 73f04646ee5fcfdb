// SPDX-License-Identifier: ISC
// What `filter-arc stats` and `filter-arc sealers` share: finding and reading the state file,
// and the ranked table of sealers.
#pragma once

#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/stats.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace arcf::filter {

struct StatsSource {
    std::optional<Config> config; ///< loaded when -c was given
    std::string path;             ///< the state file
    pipeline::StatsFile file;
    std::string error; ///< non-empty: the state file could not be read
};

/// -c FILE and the optional positional STATE-FILE of `command`; throws UsageError (and
/// ConfigError from the configuration).
StatsSource open_stats(const Args& a, const std::string& command);
std::string utc_time(std::uint64_t unix_seconds);
/// "97.5%"; "-" when `whole` is 0.
std::string percent(std::uint64_t part, std::uint64_t whole);
/// `s` with every byte that is not printable ASCII shown as '?' (a state file is input).
std::string printable(const std::string& s);

struct RankedSealer {
    std::string name;
    pipeline::SealerCounts counts;
};
/// Every sealer, best first: most DMARC failures rescued, then the highest pass rate, then the
/// most messages, then by name; "(other)" last.
std::vector<RankedSealer> ranked_sealers(const pipeline::Stats& s);
/// The table; the "trusted" column when `trusted` is given (the trusted-sealers-file's names).
void print_sealer_table(std::ostream& out,
                        const pipeline::Stats& s,
                        const std::vector<RankedSealer>& ranked,
                        const std::set<std::string>* trusted);

} // namespace arcf::filter
