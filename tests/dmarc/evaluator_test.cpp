// SPDX-License-Identifier: ISC
// Unit tests of dmarc/evaluator: policy discovery with the Organizational Domain fallback
// (RFC 7489 §6.6.3), alignment of DKIM and SPF results (§3.1, §4.2), sp= for subdomains (§6.3),
// pct= sampling (§6.6.4) and temporary errors.
#include "dmarc/evaluator.hpp"
#include "tests/catch.hpp"

#include <map>
#include <string>
#include <vector>

using namespace arcf;
using namespace arcf::dmarc;

namespace {

// A fixed DNS: listed names answer, every other name is NXDOMAIN.
struct TestDns {
    std::map<std::string, dns::TxtAnswer> answers;
    std::vector<std::string> asked;

    TestDns& txt(const std::string& name, std::vector<std::string> records) {
        answers[name] = dns::TxtAnswer::found(std::move(records));
        return *this;
    }
    TestDns& fail(const std::string& name, dns::Status s) {
        answers[name] = dns::TxtAnswer::failed(s, "SERVFAIL");
        return *this;
    }
    dns::TxtAnswer get(const std::string& name) {
        asked.push_back(name);
        auto it = answers.find(name);
        return it != answers.end() ? it->second
                                   : dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    }
};

const OrgDomain& psl() {
    static const OrgDomain list = OrgDomain::system();
    return list;
}

Evaluator discover(const std::string& from, TestDns& dns) {
    Evaluator ev(from, psl());
    for (auto name = ev.first_query(); !name.empty(); name = ev.provide(dns.get(name))) {
    }
    REQUIRE(ev.discovered());
    return ev;
}

Outcome run(const std::string& from,
            TestDns& dns,
            const std::vector<DkimInput>& dkim,
            const SpfInput& spf = {},
            unsigned sample = 0) {
    return discover(from, dns).finish(dkim, spf, sample);
}

DkimInput dkim_pass(const std::string& d) {
    return DkimInput{d, true, false};
}
DkimInput dkim_fail(const std::string& d) {
    return DkimInput{d, false, false};
}
DkimInput dkim_temp(const std::string& d) {
    return DkimInput{d, false, true};
}

} // namespace

TEST_CASE("dmarc evaluator: discovery at the From domain", "[dmarc][evaluator]") {
    TestDns dns;
    dns.txt("_dmarc.example.com", {"v=spf1 -all", "v=DMARC1; p=reject"});
    Evaluator ev = discover("Example.COM", dns);
    CHECK(dns.asked == std::vector<std::string>{"_dmarc.example.com"});
    REQUIRE(ev.record());
    CHECK(ev.record()->p == Policy::reject);
    Outcome o = ev.finish({dkim_pass("example.com")}, {});
    CHECK(o.result == Result::pass);
    CHECK(o.policy_domain == "example.com");
    CHECK(o.header_from == "example.com");
    CHECK(o.dkim_aligned);
    CHECK_FALSE(o.spf_aligned);
    CHECK_FALSE(o.subdomain);
    CHECK(o.applied == Policy::reject);
    CHECK(o.disposition == Policy::none);
}

TEST_CASE("dmarc evaluator: Organizational Domain fallback (§6.6.3 step 3)", "[dmarc][evaluator]") {
    TestDns dns;
    dns.txt("_dmarc.example.co.uk", {"v=DMARC1; p=reject; sp=quarantine"});
    // Never asked: §6.6.3 goes straight to the Organizational Domain.
    dns.txt("_dmarc.news.example.co.uk", {"v=DMARC1; p=none"});
    Evaluator ev = discover("a.news.example.co.uk", dns);
    CHECK(dns.asked ==
          std::vector<std::string>{"_dmarc.a.news.example.co.uk", "_dmarc.example.co.uk"});
    CHECK(ev.org_domain() == "example.co.uk");
    Outcome o = ev.finish({}, {"fail", "a.news.example.co.uk"});
    CHECK(o.result == Result::fail);
    CHECK(o.policy_domain == "example.co.uk");
    CHECK(o.subdomain);
    CHECK(o.p == Policy::reject);
    REQUIRE(o.sp);
    CHECK(*o.sp == Policy::quarantine);
    CHECK(o.applied == Policy::quarantine); // sp= for a subdomain (§6.3)
    CHECK(o.disposition == Policy::quarantine);

    // Without sp= the subdomain gets p=.
    TestDns dns2;
    dns2.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
    Outcome o2 = run("mail.example.com", dns2, {});
    CHECK(o2.subdomain);
    CHECK(o2.applied == Policy::reject);
    CHECK(o2.disposition == Policy::reject);

    // A record at the From domain itself wins, and its sp= does not apply to itself.
    TestDns dns3;
    dns3.txt("_dmarc.mail.example.com", {"v=DMARC1; p=none; sp=reject"});
    dns3.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
    Outcome o3 = run("mail.example.com", dns3, {});
    CHECK(dns3.asked == std::vector<std::string>{"_dmarc.mail.example.com"});
    CHECK_FALSE(o3.subdomain);
    CHECK(o3.applied == Policy::none);
    CHECK(o3.result == Result::fail);
    CHECK(o3.disposition == Policy::none);

    // The org domain itself: one query only.
    TestDns dns4;
    Outcome o4 = run("example.com", dns4, {});
    CHECK(dns4.asked == std::vector<std::string>{"_dmarc.example.com"});
    CHECK(o4.result == Result::none);
}

