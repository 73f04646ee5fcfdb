// SPDX-License-Identifier: ISC
// Unit tests of spf/record: record selection, every mechanism's syntax, CIDRs and modifiers.
#include "spf/record.hpp"
#include "tests/catch.hpp"

#include <string>

using namespace arcf::spf;

namespace {

Record parse_ok(const std::string& text) {
    auto r = parse_record(text);
    INFO(text << ": " << (r ? std::string() : r.error().detail));
    REQUIRE(r);
    return *r;
}

bool parses(const std::string& text) {
    return parse_record(text).has_value();
}

} // namespace

TEST_CASE("spf record: selection by version (RFC 7208 §4.5)", "[spf][record]") {
    CHECK(is_spf_record("v=spf1"));
    CHECK(is_spf_record("v=spf1 -all"));
    CHECK(is_spf_record("V=SpF1 -all"));
    CHECK(is_spf_record("v=spf1 "));
    CHECK_FALSE(is_spf_record("v=spf10"));
    CHECK_FALSE(is_spf_record("v=spf1mx"));
    CHECK_FALSE(is_spf_record("v=spf1\t-all"));
    CHECK_FALSE(is_spf_record(" v=spf1 -all"));
    CHECK_FALSE(is_spf_record("v=spf2 -all"));
    CHECK_FALSE(is_spf_record("spf2.0/mfrom -all"));
    CHECK_FALSE(is_spf_record(""));
    CHECK_FALSE(is_spf_record("v=spf"));
    CHECK_FALSE(parses("v=spf10"));
}

TEST_CASE("spf record: mechanisms, qualifiers and order (RFC 7208 §4.6.2, §5)", "[spf][record]") {
    auto r = parse_ok("v=spf1 +a -mx ~ptr ?exists:%{i}.x.example ip4:192.0.2.0/24 "
                      "ip6:2001:db8::/32 include:_spf.example.com all");
    REQUIRE(r.mechanisms.size() == 8);
    CHECK(r.mechanisms[0].kind == MechanismKind::a);
    CHECK(r.mechanisms[0].qualifier == Qualifier::pass);
    CHECK_FALSE(r.mechanisms[0].domain);
    CHECK(r.mechanisms[1].kind == MechanismKind::mx);
    CHECK(r.mechanisms[1].qualifier == Qualifier::fail);
    CHECK(r.mechanisms[2].kind == MechanismKind::ptr);
    CHECK(r.mechanisms[2].qualifier == Qualifier::softfail);
    CHECK(r.mechanisms[3].kind == MechanismKind::exists);
    CHECK(r.mechanisms[3].qualifier == Qualifier::neutral);
    CHECK(r.mechanisms[3].domain->source == "%{i}.x.example");
    CHECK(r.mechanisms[4].kind == MechanismKind::ip4);
    CHECK(r.mechanisms[4].cidr4 == 24);
    CHECK(r.mechanisms[5].kind == MechanismKind::ip6);
    CHECK(r.mechanisms[5].cidr6 == 32);
    CHECK(r.mechanisms[5].network.v6);
    CHECK(r.mechanisms[6].kind == MechanismKind::include);
    CHECK(r.mechanisms[6].text == "include:_spf.example.com");
    CHECK(r.mechanisms[7].kind == MechanismKind::all);
    CHECK(r.mechanisms[7].qualifier == Qualifier::pass); // no qualifier: "+" (§4.6.2)
    CHECK(r.has_all());
    CHECK(r.mechanisms[0].queries_dns());
    CHECK(r.mechanisms[3].queries_dns());
    CHECK(r.mechanisms[6].queries_dns());
    CHECK_FALSE(r.mechanisms[4].queries_dns());
    CHECK_FALSE(r.mechanisms[7].queries_dns());
    CHECK(result_of(Qualifier::softfail) == Result::softfail);
    // Names are case-insensitive (§4.6.1).
    auto u = parse_ok("V=SPF1 A:Example.COM MX IP4:1.2.3.4 Include:x.example ALL");
    CHECK(u.mechanisms.size() == 5);
    CHECK(u.mechanisms[2].kind == MechanismKind::ip4);
}

