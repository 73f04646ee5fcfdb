// SPDX-License-Identifier: ISC
// filter/sender_auth: SPF for the MAIL FROM / HELO identity (RFC 7208 §2.3, §2.4) as a pure
// component, and the resinfos it yields (RFC 8601 §2.7.2), with scripted DNS answers.
#include "filter/pipeline/sender_auth.hpp"
#include "tests/catch.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace arcf;
using filter::AuthQuery;
using filter::SenderAuth;
using filter::SenderAuthOptions;
using filter::SenderContext;

namespace {

// These cases are about SPF: DKIM and DMARC (which wait for the message data) are off.
SenderAuthOptions spf_only() {
    SenderAuthOptions o;
    o.dkim = false;
    o.dmarc = false;
    return o;
}

using Table = std::map<std::pair<dns::RecordType, std::string>, dns::Answer>;

SenderContext context(std::string mail_from = "sender@example.org", std::string ip = "192.0.2.7") {
    return SenderContext{std::move(ip),        "client.example.net",
                         std::move(mail_from), "",
                         "mx.example.test",    1795918548};
}

/// Answers every query (and the ones that follow) from `t`, NXDOMAIN when absent, in the order
/// asked or reversed. Returns the queries seen.
std::vector<AuthQuery> drive(SenderAuth& a, const Table& t, bool reverse = false) {
    std::vector<AuthQuery> seen;
    auto batch = a.take_queries();
    while (!batch.empty()) {
        if (reverse)
            std::reverse(batch.begin(), batch.end());
        for (const auto& q : batch) {
            seen.push_back(q);
            auto it = t.find({q.type, q.name});
            a.on_answer(q.id, it != t.end() ? it->second
                                            : dns::Answer::failed(dns::Status::nxdomain, "NX"));
        }
        batch = a.take_queries();
    }
    return seen;
}

dns::Answer txt(std::string r) {
    return dns::Answer::found({std::move(r)});
}

std::string field(const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& key) {
    for (const auto& [k, v] : fields)
        if (k == key)
            return v;
    return "(absent)";
}

} // namespace

TEST_CASE("sender_auth: SPF pass for MAIL FROM, as one spf resinfo", "[sender_auth][spf]") {
    SenderAuth a(spf_only(), context());
    CHECK_FALSE(a.finished());
    auto seen =
        drive(a, {{{dns::RecordType::txt, "example.org"}, txt("v=spf1 mx -all")},
                  {{dns::RecordType::mx, "example.org"},
                   dns::Answer::found({"10 mx1.example.org", "20 mx2.example.org"})},
                  {{dns::RecordType::a, "mx2.example.org"}, dns::Answer::found({"192.0.2.7"})}});
    REQUIRE(seen.size() >= 3);
    CHECK(seen[0].type == dns::RecordType::txt);
    CHECK(seen[0].name == "example.org");
    CHECK(seen[1].type == dns::RecordType::mx);
    CHECK(a.finished());
    CHECK_FALSE(a.temperror());
    auto r = a.results();
    REQUIRE(r.size() == 1);
    CHECK(r[0].method == "spf");
    CHECK(r[0].result == "pass");
    CHECK_FALSE(r[0].reason);
    REQUIRE(r[0].properties.size() == 1);
    CHECK(r[0].properties[0].ptype == "smtp");
    CHECK(r[0].properties[0].property == "mailfrom");
    CHECK(r[0].properties[0].value == "sender@example.org");
    CHECK(r[0].raw == "spf=pass smtp.mailfrom=sender@example.org");
    auto log = a.log_fields();
    CHECK(field(log, "spf") == "pass");
    CHECK(field(log, "spf_domain") == "example.org");
    CHECK(a.take_queries().empty());
}