TEST_CASE("dmarc evaluator: no usable record means none (§6.6.3)", "[dmarc][evaluator]") {
    SECTION("nothing anywhere") {
        TestDns dns;
        Outcome o = run("a.example.com", dns, {dkim_fail("example.com")});
        CHECK(o.result == Result::none);
        CHECK(o.policy_domain.empty());
        CHECK(o.reason == "no DMARC record at _dmarc.a.example.com or _dmarc.example.com");
    }
    SECTION("NODATA and non-DMARC TXT") {
        TestDns dns;
        dns.fail("_dmarc.a.example.com", dns::Status::nodata);
        dns.txt("_dmarc.example.com", {"v=DMARC2; p=reject", "hello"});
        CHECK(run("a.example.com", dns, {}).result == Result::none);
    }
    SECTION("two records (step 5), no fallback") {
        TestDns dns;
        dns.txt("_dmarc.a.example.com", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
        dns.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
        Outcome o = run("a.example.com", dns, {});
        CHECK(dns.asked == std::vector<std::string>{"_dmarc.a.example.com"});
        CHECK(o.result == Result::none);
        CHECK(o.reason == "2 DMARC records at _dmarc.a.example.com");
    }
    SECTION("an invalid record without rua= (step 6.2), no fallback") {
        TestDns dns;
        dns.txt("_dmarc.a.example.com", {"v=DMARC1; p=bogus"});
        dns.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
        Outcome o = run("a.example.com", dns, {});
        CHECK(o.result == Result::none);
        CHECK(dns.asked.size() == 1);
    }
    SECTION("missing p= with rua= counts as p=none (step 6.1)") {
        TestDns dns;
        dns.txt("_dmarc.example.com", {"v=DMARC1; rua=mailto:d@example.com"});
        Outcome o = run("example.com", dns, {});
        CHECK(o.result == Result::fail);
        CHECK(o.applied == Policy::none);
        CHECK(o.disposition == Policy::none);
    }
}

TEST_CASE("dmarc evaluator: DKIM alignment (§3.1.1)", "[dmarc][evaluator]") {
    TestDns relaxed;
    relaxed.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
    // Relaxed: a signature by a subdomain or the parent aligns.
    CHECK(run("example.com", relaxed, {dkim_pass("mail.example.com")}).result == Result::pass);
    CHECK(run("news.example.com", relaxed, {dkim_pass("example.com")}).result == Result::pass);
    // An unaligned pass does not count; nor does an aligned failure.
    CHECK(run("example.com", relaxed, {dkim_pass("example.net")}).result == Result::fail);
    CHECK(run("example.com", relaxed, {dkim_fail("example.com")}).result == Result::fail);
    // Any one aligned pass among several signatures is enough.
    Outcome o =
        run("example.com", relaxed,
            {dkim_pass("esp.example"), dkim_fail("example.com"), dkim_pass("EXAMPLE.com.")});
    CHECK(o.result == Result::pass);
    CHECK(o.dkim_aligned);
    CHECK(o.reason == "aligned DKIM pass for example.com");

    TestDns strict;
    strict.txt("_dmarc.example.com", {"v=DMARC1; p=reject; adkim=s"});
    CHECK(run("example.com", strict, {dkim_pass("mail.example.com")}).result == Result::fail);
    CHECK(run("example.com", strict, {dkim_pass("Example.Com")}).result == Result::pass);
}

TEST_CASE("dmarc evaluator: SPF alignment (§3.1.2)", "[dmarc][evaluator]") {
    TestDns relaxed;
    relaxed.txt("_dmarc.example.com", {"v=DMARC1; p=quarantine"});
    Outcome o = run("example.com", relaxed, {}, {"pass", "bounces.example.com"});
    CHECK(o.result == Result::pass);
    CHECK(o.spf_aligned);
    CHECK_FALSE(o.dkim_aligned);
    CHECK(run("example.com", relaxed, {}, {"PASS", "example.com"}).result == Result::pass);
    CHECK(run("example.com", relaxed, {}, {"pass", "example.org"}).result == Result::fail);
    CHECK(run("example.com", relaxed, {}, {"softfail", "example.com"}).result == Result::fail);
    CHECK(run("example.com", relaxed, {}, {"neutral", "example.com"}).result == Result::fail);
    CHECK(run("example.com", relaxed, {}, {"pass", ""}).result == Result::fail);

    TestDns strict;
    strict.txt("_dmarc.example.com", {"v=DMARC1; p=quarantine; aspf=s"});
    CHECK(run("example.com", strict, {}, {"pass", "bounces.example.com"}).result == Result::fail);
    CHECK(run("example.com", strict, {}, {"pass", "example.com"}).result == Result::pass);
    // adkim=s does not affect SPF and vice versa.
    TestDns mixed;
    mixed.txt("_dmarc.example.com", {"v=DMARC1; p=reject; adkim=s; aspf=r"});
    CHECK(
        run("example.com", mixed, {dkim_pass("a.example.com")}, {"pass", "b.example.com"}).result ==
        Result::pass);
}

TEST_CASE("dmarc evaluator: temporary failures", "[dmarc][evaluator]") {
    SECTION("at the From domain") {
        TestDns dns;
        dns.fail("_dmarc.a.example.com", dns::Status::temporary);
        dns.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
        Outcome o = run("a.example.com", dns, {dkim_pass("example.com")});
        CHECK(dns.asked.size() == 1);
        CHECK(o.result == Result::temperror);
        CHECK(o.reason == "DNS lookup of _dmarc.a.example.com failed: SERVFAIL");
    }
    SECTION("at the Organizational Domain") {
        TestDns dns;
        dns.fail("_dmarc.example.com", dns::Status::temporary);
        CHECK(run("a.example.com", dns, {}).result == Result::temperror);
    }
    SECTION("discovery not finished") {
        Evaluator ev("example.com", psl());
        CHECK(ev.first_query() == "_dmarc.example.com");
        CHECK_FALSE(ev.discovered());
        CHECK(ev.finish({dkim_pass("example.com")}, {}).result == Result::temperror);
    }
    TestDns dns;
    dns.txt("_dmarc.example.com", {"v=DMARC1; p=reject"});
    SECTION("an aligned DKIM temperror without any aligned pass") {
        Outcome o = run("example.com", dns, {dkim_temp("example.com"), dkim_fail("example.com")});
        CHECK(o.result == Result::temperror);
        CHECK(o.disposition == Policy::none);
        CHECK(o.reason == "no aligned pass; DKIM for example.com met a temporary error");
    }
    SECTION("an aligned SPF temperror") {
        CHECK(run("example.com", dns, {}, {"temperror", "example.com"}).result ==
              Result::temperror);
    }
    SECTION("unaligned temporary errors cannot change the verdict") {
        CHECK(run("example.com", dns, {dkim_temp("example.net")}, {"temperror", "example.org"})
                  .result == Result::fail);
    }
    SECTION("an aligned pass settles it despite temporary errors") {
        CHECK(run("example.com", dns, {dkim_temp("example.com")}, {"pass", "example.com"}).result ==
              Result::pass);
    }
}

TEST_CASE("dmarc evaluator: pct= sampling (§6.6.4)", "[dmarc][evaluator]") {
    TestDns dns;
    dns.txt("_dmarc.example.com", {"v=DMARC1; p=reject; pct=30"});
    Outcome in = run("example.com", dns, {}, {}, 29);
    CHECK(in.result == Result::fail);
    CHECK(in.disposition == Policy::reject);
    Outcome out = run("example.com", dns, {}, {}, 30);
    CHECK(out.result == Result::fail);
    CHECK(out.applied == Policy::reject);
    CHECK(out.disposition == Policy::quarantine); // the next less strict policy
    CHECK(out.pct == 30);

    TestDns q;
    q.txt("_dmarc.example.com", {"v=DMARC1; p=quarantine; pct=0"});
    CHECK(run("example.com", q, {}, {}, 0).disposition == Policy::none);
}

TEST_CASE("dmarc evaluator: no From domain is a permerror", "[dmarc][evaluator]") {
    Evaluator ev("", psl());
    CHECK(ev.first_query().empty());
    CHECK(ev.discovered());
    CHECK(ev.provide(dns::TxtAnswer::found({"v=DMARC1; p=reject"})).empty());
    Outcome o = ev.finish({dkim_pass("example.com")}, {"pass", "example.com"});
    CHECK(o.result == Result::permerror);
}

TEST_CASE("dmarc evaluator: answers after the end are ignored", "[dmarc][evaluator]") {
    Evaluator ev("example.com", psl());
    CHECK(ev.provide(dns::TxtAnswer::found({"v=DMARC1; p=none"})).empty());
    CHECK(ev.provide(dns::TxtAnswer::found({"v=DMARC1; p=reject"})).empty());
    REQUIRE(ev.record());
    CHECK(ev.record()->p == Policy::none);
}