TEST_CASE("spf record: spaces (RFC 7208 §4.6.1, §12)", "[spf][record]") {
    CHECK(parse_ok("v=spf1").mechanisms.empty());
    CHECK(parse_ok("v=spf1 ").mechanisms.empty());
    CHECK(parse_ok("v=spf1   a    -all   ").mechanisms.size() == 2);
    CHECK_FALSE(parses("v=spf1 a\t-all"));
    CHECK_FALSE(parses("v=spf1 a:ctrl.example.com\rptr -all"));
    CHECK_FALSE(parses("v=spf1 ip4:192.0.2.5\n include:x.example ~all"));
}

TEST_CASE("spf record: dual-cidr-length (RFC 7208 §5.3, §5.4, §5.6)", "[spf][record]") {
    auto r = parse_ok("v=spf1 a/24//64 mx//0 a/0 a:foo.example.com/24 mx:x.example//128 "
                      "a:foo:bar/baz.example.com a:%{d}/16");
    REQUIRE(r.mechanisms.size() == 7);
    CHECK(r.mechanisms[0].cidr4 == 24);
    CHECK(r.mechanisms[0].cidr6 == 64);
    CHECK(r.mechanisms[1].cidr4 == 32);
    CHECK(r.mechanisms[1].cidr6 == 0);
    CHECK(r.mechanisms[2].cidr4 == 0);
    CHECK(r.mechanisms[3].domain->source == "foo.example.com");
    CHECK(r.mechanisms[3].cidr4 == 24);
    CHECK(r.mechanisms[4].cidr6 == 128);
    CHECK(r.mechanisms[5].domain->source == "foo:bar/baz.example.com");
    CHECK(r.mechanisms[5].cidr4 == 32);
    CHECK(r.mechanisms[6].domain->source == "%{d}");
    CHECK(r.mechanisms[6].cidr4 == 16);
    for (const char* bad : {"a/33", "a//129", "a/24/64", "a/024", "a//064", "a/", "a//", "mx/33",
                            "a:/24", "a:", "mx:", "a/-1", "a/24//64//64", "ax", "a:com"})
        CHECK_FALSE(parses(std::string("v=spf1 ") + bad));
}

TEST_CASE("spf record: ip4 and ip6 (RFC 7208 §5.6)", "[spf][record]") {
    auto r = parse_ok("v=spf1 ip4:1.1.1.1/0 ip4:1.2.3.4 ip6:::1.1.1.1/0 ip6:Cafe:Babe:8000::/33 "
                      "ip6:::FFFF:1.2.3.4");
    REQUIRE(r.mechanisms.size() == 5);
    CHECK(r.mechanisms[0].cidr4 == 0);
    CHECK(r.mechanisms[1].cidr4 == 32);
    CHECK(r.mechanisms[2].cidr6 == 0);
    CHECK(r.mechanisms[3].cidr6 == 33);
    CHECK(r.mechanisms[4].network.v6); // a mechanism's network is not remapped
    for (const char* bad : {"ip4", "ip4:", "ip4:1.2.3", "ip4:1.2.3.4/33", "ip4:1.2.3.4/032",
                            "ip4:1.2.3.4//32", "ip4:1.2.3.4:8080", "ip4:01.2.3.4", "ip4:1.2.3.4/",
                            "ip4:::1", "ip6", "ip6:", "ip6:::1.1.1.1/129", "ip6:::1.1.1.1//33",
                            "ip6::CAFE::BABE", "ip6:1.2.3.4", "ip6:::1/0128", "ip4/24"})
        CHECK_FALSE(parses(std::string("v=spf1 ") + bad));
}