TEST_CASE("sender_auth: each result of check_host()", "[sender_auth][spf]") {
    struct Row {
        dns::Answer answer;
        std::string result;
        bool reason;
    };
    for (const auto& row : std::vector<Row>{
             {txt("v=spf1 -all"), "fail", false},
             {txt("v=spf1 ~all"), "softfail", false},
             {txt("v=spf1 ?all"), "neutral", false},
             {txt("v=spf1 ip4:192.0.2.7"), "pass", false},
             {txt("v=spf1"), "neutral", false}, // nothing matched (§4.7)
             {dns::Answer::failed(dns::Status::nxdomain, "NX"), "none", false},
             {dns::Answer::found({"v=spf1 -all", "v=spf1 +all"}), "permerror", true},
             {txt("v=spf1 foo:bar -all"), "permerror", true},
             {dns::Answer::failed(dns::Status::temporary, "SERVFAIL"), "temperror", true},
         }) {
        SenderAuth a(spf_only(), context());
        drive(a, {{{dns::RecordType::txt, "example.org"}, row.answer}});
        REQUIRE(a.finished());
        auto r = a.results();
        REQUIRE(r.size() == 1);
        INFO(r[0].raw);
        CHECK(r[0].result == row.result);
        CHECK(r[0].reason.has_value() == row.reason);
        CHECK(a.temperror() == (row.result == "temperror"));
    }
}

TEST_CASE("sender_auth: the identity checked and how it is reported", "[sender_auth][spf]") {
    SECTION("angle brackets around the reverse-path are not part of it") {
        SenderAuth a(spf_only(), context("<Sender@Example.ORG>"));
        auto seen = drive(a, {});
        REQUIRE(!seen.empty());
        CHECK(seen[0].name == "Example.ORG");
        CHECK(a.results().at(0).raw == "spf=none smtp.mailfrom=Sender@Example.ORG");
    }
    SECTION("the null reverse-path: postmaster@HELO, reported as smtp.helo (RFC 7208 §2.4)") {
        for (const char* nul : {"", "<>"}) {
            SenderAuth a(spf_only(), context(nul));
            auto seen = drive(a, {{{dns::RecordType::txt, "client.example.net"},
                                   txt("v=spf1 exists:%{l}.%{d} -all")},
                                  {{dns::RecordType::a, "postmaster.client.example.net"},
                                   dns::Answer::found({"127.0.0.2"})}});
            REQUIRE(seen.size() == 2);
            CHECK(seen[1].name == "postmaster.client.example.net"); // %{l} of postmaster@
            CHECK(a.results().at(0).raw == "spf=pass smtp.helo=client.example.net");
            CHECK(field(a.log_fields(), "spf_identity") == "helo");
        }
    }
    SECTION("an address that is not ASCII (SMTPUTF8) is reported by its domain") {
        SenderAuth a(spf_only(), context("j\xc3\xb6rg@example.org"));
        drive(a, {{{dns::RecordType::txt, "example.org"}, txt("v=spf1 -all")}});
        CHECK(a.results().at(0).raw == "spf=fail smtp.mailfrom=example.org");
    }
    SECTION("an IPv6 client asks for AAAA records") {
        SenderAuth a(spf_only(), context("u@example.org", "2001:db8::7"));
        auto seen = drive(
            a, {{{dns::RecordType::txt, "example.org"}, txt("v=spf1 a -all")},
                {{dns::RecordType::aaaa, "example.org"}, dns::Answer::found({"2001:db8::7"})}});
        REQUIRE(seen.size() == 2);
        CHECK(seen[1].type == dns::RecordType::aaaa);
        CHECK(a.results().at(0).result == "pass");
    }
    SECTION("reason= is ASCII, whatever the evaluator wrote") {
        SenderAuth a(spf_only(), context());
        std::vector<std::pair<std::pair<dns::RecordType, std::string>, dns::Answer>> rows;
        // Eleven DNS-querying terms: more than RFC 7208 §4.6.4 allows.
        std::string rec = "v=spf1";
        for (int i = 0; i < 11; ++i)
            rec += " a:h" + std::to_string(i) + ".example.org";
        drive(a, {{{dns::RecordType::txt, "example.org"}, txt(rec + " -all")}});
        auto r = a.results().at(0);
        CHECK(r.result == "permerror");
        REQUIRE(r.reason);
        CHECK(r.reason->find("section 4.6.4") != std::string::npos);
        for (char c : *r.reason)
            CHECK((static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f));
    }
}

