// SPDX-License-Identifier: ISC
// Unit tests of dmarc/from_domain: the RFC5322.From domain (RFC 7489 §6.6.1) from ordinary,
// obsolete and hostile field values.
#include "dmarc/from_domain.hpp"
#include "tests/catch.hpp"

#include <string>

using namespace arcf::dmarc;

namespace {

std::string domain_ok(const std::string& value) {
    auto d = author_domain(value);
    INFO(value << ": " << (d ? std::string() : d.error().detail));
    REQUIRE(d);
    return *d;
}

Errc domain_error(const std::string& value) {
    auto d = author_domain(value);
    INFO(value << " -> " << (d ? *d : std::string()));
    REQUIRE_FALSE(d);
    return d.error().code;
}

} // namespace

TEST_CASE("dmarc From: ordinary values (RFC 5322 §3.4)", "[dmarc][from]") {
    CHECK(domain_ok("user@example.com") == "example.com");
    CHECK(domain_ok(" user@example.com ") == "example.com");
    CHECK(domain_ok("<user@example.com>") == "example.com");
    CHECK(domain_ok("Joe User <user@example.com>") == "example.com");
    CHECK(domain_ok("\"Joe User\" <user@example.com>") == "example.com");
    CHECK(domain_ok("user@example.com (Joe User)") == "example.com");
    CHECK(domain_ok("=?utf-8?q?J=C3=B6rg?= <joerg@example.de>") == "example.de");
    CHECK(domain_ok("Joe Q. Public <john.q.public@example.com>") == "example.com");
    CHECK(domain_ok("\"Joe\"\r\n <user@Mail.Example.COM>") == "mail.example.com");
    CHECK(domain_ok("user@example.com.") == "example.com");
    CHECK(domain_ok("\"odd local\"@example.com") == "example.com");
    CHECK(domain_ok("user@sub_domain.example.com") == "sub_domain.example.com");
}

TEST_CASE("dmarc From: quotes, comments and obsolete forms (RFC 5322 §3.2, §4.4)",
          "[dmarc][from]") {
    // '@', '<', '>' and ',' inside quoted strings and comments are text.
    CHECK(domain_ok("\"evil@bad.example\" <user@example.com>") == "example.com");
    CHECK(domain_ok("\"<evil@bad.example>\" <user@example.com>") == "example.com");
    CHECK(domain_ok("\"Doe, John\" <user@example.com>") == "example.com");
    CHECK(domain_ok("user@example.com (evil@bad.example <x@bad.example>)") == "example.com");
    CHECK(domain_ok("(nested (comment @ bad.example)) user@example.com") == "example.com");
    CHECK(domain_ok("\"a \\\" quote\" <user@example.com>") == "example.com");
    CHECK(domain_ok("(a \\) paren) user@example.com") == "example.com");
    // CFWS inside addr-spec and domain (obs-domain).
    CHECK(domain_ok("user @ example . com") == "example.com");
    CHECK(domain_ok("user@(c)example.com") == "example.com");
    // obs-angle-addr with a route.
    CHECK(domain_ok("Joe <@relay.example,@other.example:user@example.com>") == "example.com");
    // obs-mbox-list: empty elements.
    CHECK(domain_ok(", user@example.com ,") == "example.com");
    // Groups.
    CHECK(domain_ok("Team: a@example.com, b@example.com;") == "example.com");
    CHECK(domain_error("undisclosed-recipients:;") == Errc::no_address);
}

TEST_CASE("dmarc From: several addresses (RFC 7489 §6.6.1)", "[dmarc][from]") {
    CHECK(domain_ok("a@example.com, B <b@EXAMPLE.com>") == "example.com");
    auto d = author_domain("a@example.com, b@example.net");
    REQUIRE_FALSE(d);
    CHECK(d.error().code == Errc::multiple_domains);
    CHECK(d.error().domains == std::vector<std::string>{"example.com", "example.net"});
    auto all = from_domains("a@x.example, b@y.example, c@x.example");
    REQUIRE(all);
    CHECK(*all == std::vector<std::string>{"x.example", "y.example", "x.example"});
}

