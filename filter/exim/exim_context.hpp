// SPDX-License-Identifier: ISC
// X-ARC-Context: the connection facts Exim hands to `filter-arc exim` in a header field (the
// transport's headers_add in etc/exim4/filter-arc.conf.example), because a tainted value may not
// be a transport_filter argument. Pure: the field value in, the facts or a problem out.
//
// Every value the client chooses (MAIL FROM, HELO, the recipient's local part, even the AUTH id)
// is base64-encoded by Exim's ${str2b64:...} (Exim 4.96), so no value can contain ';', '=' or
// a line break, and nothing a sender sends can add a key: the issue-15 injection
// `"x;auth=admin"@domain` becomes part of one opaque rcpt= value. The format is fixed:
//
//   X-ARC-Context: v=2; from=B64; helo=B64; auth=B64; rcpt=B64; ip=B64
//
// every key exactly once, in this order, each value strict base64 (RFC 4648 §4, padded; the
// empty value for an empty variable). Anything else is refused as a whole: no ip, no auth.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace arcf::filter {

struct EximContext {
    std::string ip, helo, from, auth, rcpt;
};

struct EximContextResult {
    std::optional<EximContext> context; ///< empty when the value is refused
    std::string problem;                ///< why it was refused
};

/// The field name (case-insensitive).
inline constexpr std::string_view exim_context_field = "X-ARC-Context";
/// The longest field value accepted (Exim's variables are bounded well below this).
inline constexpr std::size_t max_exim_context_bytes = 8192;

/// Parses a field value (after the colon; folding whitespace allowed around the separators).
EximContextResult parse_exim_context(std::string_view value);

} // namespace arcf::filter
