// SPDX-License-Identifier: ISC
// Unit tests of spf/evaluator: the step/answer protocol, parallel queries in any answer order,
// limits, error mapping, include/redirect/exp and the p macro.
#include "spf/evaluator.hpp"
#include "tests/catch.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace arcf::spf;

namespace {

// A fixed DNS: listed (type, name) answers; every other name NXDOMAIN.
struct TestDns {
    std::map<std::pair<QueryType, std::string>, Answer> answers;

    TestDns& add(QueryType t, const std::string& name, std::vector<std::string> records) {
        answers[{t, name}] = Answer::found(std::move(records));
        return *this;
    }
    TestDns& fail(QueryType t, const std::string& name, Status s) {
        answers[{t, name}] = Answer::failed(s, std::string(arcf::dns::to_string(s)));
        return *this;
    }
    TestDns& txt(const std::string& name, const std::string& record) {
        return add(QueryType::txt, name, {record});
    }
    Answer get(const Query& q) const {
        auto it = answers.find({q.type, q.name});
        if (it != answers.end())
            return it->second;
        for (const auto& [key, value] : answers)
            if (key.second == q.name)
                return Answer::failed(Status::nodata, "NODATA");
        return Answer::failed(Status::nxdomain, "NXDOMAIN");
    }
};

enum class Order { fifo, lifo };

struct Outcome {
    Verdict verdict;
    std::vector<Query> asked;
    std::size_t max_in_flight = 0;
};

Outcome drive(Evaluator& ev, const TestDns& dns, Order order = Order::fifo) {
    Outcome out;
    std::vector<Query> pending;
    for (int guard = 0; guard < 1000; ++guard) {
        Step s = ev.step();
        if (auto* q = std::get_if<Query>(&s)) {
            out.asked.push_back(*q);
            pending.push_back(*q);
            out.max_in_flight = std::max(out.max_in_flight, pending.size());
            CHECK(ev.in_flight() == pending.size());
            continue;
        }
        if (auto* v = std::get_if<Verdict>(&s)) {
            out.verdict = *v;
            return out;
        }
        REQUIRE_FALSE(pending.empty());
        if (order == Order::lifo)
            std::reverse(pending.begin(), pending.end());
        for (const auto& q : pending)
            REQUIRE(ev.answer(q.id, dns.get(q)));
        pending.clear();
    }
    FAIL("no verdict");
    return out;
}

IpAddress ip(const char* text) {
    auto a = IpAddress::parse(text);
    REQUIRE(a);
    return *a;
}

CheckHost check(const char* client, const char* mail_from, const char* helo = "mail.example.org") {
    return mail_from_identity(ip(client), mail_from, helo, "mx.receiver.example", 1400000000);
}

Outcome run(const TestDns& dns, const CheckHost& c, Limits limits = {}) {
    Evaluator fifo(c, limits);
    Outcome a = drive(fifo, dns, Order::fifo);
    Evaluator lifo(c, limits);
    Outcome b = drive(lifo, dns, Order::lifo);
    CHECK(a.verdict.result == b.verdict.result);
    CHECK(a.verdict.explanation == b.verdict.explanation);
    return a;
}

Result result(const TestDns& dns, const CheckHost& c, Limits limits = {}) {
    return run(dns, c, limits).verdict.result;
}

} // namespace

TEST_CASE("spf evaluator: identities (RFC 7208 §2.3, §2.4, §4.3)", "[spf][evaluator]") {
    auto c = mail_from_identity(ip("192.0.2.1"), "user@example.com", "mx.example.org", "r", 7);
    CHECK(c.domain == "example.com");
    CHECK(c.sender == "user@example.com");
    CHECK(c.helo == "mx.example.org");
    auto null_path = mail_from_identity(ip("192.0.2.1"), "", "mx.example.org", "r", 7);
    CHECK(null_path.domain == "mx.example.org");
    CHECK(null_path.sender == "postmaster@mx.example.org");
    auto no_local = mail_from_identity(ip("192.0.2.1"), "@example.net", "h.example", "r", 7);
    CHECK(no_local.sender == "postmaster@example.net");
    auto quoted = mail_from_identity(ip("192.0.2.1"), "\"a@b\"@example.net", "h", "r", 7);
    CHECK(quoted.domain == "example.net");
    auto h = helo_identity(ip("192.0.2.1"), "mx.example.org", "r", 7);
    CHECK(h.domain == "mx.example.org");
    CHECK(h.sender == "postmaster@mx.example.org");
}

