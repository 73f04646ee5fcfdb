// SPDX-License-Identifier: ISC
// Unit tests for arc/arc_headers.hpp: parsing the AS, AMS and AAR fields (RFC 8617 §4.1, §4.2.1).
#include "arc/arc_headers.hpp"
#include "tests/catch.hpp"

#include <string>
#include <utility>
#include <vector>

#include "text/ascii.hpp"

using namespace arcf;
using mail::Errc;

namespace {

using Tags = std::vector<std::pair<std::string, std::string>>;

constexpr const char* bh32 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; // 32 bytes

const Tags seal_tags = {{"i", "1"},     {"a", "rsa-sha256"},  {"b", "AAEC"},
                        {"cv", "none"}, {"d", "example.org"}, {"s", "sel"}};
const Tags ams_tags = {{"i", "1"},   {"a", "rsa-sha256"},      {"b", "AAEC"},
                       {"bh", bh32}, {"c", "relaxed/relaxed"}, {"d", "example.org"},
                       {"s", "sel"}, {"h", "from:to:subject"}};

// `base` with tag `name` set to `value` (appended when absent), or removed when value is null.
Tags with(Tags base, const std::string& name, const char* value) {
    for (auto it = base.begin(); it != base.end(); ++it) {
        if (it->first == name) {
            if (value == nullptr)
                base.erase(it);
            else
                it->second = value;
            return base;
        }
    }
    if (value != nullptr)
        base.emplace_back(name, value);
    return base;
}

std::string render(const Tags& tags) {
    std::string out;
    for (const auto& [k, v] : tags)
        out += (out.empty() ? " " : "; ") + k + "=" + v;
    return out;
}

Errc seal_error(const Tags& tags) {
    auto r = arc::parse_arc_seal(render(tags));
    INFO("ARC-Seal:" << render(tags));
    REQUIRE_FALSE(r);
    return r.error().code;
}

Errc ams_error(const Tags& tags) {
    auto r = arc::parse_arc_message_signature(render(tags));
    INFO("ARC-Message-Signature:" << render(tags));
    REQUIRE_FALSE(r);
    return r.error().code;
}

arc::ArcMessageSignature ams_ok(const Tags& tags) {
    auto r = arc::parse_arc_message_signature(render(tags));
    INFO("ARC-Message-Signature:" << render(tags));
    INFO("error: " << (r ? std::string() : r.error().detail));
    REQUIRE(r);
    return *r;
}

arc::ArcSeal seal_ok(const Tags& tags) {
    auto r = arc::parse_arc_seal(render(tags));
    INFO("ARC-Seal:" << render(tags));
    INFO("error: " << (r ? std::string() : r.error().detail));
    REQUIRE(r);
    return *r;
}

} // namespace

TEST_CASE("arc_headers: header kinds by case-insensitive name", "[arc_headers][rfc8617]") {
    CHECK(arc::arc_header_kind("ARC-Seal") == arc::ArcHeaderKind::seal);
    CHECK(arc::arc_header_kind("arc-seal") == arc::ArcHeaderKind::seal);
    CHECK(arc::arc_header_kind("ARC-MESSAGE-SIGNATURE") == arc::ArcHeaderKind::ams);
    CHECK(arc::arc_header_kind("Arc-Authentication-Results") == arc::ArcHeaderKind::aar);
    CHECK(arc::arc_header_kind("ARC-Seal2") == arc::ArcHeaderKind::none);
    CHECK(arc::arc_header_kind("DKIM-Signature") == arc::ArcHeaderKind::none);
    CHECK(arc::arc_header_kind("Authentication-Results") == arc::ArcHeaderKind::none);
    CHECK(arc::arc_header_kind("") == arc::ArcHeaderKind::none);
    CHECK(arc::to_string(arc::Cv::none) == "none");
    CHECK(arc::to_string(arc::Cv::pass) == "pass");
    CHECK(arc::to_string(arc::Cv::fail) == "fail");
}

TEST_CASE("arc_headers: instance values are 1..50, one or two digits", "[arc_headers][rfc8617]") {
    CHECK(arc::parse_instance("1") == std::optional<std::uint32_t>(1));
    CHECK(arc::parse_instance("50") == std::optional<std::uint32_t>(50));
    CHECK(arc::parse_instance("07") == std::optional<std::uint32_t>(7)); // 1*2DIGIT
    for (const char* bad : {"0", "00", "51", "99", "100", "001", "a", "", "-1", "+1", "1a", " 1"})
        CHECK_FALSE(arc::parse_instance(bad));
}

