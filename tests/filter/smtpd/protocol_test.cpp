// SPDX-License-Identifier: ISC
// The smtpd filter protocol codec (protocol 0.6 and 0.7 field orders, '|' in the last field).
#include "filter/smtpd/protocol.hpp"
#include "tests/catch.hpp"

using namespace arcf::filter;

TEST_CASE("protocol: filter request with '|' inside the data line", "[protocol]") {
    auto l = parse_line("filter|0.6|1795918548.574043|smtp-in|data-line|63df94b518cddfac|"
                        "e43f4b5e888d8c53|pipe|inside|line");
    REQUIRE(l);
    CHECK(l->type == LineType::filter);
    CHECK(l->event == "data-line");
    CHECK(l->session == "63df94b518cddfac");
    CHECK(l->token == "e43f4b5e888d8c53");
    CHECK(l->params == "pipe|inside|line");
}

TEST_CASE("protocol: empty params, reports without params, config lines", "[protocol]") {
    auto c = parse_line("filter|0.6|1.0|smtp-in|commit|63df94b518cddfac|e43f4b628180a9ae|");
    REQUIRE(c);
    CHECK(c->params.empty());
    auto d = parse_line("report|0.6|1.0|smtp-in|link-disconnect|63df94b518cddfac");
    REQUIRE(d);
    CHECK(!d->has_params);
    auto cfg = parse_line("config|admd|mx.example.test");
    REQUIRE(cfg);
    CHECK(cfg->key == "admd");
    CHECK(cfg->value == "mx.example.test");
    CHECK(parse_line("config|ready")->key == "ready");
}

TEST_CASE("protocol: malformed lines are refused, not guessed", "[protocol]") {
    CHECK_FALSE(parse_line(""));
    CHECK_FALSE(parse_line("garbage"));
    CHECK_FALSE(parse_line("filter|0.6|1.0|smtp-in|commit|63df94b518cddfac"));
    CHECK_FALSE(parse_line("filter|0.6|1.0|smtp-in|commit|zz|e43f4b628180a9ae|"));
    CHECK_FALSE(parse_line("report|0.6|1.0"));
    CHECK_FALSE(parse_line("register|ready"));
}

TEST_CASE("protocol: split_params keeps the rest in the last field", "[protocol]") {
    auto f = split_params("35163a36|ok|odd|address@example.org", 3);
    REQUIRE(f);
    CHECK((*f)[0] == "35163a36");
    CHECK((*f)[2] == "odd|address@example.org");
    CHECK_FALSE(split_params("only", 2));
}

TEST_CASE("protocol: versions compare numerically", "[protocol]") {
    CHECK(version_before("0.6", "0.7"));
    CHECK_FALSE(version_before("0.7", "0.7"));
    CHECK(version_before("0.9", "0.10"));
    CHECK_FALSE(version_before("1.0", "0.7"));
}

TEST_CASE("protocol: responses and reply validation", "[protocol]") {
    CHECK(format_proceed("s", "t") == "filter-result|s|t|proceed\n");
    CHECK(format_reject("s", "t", "451 4.7.0 later") ==
          "filter-result|s|t|reject|451 4.7.0 later\n");
    CHECK(format_dataline("s", "t", "..x") == "filter-dataline|s|t|..x\n");
    CHECK(is_valid_reject_reply("421 4.7.0 x"));
    CHECK(is_valid_reject_reply("451 text"));
    CHECK_FALSE(is_valid_reject_reply("250 ok"));
    CHECK_FALSE(is_valid_reject_reply("451-multi"));
    CHECK_FALSE(is_valid_reject_reply("45 x"));
    CHECK_FALSE(is_valid_reject_reply("451 a|b"));
}

TEST_CASE("protocol: client addresses from link-connect", "[protocol]") {
    CHECK(address_of("127.0.0.1:59658") == "127.0.0.1");
    CHECK(address_of("[2001:db8::1]:25") == "2001:db8::1");
    CHECK(address_of("unix:/var/run/smtpd.sock").empty());
}

TEST_CASE("protocol: data-lines appended in place equal the formatted ones", "[protocol]") {
    std::string out = "filter-result|s|t|proceed\n";
    const std::string before = out;
    append_dataline(out, "63df94b5b4c4a0c7", "e43f4b5e888d8c53", "Subject: x|y");
    append_dataline(out, "63df94b5b4c4a0c7", "e43f4b5e888d8c53", "");
    CHECK(out == before + format_dataline("63df94b5b4c4a0c7", "e43f4b5e888d8c53", "Subject: x|y") +
                     "filter-dataline|63df94b5b4c4a0c7|e43f4b5e888d8c53|\n");
}
