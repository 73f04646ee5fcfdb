// SPDX-License-Identifier: ISC
// Issue 21's scaling figures: the cost of verifying a chain per ARC set (1, 3, 10 and 50 sets:
// it should stay flat), one body hash shared by a DKIM-Signature and a chain, and the whole
// filter with 1,000 SMTP sessions in flight at once (throughput and peak RSS). They are
// computed here and handed back as plain values; bench/main.cpp prints them with the rest.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "bench/corpus.hpp"
#include "bench/limits.hpp"
#include "bench/measure.hpp"

namespace arcf::bench {

struct ScalingFigure {
    std::string name, label;
    double bytes = 0;
    double per_s = 0;
    double limit = 0;
    double ratio = 0;
    std::string bound;
    std::string extra; ///< key=value pairs for the BENCH line (us_per_set=..., ...)
};

struct ScalingContext {
    RunShape shape;
    std::function<bool(const std::string&)> wanted; ///< --only
    std::function<Limits()> limit_now;              ///< the limit measured right now
    std::function<void(const ScalingFigure&)> emit; ///< prints one figure
};

/// "scale_verify{1,3,10,50}_4k": a 4 KiB message with N sets (keys of `ring` in turn)
/// verified as verify_operation() does (oldest-pass off), against 1 + N RSA verifications and
/// one SHA-256 pass; prints microseconds per set. "dkim_shared_hash_10m": a 10 MiB message with
/// a DKIM-Signature and a 1-set chain (both relaxed) verified as the filter does, against the
/// same message without the DKIM-Signature through the same path: near 1 when the body is
/// hashed once for both, near 0.5 if it were hashed twice.
void library_scaling(const ScalingContext& ctx, const KeyRing& ring);

/// "filter_sessions1000_4k": `messages` 4 KiB messages through the filter-arc binary with 1,000
/// sessions in flight (each transaction sent while fewer than 1,000 are open), sealed at i=1,
/// configured by `config`; messages per CPU second of the process, per wall second and its
/// peak RSS, against the library's rate for the same seal measured right after (`library`).
void filter_sessions(const ScalingContext& ctx,
                     const std::string& filter,
                     const std::string& config,
                     const std::string& dir,
                     std::size_t messages,
                     const std::function<void()>& library);

} // namespace arcf::bench