TEST_CASE("arc_headers: ARC-Seal fields parsed", "[arc_headers][rfc8617]") {
    auto s = seal_ok(with(with(seal_tags, "t", "1700000000"), "d", "Example.ORG"));
    CHECK(s.instance == 1);
    CHECK(s.algorithm == mail::Algorithm::rsa_sha256);
    CHECK(s.signature == std::string("\x00\x01\x02", 3));
    CHECK(s.cv == arc::Cv::none);
    CHECK(s.domain == "example.org"); // lower-cased for key lookup
    CHECK(s.selector == "sel");
    CHECK(s.timestamp == std::optional<std::uint64_t>(1700000000));
    CHECK_FALSE(seal_ok(seal_tags).timestamp);
    CHECK(seal_ok(with(seal_tags, "cv", "pass")).cv == arc::Cv::pass);
    CHECK(seal_ok(with(seal_tags, "cv", "fail")).cv == arc::Cv::fail);
    CHECK(seal_ok(with(seal_tags, "a", "ed25519-sha256")).algorithm ==
          mail::Algorithm::ed25519_sha256);
}

TEST_CASE("arc_headers: ARC-Seal tags in any order, unknown tags ignored",
          "[arc_headers][rfc8617]") {
    Tags reversed(seal_tags.rbegin(), seal_tags.rend());
    auto s = seal_ok(with(with(reversed, "zz", "whatever"), "v", "1"));
    CHECK(s.instance == 1);
    CHECK(s.domain == "example.org");
    CHECK(s.selector == "sel");
    // Folded, with a trailing ';'.
    auto f = arc::parse_arc_seal(" i=2;\r\n a=rsa-sha256; cv=pass;\r\n\td=example.org;"
                                 " s=sel; b=AA\r\n EC;");
    REQUIRE(f);
    CHECK(f->instance == 2);
    CHECK(f->signature == std::string("\x00\x01\x02", 3));
}

TEST_CASE("arc_headers: ARC-Seal instance missing or out of range rejected",
          "[arc_headers][rfc8617]") {
    CHECK(seal_error(with(seal_tags, "i", nullptr)) == Errc::missing_tag);
    for (const char* bad : {"0", "51", "a", "", "100", "-1"})
        CHECK(seal_error(with(seal_tags, "i", bad)) == Errc::bad_value);
    CHECK(seal_ok(with(seal_tags, "i", "50")).instance == 50);
}

TEST_CASE("arc_headers: h= is forbidden in ARC-Seal", "[arc_headers][rfc8617]") {
    CHECK(seal_error(with(seal_tags, "h", "from")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "h", "")) == Errc::bad_value);
}

TEST_CASE("arc_headers: a= must be rsa-sha256 or ed25519-sha256; rsa-sha1 refused",
          "[arc_headers][rfc8617][rfc8301]") {
    CHECK(seal_error(with(seal_tags, "a", nullptr)) == Errc::missing_tag);
    CHECK(seal_error(with(seal_tags, "a", "rsa-sha1")) == Errc::unsupported);
    CHECK(seal_error(with(seal_tags, "a", "RSA-SHA256")) == Errc::unsupported);
    CHECK(seal_error(with(seal_tags, "a", "rsa-sha512")) == Errc::unsupported);
    CHECK(ams_error(with(ams_tags, "a", "rsa-sha1")) == Errc::unsupported);
    CHECK(ams_error(with(ams_tags, "a", nullptr)) == Errc::missing_tag);
}

TEST_CASE("arc_headers: b= must be present, non-empty base64", "[arc_headers][rfc8617]") {
    CHECK(seal_error(with(seal_tags, "b", nullptr)) == Errc::missing_tag);
    CHECK(seal_error(with(seal_tags, "b", "")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "b", "AAE")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "b", "AA*C")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "b", "")) == Errc::bad_value);
}

TEST_CASE("arc_headers: cv= must be none, pass or fail", "[arc_headers][rfc8617]") {
    CHECK(seal_error(with(seal_tags, "cv", nullptr)) == Errc::missing_tag);
    CHECK(seal_error(with(seal_tags, "cv", "ok")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "cv", "")) == Errc::bad_value);
}

