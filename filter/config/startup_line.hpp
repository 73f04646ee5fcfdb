// SPDX-License-Identifier: ISC
// The start-up line of the smtpd mode: what runs (our version, the configuration file, the mode,
// the keys, the resolvers, the main limits) and what it talks to (smtpd's protocol version),
// logged once smtpd's handshake is complete and again after every successful reload. One
// key=value line as every other (filter/pipeline/log.hpp), at most max_log_line bytes: a long
// key list ends in "+N more". Pure: the caller gives the runtime facts.
#pragma once

#include "filter/config/config.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace arcf::filter {

/// The longest key list in a start-up line; the keys past it are counted ("+N more").
inline constexpr std::size_t max_start_keys_bytes = 400;

/// What only the running filter knows.
struct StartFacts {
    std::string_view version;       ///< ours (FILTER_ARC_VERSION)
    std::string_view trigger;       ///< "handshake" or "reload"
    std::string_view protocol;      ///< the filter protocol smtpd speaks, e.g. "0.6"; "" unknown
    std::string_view smtpd_version; ///< config|smtpd-version; "" unknown
};

/// The configuration part, computed once per configuration: config= mode= seal_when= keys=
/// default_key= resolvers= dns= limits= log=. `path` "" is the built-in defaults (no -c).
std::string start_summary(const Config& c, std::string_view path);
/// "event=start version=... trigger=... protocol=... smtpd=... " + summary, bounded.
std::string start_line(const StartFacts& facts, std::string_view summary);
/// "domain/selector/algorithm/bits,..." in domain order, at most `budget` bytes before a final
/// ",+N more" (or "+N more" alone when not even the first key fits).
std::string start_key_list(const Config& c, std::size_t budget = max_start_keys_bytes);
/// A byte count the short way: "64MiB", "512KiB", "1000".
std::string size_text(std::uint64_t bytes);

} // namespace arcf::filter