TEST_CASE("spf record: all, include, exists, ptr (RFC 7208 §5.1, §5.2, §5.5, §5.7)",
          "[spf][record]") {
    CHECK(parses("v=spf1 ptr ptr:example.com exists:%{ir}.bl.example include:a.example.org"));
    for (const char* bad : {"-all.",
                            "-all:foobar",
                            "-all/8",
                            "all:",
                            "include",
                            "include:",
                            "include:ip5.example.com/24",
                            "exists",
                            "exists:",
                            "exists:mail.example.com/24",
                            "ptr/0",
                            "ptr:",
                            "ptr:example.com/24",
                            "a:foo-bar",
                            "a:111.222.33.44",
                            "a:abc.123",
                            "a:museum",
                            "a:museum.",
                            "a:example.-com",
                            "a:example.com:8080",
                            "mx:abc.123",
                            "a:%{a}.example.com",
                            "exists:%(ir).sbl.example.com",
                            "exists:foo%.sbl.example.com",
                            "ptr:%{c}.example.com"})
        CHECK_FALSE(parses(std::string("v=spf1 ") + bad));
    CHECK_FALSE(parses(std::string("v=spf1 a:foo.example.com\0", 25)));
    CHECK_FALSE(parses("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all"));
    CHECK_FALSE(parses("v=spf1 \x80"
                       "a:example.net -all"));
    CHECK_FALSE(parses("v=spf1 a:example.net \x96"
                       "all"));
}

TEST_CASE("spf record: unknown mechanisms and bad terms (RFC 7208 §4.6.1)", "[spf][record]") {
    for (const char* bad : {"moo", "ip4:1.2.3.4 -all moo", "moo.cow/far_out=man:dog/cat",
                            "moo.cow:far_out=man:dog/cat", "redirect:t2.example.com", "+", "-",
                            "++all", "1up=foo", "=all", "-foo=bar", "+redirect=x.example", "_x=y",
                            ".x=y", "foo=%abc", "foo=%{x}", "spf2.0/pra"})
        CHECK_FALSE(parses(std::string("v=spf1 ") + bad));
}

TEST_CASE("spf record: modifiers (RFC 7208 §6)", "[spf][record]") {
    auto r =
        parse_ok("v=spf1 redirect=_spf.example.com exp=explain.%{d} moo.cow-far_out=man:dog/cat "
                 "default=pass x=%{c}%{r}%{t} y= Z=%%");
    REQUIRE(r.redirect);
    CHECK(r.redirect->source == "_spf.example.com");
    REQUIRE(r.exp);
    CHECK(r.exp->source == "explain.%{d}");
    CHECK(r.unknown_modifiers.size() == 5);
    CHECK(r.mechanisms.empty());
    CHECK_FALSE(r.has_all());
    CHECK(parse_ok("v=spf1 REDIRECT=x.example Exp=y.example").redirect);
    // §6: at most one of each; both need a valid domain-spec (a known name is never an
    // unknown-modifier).
    for (const char* bad :
         {"redirect=a.example redirect=a.example", "exp=a.example exp=b.example",
          "redirect=a.example REDIRECT=b.example", "exp=", "redirect=", "exp=-all", "redirect=-all",
          "exp=%{r}.example.com", "redirect=museum", "exp=a b"})
        CHECK_FALSE(parses(std::string("v=spf1 ") + bad));
    CHECK(parses("v=spf1 a:x.example exp=a.example redirect=b.example"));
}

TEST_CASE("spf record: error messages name the term", "[spf][record]") {
    auto r = parse_record("v=spf1 ip4:1.2.3.4 a:foo\x01.example mx");
    REQUIRE_FALSE(r);
    CHECK(r.error().detail.find("\"a:foo?.example\"") != std::string::npos);
    auto d = parse_record("v=spf1 exp=a.example exp=b.example");
    REQUIRE_FALSE(d);
    CHECK(d.error().detail.find("§6") != std::string::npos);
}
