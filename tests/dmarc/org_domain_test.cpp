// SPDX-License-Identifier: ISC
// Unit tests of dmarc/org_domain: organizational domains from the system Public Suffix List
// (RFC 7489 §3.2) and identifier alignment (§3.1).
#include "dmarc/org_domain.hpp"
#include "tests/catch.hpp"

#include <cstdio>
#include <fstream>
#include <string>

using namespace arcf::dmarc;

TEST_CASE("dmarc org domain: the system list (RFC 7489 §3.2)", "[dmarc][org]") {
    const OrgDomain psl = OrgDomain::system();
    REQUIRE(psl.loaded());
    CHECK(psl.organizational("example.com") == "example.com");
    CHECK(psl.organizational("a.b.example.com") == "example.com");
    CHECK(psl.organizational("example.co.uk") == "example.co.uk");
    CHECK(psl.organizational("mail.example.co.uk") == "example.co.uk");
    CHECK(psl.organizational("a.b.c.example.com.au") == "example.com.au");
    // Case and a trailing dot do not matter; the answer is lower case without the dot.
    CHECK(psl.organizational("Mail.EXAMPLE.Com") == "example.com");
    CHECK(psl.organizational("mail.example.com.") == "example.com");
    // A public suffix (or a single label) is its own organizational domain.
    CHECK(psl.organizational("co.uk") == "co.uk");
    CHECK(psl.organizational("com") == "com");
    CHECK(psl.organizational("localhost") == "localhost");
    // Wildcard and exception rules ("*.ck", "!www.ck").
    CHECK(psl.organizational("a.www.ck") == "www.ck");
    CHECK(psl.organizational("x.shop.ck") == "x.shop.ck");
    // A TLD unknown to the list: the default rule "*".
    CHECK(psl.organizational("mail.example.invalid-tld-zz") == "example.invalid-tld-zz");
    // IDN: A-labels (what the From parser produces) and U-labels.
    CHECK(psl.organizational("www.xn--85x722f.xn--55qx5d.cn") == "xn--85x722f.xn--55qx5d.cn");
    CHECK(psl.organizational("xn--55qx5d.cn") == "xn--55qx5d.cn");
    CHECK(psl.organizational("www.食狮.公司.cn") == "食狮.公司.cn");
    // IP literals and empty strings are returned as they are.
    CHECK(psl.organizational("192.0.2.1") == "192.0.2.1");
    CHECK(psl.organizational("2001:db8::1") == "2001:db8::1");
    CHECK(psl.organizational("[192.0.2.1]") == "[192.0.2.1]");
    CHECK(psl.organizational("") == "");
}

TEST_CASE("dmarc org domain: empty list and list files", "[dmarc][org]") {
    const OrgDomain none = OrgDomain::empty();
    CHECK_FALSE(none.loaded());
    CHECK(none.organizational("a.b.example.co.uk") == "co.uk");
    CHECK(none.organizational("Example.COM.") == "example.com");
    CHECK(none.organizational("com") == "com");
    CHECK_FALSE(OrgDomain::load("/nonexistent/public_suffix_list.dat"));

    const std::string path = "/tmp/filter-arc-dmarc-psl-test.dat";
    {
        std::ofstream f(path);
        f << "// test list\nexample\nsub.example\n";
    }
    auto own = OrgDomain::load(path);
    std::remove(path.c_str());
    REQUIRE(own);
    CHECK(own->organizational("a.b.sub.example") == "b.sub.example");
    CHECK(own->organizational("a.b.example") == "b.example");
}

TEST_CASE("dmarc alignment: strict and relaxed (RFC 7489 §3.1)", "[dmarc][org]") {
    const OrgDomain psl = OrgDomain::system();
    // Strict: equal names only, ignoring case and a trailing dot.
    CHECK(aligned("example.com", "example.com", Alignment::strict, psl));
    CHECK(aligned("Example.COM.", "example.com", Alignment::strict, psl));
    CHECK_FALSE(aligned("mail.example.com", "example.com", Alignment::strict, psl));
    // Relaxed: the same organizational domain.
    CHECK(aligned("mail.example.com", "example.com", Alignment::relaxed, psl));
    CHECK(aligned("a.example.com", "b.example.com", Alignment::relaxed, psl));
    CHECK(aligned("a.example.co.uk", "EXAMPLE.co.uk", Alignment::relaxed, psl));
    CHECK_FALSE(aligned("example.net", "example.com", Alignment::relaxed, psl));
    // Siblings under a public suffix are different organizations.
    CHECK_FALSE(aligned("one.co.uk", "two.co.uk", Alignment::relaxed, psl));
    CHECK_FALSE(aligned("co.uk", "example.co.uk", Alignment::relaxed, psl));
    CHECK_FALSE(aligned("evil.github.io", "victim.github.io", Alignment::relaxed, psl));
    // Nothing aligns with nothing.
    CHECK_FALSE(aligned("", "", Alignment::relaxed, psl));
    CHECK_FALSE(aligned("", "example.com", Alignment::strict, psl));
    CHECK(normalize_domain("A.Example.") == "a.example");
}
