// SPDX-License-Identifier: ISC
// DMARC vocabulary: results (RFC 7489 §11.2), requested policies (§6.3) and identifier
// alignment modes (§3.1).
#pragma once

#include <string_view>

namespace arcf::dmarc {

/// The dmarc method results registered for Authentication-Results (RFC 7489 §11.2).
enum class Result {
    none,      ///< no policy published (or none usable): DMARC does not apply (§6.6.3)
    pass,      ///< an aligned identifier passed DKIM or SPF (§4.2)
    fail,      ///< a policy exists and no aligned identifier passed
    temperror, ///< a transient (DNS) error; a later attempt may give a final result
    permerror, ///< a permanent error, e.g. no usable RFC5322.From domain (§6.6.1)
};

/// p=, sp= and np= values (RFC 7489 §6.3, RFC 9091 §4.2).
enum class Policy { none, quarantine, reject };

/// adkim= and aspf= (RFC 7489 §3.1.1, §3.1.2); relaxed is the default.
enum class Alignment { relaxed, strict };

constexpr std::string_view to_string(Result r) {
    switch (r) {
    case Result::none:
        return "none";
    case Result::pass:
        return "pass";
    case Result::fail:
        return "fail";
    case Result::temperror:
        return "temperror";
    case Result::permerror:
        return "permerror";
    }
    return "unknown";
}

constexpr std::string_view to_string(Policy p) {
    switch (p) {
    case Policy::none:
        return "none";
    case Policy::quarantine:
        return "quarantine";
    case Policy::reject:
        return "reject";
    }
    return "unknown";
}

constexpr std::string_view to_string(Alignment a) {
    return a == Alignment::strict ? "s" : "r";
}

} // namespace arcf::dmarc
