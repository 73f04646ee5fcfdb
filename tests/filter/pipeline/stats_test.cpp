// SPDX-License-Identifier: ISC
#include "filter/pipeline/message.hpp"
#include "filter/pipeline/stats.hpp"
#include "tests/catch.hpp"

using namespace arcf;
using namespace arcf::pipeline;
using arcf::test::Contains;

namespace {

Outcome outcome(arc::ChainStatus status, std::string sealer = {}) {
    Outcome o;
    o.chain.status = status;
    if (!sealer.empty()) {
        arc::SetSummary set;
        set.instance = 1;
        set.seal_domain = std::move(sealer);
        o.chain.chain.push_back(set);
        o.chain.sets = 1;
    }
    return o;
}

} // namespace

TEST_CASE("stats: every counter family from the outcomes recorded") {
    Stats s;
    Outcome a = outcome(arc::ChainStatus::pass, "Lists.Example.org");
    a.seal = SealOutcome::sealed;
    a.facts.spf = "pass";
    a.facts.dkim = {"pass", "fail"};
    a.facts.dmarc = "fail";
    a.facts.dmarc_vouched = true;
    a.facts.forged_removed = 2;
    s.record(a);

    Outcome b = outcome(arc::ChainStatus::temperror);
    b.disposition = Disposition::defer;
    b.seal = SealOutcome::chain_temperror;
    b.facts.dns_temporary = true;
    s.record(b);

    Outcome c = outcome(arc::ChainStatus::fail, "lists.example.org");
    c.seal = SealOutcome::chain_fail;
    c.facts.spf = "softfail";
    c.facts.dmarc = "fail";
    s.record(c);
    s.record_failure("internal_error");

    CHECK(s.count("messages") == 4);
    CHECK(s.count("arc", "pass") == 1);
    CHECK(s.count("arc", "fail") == 1);
    CHECK(s.count("arc", "temperror") == 1);
    CHECK(s.count("seal", "sealed") == 1);
    CHECK(s.count("seal", "chain_fail") == 1);
    CHECK(s.count("action", "deliver") == 2);
    CHECK(s.count("action", "defer") == 2);
    CHECK(s.count("deferred", "chain_temperror") == 1);
    CHECK(s.count("deferred", "internal_error") == 1);
    CHECK(s.count("dns_temporary") == 1);
    CHECK(s.count("forged_ar_removed") == 2);
    CHECK(s.count("spf", "pass") == 1);
    CHECK(s.count("spf", "softfail") == 1);
    CHECK(s.count("dkim", "pass") == 1);
    CHECK(s.count("dkim", "fail") == 1);
    CHECK(s.count("dmarc", "fail") == 2);
    CHECK(s.count("dmarc_fail_arc_pass") == 1); // c failed DMARC too, but its chain failed
    CHECK(s.count("dmarc_arc_override") == 0);

    // One sealer, whatever the case of its d= (domain names are case-insensitive).
    REQUIRE(s.sealers().size() == 1);
    const SealerCounts& l = s.sealers().at("lists.example.org");
    CHECK(l.messages == 2);
    CHECK(l.chain_pass == 1);
    CHECK(l.chain_fail == 1);
    CHECK(l.dmarc_fail_arc_pass == 1);
    CHECK(l.dmarc_rescued == 1);
    CHECK(l.dmarc_overridden == 0);
}

TEST_CASE("stats: the sealer table is bounded; the rest and non-domain d= go to (other)") {
    Stats s(3);
    for (const char* d : {"a.example", "b.example", "c.example", "d.example", "e.example"})
        s.record(outcome(arc::ChainStatus::pass, d));
    s.record(outcome(arc::ChainStatus::pass, "a.example")); // known names still count
    s.record(outcome(arc::ChainStatus::fail, "not a domain\n"));
    CHECK(s.sealers().size() == 4);
    CHECK(s.sealers().at("a.example").messages == 2);
    CHECK(s.sealers().count("d.example") == 0);
    CHECK(s.sealers().at(std::string(other_sealers)).messages == 3);
    CHECK(s.sealers().at(std::string(other_sealers)).chain_fail == 1);

    // Merging keeps the bound too.
    Stats more(3);
    more.record(outcome(arc::ChainStatus::pass, "z.example"));
    s.merge(more);
    CHECK(s.sealers().size() == 4);
    CHECK(s.sealers().at(std::string(other_sealers)).messages == 4);
    CHECK(s.count("messages") == 8);
}

