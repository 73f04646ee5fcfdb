// SPDX-License-Identifier: ISC
// filter/pipeline/message: one message through verification, sender authentication, policy and
// sealing; questions by id, one typed outcome. And the smtpd engine as its driver.
#include "filter/pipeline/message.hpp"
#include "filter/smtpd/engine.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace arcf;

namespace {

constexpr std::uint64_t now = 1795918548;

std::shared_ptr<const arc::SealKey> seal_key() {
    static auto key = std::make_shared<const arc::SealKey>(
        arc::SealKey{"forwarder.example", "s1", tests::make_ed25519_key()});
    return key;
}

std::shared_ptr<const pipeline::Settings> settings(bool sender_auth = true) {
    pipeline::Settings s;
    s.authserv_id = "mx.example.test";
    s.policy.keys[seal_key()->domain] = seal_key();
    s.policy.default_domain = seal_key()->domain;
    s.auth.spf = false;
    s.auth.dkim = s.auth.dmarc = sender_auth;
    return std::make_shared<const pipeline::Settings>(std::move(s));
}

const std::vector<std::string> plain = {
    "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=inside.example",
    "Received: from client.example.org (localhost [127.0.0.1])",
    "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
    "Authentication-Results: mx.example.test; arc=pass; spf=pass smtp.mailfrom=forged.example",
    "From: Sender <sender@example.org>",
    "Subject: pipeline test",
    "",
    "body",
};

// Runs `lines` through a Message, answering every question with `answer`.
pipeline::Outcome run(const std::vector<std::string>& lines,
                      const dns::Answer& answer,
                      std::shared_ptr<const pipeline::Settings> s = settings()) {
    pipeline::Message m(std::move(s), pipeline::Envelope{"192.0.2.7", "helo", "", "", {}}, now);
    for (const auto& l : lines)
        m.add_line(l);
    m.end_of_data();
    for (auto qs = m.take_queries(); !qs.empty(); qs = m.take_queries())
        for (const auto& q : qs)
            m.on_answer(q.id, answer);
    REQUIRE(m.ready());
    return m.finish();
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

std::string field(const pipeline::LogFields& log, const std::string& key) {
    for (const auto& [k, v] : log)
        if (k == key)
            return v;
    return "(absent)";
}

} // namespace

TEST_CASE("pipeline: the trust boundary decides the AAR and what is removed", "[pipeline]") {
    auto o = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    CHECK(o.disposition == pipeline::Disposition::deliver);
    CHECK(o.seal == pipeline::SealOutcome::sealed);
    CHECK(o.seal_detail == "i=1 cv=none");
    const std::string added = joined(o.added_lines);
    // RFC 8617 §4.1.1: the results our ADMD recorded above the MTA's Received field go into
    // the AAR; the one below it claims our authserv-id from outside (RFC 8601 §5): removed.
    CHECK(added.find("smtp.mailfrom=inside.example") != std::string::npos);
    CHECK(added.find("forged.example") == std::string::npos);
    REQUIRE(o.removed_lines.size() >= 4);
    CHECK(!o.removed_lines[0]);
    CHECK(o.removed_lines[3]);
    CHECK(field(o.log, "forged_ar_removed") == "1");
    CHECK(field(o.log, "seal") == "sealed");
    CHECK(field(o.log, "arc") == "none");
    // The same as typed facts, for the statistics (filter/pipeline/stats.hpp).
    CHECK(o.facts.forged_removed == 1);
    CHECK(o.facts.dmarc == field(o.log, "dmarc"));
    CHECK(o.facts.spf.empty()); // SPF is off here
    CHECK_FALSE(o.facts.dns_temporary);
}

TEST_CASE("pipeline: the message's job gets the settings' options, each of them", "[pipeline]") {
    // pipeline::Message builds the job's options from the settings (message.cpp job_options):
    // scrub-forged off keeps the forged results, other trusted ids and the header limits count.
    auto s = std::make_shared<pipeline::Settings>(*settings());
    s->scrub_forged = false;
    auto kept = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"), s);
    CHECK(kept.facts.forged_removed == 0);
    CHECK(field(kept.log, "forged_ar_removed") == "(absent)");
    s = std::make_shared<pipeline::Settings>(*settings());
    s->authserv_id = "other.example.test";
    s->trusted_authserv_ids = {"mx.example.test"};
    auto trusted = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"), s);
    CHECK(trusted.facts.forged_removed == 1);
    CHECK(joined(trusted.added_lines).find("other.example.test") != std::string::npos);
    s = std::make_shared<pipeline::Settings>(*settings());
    s->max_header_fields = 3;
    auto limited = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"), s);
    CHECK(limited.seal == pipeline::SealOutcome::header_limits);
}

TEST_CASE("pipeline: seal outcomes are values", "[pipeline]") {
    const auto nx = dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN");
    auto s = std::make_shared<pipeline::Settings>(*settings());
    s->policy.mode = filter::Mode::verify;
    auto o = run(plain, nx, s);
    CHECK(o.seal == pipeline::SealOutcome::not_configured);
    CHECK(o.added_lines.size() >= 1); // our Authentication-Results only
    CHECK(o.added_lines[0].rfind("Authentication-Results: mx.example.test;", 0) == 0);

    s = std::make_shared<pipeline::Settings>(*settings());
    s->policy.seal_when = filter::SealWhen::trusted; // 192.0.2.7 is not trusted
    CHECK(run(plain, nx, s).seal == pipeline::SealOutcome::policy);

    s = std::make_shared<pipeline::Settings>(*settings());
    s->policy.default_domain = "elsewhere.example";
    s->policy.domain_source = filter::DomainSource::header_from;
    CHECK(run(plain, nx, s).seal == pipeline::SealOutcome::no_key_for_domain);

    auto folded = plain;
    folded.insert(folded.begin(), " leading fold");
    CHECK(run(folded, nx).seal == pipeline::SealOutcome::leading_fold);
}

TEST_CASE("pipeline: questions by id; the deadline makes the rest temporary", "[pipeline]") {
    // A chain claimed by an AMS/AS pair: its key is asked for (DKIM and DMARC off: their
    // temperror would decide first, as auth_temperror).
    auto first = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    std::vector<std::string> chained = first.added_lines;
    for (std::size_t i = 0; i < plain.size(); ++i)
        if (i >= first.removed_lines.size() || !first.removed_lines[i])
            chained.push_back(plain[i]);

    pipeline::Message m(settings(false), pipeline::Envelope{}, now);
    for (const auto& l : chained)
        m.add_line(l);
    m.end_of_data();
    auto qs = m.take_queries();
    REQUIRE(!qs.empty());
    CHECK(m.take_queries().empty()); // each question returned once
    CHECK(!m.ready());
    // Unknown ids are ignored.
    m.on_answer(9999, dns::Answer::found({"v=DKIM1; p="}));
    CHECK(m.outstanding() == qs.size());
    m.on_deadline();
    CHECK(m.ready());
    auto o = m.finish();
    CHECK(o.chain.status == arc::ChainStatus::temperror);
    CHECK(o.disposition == pipeline::Disposition::defer);
    CHECK(o.seal == pipeline::SealOutcome::chain_temperror);
    CHECK(o.added_lines.empty());
    CHECK(field(o.log, "deadline") == "hit");
    CHECK(o.facts.dns_temporary);
    // An answer after the end changes nothing.
    m.on_answer(qs[0].id, dns::Answer::found({"x"}));
}

TEST_CASE("pipeline: a line the MTA cannot take back refuses the message", "[pipeline]") {
    pipeline::Message m(settings(false), pipeline::Envelope{}, now);
    for (const auto& l : plain)
        m.add_line(l);
    m.end_of_data();
    REQUIRE(m.ready());
    auto o = m.finish(pipeline::Delivery{70000, 64950, true});
    CHECK(o.disposition == pipeline::Disposition::reject);
    CHECK(o.seal == pipeline::SealOutcome::line_refused);
    CHECK(o.reply.rfind("550 ", 0) == 0);
    CHECK(o.added_lines.empty());
}

// The engine asks each question once: an ARC key and a DKIM key of the same name used to be two
// engine queries (the engine told ARC keys from sender-authentication lookups).
TEST_CASE("engine: an ARC key and a DKIM key of the same name are one question",
          "[pipeline][engine]") {
    filter::EngineOptions eo;
    eo.policy.keys[seal_key()->domain] = seal_key();
    eo.policy.default_domain = seal_key()->domain;
    eo.auth.spf = false;
    filter::Engine engine(eo);
    filter::Actions a;
    for (const char* l : {"config|admd|mx.example.test", "config|ready"})
        engine.on_line(l, now, a);

    auto first = run(plain, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    std::vector<std::string> lines{
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=forwarder.example; s=s1;"
        " h=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
        " b=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        "="};
    lines.insert(lines.end(), first.added_lines.begin(), first.added_lines.end());
    for (std::size_t i = 0; i < plain.size(); ++i)
        if (i >= first.removed_lines.size() || !first.removed_lines[i])
            lines.push_back(plain[i]);
    const std::string prefix =
        "filter|0.7|1795918548.5|smtp-in|data-line|3647ceea74a815de|e43f4b5e888d8c53|";
    filter::Actions m;
    for (const auto& l : lines)
        engine.on_line(prefix + l, now, m);
    engine.on_line(prefix + ".", now, m);
    const auto key_questions =
        std::count_if(m.queries.begin(), m.queries.end(), [](const filter::Actions::Query& q) {
            return q.name == "s1._domainkey.forwarder.example";
        });
    CHECK(key_questions == 1); // the old engine asked twice (checked: 2 of 3 questions)

    // One answer serves both: the chain verifies, the message is released and sealed at i=2.
    const std::string record = tests::key_record(seal_key()->key);
    filter::Actions done;
    for (const auto& q : m.queries)
        engine.on_answer(q.id,
                         q.name == "s1._domainkey.forwarder.example"
                             ? dns::Answer::found({record})
                             : dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"),
                         done);
    engine.expand_replays(done);
    CHECK(engine.pending_queries() == 0);
    REQUIRE(done.logs.size() == 1);
    CHECK(done.logs[0].find("arc=pass") != std::string::npos);
    CHECK(done.logs[0].find("seal_detail=\"i=2 cv=pass\"") != std::string::npos);
    CHECK(done.logs[0].find("seal_d=forwarder.example seal_s=s1") != std::string::npos);
    CHECK(done.logs[0].find("arc_d=forwarder.example arc_s=s1") != std::string::npos);
    CHECK(done.logs[0].find("dkim=temperror") == std::string::npos);
}

TEST_CASE("pipeline: the log names the key that sealed and the newest sealer's d= and s=",
          "[pipeline][log]") {
    const auto nx = dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN");
    // No chain yet: our seal's d=/s=, no newest sealer.
    auto first = run(plain, nx, settings(false));
    REQUIRE(first.seal == pipeline::SealOutcome::sealed);
    CHECK(field(first.log, "seal_d") == "forwarder.example");
    CHECK(field(first.log, "seal_s") == "s1");
    CHECK(field(first.log, "arc_d") == "(absent)");
    CHECK(field(first.log, "arc_s") == "(absent)");

    // The sealed message again, sealed by another key: arc_d/arc_s are the i=1 ARC-Seal's,
    // seal_d/seal_s the new key's.
    std::vector<std::string> lines = first.added_lines;
    for (std::size_t i = 0; i < plain.size(); ++i)
        if (i >= first.removed_lines.size() || !first.removed_lines[i])
            lines.push_back(plain[i]);
    auto s = std::make_shared<pipeline::Settings>(*settings(false));
    auto other = std::make_shared<const arc::SealKey>(
        arc::SealKey{"list.example", "sel2026", tests::make_ed25519_key()});
    s->policy.keys = {{other->domain, other}};
    s->policy.default_domain = other->domain;
    auto second = run(lines, dns::Answer::found({tests::key_record(seal_key()->key)}), s);
    CHECK(field(second.log, "arc") == "pass");
    CHECK(field(second.log, "arc_d") == "forwarder.example");
    CHECK(field(second.log, "arc_s") == "s1");
    CHECK(field(second.log, "seal_d") == "list.example");
    CHECK(field(second.log, "seal_s") == "sel2026");
    CHECK(field(second.log, "newest_sealer") == "(absent)"); // renamed arc_d

    // Not sealed (verify only): no seal_d/seal_s, the newest sealer still named.
    s->policy.mode = filter::Mode::verify;
    auto third = run(lines, dns::Answer::found({tests::key_record(seal_key()->key)}), s);
    CHECK(field(third.log, "seal") == "not_configured");
    CHECK(field(third.log, "seal_d") == "(absent)");
    CHECK(field(third.log, "arc_s") == "s1");
}
