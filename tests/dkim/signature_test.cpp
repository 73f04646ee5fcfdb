// SPDX-License-Identifier: ISC
// Unit tests for dkim/signature.hpp: DKIM-Signature tags (RFC 6376 §3.5, §6.1.1).
#include "tests/catch.hpp"

#include <string>

#include "dkim/signature.hpp"

using namespace arcf;
using arcf::test::Contains;

namespace {

// A syntactically complete signature; `extra` is appended, `drop` removes one tag.
std::string sig(const std::string& extra = "", const std::string& drop = "") {
    const char* tags[][2] = {
        {"v", "1"},
        {"a", "rsa-sha256"},
        {"b", "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ=="},
        {"bh", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {"d", "Example.COM"},
        {"h", "From : To:subject"},
        {"s", "sel1"},
    };
    std::string out;
    for (const auto& t : tags) {
        if (drop == t[0])
            continue;
        out += std::string(t[0]) + "=" + t[1] + "; ";
    }
    return out + extra;
}

std::string error_of(const std::string& value) {
    auto r = dkim::parse_dkim_signature(value);
    REQUIRE_FALSE(r);
    return r.error().detail;
}

} // namespace

TEST_CASE("dkim_signature: required tags and defaults", "[dkim_signature][rfc6376]") {
    auto s = dkim::parse_dkim_signature(sig());
    REQUIRE(s);
    CHECK(s->algorithm == mail::Algorithm::rsa_sha256);
    CHECK(s->domain == "example.com"); // lower-cased
    CHECK(s->selector == "sel1");
    CHECK(s->header_canon == mail::Canon::simple); // RFC 6376 §3.5: c= defaults to simple/simple
    CHECK(s->body_canon == mail::Canon::simple);
    CHECK(s->signed_headers == std::vector<std::string>{"from", "to", "subject"});
    CHECK(s->identity == "@example.com"); // i= defaults to "@" d=
    CHECK(s->identity_domain == "example.com");
    CHECK_FALSE(s->subdomain_identity());
    CHECK(s->signature == "this is not a real signature");
    CHECK(s->signature_text == "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==");
    CHECK(s->body_hash.size() == 32);
    CHECK_FALSE(s->body_length);
    CHECK_FALSE(s->timestamp);
    CHECK_FALSE(s->expiration);

    for (const char* tag : {"v", "a", "b", "bh", "d", "h", "s"}) {
        INFO("without " << tag);
        auto r = dkim::parse_dkim_signature(sig("", tag));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == mail::Errc::missing_tag);
        CHECK(r.error().detail == std::string("missing ") + tag + "=");
    }
}

TEST_CASE("dkim_signature: optional tags", "[dkim_signature][rfc6376]") {
    auto s = dkim::parse_dkim_signature(
        sig("c=relaxed; i=user@Mail.example.com; l=120; q=dns/txt; t=1700000000; x=1700086400; "
            "z=From:foo@example.com|To:bar@example.com; future=ignored"));
    REQUIRE(s);
    CHECK(s->header_canon == mail::Canon::relaxed);
    CHECK(s->body_canon == mail::Canon::simple); // "c=relaxed" alone: body simple
    CHECK(s->identity == "user@Mail.example.com");
    CHECK(s->identity_domain == "mail.example.com");
    CHECK(s->subdomain_identity());
    CHECK(s->body_length == 120u);
    CHECK(s->timestamp == 1700000000u);
    CHECK(s->expiration == 1700086400u);

    auto relaxed = dkim::parse_dkim_signature(sig("c=simple/relaxed; i=@example.com"));
    REQUIRE(relaxed);
    CHECK(relaxed->header_canon == mail::Canon::simple);
    CHECK(relaxed->body_canon == mail::Canon::relaxed);
    CHECK_FALSE(relaxed->subdomain_identity());

    auto ed = dkim::parse_dkim_signature(sig("a=ed25519-sha256", "a"));
    REQUIRE(ed);
    CHECK(ed->algorithm == mail::Algorithm::ed25519_sha256); // RFC 8463

    auto folded = dkim::parse_dkim_signature(
        "v=1; a=rsa-sha256; d=example.com; s=s;\r\n\th=from; bh=47DEQpj8HBSa+/TImW+5JCeuQe\r\n"
        " Rkm5NMpJWZG3hSuFU=; b=dGhp\r\n cw==");
    REQUIRE(folded);
    CHECK(folded->signature == "this");
    CHECK(folded->signature_text == "dGhpcw==");
}

