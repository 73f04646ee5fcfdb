// SPDX-License-Identifier: ISC
#include "dns/zone_file.hpp"
#include "tests/catch.hpp"

using arcf::dns::Status;
using arcf::dns::ZoneFile;

TEST_CASE("zone_file: TXT strings of one record are joined, records kept apart", "[zone_file]") {
    ZoneFile z;
    std::string err;
    REQUIRE(z.parse("$ORIGIN example.org.\n"
                    "sel._domainkey  300 IN TXT \"v=DKIM1; k=rsa; \" \"p=AAAA\"\n"
                    "sel._domainkey  IN 300 TXT ( \"second\" ; comment\n"
                    "   \"-record\" )\n"
                    "other.example.com. A 127.0.0.1\n",
                    err));
    auto a = z.lookup("SEL._domainkey.example.org.");
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 2);
    CHECK(a.records[0] == "v=DKIM1; k=rsa; p=AAAA");
    CHECK(a.records[1] == "second-record");
    CHECK(z.lookup("other.example.com").status == Status::nodata);
    CHECK(z.lookup("missing.example.org").status == Status::nxdomain);
}

TEST_CASE("zone_file: escapes, @ and continuation owners", "[zone_file]") {
    ZoneFile z;
    std::string err;
    REQUIRE(z.parse("$ORIGIN k.test.\n@ TXT \"a\\\"b\\\\c\\065\"\n  TXT \"next\"\n", err));
    auto a = z.lookup("k.test");
    REQUIRE(a.records.size() == 2);
    CHECK(a.records[0] == "a\"b\\cA");
    CHECK(a.records[1] == "next");
}

TEST_CASE("zone_file: syntax errors name the line", "[zone_file]") {
    ZoneFile z;
    std::string err;
    CHECK_FALSE(z.parse("a TXT \"ok\"\nb TXT \"unterminated\n", err));
    CHECK(err.find("line 2") != std::string::npos);
    CHECK_FALSE(z.parse("a TXT ( \"x\"\n", err));
}

TEST_CASE("zone_file: A, AAAA, MX and PTR records for SPF", "[zone_file][spf]") {
    using arcf::dns::RecordType;
    ZoneFile z;
    std::string err;
    REQUIRE(z.parse("$ORIGIN example.org.\n"
                    "@        TXT \"v=spf1 mx a:relay -all\"\n"
                    "@        MX 10 mx1\n"
                    "@        MX 20 mx2.example.net.\n"
                    "mx1      A 192.0.2.10\n"
                    "mx1      AAAA 2001:DB8:0:0::10\n"
                    "relay    300 IN A 192.0.2.20\n"
                    "relay    A 192.0.2.21\n"
                    "nullmx   MX 0 .\n"
                    "10.2.0.192.in-addr.arpa. PTR mx1\n"
                    "10.2.0.192.in-addr.arpa. PTR other.example.net.\n"
                    "alias    CNAME mx1\n",
                    err));
    CHECK(err.empty());
    auto mx = z.lookup(RecordType::mx, "EXAMPLE.org.");
    REQUIRE(mx.status == Status::ok);
    CHECK(mx.records == std::vector<std::string>{"10 mx1.example.org", "20 mx2.example.net"});
    CHECK(z.lookup(RecordType::a, "mx1.example.org").records ==
          std::vector<std::string>{"192.0.2.10"});
    // AAAA in its RFC 5952 form, whatever the file wrote.
    CHECK(z.lookup(RecordType::aaaa, "mx1.example.org").records ==
          std::vector<std::string>{"2001:db8::10"});
    CHECK(z.lookup(RecordType::a, "relay.example.org").records.size() == 2);
    CHECK(z.lookup(RecordType::mx, "nullmx.example.org").records == std::vector<std::string>{"0 "});
    CHECK(z.lookup(RecordType::ptr, "10.2.0.192.in-addr.arpa").records ==
          std::vector<std::string>{"mx1.example.org", "other.example.net"});
    CHECK(z.lookup("example.org").records == std::vector<std::string>{"v=spf1 mx a:relay -all"});
    // Names that own other types only: NODATA naming the type; unknown names: NXDOMAIN.
    auto nodata = z.lookup(RecordType::aaaa, "relay.example.org");
    CHECK(nodata.status == Status::nodata);
    CHECK(nodata.detail == "no AAAA record");
    CHECK(z.lookup(RecordType::a, "alias.example.org").status == Status::nodata);
    CHECK(z.lookup(RecordType::a, "missing.example.org").status == Status::nxdomain);
    CHECK(z.size() == 1);
}

TEST_CASE("zone_file: bad A, AAAA, MX and PTR data name the line", "[zone_file][spf]") {
    for (const char* bad :
         {"a A 192.0.2.256\n", "a A 2001:db8::1\n", "a AAAA 192.0.2.1\n", "a MX mx.example.\n",
          "a MX 70000 mx.example.\n", "a MX x mx.\n", "a PTR\n", "a A \"192.0.2.1\"\n"}) {
        ZoneFile z;
        std::string err;
        CHECK_FALSE(z.parse(std::string("ok TXT \"x\"\n") + bad, err));
        CHECK(err.find("line 2: bad ") != std::string::npos);
    }
}
