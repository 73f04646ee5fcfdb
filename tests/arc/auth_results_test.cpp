// SPDX-License-Identifier: ISC
// Authentication-Results parsing as real providers write them (RFC 8601 §2.2).
#include "arc/auth_results.hpp"
#include "tests/catch.hpp"

using namespace arcf;

TEST_CASE("auth_results: methods, reasons, properties, comments", "[auth_results][rfc8601]") {
    auto ar = arc::parse_authentication_results(
        " mx.google.com;\r\n       dkim=pass header.i=@example.org header.s=sel header.b=abc;\r\n"
        "       spf=pass (google.com: domain of a@example.org designates 192.0.2.1 as permitted "
        "sender) smtp.mailfrom=a@example.org;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
        "header.from=example.org");
    REQUIRE(ar);
    CHECK(ar->authserv_id == "mx.google.com");
    REQUIRE(ar->results.size() == 3);
    CHECK(ar->results[0].method == "dkim");
    CHECK(ar->results[0].properties.size() == 3);
    CHECK(ar->results[1].properties.at(0).value == "a@example.org");
    CHECK(ar->results[2].result == "pass");
    CHECK(ar->results[2].properties.at(0).ptype == "header");
    CHECK(ar->results[2].properties.at(0).property == "from");
}

TEST_CASE("auth_results: authres-version, no authserv-id, none, unknown methods",
          "[auth_results][rfc8601]") {
    auto ms =
        arc::parse_authentication_results(" mx.microsoft.com 1; spf=pass smtp.mailfrom=x.example");
    REQUIRE(ms);
    CHECK(ms->version == "1");
    CHECK(ms->results.at(0).method == "spf");
    auto noid = arc::parse_authentication_results(" ; spf=none");
    REQUIRE(noid);
    CHECK(noid->authserv_id.empty());
    auto none = arc::parse_authentication_results(" example.org; none");
    REQUIRE(none);
    CHECK(none->results.empty());
    auto odd = arc::parse_authentication_results(
        " example.org; x-new/2=maybe reason=\"a;b\" policy.x=\"q\"");
    REQUIRE(odd);
    CHECK(odd->results.at(0).method == "x-new");
    CHECK(odd->results.at(0).method_version == "2");
    CHECK(odd->results.at(0).reason == "a;b");
}

TEST_CASE("auth_results: format_resinfo never lets a value break the header", "[auth_results]") {
    arc::ResInfo r;
    r.method = "dkim";
    r.result = "pass";
    r.reason = "bad \"quote\" and\r\nline";
    r.properties.push_back({"header", "d", "x;y"});
    r.properties.push_back({"smtp", "remote-ip", "2001:db8::1"});
    std::string s = arc::format_resinfo(r);
    CHECK(s.find('\r') == std::string::npos);
    CHECK(s.find('\n') == std::string::npos);
    CHECK(s == "dkim=pass reason=\"bad \\\"quote\\\" andline\" header.d=\"x;y\" "
               "smtp.remote-ip=\"2001:db8::1\"");
    CHECK(arc::format_value("a@example.org") == "a@example.org");
}
