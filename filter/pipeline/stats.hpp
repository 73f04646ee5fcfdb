// SPDX-License-Identifier: ISC
// Statistics: counters of what happened to messages, in every mode, recorded from each
// message's Outcome; and per ARC sealer (the newest ARC-Seal's d=, RFC 8617 §4.1.3), what an
// operator needs to decide whom to trust for the ARC-aware DMARC override (§7.2.1). Written as
// JSON (the state file, read back by `filter-arc stats` and `filter-arc sealers`, and merged by
// Exim mode) and in the Prometheus text exposition format (node_exporter's textfile
// collector). Pure: no files, no clock (times are given).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace arcf::pipeline {

struct Outcome;

/// [stats]: where and how often the counters are written (the shell and Exim mode use them).
struct StatsOptions {
    std::string state_file = "/var/lib/filter-arc/stats.json"; ///< JSON; empty: none
    std::string prometheus_file; ///< Prometheus text format; empty: none
    std::uint32_t interval = 60; ///< seconds between writes (smtpd mode); 0: SIGUSR1 and exit
};

/// The budget of the per-sealer table: sealers counted by name; the rest in "(other)". An
/// attacker chooses d=, so the table (and the state file, about 200 bytes a sealer) is bounded.
inline constexpr std::size_t max_sealers = 1000;

/// What one sealer's messages did. A message counts for the sealer of its newest ARC set.
struct SealerCounts {
    std::uint64_t messages = 0;
    std::uint64_t chain_pass = 0; ///< arc=pass
    std::uint64_t chain_fail = 0; ///< arc=fail
    /// DMARC failed although the chain passed (the case the override is for).
    std::uint64_t dmarc_fail_arc_pass = 0;
    /// ... and the sealer's AAR vouched for the author domain: trusting the sealer would
    /// override (rescue) the DMARC failure (RFC 8617 §7.2.1).
    std::uint64_t dmarc_rescued = 0;
    /// ... and it did: the sealer is in trusted-sealers-file.
    std::uint64_t dmarc_overridden = 0;

    void add(const SealerCounts& o);
};

/// The bucket of sealers past the budget, and of d= values that are not domain names. Not a
/// domain name itself, so it can never be taken for one.
inline constexpr std::string_view other_sealers = "(other)";

/// One counter family: a JSON member and a Prometheus metric, with or without a label.
struct CounterFamily {
    std::string_view name;   ///< JSON member, e.g. "arc"
    std::string_view label;  ///< Prometheus label name; empty: one unlabelled counter
    std::string_view metric; ///< Prometheus name, e.g. "filter_arc_arc_results_total"
    std::string_view help;
};
/// Every family, in output order.
const CounterFamily* counter_families(std::size_t& count);

class Stats {
  public:
    explicit Stats(std::size_t max = pipeline::max_sealers) : max_sealers_(max) {}

    /// One message that was finished by the pipeline.
    void record(const Outcome& o);
    /// One message deferred without an Outcome (an internal error: the shell or engine failed).
    void record_failure(std::string_view reason);
    /// Adds `o` (Exim mode: the file's counters plus this delivery's); sealers stay bounded.
    void merge(const Stats& o);

    /// A counter: `label` empty for an unlabelled family. 0 when never counted.
    std::uint64_t count(std::string_view family, std::string_view label = {}) const;
    /// Adds `n` to a counter (the JSON reader, tests). False for an unknown family.
    bool add(std::string_view family, std::string_view label, std::uint64_t n);
    /// Adds `c` to sealer `name` (bounded like record(): past the budget, "(other)").
    void add_sealer(std::string_view name, const SealerCounts& c);

    /// family -> label ("" when unlabelled) -> count.
    const std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>>&
    families() const {
        return families_;
    }
    const std::map<std::string, SealerCounts, std::less<>>& sealers() const { return sealers_; }
    std::size_t max_sealers() const { return max_sealers_; }

  private:
    SealerCounts& sealer(std::string_view name);

    std::size_t max_sealers_;
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> families_;
    std::map<std::string, SealerCounts, std::less<>> sealers_;
};

/// What a state file says besides the counters.
struct StatsMeta {
    std::string mode;          ///< "smtpd" or "exim"
    std::uint64_t started = 0; ///< UNIX time the counting began
    std::uint64_t written = 0; ///< UNIX time of this write
};

/// The state file: {"format":"filter-arc-stats","version":1,"mode":...,"started":...,
/// "written":...,"counters":{family: N or {label: N}},"sealers":{d: {...}}}.
std::string to_json(const Stats& s, const StatsMeta& meta);
/// The Prometheus text exposition format (version 0.0.4): # HELP and # TYPE per metric,
/// counters named ..._total, label values escaped (\\, \", \n).
std::string to_prometheus(const Stats& s, const StatsMeta& meta);

struct StatsFile {
    Stats stats;
    StatsMeta meta;
};
/// Reads what to_json() wrote (strict JSON; unknown families are an error, so a file of
/// another program is never taken for ours). nullopt with `error` set when it cannot.
std::optional<StatsFile>
parse_stats_json(std::string_view text, std::string& error, std::size_t max = max_sealers);

} // namespace arcf::pipeline
