// SPDX-License-Identifier: ISC
// Issue 21's scaling figures (see scaling.hpp).
#include "bench/scaling.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "bench/filter_run.hpp"
#include "bench/library.hpp"
#include "bench/stream.hpp"

namespace arcf::bench {

namespace {

std::string fixed(double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

} // namespace

void library_scaling(const ScalingContext& ctx, const KeyRing& ring) {
    const std::string plain = make_message(4 * 1024, 4 * 1024);
    for (unsigned sets : {1u, 3u, 10u, 50u}) {
        const std::string name = "scale_verify" + std::to_string(sets) + "_4k";
        if (!ctx.wanted(name))
            continue;
        const std::string chained = add_chain(plain, sets, ring);
        const auto bytes = static_cast<double>(chained.size());
        // RFC 8617 §5.2 without oldest-pass: the newest AMS and every AS, 1 + N verifications.
        const Paired p = paired_rate(
            verify_operation(chained, ring, false),
            [&] { return 1 / ctx.limit_now().verify_seconds(bytes, sets); }, ctx.shape);
        ScalingFigure f{name, "verify " + std::to_string(sets) + "-set chain, 4 KiB + sets"};
        f.bytes = bytes;
        f.per_s = p.per_s;
        f.limit = p.limit;
        f.ratio = p.ratio;
        f.bound = std::to_string(1 + sets) + " verify + hash";
        const double us_per_set = 1e6 / p.per_s / sets;
        // What one set costs beyond its verification (the limit's share of one set removed).
        const double us_over_limit = (1e6 / p.per_s - 1e6 / p.limit) / sets;
        f.extra = "sets=" + std::to_string(sets) + " us_per_set=" + fixed(us_per_set, 2) +
                  " us_per_set_over_limit=" + fixed(us_over_limit, 2);
        f.label += " (" + fixed(us_per_set, 1) + " us/set)";
        ctx.emit(f);
    }
    if (ctx.wanted("dkim_shared_hash_10m")) {
        const std::string plain10 = make_message(10 * 1024 * 1024, 10);
        const auto both =
            lines_of(add_chain(add_dkim_signature(plain10, *ring.hops.back()), 1, ring));
        const auto chain_only = lines_of(add_chain(plain10, 1, ring));
        const auto with_dkim = dkim_verify_operation(both, ring);
        const auto without = dkim_verify_operation(chain_only, ring, false);
        const std::size_t batch = 1;
        const Paired p = paired_rate(
            with_dkim, [&] { return rate_for(without, ctx.shape.min_seconds, batch); }, ctx.shape);
        double bytes = 0;
        for (const auto& l : both)
            bytes += static_cast<double>(l.size() + 2);
        ScalingFigure f{"dkim_shared_hash_10m",
                        "DKIM + 1-set chain / chain only, 10 MiB (one body hash)"};
        f.bytes = bytes;
        f.per_s = p.per_s;
        f.limit = p.limit;
        f.ratio = p.ratio;
        f.bound = "chain-only msgs/s";
        f.extra = "hashed_twice_would_be=0.5";
        ctx.emit(f);
    }
}

void filter_sessions(const ScalingContext& ctx,
                     const std::string& filter,
                     const std::string& config,
                     const std::string& dir,
                     std::size_t messages,
                     const std::function<void()>& library) {
    constexpr std::size_t sessions = 1000;
    const std::string name = "filter_sessions1000_4k";
    if (!ctx.wanted(name))
        return;
    messages = std::max(messages, 2 * sessions);
    const auto lines = lines_of(make_message(4 * 1024, 4 * 1024));
    double bytes = 0;
    for (const auto& l : lines)
        bytes += static_cast<double>(l.size() + 2);
    std::vector<double> cpu, wall, lib, ratios;
    long rss = 0;
    const std::size_t batch = batch_for(library);
    for (int r = 0; r < std::max(1, ctx.shape.reps / 2); ++r) {
        FilterJob job;
        job.argv = {filter, "-c", config};
        job.initial = handshake();
        for (std::size_t i = 0; i < messages; ++i)
            job.transactions.push_back(transaction(session_id(i), lines));
        job.window = sessions;
        job.expected = messages;
        job.seal_marker = "|ARC-Seal: i=1;";
        job.stderr_path = dir + "/filter.log";
        auto run = run_filter(job);
        if (!run.ok || run.sealed != messages)
            throw std::runtime_error(
                name + ": " +
                (run.ok ? std::to_string(run.sealed) + " of " + std::to_string(messages) + " sealed"
                        : run.error));
        cpu.push_back(static_cast<double>(messages) / run.cpu_seconds);
        wall.push_back(static_cast<double>(messages) / run.wall_seconds);
        lib.push_back(rate_for(library, ctx.shape.min_seconds, batch));
        ratios.push_back(cpu.back() / lib.back());
        rss = std::max(rss, run.peak_rss_kb);
    }
    ScalingFigure f{name, "filter-arc process, 1,000 sessions in flight, seal i=1, 4 KiB"};
    f.bytes = bytes;
    f.per_s = median(cpu);
    f.limit = median(lib);
    f.ratio = median(ratios);
    f.bound = "library msgs/s";
    f.extra = "sessions=" + std::to_string(sessions) + " messages=" + std::to_string(messages) +
              " wall_per_s=" + fixed(median(wall), 1) + " peak_rss_kb=" + std::to_string(rss);
    f.label += " (peak RSS " + fixed(static_cast<double>(rss) / 1024, 1) + " MiB)";
    ctx.emit(f);
}

} // namespace arcf::bench
