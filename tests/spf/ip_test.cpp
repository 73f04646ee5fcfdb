// SPDX-License-Identifier: ISC
// Unit tests of spf/ip: strict IPv4/IPv6 text, RFC 5952 output, macro and reverse spellings.
#include "spf/ip.hpp"
#include "tests/catch.hpp"

using namespace arcf::spf;

namespace {

IpAddress ip(const char* text) {
    auto a = IpAddress::parse(text);
    REQUIRE(a);
    return *a;
}

} // namespace

TEST_CASE("spf ip: IPv4 text is strict qnum (RFC 7208 §12)", "[spf][ip]") {
    CHECK(parse_ipv4("192.0.2.1"));
    CHECK(parse_ipv4("0.0.0.0"));
    CHECK(parse_ipv4("255.255.255.255"));
    for (const char* bad :
         {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
          "1..2.3", "1.2.3.4/24", "1.2.3.1234", "a.b.c.d", "1.2.3.4\n"})
        CHECK_FALSE(parse_ipv4(bad));
}

TEST_CASE("spf ip: IPv6 text forms (RFC 4291 §2.2)", "[spf][ip]") {
    for (const char* good : {"::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4",
                             "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
                             "CAFE:BABE::192.168.218.40", "Cafe:Babe:8000::", "0000:0:0:0:0:0:0:1"})
        CHECK(parse_ipv6(good));
    for (const char* bad :
         {"", ":", ":::", ":1::", "1:::2", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7:8:9",
          "1:2:3:4:5:6:7", "::1.2.3", "1.2.3.4::", ":CAFE::BABE", "1:2:3:4:5:6:7:8::", "::1 ",
          "1:2:3:4:5:6:7:1.2.3.4", "::01.2.3.4"})
        CHECK_FALSE(parse_ipv6(bad));
    auto a = parse_ipv6("1:2:3:4:5:6:1.2.3.4");
    REQUIRE(a);
    CHECK((*a)[11] == 6);
    CHECK((*a)[12] == 1);
    CHECK((*a)[15] == 4);
}

TEST_CASE("spf ip: client addresses, IPv4-mapped is IPv4 (RFC 7208 §5)", "[spf][ip]") {
    CHECK_FALSE(ip("1.2.3.4").v6);
    CHECK_FALSE(ip("::FFFF:1.2.3.4").v6);
    CHECK(ip("::ffff:1.2.3.4") == ip("1.2.3.4"));
    CHECK(ip("::1.2.3.4").v6); // IPv4-compatible is not mapped
    CHECK(ip("2001:db8::1").v6);
    CHECK_FALSE(IpAddress::parse("example.com"));
    CHECK_FALSE(IpAddress::parse("[1.2.3.4]"));
}

TEST_CASE("spf ip: to_string is dotted or RFC 5952", "[spf][ip]") {
    CHECK(ip("192.0.2.10").to_string() == "192.0.2.10");
    CHECK(ip("CAFE:BABE::1").to_string() == "cafe:babe::1");
    CHECK(ip("2001:0db8:0000:0000:0000:0000:0000:0001").to_string() == "2001:db8::1");
    CHECK(ip("2001:db8:0:0:1:0:0:1").to_string() == "2001:db8::1:0:0:1");    // first longest run
    CHECK(ip("2001:db8:0:1:1:1:1:1").to_string() == "2001:db8:0:1:1:1:1:1"); // one zero: kept
    CHECK(ip("2001:0:0:1:0:0:0:1").to_string() == "2001:0:0:1::1");          // longest run
    CHECK(ip("::").to_string() == "::");
    CHECK(ip("::1").to_string() == "::1");
    CHECK(ip("1::").to_string() == "1::");
    CHECK(ip("1:0:0:0:0:0:0:0").to_string() == "1::");
}

TEST_CASE("spf ip: %{i} and PTR names (RFC 7208 §7.3, §7.4, §5.5)", "[spf][ip]") {
    CHECK(ip("192.0.2.3").macro_i() == "192.0.2.3");
    // The §7.4 example address 2001:db8::cb01.
    CHECK(ip("2001:db8::cb01").macro_i() ==
          "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
    CHECK(ip("192.0.2.3").reverse_name() == "3.2.0.192.in-addr.arpa");
    CHECK(ip("2001:db8::cb01").reverse_name() ==
          "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST_CASE("spf ip: prefix matching (RFC 7208 §5.6)", "[spf][ip]") {
    CHECK(in_network(ip("1.2.3.4"), ip("1.2.3.0"), 24));
    CHECK_FALSE(in_network(ip("1.2.4.4"), ip("1.2.3.0"), 24));
    CHECK(in_network(ip("1.2.3.4"), ip("9.9.9.9"), 0));
    CHECK(in_network(ip("1.2.3.4"), ip("1.2.3.4"), 32));
    CHECK_FALSE(in_network(ip("1.2.3.5"), ip("1.2.3.4"), 32));
    CHECK(in_network(ip("10.0.0.127"), ip("10.0.0.0"), 25));
    CHECK_FALSE(in_network(ip("10.0.0.128"), ip("10.0.0.0"), 25));
    CHECK(in_network(ip("cafe:babe:8000::"), ip("cafe:babe:8000::"), 33));
    CHECK_FALSE(in_network(ip("cafe:babe::"), ip("cafe:babe:8000::"), 33));
    CHECK(in_network(ip("dead::1"), ip("::1.1.1.1"), 0));
    // Families never match each other, even with /0 (§5.6; an IPv4-mapped client is IPv4).
    CHECK_FALSE(in_network(ip("1.2.3.4"), ip("::"), 0));
    auto mapped_net = parse_ipv6("::ffff:1.2.3.4");
    REQUIRE(mapped_net);
    CHECK_FALSE(in_network(ip("::FFFF:1.2.3.4"), IpAddress::v6_from(*mapped_net), 128));
    CHECK_FALSE(in_network(ip("::1"), ip("1.2.3.4"), 0));
}