TEST_CASE("dmarc From: field count", "[dmarc][from]") {
    CHECK(author_domain(std::vector<std::string_view>{}).error().code == Errc::no_from);
    CHECK(author_domain(std::vector<std::string_view>{"a@example.com", "a@example.com"})
              .error()
              .code == Errc::multiple_from);
    auto one = author_domain(std::vector<std::string_view>{"a@example.com"});
    REQUIRE(one);
    CHECK(*one == "example.com");
}

TEST_CASE("dmarc From: no usable domain", "[dmarc][from]") {
    CHECK(domain_error("") == Errc::no_address);
    CHECK(domain_error("   ") == Errc::no_address);
    CHECK(domain_error("(only a comment)") == Errc::no_address);
    CHECK(domain_error("user") == Errc::no_domain);
    CHECK(domain_error("Joe <user>") == Errc::no_domain);
    CHECK(domain_error("user@") == Errc::no_domain);
    CHECK(domain_error("user@[192.0.2.1]") == Errc::no_domain);
    CHECK(domain_error("user@example..com") == Errc::no_domain);
    CHECK(domain_error("user@.example.com") == Errc::no_domain);
    CHECK(domain_error("user@exa!mple.com") == Errc::no_domain);
    CHECK(domain_error("user@" + std::string(64, 'a') + ".com") == Errc::no_domain);
    CHECK(domain_error("user@" + std::string(300, 'a')) == Errc::no_domain);
    CHECK(domain_error("@example.com") == Errc::syntax);
}

TEST_CASE("dmarc From: hostile values", "[dmarc][from]") {
    // Two candidates a mail reader could show: refuse rather than pick one.
    CHECK(domain_error("user@good.example <evil@bad.example>") == Errc::syntax);
    CHECK(domain_error("<a@good.example> <b@bad.example>") == Errc::syntax);
    CHECK(domain_error("<a@good.example> trailing") == Errc::syntax);
    CHECK(domain_error("a@good.example@bad.example") == Errc::syntax);
    CHECK(domain_error("<<a@example.com>>") == Errc::syntax);
    CHECK(domain_error("Joe <a@example.com") == Errc::syntax);
    CHECK(domain_error("Joe a@example.com>") == Errc::syntax);
    CHECK(domain_error("\"unterminated <a@example.com>") == Errc::syntax);
    CHECK(domain_error("(unterminated a@example.com") == Errc::syntax);
    CHECK(domain_error("a@example.com)") == Errc::syntax);
    CHECK(domain_error("a@example.com\\") == Errc::syntax);
    CHECK(domain_error("a@[192.0.2.1") == Errc::syntax);
    CHECK(domain_error("a@example.com; b@example.net") == Errc::syntax);
    CHECK(domain_error("g: a@example.com") == Errc::syntax);
    CHECK(domain_error("a:b:c@example.com;") == Errc::syntax);
    // Controls other than folding whitespace, anywhere.
    CHECK(domain_error(std::string("a@exam\0ple.com", 15)) == Errc::syntax);
    CHECK(domain_error("\"a\x01\" <a@example.com>") == Errc::syntax);
    CHECK(domain_error("(\x7f) a@example.com") == Errc::syntax);
    CHECK(domain_error("a@example.com\x1b[0m") == Errc::syntax);
    // Deep comment nesting is only counted, not recursed into.
    CHECK(domain_ok(std::string(100000, '(') + std::string(100000, ')') + "a@example.com") ==
          "example.com");
    CHECK(domain_error(std::string(100000, '(') + "a@example.com") == Errc::syntax);
}

TEST_CASE("dmarc From: internationalized domains become A-labels (§6.6.1)", "[dmarc][from]") {
    CHECK(domain_ok("Jörg <jörg@bücher.example>") == "xn--bcher-kva.example");
    CHECK(domain_ok("a@BÜCHER.example") == "xn--bcher-kva.example");
    CHECK(domain_ok("a@xn--bcher-kva.example") == "xn--bcher-kva.example");
    CHECK(domain_ok("a@食狮.公司.cn") == "xn--85x722f.xn--55qx5d.cn");
    CHECK(domain_error("a@\xff\xfe.example") == Errc::no_domain); // not UTF-8
}