TEST_CASE("arc_headers: d= must be a domain name", "[arc_headers][rfc8617][rfc6376]") {
    CHECK(seal_error(with(seal_tags, "d", nullptr)) == Errc::missing_tag);
    const std::string label63(63, 'a');
    const std::string label64(64, 'a');
    for (const std::string& bad :
         {std::string(""), std::string("exa mple.org"), std::string("example..org"),
          std::string(".example.org"), std::string("example.org."), std::string("ex@mple.org"),
          std::string("example.org/x"), label64 + ".example",
          label63 + "." + label63 + "." + label63 + "." + label63}) {
        INFO("d=" << bad);
        CHECK_FALSE(text::is_domain_name(bad));
        CHECK(seal_error(with(seal_tags, "d", bad.c_str())) == Errc::bad_value);
    }
    for (const char* good :
         {"example.org", "a", "xn--bcher-kva.example", "sub_domain.example", "1-2.example",
          "b\xC3\xBC"
          "cher.example"}) {
        INFO("d=" << good);
        CHECK(text::is_domain_name(good));
    }
    CHECK(text::is_domain_name(label63 + ".example"));
    // 253 characters is the limit.
    const std::string d253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    REQUIRE(d253.size() == 253);
    CHECK(text::is_domain_name(d253));
}

TEST_CASE("arc_headers: s= must be a selector", "[arc_headers][rfc8617][rfc6376]") {
    CHECK(seal_error(with(seal_tags, "s", nullptr)) == Errc::missing_tag);
    CHECK(seal_error(with(seal_tags, "s", "")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "s", "sel ector")) == Errc::bad_value);
    CHECK(seal_error(with(seal_tags, "s", "sel..x")) == Errc::bad_value);
    CHECK(seal_ok(with(seal_tags, "s", "Sel.2024")).selector == "Sel.2024");
}

TEST_CASE("arc_headers: t= is at most 12 digits", "[arc_headers][rfc6376]") {
    CHECK(seal_ok(with(seal_tags, "t", "999999999999")).timestamp ==
          std::optional<std::uint64_t>(999999999999ULL));
    CHECK(seal_ok(with(seal_tags, "t", "0")).timestamp == std::optional<std::uint64_t>(0));
    for (const char* bad : {"1000000000000", "abc", "", "-1", "1.5"})
        CHECK(seal_error(with(seal_tags, "t", bad)) == Errc::bad_value);
}

TEST_CASE("arc_headers: a tag-list error in an ARC header is reported", "[arc_headers]") {
    auto dup = arc::parse_arc_seal(" i=1; i=1; a=rsa-sha256; b=AAEC; cv=none; d=e.org; s=s");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == Errc::duplicate_tag);
    auto empty = arc::parse_arc_message_signature(" i=1;; a=rsa-sha256");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().code == Errc::syntax);
}

TEST_CASE("arc_headers: ARC-Message-Signature fields parsed", "[arc_headers][rfc8617]") {
    auto m = ams_ok(with(with(with(ams_tags, "t", "100"), "x", "200"), "l", "42"));
    CHECK(m.instance == 1);
    CHECK(m.algorithm == mail::Algorithm::rsa_sha256);
    CHECK(m.signature == std::string("\x00\x01\x02", 3));
    CHECK(m.body_hash.size() == 32);
    CHECK(m.header_canon == mail::Canon::relaxed);
    CHECK(m.body_canon == mail::Canon::relaxed);
    CHECK(m.domain == "example.org");
    CHECK(m.selector == "sel");
    CHECK(m.signed_headers == std::vector<std::string>{"from", "to", "subject"});
    CHECK(m.timestamp == std::optional<std::uint64_t>(100));
    CHECK(m.expiration == std::optional<std::uint64_t>(200));
    CHECK(m.body_length == std::optional<std::uint64_t>(42));
    auto plain = ams_ok(ams_tags);
    CHECK_FALSE(plain.timestamp);
    CHECK_FALSE(plain.expiration);
    CHECK_FALSE(plain.body_length);
}

TEST_CASE("arc_headers: ARC-Message-Signature tags in any order, unknown and v= ignored",
          "[arc_headers][rfc8617]") {
    Tags reversed(ams_tags.rbegin(), ams_tags.rend());
    auto m = ams_ok(with(with(reversed, "v", "1"), "q", "dns/txt"));
    CHECK(m.instance == 1);
    CHECK(m.signed_headers.size() == 3);
}

