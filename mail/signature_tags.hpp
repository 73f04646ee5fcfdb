// SPDX-License-Identifier: ISC
// Tag values shared by DKIM-Signature (RFC 6376 §3.5) and the ARC signatures (RFC 8617 §4.1.2,
// §4.1.3): algorithm, base64, domain, selector, timestamps, canonicalization, h= lists, l=.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/result.hpp"
#include "mail/tag_list.hpp"

namespace arcf::mail {

/// Up to `max_digits` decimal digits, nothing else.
std::optional<std::uint64_t> parse_decimal(std::string_view v, std::size_t max_digits);

/// a=: rsa-sha256 or ed25519-sha256 (RFC 6376 §3.3, RFC 8463); rsa-sha1 is refused (RFC 8301
/// §3.1). Values are case-sensitive.
Result<Algorithm> parse_algorithm_tag(std::optional<std::string_view> a);
/// A required base64 tag (b=, bh=): FWS ignored, never empty.
Result<std::string> parse_base64_tag(std::optional<std::string_view> v, const char* tag);
/// d=: a domain name, returned in lower case.
Result<std::string> parse_domain_tag(std::optional<std::string_view> v);
/// s=: selector = sub-domain *( "." sub-domain ) (RFC 6376 §3.1).
Result<std::string> parse_selector_tag(std::optional<std::string_view> v);
/// t= / x=: 1*12DIGIT (RFC 6376 §3.5); absent is no value.
Result<std::optional<std::uint64_t>> parse_time_tag(std::optional<std::string_view> v,
                                                    const char* tag);
/// c=: header[/body], each simple or relaxed; the body part defaults to simple (RFC 6376 §3.5).
Result<std::pair<Canon, Canon>> parse_canon_tag(std::string_view c);
/// h=: colon-separated header field names, lower-cased, FWS around them removed, in order.
std::vector<std::string> parse_header_list(std::string_view h);
/// l=: 1*76DIGIT (RFC 6376 §3.5), limited to what fits in 64 bits.
Result<std::uint64_t> parse_length_tag(std::string_view l);

/// The tags an ARC-Message-Signature and a DKIM-Signature read alike (RFC 6376 §3.5, RFC 8617
/// §4.1.2): a=, b=, bh= (a SHA-256 digest), c=, d=, s= and h= (required), into the members of
/// the same names of `sig`, in that order of checks.
template <class Signature>
Result<void> parse_common_signature_tags(const TagList& tags, Signature& sig) {
    auto a = parse_algorithm_tag(tags.get("a"));
    if (!a)
        return tl::unexpected(a.error());
    sig.algorithm = *a;
    auto b = parse_base64_tag(tags.get("b"), "b");
    if (!b)
        return tl::unexpected(b.error());
    sig.signature = std::move(*b);
    auto bh = parse_base64_tag(tags.get("bh"), "bh");
    if (!bh)
        return tl::unexpected(bh.error());
    if (bh->size() != 32)
        return fail(Errc::bad_value, "bh= is not a SHA-256 digest");
    sig.body_hash = std::move(*bh);
    if (auto c = tags.get("c")) {
        auto canon = parse_canon_tag(*c);
        if (!canon)
            return tl::unexpected(canon.error());
        sig.header_canon = canon->first;
        sig.body_canon = canon->second;
    }
    auto d = parse_domain_tag(tags.get("d"));
    if (!d)
        return tl::unexpected(d.error());
    sig.domain = std::move(*d);
    auto sel = parse_selector_tag(tags.get("s"));
    if (!sel)
        return tl::unexpected(sel.error());
    sig.selector = std::move(*sel);
    auto h = tags.get("h");
    if (!h)
        return fail(Errc::missing_tag, "missing h=");
    sig.signed_headers = parse_header_list(*h);
    return {};
}

} // namespace arcf::mail
