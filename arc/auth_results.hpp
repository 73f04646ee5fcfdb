// SPDX-License-Identifier: ISC
// Authentication-Results parsing and safe re-emission (RFC 8601 §2.2), for building the AAR
// from results we trust (RFC 8617 §4.1.1, §5.1).
#pragma once

#include "arc/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::arc {

struct AuthProperty {
    std::string ptype;    ///< "smtp", "header", "body", "policy", ...
    std::string property; ///< "mailfrom", "d", "i", ...
    std::string value;    ///< unquoted
};

struct ResInfo {
    std::string method;         ///< lower case, e.g. "dkim"
    std::string method_version; ///< "1" in "dkim/1", usually empty
    std::string result;         ///< lower case, e.g. "pass"
    std::optional<std::string> reason;
    std::vector<AuthProperty> properties;
    std::string raw; ///< the resinfo text as written (unfolded, comments kept), for test mode
};

struct AuthResults {
    std::string authserv_id; ///< empty when the header omits it (seen from some providers)
    std::optional<std::string> version;
    std::vector<ResInfo> results; ///< empty for "none"
};

/// Parses an Authentication-Results value leniently: comments anywhere, an authres-version, a
/// missing authserv-id, unknown methods and properties. Fails only when no structure is found.
Result<AuthResults> parse_authentication_results(std::string_view value);

/// Re-emits one result from its parsed parts only: no comments, every value a token or a
/// quoted-string with escaping, never CR, LF or a bare ';' (no header injection).
std::string format_resinfo(const ResInfo& r);

/// Formats a value as an RFC 8601 pvalue: kept as is when it is a token or an address/domain,
/// otherwise quoted.
std::string format_value(std::string_view v);

} // namespace arcf::arc