TEST_CASE("spf evaluator: one TXT query, then a verdict", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    Evaluator ev(check("192.0.2.9", "a@example.com"));
    Step s = ev.step();
    REQUIRE(std::holds_alternative<Query>(s));
    Query q = std::get<Query>(s);
    CHECK(q.type == QueryType::txt);
    CHECK(q.name == "example.com");
    CHECK(std::holds_alternative<Waiting>(ev.step()));
    CHECK(std::holds_alternative<Waiting>(ev.step()));
    CHECK_FALSE(ev.answer(q.id + 1, Answer::found({"x"}))); // unknown id
    REQUIRE(ev.answer(q.id, dns.get(q)));
    CHECK_FALSE(ev.answer(q.id, dns.get(q))); // answered already
    s = ev.step();
    REQUIRE(std::holds_alternative<Verdict>(s));
    auto v = std::get<Verdict>(s);
    CHECK(v.result == Result::pass);
    CHECK(v.mechanism == "ip4:192.0.2.0/24");
    CHECK(ev.finished());
    CHECK(std::get<Verdict>(ev.step()).result == Result::pass); // stable
    CHECK(ev.in_flight() == 0);
}

TEST_CASE("spf evaluator: none, temperror and permerror from the record lookup (§4.3-§4.6)",
          "[spf][evaluator]") {
    TestDns dns;
    dns.txt("plain.example", "hello world");
    dns.add(QueryType::txt, "two.example", {"v=spf1 -all", "V=SPF1 +all"});
    dns.add(QueryType::txt, "mixed.example", {"google-site-verification=x", "v=spf1 -all", "\x96"});
    dns.fail(QueryType::txt, "servfail.example", Status::temporary);
    dns.txt("bad.example", "v=spf1 a:museum");
    dns.add(QueryType::txt, "empty.example", {});
    CHECK(result(dns, check("192.0.2.1", "a@nowhere.example")) == Result::none);
    CHECK(result(dns, check("192.0.2.1", "a@plain.example")) == Result::none);
    CHECK(result(dns, check("192.0.2.1", "a@empty.example")) == Result::none);
    CHECK(result(dns, check("192.0.2.1", "a@two.example")) == Result::permerror);
    CHECK(result(dns, check("192.0.2.1", "a@mixed.example")) == Result::fail);
    CHECK(result(dns, check("192.0.2.1", "a@servfail.example")) == Result::temperror);
    CHECK(result(dns, check("192.0.2.1", "a@bad.example")) == Result::permerror);
    // §4.3: no query at all for an unusable domain.
    for (const char* mf : {"a@[192.0.2.1]", "a@localhost", "a@x..example", "a@",
                           "a@toolonglabel0123456789012345678901234567890123456789012345678901234."
                           "example"}) {
        auto o = run(dns, check("192.0.2.1", mf));
        CHECK(o.verdict.result == Result::none);
        CHECK(o.asked.empty());
    }
    // A trailing dot on <domain> is ignored.
    dns.txt("dot.example", "v=spf1 -all");
    CHECK(result(dns, check("192.0.2.1", "a@dot.example.")) == Result::fail);
}

