// SPDX-License-Identifier: ISC
// Unit tests for arc/explain.hpp and arc/explain_format.hpp: chains built here, broken the way
// mailing lists break them, must be explained with the right hop and cause.
#include "arc/explain.hpp"
#include "arc/explain_format.hpp"
#include "tests/arc/chain_builder.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"
#include "tests/suite/suite_loader.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include "mail/header.hpp"

using namespace arcf;
using arc::ChainStatus;
using arc::CheckState;
using arc::Cv;
using arcf::test::Contains;
using tests::SealOptions;
using tests::Signer;

namespace {

struct TestKeys {
    mail::PrivateKey rsa1024 = tests::load_key(tests::keys::rsa1024_pkcs8);
    mail::PrivateKey rsa2048 = tests::load_key(tests::keys::rsa2048_pkcs8);
    mail::PrivateKey ed25519 = tests::load_key(tests::keys::ed25519_pkcs8);
};
const TestKeys& keys() {
    static const TestKeys k;
    return k;
}
Signer origin() {
    return Signer{&keys().rsa1024, "origin.example", "s1"};
}
Signer relay() {
    return Signer{&keys().rsa2048, "relay.example", "s2"};
}
Signer list() {
    return Signer{&keys().ed25519, "list.example", "ed"};
}

constexpr std::uint64_t now = 1700000000;

arc::KeyAnswers answers() {
    arc::KeyAnswers a;
    for (const auto& s : {origin(), relay(), list()})
        a[mail::KeyName{s.selector, s.domain}] = dns::TxtAnswer::found({s.key_record()});
    return a;
}

arc::Explanation explain(const std::string& msg, std::size_t extra = 32) {
    arc::ExplainOptions o;
    o.now = now;
    o.max_extra_operations = extra;
    auto e = arc::explain_chain(msg, answers(), o);
    UNSCOPED_INFO(arc::format_explanation_text(e));
    return e;
}

const std::string base_message = tests::crlf("From: Alice <alice@origin.example>\n"
                                             "To: Bob <bob@dest.example>\n"
                                             "Subject: Lunch at noon tomorrow\n"
                                             "Date: Sat, 01 Jun 2024 12:00:00 +0000\n"
                                             "Message-ID: <1@origin.example>\n"
                                             "\n"
                                             "Hi Bob,\n"
                                             "  Lunch at  noon?\n"
                                             "\n"
                                             "See you.\n"
                                             "-- \n"
                                             "Alice\n");

const std::string footer = tests::crlf("_______________________________________________\n"
                                       "lunch mailing list\n"
                                       "https://list.example/lunch\n");

SealOptions hop(const Signer& s, Cv cv) {
    SealOptions o;
    o.ams = s;
    o.seal = s;
    o.cv = cv;
    o.timestamp = now - 60;
    o.aar_payload = s.domain + "; arc=" + std::string(arc::to_string(cv));
    return o;
}

std::string edit(std::string msg, const std::string& from, const std::string& to) {
    auto pos = msg.find(from);
    REQUIRE(pos != std::string::npos);
    return msg.replace(pos, from.size(), to);
}

const arc::Finding* finding(const arc::HopReport& h, const std::string& cause) {
    for (const auto& f : h.findings)
        if (f.cause == cause)
            return &f;
    return nullptr;
}

} // namespace

