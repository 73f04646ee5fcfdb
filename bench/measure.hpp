// SPDX-License-Identifier: ISC
// Timing for the benchmark: CPU time of the calling thread (other work on a shared machine does
// not count against us), repetitions, medians, and figures paired with their limit.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace arcf::bench {

/// CPU seconds used by the calling thread.
double thread_cpu_seconds();
/// Wall-clock seconds (monotonic).
double wall_seconds();

double median(std::vector<double> values);

struct RunShape {
    int reps = 5;              ///< repetitions; the figure is their median
    double min_seconds = 0.25; ///< CPU time each repetition lasts at least
};

/// Calls `op` for at least `seconds` of CPU, reading the clock once per `batch` calls; returns
/// calls per CPU second.
double rate_for(const std::function<void()>& op, double seconds, std::size_t batch);
/// How many calls of `op` take about a millisecond (one warm-up call measured): a batch size
/// that keeps the clock reads (a system call each) out of the figure.
std::size_t batch_for(const std::function<void()>& op);

/// Runs `op` for `shape.reps` repetitions of at least `shape.min_seconds` CPU each (after one
/// warm-up call) and returns the median rate in operations per CPU second.
double median_rate(const std::function<void()>& op, const RunShape& shape);

struct Paired {
    double per_s = 0; ///< the figure: median of the repetitions
    double limit = 0; ///< its bound, in the same unit: median of the measurements
    double ratio = 0; ///< median of the per-repetition ratios
};
/// Alternates the repetitions of `op` with `limit()`, which measures the bound (operations per
/// second) right then: both see the machine in the same state (clock speed, caches, other
/// load), and each repetition gives one ratio.
Paired paired_rate(const std::function<void()>& op,
                   const std::function<double()>& limit,
                   const RunShape& shape);

} // namespace arcf::bench
