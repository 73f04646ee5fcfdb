// SPDX-License-Identifier: ISC
// RFC 6376 §3.5 DKIM-Signature parsing and the header-only checks of §6.1.1.
#include "dkim/signature.hpp"

#include <algorithm>

#include "mail/header.hpp"
#include "mail/signature_tags.hpp"
#include "mail/tag_list.hpp"
#include "text/ascii.hpp"

namespace arcf::dkim {

namespace {

// i= domain is d= or one of its subdomains (RFC 6376 §3.5 i=, §6.1.1), case-insensitive.
bool in_domain(std::string_view sub, std::string_view domain) {
    if (sub.size() == domain.size())
        return text::iequals(sub, domain);
    return sub.size() > domain.size() && sub[sub.size() - domain.size() - 1] == '.' &&
           text::iequals(sub.substr(sub.size() - domain.size()), domain);
}

// q= is a colon-separated list of methods; dns/txt is the only one defined (RFC 6376 §3.5).
bool offers_dns_txt(std::string_view q) {
    std::size_t pos = 0;
    while (pos <= q.size()) {
        std::size_t c = q.find(':', pos);
        std::string_view item = q.substr(pos, c == std::string_view::npos ? q.npos : c - pos);
        if (strip_fws(item) == "dns/txt")
            return true;
        if (c == std::string_view::npos)
            break;
        pos = c + 1;
    }
    return false;
}

} // namespace

Result<DkimSignature> parse_dkim_signature(std::string_view value) {
    auto tags = parse_tag_list(value);
    if (!tags)
        return tl::unexpected(tags.error());
    // RFC 6376 §6.1.1: v= first, and only "1" is known.
    auto v = tags->get("v");
    if (!v)
        return fail(Errc::missing_tag, "missing v=");
    if (*v != "1")
        return fail(Errc::unsupported, "incompatible version v=" + std::string(*v));
    DkimSignature s;
    auto a = tags->get("a");
    if (a && *a == "rsa-sha1")
        return fail(Errc::unsupported, "rsa-sha1 refused (RFC 8301)");
    if (auto common = parse_common_signature_tags(*tags, s); !common)
        return tl::unexpected(common.error());
    s.signature_text = strip_fws(*tags->get("b"));
    // RFC 6376 §5.4 / §6.1.1: a signature that does not cover From is ignored (PERMFAIL).
    if (std::find(s.signed_headers.begin(), s.signed_headers.end(), "from") ==
        s.signed_headers.end())
        return fail(Errc::bad_value, "h= does not include From (RFC 6376 §5.4)");
    if (auto i = tags->get("i")) {
        // RFC 6376 §3.5: i= [ Local-part ] "@" domain-name, in d= or a subdomain of it.
        std::size_t at = i->rfind('@');
        if (at == std::string_view::npos)
            return fail(Errc::bad_value, "i= has no '@'");
        std::string_view idomain = i->substr(at + 1);
        if (!text::is_domain_name(idomain))
            return fail(Errc::bad_value, "i= domain is not a domain name");
        if (!in_domain(idomain, s.domain))
            return fail(Errc::bad_value,
                        "i= domain is not d= or a subdomain of it (RFC 6376 §6.1.1)");
        s.identity = std::string(*i);
        s.identity_domain = text::to_lower(idomain);
    } else {
        s.identity = "@" + s.domain;
        s.identity_domain = s.domain;
    }
    if (auto l = tags->get("l")) {
        auto n = parse_length_tag(*l);
        if (!n)
            return tl::unexpected(n.error());
        s.body_length = *n;
    }
    if (auto q = tags->get("q"); q && !offers_dns_txt(*q))
        return fail(Errc::unsupported, "q= does not offer dns/txt");
    auto t = parse_time_tag(tags->get("t"), "t");
    if (!t)
        return tl::unexpected(t.error());
    s.timestamp = *t;
    auto x = parse_time_tag(tags->get("x"), "x");
    if (!x)
        return tl::unexpected(x.error());
    s.expiration = *x;
    // RFC 6376 §3.5 x=: "MUST be greater than the value of the t= tag".
    if (s.timestamp && s.expiration && *s.expiration <= *s.timestamp)
        return fail(Errc::bad_value, "x= is not later than t=");
    return s;
}

DkimSignatureIds peek_dkim_ids(std::string_view value) {
    DkimSignatureIds ids;
    auto tags = parse_tag_list(value);
    if (!tags)
        return ids;
    auto get = [&](const char* name) { return std::string(tags->get(name).value_or("")); };
    ids.domain = text::to_lower(get("d"));
    ids.selector = get("s");
    ids.identity = get("i");
    if (ids.identity.empty() && !ids.domain.empty())
        ids.identity = "@" + ids.domain;
    ids.algorithm = get("a");
    ids.signature_text = strip_fws(get("b"));
    return ids;
}

} // namespace arcf::dkim
