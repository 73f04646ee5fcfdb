// SPDX-License-Identifier: ISC
// SenderAuth with DKIM (RFC 6376) and DMARC (RFC 7489): the lookups it asks for, the results it
// writes, what counts as a temporary failure, and the ARC-aware override (RFC 8617 §7.2.1).
#include "filter/pipeline/message_job.hpp"
#include "filter/pipeline/sender_auth.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

#include <map>

#include "mail/base64.hpp"
#include "mail/canon.hpp"
#include "mail/header.hpp"

using namespace arcf;
using filter::SenderAuth;
using filter::SenderAuthOptions;
using filter::SenderContext;

namespace {

constexpr std::int64_t now = 1795918548;

struct Signer {
    mail::PrivateKey key = tests::make_ed25519_key();
    std::string domain = "example.com";
    std::string selector = "k1";
    std::string record() const { return tests::key_record(key); }
};

// A relaxed/relaxed DKIM-Signature over From and Subject, on top of `message` (CRLF).
std::string dkim_sign(const std::string& message, const Signer& s) {
    auto split = mail::split_message(message);
    mail::BodyHasher bh(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { bh.add_line(l); });
    auto digest = bh.finish();
    std::string field = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=" + s.domain +
                        "; s=" + s.selector + "; h=from:subject; bh=" +
                        mail::base64_encode(std::string_view(
                            reinterpret_cast<const char*>(digest.data()), digest.size())) +
                        "; b=";
    std::string data;
    for (const char* name : {"from", "subject"})
        for (std::size_t k = split.headers.size(); k-- > 0;)
            if (split.headers[k].is(name)) {
                mail::append_canon_header(data, mail::Canon::relaxed, split.headers[k].raw());
                break;
            }
    mail::append_canon_header(data, mail::Canon::relaxed, field, false);
    auto sig = s.key.sign(mail::sha256(data));
    REQUIRE(sig);
    return field + mail::base64_encode(*sig) + "\r\n" + message;
}

const std::string message = "From: Alice <alice@example.com>\r\n"
                            "Subject: hello\r\n"
                            "To: bob@example.net\r\n"
                            "\r\n"
                            "Hi Bob.\r\n";

SenderAuthOptions options() {
    SenderAuthOptions o;
    o.spf = false; // these cases are about DKIM and DMARC
    o.psl = std::make_shared<const dmarc::OrgDomain>(dmarc::OrgDomain::system());
    o.trusted_sealers = {"forwarder.example"};
    return o;
}

using Zone = std::map<std::string, dns::Answer>;

// Feeds the message, answers every lookup from `zone` (absent names: NXDOMAIN) and concludes.
// Returns the names asked for, in order.
std::vector<std::string> run(SenderAuth& a, const std::string& msg, const Zone& zone) {
    auto split = mail::split_message(msg);
    a.on_headers(split.headers);
    mail::for_each_line(split.body, [&](std::string_view l) { a.add_body_line(l); });
    a.end_of_data();
    std::vector<std::string> asked;
    for (auto q = a.take_queries(); !q.empty(); q = a.take_queries())
        for (const auto& x : q) {
            asked.push_back(x.name);
            auto it = zone.find(x.name);
            a.on_answer(x.id, it != zone.end()
                                  ? it->second
                                  : dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"));
        }
    REQUIRE(a.finished());
    a.conclude();
    return asked;
}

std::string written(const std::vector<mail::ResInfo>& rs) {
    std::string out;
    for (const auto& r : rs)
        out += (out.empty() ? "" : "; ") + mail::format_resinfo(r);
    return out;
}

} // namespace

TEST_CASE("sender_auth: an aligned DKIM pass makes DMARC pass", "[sender_auth][dkim][dmarc]") {
    Signer s;
    SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
    auto asked = run(a, dkim_sign(message, s),
                     {{"k1._domainkey.example.com", dns::Answer::found({s.record()})},
                      {"_dmarc.example.com", dns::Answer::found({"v=DMARC1; p=reject"})}});
    CHECK(asked.size() == 2);
    CHECK(!a.temperror());
    auto text = written(a.results());
    CHECK(text.find("dkim=pass") == 0);
    CHECK(text.find("header.d=example.com") != std::string::npos);
    CHECK(text.find("dmarc=pass") != std::string::npos);
    CHECK(text.find("header.from=example.com") != std::string::npos);
}

TEST_CASE("sender_auth: DMARC fails without an aligned pass, and says the policy",
          "[sender_auth][dmarc]") {
    Signer other;
    other.domain = "mailer.example.org";
    SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
    run(a, dkim_sign(message, other),
        {{"k1._domainkey.mailer.example.org", dns::Answer::found({other.record()})},
         {"_dmarc.example.com", dns::Answer::found({"v=DMARC1; p=quarantine"})}});
    auto text = written(a.results());
    CHECK(text.find("dkim=pass") == 0); // valid, but for another domain (RFC 7489 §3.1.1)
    CHECK(text.find("dmarc=fail") != std::string::npos);
    CHECK(text.find("policy.dmarc=quarantine") != std::string::npos);
    CHECK(!a.temperror());
}

TEST_CASE("sender_auth: the organizational domain's record for a subdomain (sp=)",
          "[sender_auth][dmarc]") {
    std::string msg = message;
    msg.replace(msg.find("alice@example.com"), 17, "alice@news.example.com");
    SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
    auto asked =
        run(a, msg, {{"_dmarc.example.com", dns::Answer::found({"v=DMARC1; p=none; sp=reject"})}});
    CHECK(asked == std::vector<std::string>{"_dmarc.news.example.com", "_dmarc.example.com"});
    auto text = written(a.results());
    CHECK(text.find("dkim=none") == 0);
    CHECK(text.find("dmarc=fail") != std::string::npos);
    CHECK(text.find("policy.dmarc=reject") != std::string::npos);
}

TEST_CASE("sender_auth: temporary failures that decide the outcome", "[sender_auth][dmarc]") {
    Signer s;
    auto temp = dns::Answer::failed(dns::Status::temporary, "SERVFAIL");
    SECTION("DMARC discovery") {
        SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, message, {{"_dmarc.example.com", temp}});
        CHECK(a.temperror());
    }
    SECTION("the only DKIM key") {
        SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, dkim_sign(message, s),
            {{"k1._domainkey.example.com", temp},
             {"_dmarc.example.com", dns::Answer::found({"v=DMARC1; p=reject"})}});
        CHECK(a.temperror());
        CHECK(written(a.results()).find("dkim=temperror") == 0);
    }
    SECTION("no DMARC record and a DKIM key that failed temporarily: nothing to defer for") {
        auto o = options();
        o.dmarc = false;
        Signer two;
        two.selector = "k2";
        SenderAuth a(o, SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, dkim_sign(dkim_sign(message, s), two),
            {{"k1._domainkey.example.com", dns::Answer::found({s.record()})},
             {"k2._domainkey.example.com", temp}});
        CHECK(!a.temperror()); // one signature passed
    }
    SECTION("the deadline") {
        SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
        auto split = mail::split_message(message);
        a.on_headers(split.headers);
        a.end_of_data();
        CHECK(a.take_queries().size() == 1);
        CHECK(!a.finished());
        a.on_deadline();
        CHECK(a.finished());
        a.conclude();
        CHECK(a.temperror());
    }
}

