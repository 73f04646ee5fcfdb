// SPDX-License-Identifier: ISC
// RFC 6376 §3.5 tag values, shared by the DKIM-Signature and ARC header parsers.
#include "mail/signature_tags.hpp"

#include <algorithm>
#include <utility>

#include "mail/base64.hpp"
#include "mail/header.hpp"
#include "text/ascii.hpp"

namespace arcf::mail {

namespace {

bool is_fws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::optional<Canon> parse_canon(std::string_view s) {
    if (s == "simple")
        return Canon::simple;
    if (s == "relaxed")
        return Canon::relaxed;
    return std::nullopt;
}

} // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view v, std::size_t max_digits) {
    if (v.empty() || v.size() > max_digits)
        return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

Result<Algorithm> parse_algorithm_tag(std::optional<std::string_view> a) {
    if (!a)
        return fail(Errc::missing_tag, "missing a=");
    // Values are case-sensitive; rsa-sha1 is refused (RFC 8301 §3.1).
    if (*a == "rsa-sha256")
        return Algorithm::rsa_sha256;
    if (*a == "ed25519-sha256")
        return Algorithm::ed25519_sha256;
    if (*a == "rsa-sha1")
        return fail(Errc::unsupported, "rsa-sha1 is not acceptable (RFC 8301)");
    return fail(Errc::unsupported, "unknown algorithm a=" + std::string(*a));
}

Result<std::string> parse_base64_tag(std::optional<std::string_view> v, const char* tag) {
    if (!v)
        return fail(Errc::missing_tag, std::string("missing ") + tag + "=");
    auto dec = base64_decode(*v);
    if (!dec || dec->empty())
        return fail(Errc::bad_value, std::string(tag) + "= is not valid base64");
    return std::move(*dec);
}

Result<std::string> parse_domain_tag(std::optional<std::string_view> v) {
    if (!v)
        return fail(Errc::missing_tag, "missing d=");
    if (!text::is_domain_name(*v))
        return fail(Errc::bad_value, "d= is not a domain name");
    return text::to_lower(*v);
}

Result<std::string> parse_selector_tag(std::optional<std::string_view> v) {
    if (!v)
        return fail(Errc::missing_tag, "missing s=");
    // RFC 6376 §3.1: selector = sub-domain *( "." sub-domain )
    if (!text::is_domain_name(*v))
        return fail(Errc::bad_value, "s= is not a valid selector");
    return std::string(*v);
}

Result<std::optional<std::uint64_t>> parse_time_tag(std::optional<std::string_view> v,
                                                    const char* tag) {
    if (!v)
        return std::optional<std::uint64_t>{};
    auto n = parse_decimal(*v, 12); // RFC 6376 §3.5: t= 1*12DIGIT
    if (!n)
        return fail(Errc::bad_value, std::string(tag) + "= is not a timestamp");
    return n;
}

Result<std::pair<Canon, Canon>> parse_canon_tag(std::string_view c) {
    // RFC 6376 §3.5: c= header[/body]; body defaults to simple.
    std::string_view hc = c, bc = "simple";
    if (auto slash = c.find('/'); slash != std::string_view::npos) {
        hc = c.substr(0, slash);
        bc = c.substr(slash + 1);
    }
    auto h = parse_canon(hc), b = parse_canon(bc);
    if (!h || !b)
        return fail(Errc::bad_value, "c= is not a known canonicalization");
    return std::pair<Canon, Canon>{*h, *b};
}

std::vector<std::string> parse_header_list(std::string_view list) {
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(std::count(list.begin(), list.end(), ':')) + 1);
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t c = list.find(':', pos);
        std::string_view item = list.substr(pos, c == std::string_view::npos ? list.npos : c - pos);
        while (!item.empty() && is_fws(item.front()))
            item.remove_prefix(1);
        while (!item.empty() && is_fws(item.back()))
            item.remove_suffix(1);
        if (!item.empty() || c != std::string_view::npos || pos != 0)
            names.push_back(text::to_lower(item));
        if (c == std::string_view::npos)
            break;
        pos = c + 1;
    }
    return names;
}

Result<std::uint64_t> parse_length_tag(std::string_view l) {
    auto n = parse_decimal(l, 76);
    if (!n || l.size() > 19)
        return fail(Errc::bad_value, "l= is not a length");
    return *n;
}

} // namespace arcf::mail
