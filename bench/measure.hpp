// SPDX-License-Identifier: ISC
// Timing for the benchmark: CPU time of the calling thread (other work on a shared machine does
// not count against us), repetitions, medians.
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

/// Runs `op` for `shape.reps` repetitions of at least `shape.min_seconds` CPU each (after one
/// warm-up call) and returns the median rate in operations per CPU second.
double median_rate(const std::function<void()>& op, const RunShape& shape);

} // namespace arcf::bench