TEST_CASE("an intact chain is reported hop by hop, oldest first, with nothing broken") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = tests::seal_message(m, hop(relay(), Cv::pass));
    auto e = explain(m);
    CHECK(e.verdict.status == ChainStatus::pass);
    CHECK_FALSE(e.broken);
    REQUIRE(e.hops.size() == 2);
    CHECK(e.hops[0].instance == 1);
    CHECK(e.hops[0].ams.domain == "origin.example");
    CHECK(e.hops[1].seal.domain == "relay.example");
    CHECK(e.hops[1].seal.cv == Cv::pass);
    for (const auto& h : e.hops) {
        CHECK(h.seal.signature == CheckState::pass);
        CHECK(h.ams.signature == CheckState::pass);
        CHECK(h.ams.body_hash == CheckState::pass);
        CHECK(h.findings.empty());
        CHECK(h.ams.signed_headers ==
              std::vector<std::string>{"from", "to", "subject", "date", "message-id"});
        CHECK(h.ams.timestamp == now - 60);
    }
    CHECK(e.extra_operations == 0);
    CHECK(e.key_operations == 4);
    auto text = arc::format_explanation_text(e);
    CHECK_THAT(text, Contains("t=2023-11-14 22:12:20 UTC"));
    CHECK_THAT(text, Contains("signed fields (h=):  from:to:subject:date:message-id"));
}

TEST_CASE("a trailing footer: the hop, the body hash and the footer's size") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none)) + footer;
    auto e = explain(m);
    CHECK(e.verdict.status == ChainStatus::fail);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 1);
    CHECK(e.broken->part == "ams-body-hash");
    const auto& h = e.hops[0];
    CHECK(h.ams.body_hash == CheckState::fail);
    CHECK(h.ams.signature == CheckState::pass);
    const arc::Finding* f = finding(h, "footer");
    REQUIRE(f != nullptr);
    CHECK(f->likelihood == "probably");
    CHECK(f->lines == 3);
    CHECK(f->bytes == footer.size());
    CHECK_THAT(f->text, Contains("a footer of 3 lines / " + std::to_string(footer.size()) +
                                 " bytes was probably added after hop 1"));
}

TEST_CASE("a footer after trailing empty lines and under simple body canonicalization") {
    SealOptions o = hop(origin(), Cv::none);
    o.body_canon = mail::Canon::simple;
    std::string m = tests::seal_message(base_message + "\r\n\r\n", o) + footer;
    auto e = explain(m);
    const arc::Finding* f = finding(e.hops[0], "footer");
    REQUIRE(f != nullptr);
    // The empty lines the signer's hash dropped (RFC 6376 §3.4.3) now belong to the footer.
    CHECK(f->lines == 5);
    CHECK(f->bytes == footer.size() + 4);
}

TEST_CASE("the footer search looks at most max_footer_bytes back") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none)) + footer;
    arc::ExplainOptions o;
    o.now = now;
    o.max_footer_bytes = footer.size() - 1;
    auto e = arc::explain_chain(m, answers(), o);
    CHECK(finding(e.hops[0], "footer") == nullptr);
    const arc::Finding* f = finding(e.hops[0], "body-changed");
    REQUIRE(f != nullptr);
    CHECK_THAT(f->text, Contains("footers of up to"));
    o.max_footer_bytes = footer.size();
    CHECK(finding(arc::explain_chain(m, answers(), o).hops[0], "footer") != nullptr);
}

TEST_CASE("a body changed in the middle is not taken for a footer") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = edit(m, "Lunch at  noon?", "Lunch at one?");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 1);
    CHECK(e.broken->part == "ams-body-hash");
    CHECK(finding(e.hops[0], "footer") == nullptr);
    const arc::Finding* f = finding(e.hops[0], "body-changed");
    REQUIRE(f != nullptr);
    CHECK_THAT(f->text, Contains("changed in the middle"));
}

TEST_CASE("a Subject tag: the hop, the header signature and the tag") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = edit(m, "Subject: Lunch", "Subject: [lunch] Lunch");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 1);
    CHECK(e.broken->part == "ams-header-signature");
    CHECK(e.hops[0].ams.body_hash == CheckState::pass);
    const arc::Finding* f = finding(e.hops[0], "subject-tag");
    REQUIRE(f != nullptr);
    CHECK(f->likelihood == "probably");
    CHECK_THAT(f->text, Contains("\"[lunch] \""));
    CHECK(e.extra_operations == 1);
}

