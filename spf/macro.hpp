// SPDX-License-Identifier: ISC
// SPF macro-strings (RFC 7208 §7): parsing with the §7.1 syntax rules, and expansion from values
// the caller has already looked up (the "p" macro's validated name is one of them).
#pragma once

#include "spf/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace arcf::spf {

/// Where a macro-string appears, which decides what it may contain.
enum class MacroScope {
    domain,      ///< domain-spec: letters s l o d i p h v (§7.1: c, r, t "only in exp text")
    explanation, ///< the exp= TXT record (§6.2): every letter, and spaces
    modifier,    ///< an unknown modifier's value (§6): every letter, never expanded
};

/// One %{...} expansion (§7.1 macro-expand).
struct MacroTerm {
    char letter = 's';       ///< lower case
    bool url_escape = false; ///< the letter was upper case (§7.3)
    unsigned keep = 0;       ///< DIGIT transformer: right-hand parts to keep, 0 = all
    bool reverse = false;    ///< "r" transformer
    std::string delimiters;  ///< empty = "."
};

struct MacroToken {
    enum class Kind {
        literal, ///< macro-literal text
        escape,  ///< "%%", "%_" or "%-"; `text` holds "%", " " or "%20"
        macro,   ///< "%{...}"
    };
    Kind kind = Kind::literal;
    std::string text;
    MacroTerm macro;
};

struct MacroString {
    std::vector<MacroToken> tokens;
    std::string source; ///< as written

    /// True when a %{x} or %{X} with this (lower-case) letter occurs.
    bool uses(char letter) const;
};

/// macro-string (§7.1, §12) in the given scope.
Parsed<MacroString> parse_macro_string(std::string_view text, MacroScope scope);
/// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
/// (§7.1, §12). Checked as written, before expansion. Empty is an error.
Parsed<MacroString> parse_domain_spec(std::string_view text);
/// explain-string = *( macro-string / SP ) (§6.2, §12).
Parsed<MacroString> parse_explain_string(std::string_view text);

/// toplabel (§12): alphanumerics and "-", starting and ending alphanumeric, and not all digits.
bool valid_toplabel(std::string_view label);
/// URL-escapes every byte outside RFC 3986 "unreserved" as %XX (§7.3, upper-case macros).
std::string url_escape(std::string_view text);

/// The value of every macro letter (§7.2, §7.3), computed by the evaluator.
struct MacroValues {
    std::string sender;        ///< s: <sender>
    std::string local_part;    ///< l: local-part of <sender>
    std::string sender_domain; ///< o: domain of <sender>
    std::string domain;        ///< d: <domain>
    std::string ip;            ///< i: <ip>, dotted (IPv6 as nibbles)
    std::string ptr;           ///< p: validated domain name of <ip>, or "unknown"
    std::string ip_version;    ///< v: "in-addr" or "ip6"
    std::string helo;          ///< h: HELO/EHLO domain
    std::string client;        ///< c: <ip>, readable (exp only)
    std::string receiver;      ///< r: receiving host's domain (exp only)
    std::string timestamp;     ///< t: seconds since the epoch (exp only)
};

/// Expands a parsed macro-string (§7.3): split on the delimiters, reverse, keep the right-hand
/// parts, join with ".", then URL-escape for an upper-case letter.
std::string expand(const MacroString& ms, const MacroValues& values);

} // namespace arcf::spf