TEST_CASE("dkim_signature: refused and invalid values", "[dkim_signature][rfc6376][rfc8301]") {
    CHECK(error_of(sig("a=rsa-sha1", "a")) == "rsa-sha1 refused (RFC 8301)");
    CHECK_THAT(error_of(sig("a=rsa-sha512", "a")), Contains("unknown algorithm"));
    CHECK(dkim::parse_dkim_signature(sig("a=RSA-SHA256", "a")).error().code ==
          mail::Errc::unsupported); // values are case-sensitive
    CHECK_THAT(error_of(sig("v=2", "v")), Contains("incompatible version"));
    CHECK_THAT(error_of(sig("v=DKIM1", "v")), Contains("incompatible version"));
    // RFC 6376 §5.4: From must be signed.
    CHECK_THAT(error_of(sig("h=to:subject", "h")), Contains("does not include From"));
    CHECK_THAT(error_of(sig("h=", "h")), Contains("does not include From"));
    CHECK(dkim::parse_dkim_signature(sig("h=subject:FROM", "h")));
    // RFC 6376 §3.5 / §6.1.1: i= must be d= or a subdomain of it.
    CHECK_THAT(error_of(sig("i=user@other.example")), Contains("not d= or a subdomain"));
    CHECK_THAT(error_of(sig("i=user@badexample.com")), Contains("not d= or a subdomain"));
    CHECK_THAT(error_of(sig("i=user@com")), Contains("not d= or a subdomain"));
    CHECK_THAT(error_of(sig("i=example.com")), Contains("no '@'"));
    CHECK_THAT(error_of(sig("i=user@")), Contains("not a domain name"));
    CHECK(dkim::parse_dkim_signature(sig("i=\"odd@local\"@a.b.EXAMPLE.com")));
    // q=: only dns/txt is defined.
    CHECK_THAT(error_of(sig("q=http/well-known")), Contains("q="));
    CHECK(dkim::parse_dkim_signature(sig("q=foo/bar:dns/txt")));
    // t=, x=: 1*12DIGIT, x= later than t= (RFC 6376 §3.5).
    CHECK_THAT(error_of(sig("t=17000000000000")), Contains("t= is not a timestamp"));
    CHECK_THAT(error_of(sig("x=soon")), Contains("x= is not a timestamp"));
    CHECK_THAT(error_of(sig("t=1700000000; x=1699999999")), Contains("x= is not later than t="));
    CHECK_THAT(error_of(sig("t=1700000000; x=1700000000")), Contains("x= is not later than t="));
    CHECK(dkim::parse_dkim_signature(sig("x=1")));
    // l=: digits that fit.
    CHECK_THAT(error_of(sig("l=-1")), Contains("l= is not a length"));
    CHECK_THAT(error_of(sig("l=123456789012345678901")), Contains("l= is not a length"));
    CHECK(dkim::parse_dkim_signature(sig("l=0"))->body_length == 0u);
    // c=, d=, s=, b=, bh=.
    CHECK_THAT(error_of(sig("c=nowsp/simple")), Contains("c= is not a known canonicalization"));
    CHECK_THAT(error_of(sig("d=exa mple.com", "d")), Contains("d= is not a domain name"));
    CHECK_THAT(error_of(sig("s=a..b", "s")), Contains("s= is not a valid selector"));
    CHECK_THAT(error_of(sig("b=!!!!", "b")), Contains("b= is not valid base64"));
    CHECK_THAT(error_of(sig("bh=dGhpcw==", "bh")), Contains("bh= is not a SHA-256 digest"));
}

TEST_CASE("dkim_signature: tag-list syntax", "[dkim_signature][rfc6376]") {
    auto dup = dkim::parse_dkim_signature(sig("d=example.org"));
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == mail::Errc::duplicate_tag); // RFC 6376 §3.2
    CHECK(dkim::parse_dkim_signature(sig() + ";;").error().code == mail::Errc::syntax);
    CHECK_FALSE(dkim::parse_dkim_signature(""));
    CHECK_FALSE(dkim::parse_dkim_signature("garbage"));
}

TEST_CASE("dkim_signature: identification of a field that did not parse", "[dkim_signature]") {
    auto ids = dkim::peek_dkim_ids("v=1; a=rsa-sha1; d=Example.com; s=sel; b=abc\r\n def; h=to");
    CHECK(ids.domain == "example.com");
    CHECK(ids.selector == "sel");
    CHECK(ids.identity == "@example.com");
    CHECK(ids.algorithm == "rsa-sha1");
    CHECK(ids.signature_text == "abcdef");
    auto with_i = dkim::peek_dkim_ids("d=example.com; i=u@x.example.com");
    CHECK(with_i.identity == "u@x.example.com");
    auto broken = dkim::peek_dkim_ids("d=example.com;; s=x");
    CHECK(broken.domain.empty());
    CHECK(broken.identity.empty());
}

TEST_CASE("dkim_signature: x-trace= is ignored and a future t= is kept (issue 18 item 6)",
          "[dkim_signature][rfc6376]") {
    // The same decisions as for ARC (README "Conformance decisions"): a '-' in a tag name is an
    // unrecognized tag (RFC 6376 §3.2), and a t= decades ahead is not a parse error (§3.5 MAY).
    auto s = dkim::parse_dkim_signature(sig("x-trace=hop1; t=4102444800"));
    REQUIRE(s);
    CHECK(s->timestamp == std::optional<std::uint64_t>(4102444800));
}
