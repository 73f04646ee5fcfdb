// SPDX-License-Identifier: ISC
#include "dns/zone_file.hpp"

#include <catch2/catch.hpp>

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