TEST_CASE("spf evaluator: a, mx, exists, ptr match and DNS errors (§5)", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("a.example", "v=spf1 a -all");
    dns.add(QueryType::a, "a.example", {"192.0.2.1", "192.0.2.7"});
    dns.add(QueryType::aaaa, "a.example", {"2001:db8::7"});
    CHECK(result(dns, check("192.0.2.7", "x@a.example")) == Result::pass);
    CHECK(result(dns, check("192.0.2.8", "x@a.example")) == Result::fail);
    CHECK(result(dns, check("2001:db8::7", "x@a.example")) == Result::pass);
    CHECK(result(dns, check("::ffff:192.0.2.7", "x@a.example")) == Result::pass);

    dns.txt("aerr.example", "v=spf1 a:broken.example -all");
    dns.fail(QueryType::a, "broken.example", Status::temporary);
    CHECK(result(dns, check("192.0.2.7", "x@aerr.example")) == Result::temperror);

    // exists: always an A query, any answer matches (§5.7).
    dns.txt("ex.example", "v=spf1 exists:%{i}.list.example -all");
    dns.add(QueryType::a,
            "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.list.example",
            {"127.0.0.2"});
    CHECK(result(dns, check("2001:db8::7", "x@ex.example")) == Result::pass);
    CHECK(result(dns, check("2001:db8::8", "x@ex.example")) == Result::fail);

    // mx: no MX means no match, never the A record (§5.4).
    dns.txt("nomx.example", "v=spf1 mx -all");
    dns.add(QueryType::a, "nomx.example", {"192.0.2.7"});
    CHECK(result(dns, check("192.0.2.7", "x@nomx.example")) == Result::fail);
    dns.txt("nullmx.example", "v=spf1 mx ?all");
    dns.add(QueryType::mx, "nullmx.example", {"0 ."});
    auto o = run(dns, check("192.0.2.7", "x@nullmx.example"));
    CHECK(o.verdict.result == Result::neutral);
    CHECK(o.asked.size() == 2); // TXT and MX; no address query for "."

    // ptr: a DNS error on PTR is no match, not temperror (§5.5).
    dns.txt("ptr.example", "v=spf1 ptr -all");
    dns.fail(QueryType::ptr, "7.2.0.192.in-addr.arpa", Status::temporary);
    CHECK(result(dns, check("192.0.2.7", "x@ptr.example")) == Result::fail);
}

TEST_CASE("spf evaluator: MX addresses are asked in parallel, decided in order (§5.4, §5)",
          "[spf][evaluator]") {
    TestDns dns;
    dns.txt("m.example", "v=spf1 mx/24 -all");
    dns.add(QueryType::mx, "m.example", {"30 c.example", "10 a.example", "20 b.example."});
    dns.add(QueryType::a, "a.example", {"198.51.100.1"});
    dns.add(QueryType::a, "b.example", {"192.0.2.1"});
    dns.fail(QueryType::a, "c.example", Status::temporary);
    auto o = run(dns, check("192.0.2.99", "x@m.example"));
    CHECK(o.verdict.result == Result::pass); // b matches before c's error is reached
    CHECK(o.max_in_flight == 3);
    REQUIRE(o.asked.size() == 5);
    CHECK(o.asked[2].name == "a.example"); // preference order
    CHECK(o.asked[3].name == "b.example");
    CHECK(o.asked[4].name == "c.example");
    CHECK(o.asked[4].type == QueryType::a);

    // An error before the match in preference order is a temperror, whatever the answer order.
    dns.fail(QueryType::a, "a.example", Status::temporary);
    CHECK(result(dns, check("192.0.2.99", "x@m.example")) == Result::temperror);

    // Answered before a first host that is still out: wait for it.
    TestDns two;
    two.txt("m.example", "v=spf1 mx -all");
    two.add(QueryType::mx, "m.example", {"10 a.example", "20 b.example"});
    two.add(QueryType::a, "a.example", {"198.51.100.1"});
    two.add(QueryType::a, "b.example", {"192.0.2.1"});
    Evaluator ev(check("192.0.2.1", "x@m.example"));
    std::vector<Query> asked;
    for (int i = 0; i < 20 && !ev.finished(); ++i) {
        Step s = ev.step();
        if (auto* q = std::get_if<Query>(&s)) {
            asked.push_back(*q);
            continue;
        }
        if (std::holds_alternative<Verdict>(s))
            break;
        // Answer only the newest query; the first address query stays out until the end.
        if (asked.size() == 4) {
            REQUIRE(ev.answer(asked[3].id, two.get(asked[3])));
            CHECK(std::holds_alternative<Waiting>(ev.step())); // b matches, but a is pending
            REQUIRE(ev.answer(asked[2].id, two.get(asked[2])));
            continue;
        }
        REQUIRE(ev.answer(asked.back().id, two.get(asked.back())));
    }
    REQUIRE(ev.finished());
    CHECK(std::get<Verdict>(ev.step()).result == Result::pass);
}

