// SPDX-License-Identifier: ISC
// Unit tests of spf/macro: the RFC 7208 §7.4 examples, escapes, URL-encoding and syntax errors.
#include "spf/macro.hpp"
#include "tests/catch.hpp"

using namespace arcf::spf;

namespace {

// The values of RFC 7208 §7.4: <sender> strong-bad@email.example.com, <ip> 192.0.2.3.
MacroValues rfc_values() {
    MacroValues v;
    v.sender = "strong-bad@email.example.com";
    v.local_part = "strong-bad";
    v.sender_domain = "email.example.com";
    v.domain = "email.example.com";
    v.ip = "192.0.2.3";
    v.ptr = "mx.example.org";
    v.ip_version = "in-addr";
    v.helo = "mx.example.org";
    v.client = "192.0.2.3";
    v.receiver = "mx.receiver.example";
    v.timestamp = "1400000000";
    return v;
}

std::string x(const char* text,
              const MacroValues& v = rfc_values(),
              MacroScope scope = MacroScope::explanation) {
    auto ms = parse_macro_string(text, scope);
    REQUIRE(ms);
    return expand(*ms, v);
}

bool parses(const char* text, MacroScope scope) {
    return parse_macro_string(text, scope).has_value();
}

} // namespace

TEST_CASE("spf macro: RFC 7208 §7.4 examples", "[spf][macro]") {
    CHECK(x("%{s}") == "strong-bad@email.example.com");
    CHECK(x("%{o}") == "email.example.com");
    CHECK(x("%{d}") == "email.example.com");
    CHECK(x("%{d4}") == "email.example.com");
    CHECK(x("%{d3}") == "email.example.com");
    CHECK(x("%{d2}") == "example.com");
    CHECK(x("%{d1}") == "com");
    CHECK(x("%{dr}") == "com.example.email");
    CHECK(x("%{d2r}") == "example.email");
    CHECK(x("%{l}") == "strong-bad");
    CHECK(x("%{l-}") == "strong.bad");
    CHECK(x("%{lr}") == "strong-bad");
    CHECK(x("%{lr-}") == "bad.strong");
    CHECK(x("%{l1r-}") == "strong");
    CHECK(x("%{ir}.%{v}._spf.%{d2}") == "3.2.0.192.in-addr._spf.example.com");
    CHECK(x("%{lr-}.lp._spf.%{d2}") == "bad.strong.lp._spf.example.com");
    CHECK(x("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}") ==
          "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    CHECK(x("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}") == "3.2.0.192.in-addr.strong.lp._spf.example.com");
    CHECK(x("%{d2}.trusted-domains.example.net") == "example.com.trusted-domains.example.net");

    MacroValues v6 = rfc_values();
    v6.ip = "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1";
    v6.ip_version = "ip6";
    CHECK(x("%{ir}.%{v}._spf.%{d2}", v6) ==
          "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
}

TEST_CASE("spf macro: every letter and the explanation-only ones", "[spf][macro]") {
    CHECK(x("%{p}|%{h}|%{c}|%{r}|%{t}") ==
          "mx.example.org|mx.example.org|192.0.2.3|mx.receiver.example|1400000000");
    CHECK(parses("%{c}%{r}%{t}", MacroScope::explanation));
    CHECK(parses("%{c}", MacroScope::modifier));
    // §7.1: c, r and t only in exp text.
    CHECK_FALSE(parses("%{c}", MacroScope::domain));
    CHECK_FALSE(parses("%{R}", MacroScope::domain));
    CHECK_FALSE(parses("%{t}", MacroScope::domain));
    CHECK(parses("%{sLoDiPhV}", MacroScope::domain) == false); // one letter per macro
    CHECK(parses("%{s}%{L}%{o}%{D}%{i}%{P}%{h}%{V}", MacroScope::domain));
    auto ms = parse_macro_string("a.%{P}.%{d}", MacroScope::domain);
    REQUIRE(ms);
    CHECK(ms->uses('p'));
    CHECK(ms->uses('d'));
    CHECK_FALSE(ms->uses('s'));
}

TEST_CASE("spf macro: escapes and URL-encoding (RFC 7208 §7.1, §7.3)", "[spf][macro]") {
    CHECK(x("100%%") == "100%");
    CHECK(x("a%_b") == "a b");
    CHECK(x("a%-b") == "a%20b");
    CHECK(x("macro%%percent%_%_space%-url-space.example.com") ==
          "macro%percent  space%20url-space.example.com");
    MacroValues v = rfc_values();
    v.local_part = "~jack&jill=up-a_b3.c";
    CHECK(x("%{L}", v) == "~jack%26jill%3Dup-a_b3.c");
    CHECK(x("%{l}", v) == "~jack&jill=up-a_b3.c");
    v.helo = "JUMPIN' JUPITER";
    CHECK(x("%{H}", v) == "JUMPIN%27%20JUPITER");
    // Upper case escapes after the transformation.
    v.local_part = "a b+c";
    CHECK(x("%{L1r+}", v) == "a%20b");
    CHECK(url_escape("AZaz09-._~") == "AZaz09-._~");
    CHECK(url_escape("/?#[]@!$&'()*+,;= %") ==
          "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%20%25");
    CHECK(url_escape("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("spf macro: transformers and delimiters (RFC 7208 §7.3)", "[spf][macro]") {
    MacroValues v = rfc_values();
    v.local_part = "philip-gladstone-test";
    CHECK(x("%{l2r-}", v) == "gladstone.philip");
    v.local_part = "foo-bar+zip+quux";
    CHECK(x("%{l2r+-}", v) == "bar.foo");
    CHECK(x("%{l=+-}", v) == "foo.bar.zip.quux");
    v.local_part = "a.b,c/d_e=f";
    CHECK(x("%{l,/_=}", v) == "a.b.c.d.e.f");
    CHECK(x("%{l1,}", v) == "c/d_e=f");
    CHECK(x("%{d99}") == "email.example.com");
    CHECK(x("%{d99999999999999999999}") == "email.example.com"); // saturates, no overflow
    CHECK(x("%{dR}") == "com.example.email");                    // "R" as "r"
    v.domain = "";
    CHECK(x("[%{d}][%{d2r}]", v) == "[][]");
    v.domain = "a..b";
    CHECK(x("%{d}|%{dr}|%{d2}", v) == "a..b|b..a|.b");
}

TEST_CASE("spf macro: syntax errors (RFC 7208 §7.1)", "[spf][macro]") {
    for (const char* bad :
         {"%",     "abc%",  "%x",     "%(ir)",     "%{",      "%{d",    "%{}",
          "%{a}",  "%{d0}", "%{d00}", "%{d1x}",    "%{dr r}", "%{d r}", "%{d%}",
          "%{rd}", "%{ }",  "%{1}",   "tab\there", "cr\x0d",  "\x80",   "\xEF\xBB\xBF"})
        CHECK_FALSE(parses(bad, MacroScope::explanation));
    CHECK_FALSE(parse_macro_string(std::string("nul\0", 4), MacroScope::explanation));
    CHECK_FALSE(parse_domain_spec(std::string("a.example.com\0", 14)));
    CHECK_FALSE(parses("a b", MacroScope::domain));
    CHECK_FALSE(parses("a b", MacroScope::modifier));
    CHECK(parses("a b", MacroScope::explanation));
    CHECK(parses("", MacroScope::modifier));
    CHECK(parses("The %{x}-files.", MacroScope::explanation) == false);
    CHECK(parses("!\"#$&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", MacroScope::domain));
}

TEST_CASE("spf macro: domain-spec ends in a toplabel or a macro (RFC 7208 §7.1)", "[spf][macro]") {
    for (const char* good :
         {"example.com", "example.com.", "%{d}", "foo.%{d}", "%{d}.com", "%{d}%%", "%{d}%_",
          "foo.example.xn--zckzah", "a.b-c", "a.1-2", ".museum", "foo:bar/baz.example.com",
          "%{ir}.%{v}._spf.%{d2}", "x.y9", "x.9y"})
        CHECK(parse_domain_spec(good));
    for (const char* bad : {"", "museum", "museum.", "example.-com", "example.com-", "abc.123",
                            "foo-bar", "example.com:8080", "%{d}.", "%{d}com", "example..", "a.b_c",
                            "example.com/24", "%{c}.example.com", "foo.%{d}x"})
        CHECK_FALSE(parse_domain_spec(bad));
}

TEST_CASE("spf macro: toplabel (RFC 7208 §12)", "[spf][macro]") {
    CHECK(valid_toplabel("com"));
    CHECK(valid_toplabel("c0m"));
    CHECK(valid_toplabel("9a"));
    CHECK(valid_toplabel("xn--zckzah"));
    CHECK(valid_toplabel("1-2"));
    CHECK_FALSE(valid_toplabel(""));
    CHECK_FALSE(valid_toplabel("123"));
    CHECK_FALSE(valid_toplabel("-com"));
    CHECK_FALSE(valid_toplabel("com-"));
    CHECK_FALSE(valid_toplabel("c_m"));
}