TEST_CASE("arc_headers: c= forms; absent means simple/simple", "[arc_headers][rfc6376]") {
    auto none = ams_ok(with(ams_tags, "c", nullptr));
    CHECK(none.header_canon == mail::Canon::simple);
    CHECK(none.body_canon == mail::Canon::simple);
    auto header_only = ams_ok(with(ams_tags, "c", "relaxed"));
    CHECK(header_only.header_canon == mail::Canon::relaxed);
    CHECK(header_only.body_canon == mail::Canon::simple);
    auto mixed = ams_ok(with(ams_tags, "c", "simple/relaxed"));
    CHECK(mixed.header_canon == mail::Canon::simple);
    CHECK(mixed.body_canon == mail::Canon::relaxed);
    for (const char* bad :
         {"relaxed/", "/relaxed", "fancy", "Relaxed/relaxed", "relaxed/relaxed/relaxed", ""})
        CHECK(ams_error(with(ams_tags, "c", bad)) == Errc::bad_value);
}

TEST_CASE("arc_headers: bh= must be a base64 SHA-256 digest", "[arc_headers][rfc6376]") {
    CHECK(ams_error(with(ams_tags, "bh", nullptr)) == Errc::missing_tag);
    CHECK(ams_error(with(ams_tags, "bh", "AAEC")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "bh", "")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "bh", "not base64!")) == Errc::bad_value);
}

TEST_CASE("arc_headers: AMS h= is split, trimmed and lower-cased", "[arc_headers][rfc6376]") {
    auto m = ams_ok(with(ams_tags, "h", "From : TO:\r\n\tSubject:ARC-Authentication-Results"));
    CHECK(m.signed_headers ==
          std::vector<std::string>{"from", "to", "subject", "arc-authentication-results"});
    // Over-signing repeats names; empty names are kept as placeholders.
    CHECK(ams_ok(with(ams_tags, "h", "from:from")).signed_headers ==
          std::vector<std::string>{"from", "from"});
    CHECK(ams_ok(with(ams_tags, "h", "from::to")).signed_headers ==
          std::vector<std::string>{"from", "", "to"});
    CHECK(ams_error(with(ams_tags, "h", nullptr)) == Errc::missing_tag);
}

TEST_CASE("arc_headers: AMS h= including ARC-Seal rejected", "[arc_headers][rfc8617]") {
    CHECK(ams_error(with(ams_tags, "h", "from:arc-seal")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "h", "ARC-Seal:from")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "h", "from : Arc-Seal ")) == Errc::bad_value);
    // Other ARC headers may be signed.
    CHECK(ams_ok(with(ams_tags, "h", "from:arc-message-signature")).signed_headers.size() == 2);
}

TEST_CASE("arc_headers: AMS t=, x= and l= validated", "[arc_headers][rfc6376]") {
    for (const char* bad : {"abc", "", "1000000000000", "-5"}) {
        CHECK(ams_error(with(ams_tags, "t", bad)) == Errc::bad_value);
        CHECK(ams_error(with(ams_tags, "x", bad)) == Errc::bad_value);
    }
    CHECK(ams_ok(with(ams_tags, "l", "0")).body_length == std::optional<std::uint64_t>(0));
    CHECK(ams_ok(with(ams_tags, "l", "9999999999999999999")).body_length ==
          std::optional<std::uint64_t>(9999999999999999999ULL));
    for (const char* bad : {"abc", "", "-1", "12345678901234567890", "1e3"})
        CHECK(ams_error(with(ams_tags, "l", bad)) == Errc::bad_value);
}

TEST_CASE("arc_headers: AMS instance, d= and s= validated like the seal's",
          "[arc_headers][rfc8617]") {
    CHECK(ams_error(with(ams_tags, "i", nullptr)) == Errc::missing_tag);
    for (const char* bad : {"0", "51", "a", ""})
        CHECK(ams_error(with(ams_tags, "i", bad)) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "d", "bad domain")) == Errc::bad_value);
    CHECK(ams_error(with(ams_tags, "d", nullptr)) == Errc::missing_tag);
    CHECK(ams_error(with(ams_tags, "s", nullptr)) == Errc::missing_tag);
    CHECK(ams_ok(with(ams_tags, "d", "MAIL.Example.ORG")).domain == "mail.example.org");
}

TEST_CASE("arc_headers: AAR must start with i=N;", "[arc_headers][rfc8617]") {
    auto a = arc::parse_arc_auth_results(" i=1; mx.example.org; spf=pass");
    REQUIRE(a);
    CHECK(a->instance == 1);
    CHECK(a->payload == " mx.example.org; spf=pass");
    auto b = arc::parse_arc_auth_results("\r\n\ti=42 \t;mx.example.org;\r\n dkim=pass");
    REQUIRE(b);
    CHECK(b->instance == 42);
    CHECK(b->payload == "mx.example.org;\r\n dkim=pass");
    auto c = arc::parse_arc_auth_results("i=50;");
    REQUIRE(c);
    CHECK(c->instance == 50);
    CHECK(c->payload.empty());
}