TEST_CASE("stats: 10,000 attacker-chosen sealers stay within the budget") {
    Stats s;
    for (int i = 0; i < 10000; ++i)
        s.record(outcome(arc::ChainStatus::fail, "x" + std::to_string(i) + ".example"));
    CHECK(s.sealers().size() == max_sealers + 1);
    CHECK(s.sealers().at(std::string(other_sealers)).messages == 10000 - max_sealers);
    CHECK(to_json(s, {}).size() < 400 * (max_sealers + 1));
}

TEST_CASE("stats: JSON round trip, and the reader refuses what is not ours") {
    Stats s;
    Outcome a = outcome(arc::ChainStatus::pass, "lists.example.org");
    a.facts.dmarc = "fail";
    a.facts.dmarc_vouched = true;
    a.facts.dmarc_overridden = true;
    s.record(a);
    s.record(outcome(arc::ChainStatus::none));
    s.record_failure("io_error");
    StatsMeta meta{"smtpd", 1700000000, 1700000060};
    std::string json = to_json(s, meta);
    std::string error;
    auto back = parse_stats_json(json, error);
    REQUIRE(back);
    CHECK(error.empty());
    CHECK(back->meta.mode == "smtpd");
    CHECK(back->meta.started == 1700000000);
    CHECK(back->meta.written == 1700000060);
    CHECK(back->stats.families() == s.families());
    CHECK(to_json(back->stats, meta) == json);
    CHECK(back->stats.sealers().at("lists.example.org").dmarc_overridden == 1);

    for (std::string bad : {
             std::string(""),
             std::string("{}"), // no format
             std::string("[1]"),
             std::string("{\"format\":\"something-else\"}"),
             std::string("{\"format\":\"filter-arc-stats\",\"version\":2}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"nope\":1}}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"messages\":-1}}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"messages\":1.5}}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"messages\":01}}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"messages\":"
                         "99999999999999999999}}"),
             std::string("{\"format\":\"filter-arc-stats\",\"counters\":{\"arc\":{\"a\":{}}}}"),
             std::string("{\"format\":\"filter-arc-stats\"} trailing"),
             std::string("{\"format\":\"filter-arc-stats\",\"sealers\":{\"x.example\":{\"y\":1}}}"),
             std::string(100000, '{'),
             json.substr(0, json.size() / 2),
         }) {
        INFO(bad.substr(0, 80));
        error.clear();
        CHECK_FALSE(parse_stats_json(bad, error));
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("stats: a merge adds, and a counter saturates instead of wrapping") {
    Stats a, b;
    a.add("messages", "", UINT64_MAX - 1);
    b.add("messages", "", 5);
    a.merge(b);
    CHECK(a.count("messages") == UINT64_MAX);
    CHECK_FALSE(a.add("no-such-family", "", 1));
    CHECK_FALSE(a.add("arc", "", 1));       // labelled family without a label
    CHECK_FALSE(a.add("messages", "x", 1)); // unlabelled family with one
}

TEST_CASE("stats: Prometheus text has HELP and TYPE, _total counters and escaped labels") {
    Stats s;
    s.record(outcome(arc::ChainStatus::pass, "lists.example.org"));
    s.record_failure("odd \"reason\"\\with\nnewline");
    std::string p = to_prometheus(s, {"smtpd", 1700000000, 1700000060});
    CHECK_THAT(p, Contains("# HELP filter_arc_messages_total "));
    CHECK_THAT(p,
               Contains("# TYPE filter_arc_messages_total counter\nfilter_arc_messages_total 2\n"));
    CHECK_THAT(p, Contains("filter_arc_arc_results_total{result=\"pass\"} 1\n"));
    CHECK_THAT(
        p,
        Contains("filter_arc_deferred_total{reason=\"odd \\\"reason\\\"\\\\with\\nnewline\"} 1\n"));
    CHECK_THAT(p, Contains("filter_arc_sealer_messages_total{sealer=\"lists.example.org\"} 1\n"));
    CHECK_THAT(p, Contains("filter_arc_start_time_seconds 1700000000\n"));
    // Every line is a comment or a sample; every counter sample's name ends in _total.
    std::size_t start = 0;
    while (start < p.size()) {
        auto nl = p.find('\n', start);
        REQUIRE(nl != std::string::npos);
        std::string line = p.substr(start, nl - start);
        start = nl + 1;
        if (line.rfind("# ", 0) == 0)
            continue;
        std::string name = line.substr(0, line.find_first_of("{ "));
        INFO(line);
        const bool counter = name.size() > 6 && name.substr(name.size() - 6) == "_total";
        CHECK((counter || name == "filter_arc_start_time_seconds" || name == "filter_arc_sealers"));
    }
}