TEST_CASE("spf evaluator: more than 10 MX records is a permerror (§4.6.4)", "[spf][evaluator]") {
    TestDns dns;
    std::vector<std::string> mx;
    for (int i = 0; i < 11; ++i)
        mx.push_back(std::to_string(i) + " mx" + std::to_string(i) + ".example");
    dns.txt("m.example", "v=spf1 mx -all");
    dns.add(QueryType::mx, "m.example", mx);
    CHECK(result(dns, check("192.0.2.1", "x@m.example")) == Result::permerror);
    mx.pop_back();
    dns.add(QueryType::mx, "m.example", mx);
    CHECK(result(dns, check("192.0.2.1", "x@m.example")) == Result::fail);
    Limits l;
    l.mx_names = 5;
    CHECK(result(dns, check("192.0.2.1", "x@m.example"), l) == Result::permerror);
}

TEST_CASE("spf evaluator: each (type, name) is asked once", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("d.example",
            "v=spf1 a a a:d.example a:D.EXAMPLE. include:i.example include:i.example -all");
    dns.add(QueryType::a, "d.example", {"198.51.100.1"});
    dns.txt("i.example", "v=spf1 a:d.example ?all");
    auto o = run(dns, check("192.0.2.1", "x@d.example"));
    CHECK(o.verdict.result == Result::fail);
    CHECK(o.asked.size() == 3); // TXT d, A d, TXT i
}

TEST_CASE("spf evaluator: the 10-term and 2-void limits (§4.6.4)", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("ten.example", "v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all");
    dns.txt("eleven.example", "v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all");
    dns.add(QueryType::a, "ten.example", {"198.51.100.1"});
    dns.add(QueryType::a, "eleven.example", {"198.51.100.1"});
    CHECK(result(dns, check("192.0.2.1", "x@ten.example")) == Result::pass);
    auto o = run(dns, check("192.0.2.1", "x@eleven.example"));
    CHECK(o.verdict.result == Result::permerror);
    CHECK(o.verdict.reason.find("4.6.4") != std::string::npos);
    // ip4/ip6/all never count; terms after the deciding one are never counted.
    dns.txt("early.example",
            "v=spf1 ip4:192.0.2.1 a a a a a a a a a a a a a a a a a a a a a a a a");
    CHECK(result(dns, check("192.0.2.1", "x@early.example")) == Result::pass);
    // A redirect counts too; a loop ends in permerror.
    dns.txt("loop.example", "v=spf1 redirect=loop.example");
    CHECK(result(dns, check("192.0.2.1", "x@loop.example")) == Result::permerror);
    dns.txt("inc.example", "v=spf1 include:inc.example");
    CHECK(result(dns, check("192.0.2.1", "x@inc.example")) == Result::permerror);
    Limits l;
    l.dns_terms = 3;
    CHECK(result(dns, check("192.0.2.1", "x@ten.example"), l) == Result::permerror);

    dns.txt("void2.example", "v=spf1 a:n1.example mx:n2.example ?all");
    dns.txt("void3.example", "v=spf1 a:n1.example mx:n2.example exists:n3.example ?all");
    CHECK(result(dns, check("192.0.2.1", "x@void2.example")) == Result::neutral);
    CHECK(result(dns, check("192.0.2.1", "x@void3.example")) == Result::permerror);
    // NODATA is void too.
    dns.txt("void3b.example", "v=spf1 a:n1.example a:void3b.example a:n2.example ?all");
    CHECK(result(dns, check("192.0.2.1", "x@void3b.example")) == Result::permerror);
    Limits lenient;
    lenient.void_lookups = 5;
    CHECK(result(dns, check("192.0.2.1", "x@void3.example"), lenient) == Result::neutral);
}