TEST_CASE("arc_headers: AAR instance allows CFWS around i, = and the number",
          "[arc_headers][rfc8617]") {
    // RFC 8617 §4.1.1: instance = [CFWS] %s"i" [CFWS] "=" [CFWS] position (issue 18 item 1).
    for (std::string_view v :
         {" i=1 (comment); mx.example.org; spf=pass", " (comment) i=1; mx.example.org; spf=pass",
          " i = 1 ; mx.example.org; spf=pass",
          " (a (nested \\) comment)) i\r\n =\t(c)1(d);mx.example.org; spf=pass"}) {
        INFO("ARC-Authentication-Results:" << v);
        auto r = arc::parse_arc_auth_results(v);
        REQUIRE(r);
        CHECK(r->instance == 1);
        CHECK_THAT(std::string(r->payload), Catch::Matchers::EndsWith("mx.example.org; spf=pass"));
        CHECK(arc::peek_instance(arc::ArcHeaderKind::aar, v) == std::optional<std::uint32_t>(1));
    }
}

TEST_CASE("arc_headers: AAR with an unterminated comment or a quoted i rejected",
          "[arc_headers][rfc8617]") {
    for (std::string_view v : {" (comment i=1; spf=pass", " i=1 (x; spf=pass", " i=(1; spf=pass",
                               " I=1; spf=pass", " (x\\) i=1; spf=pass"}) {
        INFO("ARC-Authentication-Results:" << v);
        auto r = arc::parse_arc_auth_results(v);
        CHECK_FALSE(r);
    }
}

TEST_CASE("arc_headers: read_instance names what is wrong", "[arc_headers][rfc8617]") {
    // Issue 18 item 5: a bare CR in b= is a syntax error of b=, not a missing instance.
    using K = arc::ArcHeaderKind;
    auto r = arc::read_instance(K::seal, " i=1; a=rsa-sha256; b=AB\rCD; cv=none");
    REQUIRE_FALSE(r);
    CHECK(r.error().detail == "bare CR in the value of b=");
    auto m = arc::read_instance(K::ams, " a=rsa-sha256; b=AB");
    REQUIRE_FALSE(m);
    CHECK(m.error().detail == "missing i=");
    REQUIRE(arc::read_instance(K::seal, " i = 2 ; a=x"));
    CHECK(*arc::read_instance(K::seal, " i = 2 ; a=x") == 2);
}

TEST_CASE("arc_headers: AAR without a leading valid i= rejected", "[arc_headers][rfc8617]") {
    auto code = [](std::string_view v) {
        auto r = arc::parse_arc_auth_results(v);
        INFO("ARC-Authentication-Results:" << v);
        REQUIRE_FALSE(r);
        return r.error().code;
    };
    CHECK(code(" mx.example.org; i=1; spf=pass") == Errc::syntax);
    CHECK(code("") == Errc::syntax);
    CHECK(code(" i=1") == Errc::syntax); // no ';'
    CHECK(code(" i=1 mx.example.org") == Errc::syntax);
    CHECK(code(" i=1x; spf=pass") == Errc::syntax);
    CHECK(code(" i=0; spf=pass") == Errc::bad_value);
    CHECK(code(" i=51; spf=pass") == Errc::bad_value);
    CHECK(code(" i=; spf=pass") == Errc::bad_value);
    CHECK(code(" i=100; spf=pass") == Errc::bad_value);
    CHECK(code(" i=a; spf=pass") == Errc::bad_value);
}

TEST_CASE("arc_headers: peek_instance uses each header's own syntax", "[arc_headers][rfc8617]") {
    using K = arc::ArcHeaderKind;
    CHECK(arc::peek_instance(K::aar, " i=3; mx.example.org; arc=pass") ==
          std::optional<std::uint32_t>(3));
    CHECK_FALSE(arc::peek_instance(K::aar, " mx.example.org; i=3"));
    CHECK(arc::peek_instance(K::seal, " a=x; i=7") == std::optional<std::uint32_t>(7));
    CHECK(arc::peek_instance(K::ams, " i=12; anything=goes") == std::optional<std::uint32_t>(12));
    CHECK_FALSE(arc::peek_instance(K::seal, " a=x"));
    CHECK_FALSE(arc::peek_instance(K::seal, " i=51"));
    CHECK_FALSE(arc::peek_instance(K::ams, " i=1;; a=b"));
}
