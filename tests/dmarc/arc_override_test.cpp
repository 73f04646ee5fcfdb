// SPDX-License-Identifier: ISC
// Unit tests of dmarc/arc_override: the ARC-aware local policy of RFC 8617 §7.2.1, the report
// comment of §7.2.2 and the dmarc resinfo (RFC 7489 §11.2).
#include "dmarc/arc_override.hpp"
#include "tests/catch.hpp"

#include <string>
#include <vector>

using namespace arcf;
using namespace arcf::dmarc;

namespace {

const OrgDomain& psl() {
    static const OrgDomain list = OrgDomain::system();
    return list;
}

Outcome failed_dmarc() {
    Outcome o;
    o.result = Result::fail;
    o.policy_domain = "example.com";
    o.header_from = "example.com";
    o.p = Policy::reject;
    o.applied = Policy::reject;
    o.disposition = Policy::reject;
    o.reason = "no aligned DKIM or SPF pass";
    return o;
}

arc::ChainResult passing_chain() {
    arc::ChainResult c;
    c.status = arc::ChainStatus::pass;
    c.sets = 2;
    c.chain = {
        arc::SetSummary{1, arc::Cv::none, "d1.example", "s1", "d1.example", "s1"},
        arc::SetSummary{2, arc::Cv::pass, "Lists.Example.ORG", "sel", "lists.example.org", "sel"}};
    return c;
}

mail::ResInfo res(const std::string& method,
                  const std::string& result,
                  std::vector<mail::AuthProperty> props = {}) {
    mail::ResInfo r;
    r.method = method;
    r.result = result;
    r.properties = std::move(props);
    return r;
}

SealerResults aar_with(std::vector<mail::ResInfo> results, std::string ip = "192.0.2.1") {
    return SealerResults{std::move(results), std::move(ip), {}};
}

const std::vector<std::string> trusted = {"lists.example.org", "other.example"};

} // namespace

TEST_CASE("dmarc arc override: a trusted sealer's recorded pass (RFC 8617 §7.2.1)",
          "[dmarc][arc]") {
    auto aar = aar_with({res("spf", "fail", {{"smtp", "mailfrom", "x@example.com"}}),
                         res("dmarc", "pass", {{"header", "from", "Example.com"}})});
    auto o = arc_override(failed_dmarc(), passing_chain(), trusted, aar, psl());
    REQUIRE(o);
    CHECK(o->instance == 2);
    CHECK(o->domain == "lists.example.org");
    CHECK(o->selector == "sel");
    CHECK(o->client_ip == "192.0.2.1");
    CHECK(o->evidence == "dmarc=pass");
    REQUIRE(o->seals.size() == 2);
    CHECK(o->seals[0].instance == 2);
    CHECK(o->seals[1].domain == "d1.example");
    CHECK(report_comment(*o) ==
          "arc=pass as[2].d=lists.example.org as[2].s=sel as[1].d=d1.example as[1].s=s1 "
          "remote-ip[2]=192.0.2.1");

    // The trusted list is matched ignoring case and a trailing dot.
    CHECK(arc_override(failed_dmarc(), passing_chain(), {"LISTS.example.org."}, aar, psl()));

    // An aligned DKIM or SPF pass recorded by the sealer also counts.
    auto dkim = aar_with({res("dkim", "pass", {{"header", "d", "mail.example.com"}})});
    auto od = arc_override(failed_dmarc(), passing_chain(), trusted, dkim, psl());
    REQUIRE(od);
    CHECK(od->evidence == "dkim=pass");
    auto spf = aar_with({res("spf", "pass", {{"smtp", "mailfrom", "bounce@bounces.example.com"}})});
    auto os = arc_override(failed_dmarc(), passing_chain(), trusted, spf, psl());
    REQUIRE(os);
    CHECK(os->evidence == "spf=pass");
    auto helo = aar_with({res("spf", "pass", {{"smtp", "helo", "mx.example.com"}})});
    CHECK(arc_override(failed_dmarc(), passing_chain(), trusted, helo, psl()));
    // dmarc=pass without header.from: the sealer evaluated the From it saw.
    CHECK(arc_override(failed_dmarc(), passing_chain(), trusted, aar_with({res("dmarc", "pass")}),
                       psl()));
}

TEST_CASE("dmarc arc override: never a pass out of nothing", "[dmarc][arc]") {
    auto good = aar_with({res("dmarc", "pass", {{"header", "from", "example.com"}})});
    SECTION("untrusted sealer") {
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), {"other.example"}, good, psl()));
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), {}, good, psl()));
        // Trust is per sealer name, not per organizational domain.
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), {"example.org"}, good, psl()));
        // Only the newest sealer's word counts, not an older trusted one's.
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), {"d1.example"}, good, psl()));
    }
    SECTION("chain not passing") {
        for (auto status :
             {arc::ChainStatus::fail, arc::ChainStatus::none, arc::ChainStatus::temperror}) {
            auto c = passing_chain();
            c.status = status;
            CHECK_FALSE(arc_override(failed_dmarc(), c, trusted, good, psl()));
        }
        auto empty = passing_chain();
        empty.chain.clear();
        CHECK_FALSE(arc_override(failed_dmarc(), empty, trusted, good, psl()));
    }
    SECTION("AAR without any usable pass") {
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), trusted, aar_with({}), psl()));
        auto fails = aar_with({res("dmarc", "fail", {{"header", "from", "example.com"}}),
                               res("dkim", "neutral", {{"header", "d", "example.com"}}),
                               res("spf", "softfail", {{"smtp", "mailfrom", "a@example.com"}}),
                               res("arc", "pass")});
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), trusted, fails, psl()));
        // Passes for other domains vouch for nothing.
        auto other = aar_with(
            {res("dmarc", "pass", {{"header", "from", "example.net"}}),
             res("dkim", "pass", {{"header", "d", "example.net"}}), res("dkim", "pass"),
             res("spf", "pass", {{"smtp", "mailfrom", "a@example.net"}}), res("spf", "pass")});
        CHECK_FALSE(arc_override(failed_dmarc(), passing_chain(), trusted, other, psl()));
    }
    SECTION("DMARC did not fail") {
        for (auto r : {Result::pass, Result::none, Result::temperror, Result::permerror}) {
            Outcome d = failed_dmarc();
            d.result = r;
            CHECK_FALSE(arc_override(d, passing_chain(), trusted, good, psl()));
        }
    }
}

