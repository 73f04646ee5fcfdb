// SPDX-License-Identifier: ISC
// RFC 8617 §4.1 ARC header field parsing.
#include "arc/arc_headers.hpp"

#include "mail/header.hpp"
#include "mail/signature_tags.hpp"
#include "mail/tag_list.hpp"
#include "text/ascii.hpp"

namespace arcf::arc {

namespace {

bool is_fws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 5322 §3.2.2 CFWS from `p`: FWS and comments, nested, with quoted-pairs. Returns false on
// an unterminated comment. Iterative: nesting depth costs no stack.
bool skip_cfws(std::string_view v, std::size_t& p) {
    std::size_t depth = 0;
    while (p < v.size()) {
        char c = v[p];
        if (depth == 0 && !is_fws(c) && c != '(')
            return true;
        if (c == '(') {
            ++depth;
        } else if (c == ')' && depth > 0) {
            --depth;
        } else if (c == '\\' && depth > 0) {
            ++p; // quoted-pair: the next byte is literal
        }
        ++p;
    }
    return depth == 0;
}

Result<std::uint32_t> parse_instance_tag(std::optional<std::string_view> v) {
    if (!v)
        return fail(Errc::missing_tag, "missing i=");
    auto n = parse_instance(*v);
    if (!n)
        return fail(Errc::bad_value, "i= is not an instance number 1..50");
    return *n;
}

} // namespace

std::string_view to_string(Cv cv) {
    switch (cv) {
    case Cv::none:
        return "none";
    case Cv::pass:
        return "pass";
    case Cv::fail:
        return "fail";
    }
    return "none";
}

ArcHeaderKind arc_header_kind(std::string_view name) {
    if (text::iequals(name, as_name))
        return ArcHeaderKind::seal;
    if (text::iequals(name, ams_name))
        return ArcHeaderKind::ams;
    if (text::iequals(name, aar_name))
        return ArcHeaderKind::aar;
    return ArcHeaderKind::none;
}

std::optional<std::uint32_t> parse_instance(std::string_view v) {
    auto n = parse_decimal(v, 2);
    if (!n || *n < 1 || *n > max_instance)
        return std::nullopt;
    return static_cast<std::uint32_t>(*n);
}

Result<ArcSeal> parse_arc_seal(std::string_view value) {
    auto tags = parse_tag_list(value);
    if (!tags)
        return tl::unexpected(tags.error());
    return parse_arc_seal(*tags);
}

Result<ArcSeal> parse_arc_seal(const mail::TagList& tag_list) {
    const mail::TagList* const tags = &tag_list;
    ArcSeal s;
    auto i = parse_instance_tag(tags->get("i"));
    if (!i)
        return tl::unexpected(i.error());
    s.instance = *i;
    if (tags->has("h"))
        return fail(Errc::bad_value, "h= is not allowed in ARC-Seal (RFC 8617 §4.1.3)");
    auto a = parse_algorithm_tag(tags->get("a"));
    if (!a)
        return tl::unexpected(a.error());
    s.algorithm = *a;
    auto b = parse_base64_tag(tags->get("b"), "b");
    if (!b)
        return tl::unexpected(b.error());
    s.signature = std::move(*b);
    auto cv = tags->get("cv");
    if (!cv)
        return fail(Errc::missing_tag, "missing cv=");
    if (*cv == "none")
        s.cv = Cv::none;
    else if (*cv == "pass")
        s.cv = Cv::pass;
    else if (*cv == "fail")
        s.cv = Cv::fail;
    else
        return fail(Errc::bad_value, "cv= is not none, pass or fail");
    auto d = parse_domain_tag(tags->get("d"));
    if (!d)
        return tl::unexpected(d.error());
    s.domain = std::move(*d);
    auto sel = parse_selector_tag(tags->get("s"));
    if (!sel)
        return tl::unexpected(sel.error());
    s.selector = std::move(*sel);
    auto t = parse_time_tag(tags->get("t"), "t");
    if (!t)
        return tl::unexpected(t.error());
    s.timestamp = *t;
    return s;
}

Result<ArcMessageSignature> parse_arc_message_signature(std::string_view value) {
    auto tags = parse_tag_list(value);
    if (!tags)
        return tl::unexpected(tags.error());
    return parse_arc_message_signature(*tags);
}

Result<ArcMessageSignature> parse_arc_message_signature(const mail::TagList& tag_list) {
    const mail::TagList* const tags = &tag_list;
    ArcMessageSignature m;
    auto i = parse_instance_tag(tags->get("i"));
    if (!i)
        return tl::unexpected(i.error());
    m.instance = *i;
    if (auto common = parse_common_signature_tags(*tags, m); !common)
        return tl::unexpected(common.error());
    for (const auto& name : m.signed_headers)
        if (text::iequals(name, as_name)) // RFC 8617 §4.1.2: ARC-Seal MUST NOT be signed by the AMS
            return fail(Errc::bad_value, "h= includes ARC-Seal");
    auto t = parse_time_tag(tags->get("t"), "t");
    if (!t)
        return tl::unexpected(t.error());
    m.timestamp = *t;
    auto x = parse_time_tag(tags->get("x"), "x");
    if (!x)
        return tl::unexpected(x.error());
    m.expiration = *x;
    if (auto l = tags->get("l")) {
        auto n = parse_length_tag(*l);
        if (!n)
            return tl::unexpected(n.error());
        m.body_length = *n;
    }
    return m;
}

Result<ArcAuthResults> parse_arc_auth_results(std::string_view value) {
    // RFC 8617 §4.1.1: arc-info = instance [CFWS] ";" authres-payload,
    // instance = [CFWS] %s"i" [CFWS] "=" [CFWS] position (comments allowed everywhere there).
    std::size_t p = 0;
    if (!skip_cfws(value, p))
        return fail(Errc::syntax, "ARC-Authentication-Results has an unterminated comment");
    if (p >= value.size() || value[p] != 'i')
        return fail(Errc::syntax, "ARC-Authentication-Results does not start with i=");
    ++p;
    if (!skip_cfws(value, p))
        return fail(Errc::syntax, "ARC-Authentication-Results has an unterminated comment");
    if (p >= value.size() || value[p] != '=')
        return fail(Errc::syntax, "ARC-Authentication-Results does not start with i=");
    ++p;
    if (!skip_cfws(value, p))
        return fail(Errc::syntax, "ARC-Authentication-Results has an unterminated comment");
    std::size_t digits = p;
    while (p < value.size() && value[p] >= '0' && value[p] <= '9')
        ++p;
    auto inst = parse_instance(value.substr(digits, p - digits));
    if (!inst)
        return fail(Errc::bad_value, "ARC-Authentication-Results i= is not 1..50");
    if (!skip_cfws(value, p))
        return fail(Errc::syntax, "ARC-Authentication-Results has an unterminated comment");
    if (p >= value.size() || value[p] != ';')
        return fail(Errc::syntax, "ARC-Authentication-Results i= not followed by ';'");
    ArcAuthResults r;
    r.instance = *inst;
    r.payload = value.substr(p + 1);
    return r;
}

Result<std::uint32_t>
read_instance(ArcHeaderKind kind, std::string_view value, std::optional<mail::TagList>* tags_out) {
    if (kind == ArcHeaderKind::aar) {
        auto r = parse_arc_auth_results(value);
        if (!r)
            return tl::unexpected(r.error());
        return r->instance;
    }
    // The reason names what is wrong: a tag-list syntax error (say a bare CR in b=) is reported
    // as such, not as a missing instance (issue 18 item 5).
    auto tags = parse_tag_list(value);
    if (!tags)
        return tl::unexpected(tags.error());
    auto instance = parse_instance_tag(tags->get("i"));
    if (tags_out != nullptr)
        *tags_out = std::move(*tags);
    return instance;
}

std::optional<std::uint32_t> peek_instance(ArcHeaderKind kind, std::string_view value) {
    auto r = read_instance(kind, value);
    return r ? std::optional<std::uint32_t>(*r) : std::nullopt;
}

} // namespace arcf::arc