TEST_CASE("spf evaluator: include results (§5.2) and redirect (§6.1)", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("p.example", "v=spf1 ip4:192.0.2.1 -all");
    dns.txt("n.example", "v=spf1 ?all");
    dns.fail(QueryType::txt, "t.example", Status::temporary);
    dns.txt("e.example", "v=spf1 frob");
    dns.txt("top-p.example", "-v=spf1");
    dns.txt("inc-p.example", "v=spf1 -include:p.example +all");
    dns.txt("inc-f.example", "v=spf1 include:p.example ~all");
    dns.txt("inc-n.example", "v=spf1 include:n.example -all");
    dns.txt("inc-t.example", "v=spf1 include:t.example +all");
    dns.txt("inc-e.example", "v=spf1 include:e.example +all");
    dns.txt("inc-none.example", "v=spf1 include:nothing.example +all");
    CHECK(result(dns, check("192.0.2.1", "x@inc-p.example")) == Result::fail);
    CHECK(result(dns, check("192.0.2.2", "x@inc-f.example")) == Result::softfail);
    CHECK(result(dns, check("192.0.2.1", "x@inc-n.example")) == Result::fail);
    CHECK(result(dns, check("192.0.2.1", "x@inc-t.example")) == Result::temperror);
    CHECK(result(dns, check("192.0.2.1", "x@inc-e.example")) == Result::permerror);
    CHECK(result(dns, check("192.0.2.1", "x@inc-none.example")) == Result::permerror);

    dns.txt("r.example", "v=spf1 redirect=p.example");
    dns.txt("r-none.example", "v=spf1 redirect=nothing.example");
    dns.txt("r-all.example", "v=spf1 ?all redirect=p.example");
    dns.txt("r-mac.example", "v=spf1 redirect=_spf.%{d}");
    dns.txt("_spf.r-mac.example", "v=spf1 a -all");
    dns.add(QueryType::a, "_spf.r-mac.example", {"192.0.2.1"});
    CHECK(result(dns, check("192.0.2.1", "x@r.example")) == Result::pass);
    CHECK(result(dns, check("192.0.2.2", "x@r.example")) == Result::fail);
    CHECK(result(dns, check("192.0.2.1", "x@r-none.example")) == Result::permerror);
    CHECK(result(dns, check("192.0.2.2", "x@r-all.example")) == Result::neutral);
    // %{d} and the implicit domain of "a" follow the redirect.
    CHECK(result(dns, check("192.0.2.1", "x@r-mac.example")) == Result::pass);
}

