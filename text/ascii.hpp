// SPDX-License-Identifier: ISC
// ASCII text and DNS name helpers shared by every core folder (arc/, dkim code, spf/, dmarc/,
// dns/) and the filter. Header names, tag names, SPF terms and DNS names compare without regard
// to ASCII case only (RFC 5322 §1.2.2, RFC 6376 §3.2, RFC 7208 §4.6.1, RFC 4343 §3); bytes
// outside A-Z are never changed, whatever the locale. No dependencies beyond the standard library.
// A folder of its own, below every core folder: dns/, spf/ and dmarc/ use these without
// depending on arc/ (dmarc/ depends on arc/ only for ChainResult, RFC 8617 §7.2.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace arcf::text {

constexpr char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = to_lower(c);
    return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i]))
            return false;
    return true;
}

constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/// `name` without the one dot that marks it absolute ("example.com." is "example.com",
/// RFC 1034 §3.1). "a.." keeps one dot: an empty label stays visible to is_dns_name().
constexpr std::string_view without_root_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    return name;
}

/// `name` without any trailing dots: the lenient form resolvers and caches key names by, so
/// "example.com", "example.com." and "example.com.." are one name.
constexpr std::string_view without_trailing_dots(std::string_view name) {
    while (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    return name;
}

/// A name a DNS query can be made for, by size only (RFC 1035 §2.3.4): labels of 1-63 octets,
/// 253 octets in all, no empty label (so no leading, doubled or trailing dot).
constexpr bool is_dns_name(std::string_view name) {
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
    }
    return label != 0;
}

/// is_dns_name(), and every label octet a letter, digit, '-' or '_' (RFC 6376 §3.5 d=/s= and
/// underscore-prefixed owner names) or a non-ASCII byte (U-labels, RFC 8616 §4).
constexpr bool is_domain_name(std::string_view name) {
    if (!is_dns_name(name))
        return false;
    for (char ch : name) {
        auto c = static_cast<unsigned char>(ch);
        bool ok = c == '.' || is_alpha(ch) || is_digit(ch) || c == '-' || c == '_' || c >= 0x80;
        if (!ok)
            return false;
    }
    return true;
}

} // namespace arcf::text