TEST_CASE("sender_auth: sessions that get no SPF result", "[sender_auth][spf]") {
    struct Row {
        SenderContext ctx;
        bool spf_on;
        std::string reason;
    };
    auto authed = context();
    authed.auth_user = "alice";
    auto no_helo = context("");
    no_helo.helo.clear();
    for (const auto& row : std::vector<Row>{
             {context(), false, "disabled"},
             {context("sender@example.org", ""), true, "no client address (local submission)"},
             {context("sender@example.org", "local"), true, "no client address (local submission)"},
             {context("sender@example.org", "not-an-ip"), true,
              "client address is not an IP address"},
             {authed, true, "authenticated session"},
             {no_helo, true, "null reverse-path and no HELO name"},
         }) {
        SenderAuthOptions o = spf_only();
        o.spf = row.spf_on;
        SenderAuth a(o, row.ctx);
        CHECK(a.take_queries().empty());
        CHECK(a.finished());
        CHECK(a.results().empty());
        CHECK_FALSE(a.temperror());
        CHECK(field(a.log_fields(), "spf") == "skipped");
        CHECK(field(a.log_fields(), "spf_reason") == row.reason);
    }
}

TEST_CASE("sender_auth: the deadline, stale and unknown answers", "[sender_auth][spf]") {
    SECTION("answers missing at the deadline: temperror") {
        SenderAuth a(spf_only(), context());
        auto q = a.take_queries();
        REQUIRE(q.size() == 1);
        a.on_deadline();
        CHECK(a.finished());
        CHECK(a.temperror());
        CHECK(a.results().at(0).raw ==
              "spf=temperror reason=\"DNS answers missing at the deadline\" "
              "smtp.mailfrom=sender@example.org");
        a.on_answer(q[0].id, txt("v=spf1 +all")); // late: ignored
        CHECK(a.results().at(0).result == "temperror");
        CHECK(a.take_queries().empty());
    }
    SECTION("answers still in flight after the verdict are ignored") {
        SenderAuth a(spf_only(), context());
        auto q = a.take_queries();
        a.on_answer(q.at(0).id, txt("v=spf1 mx -all"));
        auto mx = a.take_queries();
        REQUIRE(mx.size() == 1);
        a.on_answer(mx[0].id, dns::Answer::found({"10 a.example.org", "20 b.example.org"}));
        auto hosts = a.take_queries(); // both hosts' addresses are asked at once
        REQUIRE(hosts.size() == 2);
        a.on_answer(hosts[0].id, dns::Answer::found({"192.0.2.7"}));
        CHECK(a.finished());
        CHECK(a.results().at(0).result == "pass");
        a.on_answer(hosts[1].id, dns::Answer::failed(dns::Status::temporary, "late"));
        a.on_answer(999, dns::Answer::failed(dns::Status::temporary, "unknown"));
        CHECK(a.results().at(0).result == "pass");
        CHECK_FALSE(a.temperror());
    }
    SECTION("answers in any order give the sequential verdict") {
        Table t{{{dns::RecordType::txt, "example.org"}, txt("v=spf1 mx ip4:192.0.2.0/24 -all")},
                {{dns::RecordType::mx, "example.org"},
                 dns::Answer::found({"10 a.example.org", "20 b.example.org"})},
                {{dns::RecordType::a, "a.example.org"},
                 dns::Answer::failed(dns::Status::temporary, "SERVFAIL")}};
        SenderAuth forward(spf_only(), context()), backward(spf_only(), context());
        drive(forward, t);
        drive(backward, t, true);
        // The mx term hits a temporary failure before ip4 could match: temperror (§5).
        CHECK(forward.results().at(0).result == "temperror");
        CHECK(backward.results().at(0).result == "temperror");
    }
}
