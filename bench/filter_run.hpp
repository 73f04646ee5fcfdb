// SPDX-License-Identifier: ISC
// Drives a filter-arc process the way smtpd does: protocol lines on its stdin (a pipe), its
// stdout (a pipe) read as it comes, and for each message the commit sent only once the filter
// has returned the message's final "." data-line. Reports time, CPU and peak RSS of the child.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace arcf::bench {

struct FilterJob {
    std::vector<std::string> argv; ///< argv[0] is the filter-arc binary
    std::string initial;           ///< sent at once (handshake, interleaved transactions, ...)
    /// Then, when set, this producer's output as the filter reads it (false: nothing more).
    std::function<bool(std::string&)> produce;
    std::vector<std::string> transactions; ///< each sent when fewer than `window` are open
    std::size_t window = 8;                ///< transactions in flight (concurrent sessions)
    std::size_t expected = 0;              ///< messages that must come back
    std::string seal_marker;               ///< counted in the output, e.g. "|ARC-Seal: i=1;"
    std::string stderr_path;               ///< where the child's log goes
    double timeout_seconds = 300;
};

struct FilterRun {
    bool ok = false;
    std::string error;
    double wall_seconds = 0;
    double cpu_seconds = 0; ///< the child's user + system time
    long peak_rss_kb = 0;   ///< the child's VmHWM, sampled as it runs and once all is answered
    std::size_t completed = 0;
    std::size_t sealed = 0;
    std::size_t output_bytes = 0;
};

FilterRun run_filter(const FilterJob& job);

} // namespace arcf::bench
