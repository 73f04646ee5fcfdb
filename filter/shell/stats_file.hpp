// SPDX-License-Identifier: ISC
// The statistics files ([stats], filter/pipeline/stats.hpp) on disk. Every write is atomic: a
// temporary file in the same directory, fsync, rename over the old one; a reader (an operator,
// node_exporter's textfile collector) sees the old file or the new one, never half of one.
// Exim mode runs a process per delivery: it merges into the state file under an exclusive
// flock(2) of "FILE.lock" (read, add, write and rename), so the counters mean the same in every
// mode. The smtpd shell writes its counters every [stats] interval and on SIGUSR1.
#pragma once

#include "filter/pipeline/stats.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace arcf::filter {

/// The largest state file read back (limits table: "statistics file bytes"); the bounded sealer
/// table (pipeline::max_sealers) keeps a real one far below this.
inline constexpr std::size_t max_stats_file_bytes = 4 * 1024 * 1024;

/// Writes `data` to `path` atomically (mode 0644: node_exporter and operators read it). False
/// with `error` (the path, the step and errno text) when it cannot.
bool write_file_atomic(const std::string& path, std::string_view data, std::string& error);

/// Writes the state file and the Prometheus file that `opts` names (each when set).
bool write_stats(const pipeline::StatsOptions& opts,
                 const pipeline::Stats& stats,
                 const pipeline::StatsMeta& meta,
                 std::string& error);

/// Exim mode: adds `stats` to the state file under its lock (a missing file starts at zero;
/// one that cannot be read as ours is renamed to FILE.bad and started anew, said in `error`
/// while true is returned), then writes both files. `now` is the UNIX time.
bool merge_stats(const pipeline::StatsOptions& opts,
                 const pipeline::Stats& stats,
                 std::uint64_t now,
                 std::string& error);

/// Reads a state file (`filter-arc stats`, `filter-arc sealers`).
std::optional<pipeline::StatsFile> read_stats(const std::string& path, std::string& error);

/// The smtpd shell's writer: every opts.interval seconds, on SIGUSR1 and at stop, it writes
/// what `source` returns. A failure is logged when it first happens (and when it changes),
/// and recovery once; the filter carries on either way.
class StatsWriter {
  public:
    using Source = std::function<const pipeline::Stats&()>;
    using Log = std::function<void(const std::string&)>;
    StatsWriter(boost::asio::io_context& io, pipeline::StatsOptions opts, Source source, Log log);
    /// New [stats] settings (SIGHUP); the counters carry on.
    void configure(pipeline::StatsOptions opts);
    /// Writes now; `why` goes into the log line of a failure.
    void write_now(std::string_view why);

  private:
    void arm();
    void wait_signal();

    pipeline::StatsOptions opts_;
    Source source_;
    Log log_;
    std::uint64_t started_;
    std::string last_error_;
    boost::asio::steady_timer timer_;
    boost::asio::signal_set usr1_;
};

} // namespace arcf::filter