TEST_CASE("dmarc arc override: client address and origin", "[dmarc][arc]") {
    auto aar = aar_with(
        {res("dmarc", "pass"), res("iprev", "pass", {{"policy", "iprev", "198.51.100.7"}})}, "");
    auto o = arc_override(failed_dmarc(), passing_chain(), trusted, aar, psl());
    REQUIRE(o);
    CHECK(o->client_ip == "198.51.100.7");
    aar.results.push_back(res("spf", "none", {{"smtp", "remote-ip", "2001:db8::25"}}));
    o = arc_override(failed_dmarc(), passing_chain(), trusted, aar, psl());
    REQUIRE(o);
    CHECK(o->client_ip == "2001:db8::25");
    aar.origin_ip = "203.0.113.9";
    o = arc_override(failed_dmarc(), passing_chain(), trusted, aar, psl());
    REQUIRE(o);
    CHECK(report_comment(*o) ==
          "arc=pass as[2].d=lists.example.org as[2].s=sel as[1].d=d1.example as[1].s=s1 "
          "remote-ip[1]=203.0.113.9 remote-ip[2]=2001:db8::25");
    // Hostile values cannot break out of one comment word.
    o->client_ip = "1.2.3.4; dmarc=pass";
    CHECK(report_comment(*o).find("; ") == std::string::npos);
}

TEST_CASE("dmarc resinfo (RFC 7489 §11.2)", "[dmarc][arc]") {
    SECTION("fail, overridden") {
        auto aar = aar_with({res("dmarc", "pass")});
        auto o = arc_override(failed_dmarc(), passing_chain(), trusted, aar, psl());
        REQUIRE(o);
        mail::ResInfo r = dmarc_resinfo(failed_dmarc(), o);
        CHECK(mail::format_resinfo(r) ==
              "dmarc=fail reason=\"p=reject sp=reject dis=none; local_policy arc=pass "
              "as[2].d=lists.example.org as[2].s=sel as[1].d=d1.example as[1].s=s1 "
              "remote-ip[2]=192.0.2.1\" header.from=example.com policy.dmarc=reject");
        // What we write reads back the same.
        auto back = mail::parse_authentication_results("mx.example; " + mail::format_resinfo(r));
        REQUIRE(back);
        REQUIRE(back->results.size() == 1);
        CHECK(back->results[0].result == "fail");
        CHECK(back->results[0].reason == r.reason);
        REQUIRE(back->results[0].properties.size() == 2);
        CHECK(back->results[0].properties[1].value == "reject");
    }
    SECTION("fail, not overridden, subdomain policy") {
        Outcome d = failed_dmarc();
        d.header_from = "a.example.com";
        d.sp = Policy::quarantine;
        d.applied = Policy::quarantine;
        d.disposition = Policy::quarantine;
        CHECK(mail::format_resinfo(dmarc_resinfo(d, std::nullopt)) ==
              "dmarc=fail reason=\"p=reject sp=quarantine dis=quarantine\" "
              "header.from=a.example.com policy.dmarc=quarantine");
    }
    SECTION("pass") {
        Outcome d = failed_dmarc();
        d.result = Result::pass;
        d.disposition = Policy::none;
        CHECK(mail::format_resinfo(dmarc_resinfo(d, std::nullopt)) ==
              "dmarc=pass reason=\"p=reject sp=reject dis=none\" header.from=example.com "
              "policy.dmarc=reject");
    }
    SECTION("none and errors carry the evaluator's reason, no policy") {
        Outcome d;
        d.result = Result::none;
        d.header_from = "example.com";
        d.reason = "no DMARC record at _dmarc.example.com";
        CHECK(mail::format_resinfo(dmarc_resinfo(d, std::nullopt)) ==
              "dmarc=none reason=\"no DMARC record at _dmarc.example.com\" "
              "header.from=example.com");
        Outcome e;
        e.result = Result::permerror;
        e.reason = "several From fields";
        CHECK(mail::format_resinfo(dmarc_resinfo(e, std::nullopt)) ==
              "dmarc=permerror reason=\"several From fields\"");
    }
    SECTION("hostile text stays inside one quoted reason") {
        Outcome d;
        d.result = Result::temperror;
        d.reason = "DNS lookup of _dmarc.x failed: \"quoted\"\r\n; evil=1 \\";
        d.header_from = "example.com";
        std::string text = mail::format_resinfo(dmarc_resinfo(d, std::nullopt));
        CHECK(text.find('\r') == std::string::npos);
        CHECK(text.find('\n') == std::string::npos);
        auto back = mail::parse_authentication_results("mx.example; " + text);
        REQUIRE(back);
        REQUIRE(back->results.size() == 1);
        CHECK(back->results[0].result == "temperror");
        CHECK(back->results[0].properties.size() == 1);
    }
}
