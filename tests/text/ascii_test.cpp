// SPDX-License-Identifier: ISC
// text/ascii.hpp: the one home of the ASCII case and DNS name helpers.
#include "tests/catch.hpp"

#include <string>

#include "text/ascii.hpp"

using namespace arcf;

TEST_CASE("ascii: iequals and to_lower are ASCII case-insensitive only", "[ascii]") {
    CHECK(text::iequals("ARC-Seal", "arc-seal"));
    CHECK(text::iequals("", ""));
    CHECK_FALSE(text::iequals("arc-seal", "arc-seal "));
    CHECK_FALSE(text::iequals("a", "b"));
    CHECK(text::to_lower("MiXeD-Case_123") == "mixed-case_123");
    CHECK(text::to_lower('Q') == 'q');
    CHECK(text::to_lower('@') == '@'); // just below 'A'
    CHECK(text::to_lower('[') == '['); // just above 'Z'
    // Bytes outside A-Z are left alone (no locale folding of 8-bit bytes).
    CHECK(text::to_lower("\xC3\x84") == "\xC3\x84");
    CHECK_FALSE(text::iequals("\xC3\x84", "\xC3\xA4"));
    static_assert(text::iequals("DKIM-Signature", "dkim-signature"));
}

TEST_CASE("ascii: is_alpha and is_digit", "[ascii]") {
    CHECK(text::is_alpha('a'));
    CHECK(text::is_alpha('Z'));
    CHECK_FALSE(text::is_alpha('0'));
    CHECK_FALSE(text::is_alpha('\xC3'));
    CHECK(text::is_digit('9'));
    CHECK_FALSE(text::is_digit('a'));
}

TEST_CASE("ascii: trailing dots", "[ascii][dns]") {
    CHECK(text::without_root_dot("example.com.") == "example.com");
    CHECK(text::without_root_dot("example.com") == "example.com");
    CHECK(text::without_root_dot("example.com..") == "example.com.");
    CHECK(text::without_root_dot("").empty());
    CHECK(text::without_trailing_dots("example.com..") == "example.com");
    CHECK(text::without_trailing_dots("...").empty());
    CHECK(text::without_trailing_dots("a.b") == "a.b");
}

TEST_CASE("ascii: DNS name sizes and domain characters (RFC 1035 §2.3.4)", "[ascii][dns]") {
    const std::string l63(63, 'a');
    CHECK(text::is_dns_name("example.com"));
    CHECK(text::is_dns_name(l63 + ".com"));
    CHECK_FALSE(text::is_dns_name(l63 + "a.com"));
    CHECK_FALSE(text::is_dns_name(""));
    CHECK_FALSE(text::is_dns_name(".example.com"));
    CHECK_FALSE(text::is_dns_name("example..com"));
    CHECK_FALSE(text::is_dns_name("example.com."));
    std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    REQUIRE(n253.size() == 253);
    CHECK(text::is_dns_name(n253));
    CHECK_FALSE(text::is_dns_name(n253 + "b"));
    // Sizes only: any octet may stand in a label.
    CHECK(text::is_dns_name("a b.example"));

    CHECK(text::is_domain_name("_dmarc.Example-1.com"));
    CHECK(text::is_domain_name("b\xC3\xBC"
                               "cher.example")); // U-label (RFC 8616)
    CHECK_FALSE(text::is_domain_name("a b.example"));
    CHECK_FALSE(text::is_domain_name("a;b.example"));
    CHECK_FALSE(text::is_domain_name("example.com."));
    CHECK_FALSE(text::is_domain_name(l63 + "a.com"));
}
