// SPDX-License-Identifier: ISC
// The two forms of the per-hop report (arc/explain.hpp): text for people and JSON with stable
// keys (documented in filter-arc(8) and the README, "Why did a chain break?").
#pragma once

#include "arc/explain.hpp"

#include <cstdint>
#include <string>

namespace arcf::arc {

/// "2026-12-07 03:59:55 UTC" for a UNIX time (proleptic Gregorian calendar, no leap seconds).
std::string utc_time(std::uint64_t unix_seconds);

/// The report for people, hops oldest first, each line ending in LF.
std::string format_explanation_text(const Explanation& e);

/// The report as one JSON object (no line breaks).
std::string format_explanation_json(const Explanation& e);

} // namespace arcf::arc
