// SPDX-License-Identifier: ISC
#include "filter/exim/exim_context.hpp"
#include "tests/catch.hpp"

#include "mail/base64.hpp"

using namespace arcf::filter;
using arcf::mail::base64_encode;

namespace {
// What the Exim snippet of etc/exim4/filter-arc.conf.example writes, with ${str2b64:...}.
std::string header(const std::string& from,
                   const std::string& helo,
                   const std::string& auth,
                   const std::string& rcpt,
                   const std::string& ip) {
    return " v=2; from=" + base64_encode(from) + "; helo=" + base64_encode(helo) +
           "; auth=" + base64_encode(auth) + "; rcpt=" + base64_encode(rcpt) +
           "; ip=" + base64_encode(ip);
}
} // namespace

TEST_CASE("X-ARC-Context: each value decoded from base64") {
    auto r =
        parse_exim_context(header("a@b.example", "client.example", "", "x@y.example", "192.0.2.1"));
    REQUIRE(r.context);
    CHECK(r.context->from == "a@b.example");
    CHECK(r.context->helo == "client.example");
    CHECK(r.context->auth.empty());
    CHECK(r.context->rcpt == "x@y.example");
    CHECK(r.context->ip == "192.0.2.1");
    // Folded by a relay: whitespace around the separators is fine.
    auto folded = parse_exim_context(
        " v=2;\r\n from=YQ==;\r\n\thelo=;  auth= ; rcpt=; ip=MjAwMTpkYjg6OjE= \r\n");
    REQUIRE(folded.context);
    CHECK(folded.context->from == "a");
    CHECK(folded.context->ip == "2001:db8::1");
}

TEST_CASE("X-ARC-Context: nothing a sender chooses can add or override a key") {
    // issue 15 class 7: "x;auth=admin"@domain as the recipient, hostile HELO and sender.
    auto r = parse_exim_context(header("\"a;ip=203.0.113.9;auth=root\"@evil.example",
                                       "evil; auth=admin; ip=198.51.100.7", "",
                                       "\"x;auth=admin\"@arc.test", "127.0.0.1"));
    REQUIRE(r.context);
    CHECK(r.context->auth.empty());
    CHECK(r.context->ip == "127.0.0.1");
    CHECK(r.context->rcpt == "\"x;auth=admin\"@arc.test");
    CHECK(r.context->helo == "evil; auth=admin; ip=198.51.100.7");
}

TEST_CASE("X-ARC-Context: anything but the exact format is refused as a whole") {
    const std::vector<std::string> bad = {
        // the old, unencoded format (what issue 15 injected into)
        "from=a@b.example; helo=h; auth=; rcpt=x;auth=admin@y.example; ip=192.0.2.1",
        "",
        " v=1; from=; helo=; auth=; rcpt=; ip=",
        // a key twice, a key missing, keys out of order, an extra key
        " v=2; from=; helo=; auth=; auth=YWRtaW4=; rcpt=; ip=",
        " v=2; from=; helo=; auth=; rcpt=",
        " v=2; helo=; from=; auth=; rcpt=; ip=",
        " v=2; from=; helo=; auth=; rcpt=; ip=; x=",
        " v=2; from=; helo=; auth=; rcpt=; ip=;",
        // not strict base64, not canonical, control characters, not an IP
        " v=2; from=a b; helo=; auth=; rcpt=; ip=",
        " v=2; from=YQ; helo=; auth=; rcpt=; ip=",
        " v=2; from=YR==; helo=; auth=; rcpt=; ip=",
        " v=2; from=" + base64_encode("a\nb") + "; helo=; auth=; rcpt=; ip=",
        " v=2; from=; helo=; auth=; rcpt=; ip=" + base64_encode("not-an-ip"),
        " v=2; from=" + std::string(9000, 'A') + "; helo=; auth=; rcpt=; ip=",
    };
    for (const auto& v : bad) {
        INFO(v);
        auto r = parse_exim_context(v);
        CHECK(!r.context);
        CHECK(!r.problem.empty());
    }
    auto empty = parse_exim_context(" v=2; from=; helo=; auth=; rcpt=; ip=");
    REQUIRE(empty.context);
    CHECK(empty.context->ip.empty());
}
