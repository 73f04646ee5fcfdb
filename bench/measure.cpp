// SPDX-License-Identifier: ISC
// Clocks and repetition for the benchmark.
#include "bench/measure.hpp"

#include <algorithm>
#include <ctime>

namespace arcf::bench {

namespace {
double seconds_of(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
} // namespace

double thread_cpu_seconds() {
    return seconds_of(CLOCK_THREAD_CPUTIME_ID);
}

double wall_seconds() {
    return seconds_of(CLOCK_MONOTONIC);
}

double median(std::vector<double> values) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double median_rate(const std::function<void()>& op, const RunShape& shape) {
    // Warm-up, and a batch size that keeps the clock reads (a system call each) out of the
    // figure: one read per millisecond of work at most.
    double t0 = thread_cpu_seconds();
    op();
    double once = std::max(thread_cpu_seconds() - t0, 1e-7);
    auto batch = static_cast<std::size_t>(std::max(1.0, 1e-3 / once));
    std::vector<double> rates;
    for (int r = 0; r < shape.reps; ++r) {
        std::size_t done = 0;
        double start = thread_cpu_seconds(), now = start;
        do {
            for (std::size_t i = 0; i < batch; ++i)
                op();
            done += batch;
            now = thread_cpu_seconds();
        } while (now - start < shape.min_seconds);
        rates.push_back(static_cast<double>(done) / (now - start));
    }
    return median(rates);
}

} // namespace arcf::bench