TEST_CASE("a tag after Re: and a footer together: both found for the same hop") {
    std::string m = tests::seal_message(edit(base_message, "Subject: ", "Subject: Re: "),
                                        hop(origin(), Cv::none)) +
                    footer;
    m = edit(m, "Subject: Re: ", "Subject: Re: [lunch] ");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->part == "ams");
    CHECK(finding(e.hops[0], "footer") != nullptr);
    CHECK(finding(e.hops[0], "subject-tag") != nullptr);
}

TEST_CASE("a re-folded field under simple header canonicalization") {
    SealOptions o = hop(origin(), Cv::none);
    o.header_canon = mail::Canon::simple;
    std::string m = tests::seal_message(base_message, o);
    m = edit(m, "Subject: Lunch at noon", "Subject: Lunch at\r\n noon");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 1);
    CHECK(e.broken->part == "ams-header-signature");
    const arc::Finding* f = finding(e.hops[0], "refolded");
    REQUIRE(f != nullptr);
    CHECK(f->field == "subject");
    CHECK_THAT(f->text, Contains("re-folded"));
}

TEST_CASE("white space changed under simple header canonicalization") {
    SealOptions o = hop(origin(), Cv::none);
    o.header_canon = mail::Canon::simple;
    std::string m = tests::seal_message(base_message, o);
    m = edit(m, "Subject: Lunch at noon", "Subject:  Lunch  at\tnoon ");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->part == "ams-header-signature");
    const arc::Finding* f = finding(e.hops[0], "whitespace");
    REQUIRE(f != nullptr);
    CHECK(f->field == "subject");
}

TEST_CASE("a line break put inside a word breaks relaxed too, and is found") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = edit(m, "Message-ID: <1@origin.example>", "Message-ID: <1@origin.\r\n\texample>");
    auto e = explain(m);
    const arc::Finding* f = finding(e.hops[0], "refolded");
    REQUIRE(f != nullptr);
    CHECK(f->field == "message-id");
}

TEST_CASE("a duplicated signed field and a field added that h= over-signs") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    SECTION("a second Subject below the signed one") {
        m = edit(m, "Date: ", "Subject: Lunch (list copy)\r\nDate: ");
        auto e = explain(m);
        REQUIRE(e.broken);
        CHECK(e.broken->part == "ams-header-signature");
        const arc::Finding* f = finding(e.hops[0], "duplicate-field");
        REQUIRE(f != nullptr);
        CHECK(f->field == "subject");
        CHECK_THAT(f->text, Contains("list copy"));
    }
    SECTION("Reply-To, which h= names while the message had none") {
        SealOptions o = hop(origin(), Cv::none);
        o.signed_headers = "from:to:subject:date:message-id:reply-to";
        m = tests::seal_message(base_message, o);
        m = edit(m, "Date: ", "Reply-To: lunch@list.example\r\nDate: ");
        auto e = explain(m);
        const arc::Finding* f = finding(e.hops[0], "added-field");
        REQUIRE(f != nullptr);
        CHECK(f->field == "reply-to");
    }
}

TEST_CASE("an unexplained header change says so, as a possibility") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = edit(m, "To: Bob", "To: Robert");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->part == "ams-header-signature");
    const arc::Finding* f = finding(e.hops[0], "header-changed");
    REQUIRE(f != nullptr);
    CHECK(f->likelihood == "possibly");
}

