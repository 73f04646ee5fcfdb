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

std::size_t batch_for(const std::function<void()>& op) {
    double t0 = thread_cpu_seconds();
    op();
    double once = std::max(thread_cpu_seconds() - t0, 1e-7);
    return static_cast<std::size_t>(std::max(1.0, 1e-3 / once));
}

double rate_for(const std::function<void()>& op, double seconds, std::size_t batch) {
    std::size_t done = 0;
    double start = thread_cpu_seconds(), now = start;
    do {
        for (std::size_t i = 0; i < batch; ++i)
            op();
        done += batch;
        now = thread_cpu_seconds();
    } while (now - start < seconds);
    return static_cast<double>(done) / (now - start);
}

double median_rate(const std::function<void()>& op, const RunShape& shape) {
    const std::size_t batch = batch_for(op);
    std::vector<double> rates;
    for (int r = 0; r < shape.reps; ++r)
        rates.push_back(rate_for(op, shape.min_seconds, batch));
    return median(rates);
}

Paired paired_rate(const std::function<void()>& op,
                   const std::function<double()>& limit,
                   const RunShape& shape) {
    const std::size_t batch = batch_for(op);
    std::vector<double> rates, limits, ratios;
    for (int r = 0; r < shape.reps; ++r) {
        rates.push_back(rate_for(op, shape.min_seconds, batch));
        limits.push_back(limit());
        ratios.push_back(rates.back() / limits.back());
    }
    return Paired{median(rates), median(limits), median(ratios)};
}

} // namespace arcf::bench