TEST_CASE("sender_auth: an unusable From is a DMARC permerror", "[sender_auth][dmarc]") {
    std::string msg = "From: a@example.com\r\nFrom: b@example.org\r\n\r\nbody\r\n";
    SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
    auto asked = run(a, msg, {});
    CHECK(asked.empty());
    CHECK(written(a.results()).find("dmarc=permerror") != std::string::npos);
}

TEST_CASE("sender_auth: a trusted sealer's recorded pass overrides a DMARC failure",
          "[sender_auth][dmarc][arc]") {
    // The list at forwarder.example changed the message (no valid DKIM left) and sealed it,
    // recording dmarc=pass for the original From domain.
    arc::ChainResult chain;
    chain.status = arc::ChainStatus::pass;
    chain.sets = 1;
    arc::SetSummary set;
    set.instance = 1;
    set.cv = arc::Cv::none;
    set.seal_domain = set.ams_domain = "forwarder.example";
    set.seal_selector = set.ams_selector = "s1";
    chain.chain.push_back(set);
    dmarc::SealerResults aar;
    auto parsed = mail::parse_authentication_results(
        "mx.forwarder.example; dmarc=pass header.from=example.com; spf=pass "
        "smtp.mailfrom=alice@example.com; smtp.remote-ip=192.0.2.7");
    REQUIRE(parsed);
    aar.results = parsed->results;
    aar.client_ip = "192.0.2.7";

    auto zone = Zone{{"_dmarc.example.com", dns::Answer::found({"v=DMARC1; p=reject"})}};
    SECTION("trusted sealer") {
        SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, message, zone);
        auto text = written(a.results(&chain, &aar));
        CHECK(text.find("dmarc=fail") != std::string::npos); // the result stays what it is
        CHECK(text.find("local_policy arc=pass as[1].d=forwarder.example as[1].s=s1") !=
              std::string::npos);
        CHECK(text.find("remote-ip[1]=192.0.2.7") != std::string::npos);
        CHECK(text.find("dis=none") != std::string::npos);
    }
    SECTION("untrusted sealer: no override") {
        auto o = options();
        o.trusted_sealers = {"other.example"};
        SenderAuth a(o, SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, message, zone);
        auto text = written(a.results(&chain, &aar));
        CHECK(text.find("dmarc=fail") != std::string::npos);
        CHECK(text.find("local_policy") == std::string::npos);
    }
    SECTION("a failed chain: no override") {
        chain.status = arc::ChainStatus::fail;
        SenderAuth a(options(), SenderContext{"", "", "", "", "mx.example.test", now});
        run(a, message, zone);
        CHECK(written(a.results(&chain, &aar)).find("local_policy") == std::string::npos);
    }
}