TEST_CASE("three hops, hop 2 broken by a footer, hop 3 sealed cv=fail: hop 2 is named") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = tests::seal_message(m, hop(relay(), Cv::pass)) + footer;
    m = tests::seal_message(m, hop(list(), Cv::fail));
    auto e = explain(m);
    CHECK(e.verdict.status == ChainStatus::fail);
    REQUIRE(e.hops.size() == 3);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 2);
    CHECK(e.broken->part == "ams-body-hash");
    CHECK_THAT(e.broken->text, Contains("after hop 2 signed"));
    CHECK(e.hops[2].ams.signature == CheckState::pass);
    CHECK(e.hops[2].ams.body_hash == CheckState::pass);
    // A cv=fail seal covers only its own set (RFC 8617 §5.1.2): hop 3 sealed correctly.
    CHECK(e.hops[2].seal.signature == CheckState::pass);
    CHECK(e.hops[1].seal.signature == CheckState::pass);
    const arc::Finding* f = finding(e.hops[1], "footer");
    REQUIRE(f != nullptr);
    CHECK(f->lines == 3);
    CHECK(arc::format_explanation_text(e).find("Broken at hop 2 [ams-body-hash]") !=
          std::string::npos);
}

TEST_CASE("three hops, a Subject tag after hop 2, hop 3 sealed cv=fail: hop 2 is named") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = tests::seal_message(m, hop(relay(), Cv::pass));
    m = edit(m, "Subject: Lunch", "Subject: [lunch] Lunch");
    m = tests::seal_message(m, hop(list(), Cv::fail));
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 2);
    CHECK(e.broken->part == "ams-header-signature");
    CHECK(finding(e.hops[1], "subject-tag") != nullptr);
}

TEST_CASE("a list that re-signs: the chain passes, the change is noted between the hops") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = tests::seal_message(edit(m, "Subject: Lunch", "Subject: [lunch] Lunch") + footer,
                            hop(list(), Cv::pass));
    auto e = explain(m);
    CHECK(e.verdict.status == ChainStatus::pass);
    CHECK_FALSE(e.broken);
    REQUIRE(e.notes.size() == 1);
    CHECK_THAT(e.notes[0], Contains("between hop 1 and hop 2"));
    CHECK(finding(e.hops[0], "footer") != nullptr);
    CHECK(finding(e.hops[0], "subject-tag") != nullptr);
    CHECK(e.hops[1].findings.empty());
}

TEST_CASE("l=: an appended footer stays unsigned; a change inside is named") {
    SealOptions o = hop(origin(), Cv::none);
    o.body_length = 20;
    std::string m = tests::seal_message(base_message, o);
    SECTION("footer") {
        auto e = explain(m + footer);
        CHECK(e.verdict.status == ChainStatus::pass);
        const arc::Finding* f = finding(e.hops[0], "body-length");
        REQUIRE(f != nullptr);
        CHECK(f->likelihood == "possibly");
    }
    SECTION("inside") {
        auto e = explain(edit(m, "Hi Bob", "Hi Rob"));
        REQUIRE(e.broken);
        CHECK(e.broken->part == "ams-body-hash");
        CHECK(finding(e.hops[0], "body-changed") != nullptr);
    }
    SECTION("truncated") {
        auto pos = m.find("\r\n\r\n");
        auto e = explain(m.substr(0, pos + 4) + "Hi\r\n");
        CHECK(finding(e.hops[0], "body-truncated") != nullptr);
    }
}

TEST_CASE("an edited ARC field breaks the seals from its hop up: the lowest is named") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    m = tests::seal_message(m, hop(relay(), Cv::pass));
    m = edit(m, "origin.example; arc=none", "origin.example; arc=pass");
    auto e = explain(m);
    REQUIRE(e.broken);
    CHECK(e.broken->hop == 1);
    CHECK(e.broken->part == "seal");
    CHECK(e.hops[0].seal.signature == CheckState::fail);
    CHECK(e.hops[1].seal.signature == CheckState::fail);
}

TEST_CASE("the undo candidates stop at their budget") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    std::string extra;
    for (int k = 0; k < 5000; ++k)
        extra += "To: copy" + std::to_string(k) + "@example.org\r\n";
    m = edit(m, "To: Bob", "To: Robert");
    m = edit(m, "Date: ", extra + "Date: ");
    auto e = explain(m, 5);
    CHECK(e.extra_operations == 5);
    CHECK(e.extra_exhausted);
    CHECK(finding(e.hops[0], "header-changed") != nullptr);
    CHECK_THAT(arc::format_explanation_text(e), Contains("budget spent"));
}