TEST_CASE("spf evaluator: explanations (§6.2)", "[spf][evaluator]") {
    TestDns dns;
    dns.txt("f.example", "v=spf1 -all exp=why.%{d}");
    dns.txt("why.f.example", "%{i} may not send for %{d} (%{l}); see %{R} at %{t}, %{c}");
    auto o = run(dns, check("192.0.2.1", "user@f.example"));
    CHECK(o.verdict.result == Result::fail);
    CHECK(o.verdict.explanation ==
          "192.0.2.1 may not send for f.example (user); see mx.receiver.example at "
          "1400000000, 192.0.2.1");
    // Only for fail.
    dns.txt("s.example", "v=spf1 ~all exp=why.f.example");
    auto s = run(dns, check("192.0.2.1", "user@s.example"));
    CHECK(s.verdict.result == Result::softfail);
    CHECK(s.verdict.explanation.empty());
    CHECK(s.asked.size() == 1);
    // Not from an included record; from the redirect target, not the redirecting record.
    dns.txt("inc.example", "v=spf1 include:f.example -all exp=mine.example");
    dns.txt("mine.example", "mine");
    CHECK(run(dns, check("192.0.2.1", "u@inc.example")).verdict.explanation == "mine");
    dns.txt("red.example", "v=spf1 exp=mine.example redirect=f.example");
    CHECK(run(dns, check("192.0.2.1", "u@red.example")).verdict.explanation ==
          "192.0.2.1 may not send for f.example (u); see mx.receiver.example at 1400000000, "
          "192.0.2.1");
    // Unusable: two records, none, DNS error, bad syntax, 8-bit text.
    dns.txt("x1.example", "v=spf1 -all exp=two.example");
    dns.add(QueryType::txt, "two.example", {"one", "two"});
    dns.txt("x2.example", "v=spf1 -all exp=missing.example");
    dns.txt("x3.example", "v=spf1 -all exp=err.example");
    dns.fail(QueryType::txt, "err.example", Status::temporary);
    dns.txt("x4.example", "v=spf1 -all exp=bad.example");
    dns.txt("bad.example", "The %{x}-files.");
    dns.txt("x5.example", "v=spf1 -all exp=eight.example");
    dns.txt("eight.example", "caf\xC3\xA9");
    for (const char* d : {"x1.example", "x2.example", "x3.example", "x4.example", "x5.example"}) {
        auto v = run(dns, check("192.0.2.1", (std::string("u@") + d).c_str())).verdict;
        CHECK(v.result == Result::fail);
        CHECK(v.explanation.empty());
    }
    // The exp lookup never counts against the void limit (§4.6.4).
    dns.txt("v.example", "v=spf1 a:n1.example a:n2.example -all exp=n3.example");
    CHECK(result(dns, check("192.0.2.1", "u@v.example")) == Result::fail);
}

TEST_CASE("spf evaluator: ptr and %{p} validate names in parallel (§5.5, §7.3)",
          "[spf][evaluator]") {
    TestDns dns;
    dns.txt("p.example", "v=spf1 ptr:p.example -all exp=e.example");
    dns.txt("e.example", "host %{p}");
    dns.add(QueryType::ptr, "1.2.0.192.in-addr.arpa",
            {"other.example.", "mail.p.example.", "fake.p.example", "p.example"});
    dns.add(QueryType::a, "other.example", {"192.0.2.1"});
    dns.add(QueryType::a, "mail.p.example", {"192.0.2.1"});
    dns.add(QueryType::a, "fake.p.example", {"192.0.2.66"});
    dns.fail(QueryType::a, "p.example", Status::temporary);
    auto o = run(dns, check("192.0.2.1", "u@p.example"));
    CHECK(o.verdict.result == Result::pass);
    CHECK(o.max_in_flight == 4);

    // %{p}: the domain itself, else a subdomain, else any validated name; "unknown".
    dns.txt("q.example", "v=spf1 -all exp=e.example");
    dns.add(QueryType::ptr, "5.2.0.192.in-addr.arpa", {"other.example", "mail.q.example"});
    dns.add(QueryType::a, "mail.q.example", {"192.0.2.5", "192.0.2.6"});
    dns.add(QueryType::ptr, "6.2.0.192.in-addr.arpa", {"mail.q.example", "q.example"});
    dns.add(QueryType::a, "q.example", {"192.0.2.6"});
    dns.add(QueryType::ptr, "2.2.0.192.in-addr.arpa", {"fake.p.example", "other.example"});
    dns.add(QueryType::a, "other.example", {"192.0.2.1", "192.0.2.2", "192.0.2.5"});
    CHECK(run(dns, check("192.0.2.5", "u@q.example")).verdict.explanation == "host mail.q.example");
    CHECK(run(dns, check("192.0.2.6", "u@q.example")).verdict.explanation == "host q.example");
    CHECK(run(dns, check("192.0.2.2", "u@q.example")).verdict.explanation == "host other.example");
    CHECK(run(dns, check("192.0.2.3", "u@q.example")).verdict.explanation == "host unknown");

    // %{p} in a mechanism: the PTR work happens before the mechanism's own query.
    dns.txt("m.example", "v=spf1 exists:%{p}.ok.example -all");
    dns.add(QueryType::a, "other.example.ok.example", {"127.0.0.2"});
    auto m = run(dns, check("192.0.2.1", "u@m.example"));
    CHECK(m.verdict.result == Result::pass);
    REQUIRE(m.asked.size() >= 3);
    CHECK(m.asked[1].type == QueryType::ptr);
    CHECK(m.asked.back().name == "other.example.ok.example");
    // Only the first 10 PTR names are considered (§4.6.4 item 3).
    std::vector<std::string> names;
    for (int i = 0; i < 10; ++i)
        names.push_back("n" + std::to_string(i) + ".example");
    names.push_back("mail.p.example");
    dns.add(QueryType::ptr, "1.2.0.192.in-addr.arpa", names);
    CHECK(result(dns, check("192.0.2.1", "u@p.example")) == Result::fail);
}