TEST_CASE("sender_auth: DKIM draws from the message's public-key operation budget",
          "[sender_auth][dkim][issue15]") {
    // Issue 15 class 4: one budget per message for ARC and DKIM. MessageJob hands its chain
    // verifier's budget to the SenderAuth it feeds; here that budget is already spent.
    Signer s;
    const std::string signed_msg = dkim_sign(message, s);
    const Zone zone{{"k1._domainkey.example.com", dns::Answer::found({s.record()})}};
    filter::JobOptions jo;
    jo.authserv_id = "mx.example.net";
    jo.verify.budget = std::make_shared<mail::KeyOperationBudget>(1);
    REQUIRE(jo.verify.budget->take());
    auto spent = jo.verify.budget;
    filter::MessageJob job(std::move(jo));
    SenderAuth a(options(), SenderContext{"192.0.2.1", "h", "a@example.com", "", "mx", now});
    job.set_sender_auth(&a);
    run(a, signed_msg, zone);
    auto rs = a.results();
    CHECK_THAT(written(rs), arcf::test::Contains("dkim=policy"));
    CHECK_THAT(written(rs), arcf::test::Contains("budget exhausted"));
    CHECK(spent->exhausted());
    // With a budget of its own (no MessageJob) the same signature passes.
    SenderAuth alone(options(), SenderContext{"192.0.2.1", "h", "a@example.com", "", "mx", now});
    run(alone, signed_msg, zone);
    CHECK_THAT(written(alone.results()), arcf::test::Contains("dkim=pass"));
}