TEST_CASE("missing keys and broken structure give a report, never a crash") {
    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none));
    arc::ExplainOptions o;
    o.now = now;
    auto e = arc::explain_chain(m, {}, o);
    CHECK(e.verdict.status == ChainStatus::temperror);
    CHECK(e.hops[0].seal.signature == CheckState::temperror);
    CHECK(e.hops[0].ams.body_hash == CheckState::pass);
    CHECK_FALSE(e.broken);

    auto no_seal = arc::explain_chain(edit(m, "ARC-Seal:", "X-Was-Seal:"), answers(), o);
    REQUIRE(no_seal.broken);
    CHECK(no_seal.broken->part == "structure");
    CHECK(no_seal.broken->hop == 1);

    auto none = arc::explain_chain(base_message, answers(), o);
    CHECK(none.hops.empty());
    CHECK_FALSE(none.broken);
    CHECK(arc::explain_key_names(m) ==
          std::vector<mail::KeyName>{mail::KeyName{"s1", "origin.example"}});
}

TEST_CASE("UTC times and JSON") {
    CHECK(arc::utc_time(0) == "1970-01-01 00:00:00 UTC");
    CHECK(arc::utc_time(951782400) == "2000-02-29 00:00:00 UTC");  // date -u -d @951782400
    CHECK(arc::utc_time(1796612400) == "2026-12-07 03:00:00 UTC"); // date -u -d @1796612400
    CHECK(arc::utc_time(4107542399) == "2100-02-28 23:59:59 UTC"); // date -u -d @4107542399
    CHECK(arc::utc_time(99999999999999) == "99999999999999 (UNIX time)");

    std::string m = tests::seal_message(base_message, hop(origin(), Cv::none)) + footer;
    m = edit(m, "Subject: Lunch", "Subject: [lunch\x01\xff] Lunch");
    auto json = arc::format_explanation_json(explain(m));
    CHECK_THAT(json, Contains("\"broken\":{\"hop\":1,\"part\":\"ams\""));
    CHECK_THAT(json, Contains("\"cause\":\"footer\",\"field\":\"\",\"lines\":3"));
    CHECK_THAT(json, Contains("[lunch\\u0001\\u00ff] "));
    CHECK_THAT(json, Contains("\"h\":[\"from\",\"to\",\"subject\",\"date\",\"message-id\"]"));
    CHECK(json.find('\n') == std::string::npos);
}

TEST_CASE("every case of the ARC validation suite: the verifier's verdict, a break iff fail") {
    const std::string file = tests::suite_dir() + "/tests/arc-draft-validation-tests.yml";
    if (!std::filesystem::exists(file)) {
        WARN("ARC test suite not found at " << file << ": skipped");
        return;
    }
    int cases = 0;
    for (const auto& sc : tests::load_suite(file)) {
        for (const auto& c : sc.cases) {
            INFO("suite case " << c.id);
            const std::string msg = tests::to_crlf(c.fields.at("message"));
            arc::ExplainOptions o;
            o.now = 1500000000;
            arc::KeyAnswers a;
            for (const auto& k : arc::explain_key_names(msg))
                a[k] = tests::suite_lookup(sc, k.dns_name());
            auto e = arc::explain_chain(msg, a, o);
            arc::VerifyOptions vo;
            vo.now = o.now;
            auto r = arc::verify_message(msg, vo, [&](const mail::KeyName& k) {
                return tests::suite_lookup(sc, k.dns_name());
            });
            CHECK(e.verdict.status == r.status);
            CHECK(e.verdict.reason == r.reason);
            CHECK(e.broken.has_value() == (r.status == ChainStatus::fail));
            CHECK(e.extra_operations <= 32);
            CHECK_FALSE(arc::format_explanation_text(e).empty());
            ++cases;
        }
    }
    CHECK(cases == 171);
}