TEST_CASE("spf evaluator: names a query cannot be made for (§4.3 by analogy, §7.3)",
          "[spf][evaluator]") {
    TestDns dns;
    dns.txt("l.example", "v=spf1 a:%{l}.example ?all");
    std::string label(64, 'x');
    auto o = run(dns, check("192.0.2.1", (label + "@l.example").c_str()));
    CHECK(o.verdict.result == Result::neutral);
    CHECK(o.asked.size() == 1); // never asked
    // Longer than 253 after expansion: labels are dropped from the left (§7.3).
    std::string local;
    for (int i = 0; i < 30; ++i)
        local += "abcdefghi.";
    local += "z";
    dns.txt("t.example", "v=spf1 exists:%{l}.t.example -all");
    auto t = run(dns, check("192.0.2.1", (local + "@t.example").c_str()));
    REQUIRE(t.asked.size() == 2);
    CHECK(t.asked[1].name.size() <= 253);
    CHECK(t.asked[1].name.substr(t.asked[1].name.size() - 11) == "z.t.example");
    CHECK(t.asked[1].name.substr(0, 10) == "abcdefghi.");
}

TEST_CASE("spf evaluator: the caller's deadline (§4.6.4): answer temporary", "[spf][evaluator]") {
    Evaluator ev(check("192.0.2.1", "u@slow.example"));
    Step s = ev.step();
    REQUIRE(std::holds_alternative<Query>(s));
    CHECK(std::holds_alternative<Waiting>(ev.step()));
    REQUIRE(ev.answer(std::get<Query>(s).id, Answer::failed(Status::temporary, "deadline")));
    auto v = std::get<Verdict>(ev.step());
    CHECK(v.result == Result::temperror);
    CHECK(v.reason.find("deadline") != std::string::npos);
}

TEST_CASE("spf evaluator: an ok answer without records is nodata", "[spf][evaluator]") {
    Evaluator ev(check("192.0.2.1", "u@e.example"));
    auto q = std::get<Query>(ev.step());
    REQUIRE(ev.answer(q.id, Answer{Status::ok, {}, {}}));
    CHECK(std::get<Verdict>(ev.step()).result == Result::none);
}

TEST_CASE("spf evaluator: result names (§2.6)", "[spf][evaluator]") {
    CHECK(to_string(Result::none) == "none");
    CHECK(to_string(Result::neutral) == "neutral");
    CHECK(to_string(Result::pass) == "pass");
    CHECK(to_string(Result::fail) == "fail");
    CHECK(to_string(Result::softfail) == "softfail");
    CHECK(to_string(Result::temperror) == "temperror");
    CHECK(to_string(Result::permerror) == "permerror");
}
