// SPDX-License-Identifier: ISC
// Unit tests for arc/chain.hpp: RFC 8617 §5.2 chain validation over chains built in the test.
#include "arc/chain.hpp"
#include "tests/arc/chain_builder.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"
#include "tests/suite/suite_loader.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mail/tag_list.hpp"

using namespace arcf;
using arc::ArcHeaderKind;
using arc::ChainStatus;
using arc::Cv;
using arcf::test::Contains;
using tests::SealOptions;
using tests::Signer;

namespace {

// --- Keys, signers and a fake DNS. ---

struct TestKeys {
    mail::PrivateKey rsa1024 = tests::load_key(tests::keys::rsa1024_pkcs8);
    mail::PrivateKey rsa2048 = tests::load_key(tests::keys::rsa2048_pkcs8);
    mail::PrivateKey rsa512 = tests::load_key(tests::keys::rsa512_pkcs8);
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

struct Dns {
    std::map<std::string, dns::TxtAnswer> zone;

    Dns& publish(const Signer& s) {
        zone[s.dns_name()] = dns::TxtAnswer::found({s.key_record()});
        return *this;
    }
    Dns& set(const Signer& s, dns::TxtAnswer a) {
        zone[s.dns_name()] = std::move(a);
        return *this;
    }
    dns::TxtAnswer operator()(const mail::KeyName& k) const {
        auto it = zone.find(k.dns_name());
        if (it == zone.end())
            return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
        return it->second;
    }
};

Dns dns_for(std::initializer_list<Signer> signers) {
    Dns d;
    for (const auto& s : signers)
        d.publish(s);
    return d;
}

constexpr std::uint64_t now = 1700000000;

arc::VerifyOptions options() {
    arc::VerifyOptions o;
    o.now = now;
    return o;
}

arc::ChainResult
verify(const std::string& msg, const Dns& dns, const arc::VerifyOptions& opts = options()) {
    auto r = arc::verify_message(msg, opts, dns);
    UNSCOPED_INFO("verdict " << arc::to_string(r.status) << ": " << r.reason);
    return r;
}

// --- Messages and hops. ---

const std::string base_message = tests::crlf("From: Alice <alice@origin.example>\n"
                                             "To: Bob <bob@dest.example>\n"
                                             "Subject: Lunch\n"
                                             "Date: Sat, 01 Jun 2024 12:00:00 +0000\n"
                                             "Message-ID: <1@origin.example>\n"
                                             "\n"
                                             "Hi Bob,\n"
                                             "  Lunch at  noon?\n"
                                             "\n"
                                             "-- \n"
                                             "Alice\n");

SealOptions hop(const Signer& s, Cv cv) {
    SealOptions o;
    o.ams = s;
    o.seal = s;
    o.cv = cv;
    o.aar_payload = s.domain + "; arc=" + std::string(arc::to_string(cv)) + "; spf=pass";
    return o;
}

SealOptions hop(const Signer& ams, const Signer& seal, Cv cv) {
    SealOptions o = hop(seal, cv);
    o.ams = ams;
    return o;
}

// Seals `msg` once per signer: the first with cv=none, the others with cv=pass.
std::string chain_of(std::string msg, std::initializer_list<Signer> signers) {
    bool first = true;
    for (const auto& s : signers) {
        msg = tests::seal_message(msg, hop(s, first ? Cv::none : Cv::pass));
        first = false;
    }
    return msg;
}

// --- Editing sealed messages. ---

std::string assemble(const std::vector<mail::HeaderField>& headers, std::string_view body) {
    std::string out;
    for (const auto& h : headers)
        out.append(h.raw()).append("\r\n");
    return out + "\r\n" + std::string(body);
}

bool is_field(const mail::HeaderField& f, ArcHeaderKind kind, std::uint32_t instance) {
    return arc::arc_header_kind(f.name()) == kind &&
           arc::peek_instance(kind, f.value()) == instance;
}

std::string without(const std::string& msg, ArcHeaderKind kind, std::uint32_t instance) {
    auto split = mail::split_message(msg);
    std::vector<mail::HeaderField> kept;
    for (const auto& f : split.headers)
        if (!is_field(f, kind, instance))
            kept.push_back(f);
    REQUIRE(kept.size() + 1 == split.headers.size());
    return assemble(kept, split.body);
}

std::string without_set(const std::string& msg, std::uint32_t instance) {
    std::string out = msg;
    for (auto kind : {ArcHeaderKind::aar, ArcHeaderKind::ams, ArcHeaderKind::seal})
        out = without(out, kind, instance);
    return out;
}

// Replaces the first `from` inside one ARC header field.
std::string edit_field(const std::string& msg,
                       ArcHeaderKind kind,
                       std::uint32_t instance,
                       const std::string& from,
                       const std::string& to) {
    auto split = mail::split_message(msg);
    std::vector<mail::HeaderField> out;
    bool done = false;
    for (const auto& f : split.headers) {
        if (!done && is_field(f, kind, instance)) {
            std::string raw(f.raw());
            auto pos = raw.find(from);
            REQUIRE(pos != std::string::npos);
            raw.replace(pos, from.size(), to);
            out.emplace_back(raw);
            done = true;
        } else {
            out.push_back(f);
        }
    }
    REQUIRE(done);
    return assemble(out, split.body);
}

// Replaces the first `from` anywhere in the message.
std::string edit(std::string msg, const std::string& from, const std::string& to) {
    auto pos = msg.find(from);
    REQUIRE(pos != std::string::npos);
    return msg.replace(pos, from.size(), to);
}

std::string field_of(const std::string& msg, ArcHeaderKind kind, std::uint32_t instance) {
    for (const auto& f : mail::split_message(msg).headers)
        if (is_field(f, kind, instance))
            return std::string(f.raw());
    FAIL("no such ARC header field");
    return {};
}

// Structure failures are settled from the headers alone: no key is asked for.
void check_settled_fail(const std::string& msg, const std::string& reason_part) {
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(options());
    auto names = v.begin(std::move(split.headers));
    CHECK(names.empty());
    CHECK(v.settled());
    auto r = v.finish();
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains(reason_part));
}

// ARC-Seal i=`instance` of `msg` made unparseable two ways (RFC 8617 §4.1.3: no h=; §5.2: only
// rsa-sha256): each settles the chain as fail, naming the seal.
void check_unparseable_seal(const std::string& msg, std::uint32_t instance) {
    const std::string seal = "ARC-Seal i=" + std::to_string(instance) + ": ";
    check_settled_fail(edit_field(msg, ArcHeaderKind::seal, instance, "; cv=", "; h=from; cv="),
                       seal + "h= is not allowed");
    check_settled_fail(edit_field(msg, ArcHeaderKind::seal, instance, "a=rsa-sha256", "a=rsa-sha1"),
                       seal + "rsa-sha1");
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Verdicts for valid chains.

TEST_CASE("chain: no ARC headers is none", "[chain][rfc8617]") {
    auto split = mail::split_message(base_message);
    arc::ChainVerifier v(options());
    CHECK(v.begin(std::move(split.headers)).empty());
    CHECK(v.settled());
    CHECK(v.headers().size() == 5);
    auto r = v.finish();
    CHECK(r.status == ChainStatus::none);
    CHECK(r.sets == 0);
    CHECK_FALSE(r.oldest_pass);
    CHECK(r.chain.empty());
    // A DKIM-Signature or Authentication-Results is not an ARC header.
    const std::string other = "DKIM-Signature: v=1; a=rsa-sha256\r\n"
                              "Authentication-Results: mx.example; arc=pass\r\n" +
                              base_message;
    CHECK(verify(other, Dns{}).status == ChainStatus::none);
}

TEST_CASE("chain: one valid set passes", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    auto r = verify(msg, dns_for({origin()}));
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.sets == 1);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
    CHECK(r.reason == "1 set verified");
    REQUIRE(r.chain.size() == 1);
    CHECK(r.chain[0].instance == 1);
    CHECK(r.chain[0].cv == Cv::none);
    CHECK(r.chain[0].seal_domain == "origin.example");
    CHECK(r.chain[0].seal_selector == "s1");
    CHECK(r.chain[0].ams_domain == "origin.example");
    CHECK(r.chain[0].ams_selector == "s1");
}

TEST_CASE("chain: three sets with RSA-1024, RSA-2048 and Ed25519 keys pass",
          "[chain][rfc8617][rfc8463]") {
    const std::string msg = chain_of(base_message, {origin(), relay(), list()});
    auto r = verify(msg, dns_for({origin(), relay(), list()}));
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.sets == 3);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
    CHECK(r.reason == "3 sets verified");
    REQUIRE(r.chain.size() == 3);
    CHECK(r.chain[1].cv == Cv::pass);
    CHECK(r.chain[1].seal_domain == "relay.example");
    CHECK(r.chain[2].seal_selector == "ed");
}

TEST_CASE("chain: AMS and AS signed by different keys", "[chain][rfc8617]") {
    const std::string msg = tests::seal_message(base_message, hop(list(), origin(), Cv::none));
    auto r = verify(msg, dns_for({origin(), list()}));
    CHECK(r.status == ChainStatus::pass);
    REQUIRE(r.chain.size() == 1);
    CHECK(r.chain[0].ams_domain == "list.example");
    CHECK(r.chain[0].seal_domain == "origin.example");
}

TEST_CASE("chain: folded signatures and simple canonicalization pass", "[chain][rfc6376]") {
    for (auto hc : {mail::Canon::simple, mail::Canon::relaxed}) {
        for (auto bc : {mail::Canon::simple, mail::Canon::relaxed}) {
            auto o = hop(origin(), Cv::none);
            o.fold = true;
            o.header_canon = hc;
            o.body_canon = bc;
            auto o2 = hop(relay(), Cv::pass);
            o2.fold = true;
            o2.header_canon = hc;
            o2.body_canon = bc;
            const std::string msg = tests::seal_message(tests::seal_message(base_message, o), o2);
            INFO("c=" << arc::to_string(hc) << "/" << arc::to_string(bc));
            CHECK(msg.find("ARC-Seal: a=rsa-sha256;\r\n b=") != std::string::npos);
            CHECK(verify(msg, dns_for({origin(), relay()})).status == ChainStatus::pass);
        }
    }
}

TEST_CASE("chain: a bare-LF copy of a sealed message still passes", "[chain][rfc5322]") {
    std::string msg = chain_of(base_message, {origin(), relay()});
    std::string lf;
    for (char c : msg)
        if (c != '\r')
            lf.push_back(c);
    CHECK(verify(lf, dns_for({origin(), relay()})).status == ChainStatus::pass);
}

TEST_CASE("chain: 50 sets pass, a 51st set fails", "[chain][rfc8617]") {
    std::string msg = base_message;
    for (int i = 0; i < 50; ++i)
        msg = tests::seal_message(msg, hop(list(), i == 0 ? Cv::none : Cv::pass));
    auto r = verify(msg, dns_for({list()}));
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.sets == 50);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
    msg = tests::seal_message(msg, hop(list(), Cv::pass));
    CHECK(field_of(msg, ArcHeaderKind::ams, 50).size() > 0);
    check_settled_fail(msg, "no valid instance");
}

TEST_CASE("chain: chains longer than max_sets fail before any key lookup", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay(), list()});
    auto opts = options();
    opts.max_sets = 2;
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(opts);
    CHECK(v.begin(std::move(split.headers)).empty());
    auto r = v.finish();
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("more than 2 ARC sets"));
    opts.max_sets = 3;
    CHECK(verify(msg, dns_for({origin(), relay(), list()}), opts).status == ChainStatus::pass);
}

// ---------------------------------------------------------------------------------------------
// Structure failures (RFC 8617 §5.2 steps 2 and 3): known from the headers alone.

TEST_CASE("chain: gap in instances fails", "[chain][rfc8617]") {
    const std::string msg = without_set(chain_of(base_message, {origin(), relay(), list()}), 2);
    check_settled_fail(msg, "i=2");
    CHECK(verify(msg, dns_for({origin(), relay(), list()})).status == ChainStatus::fail);
}

TEST_CASE("chain: only a set 2, without set 1, fails", "[chain][rfc8617]") {
    const std::string msg = without_set(chain_of(base_message, {origin(), relay()}), 1);
    check_settled_fail(msg, "missing ARC-Authentication-Results i=1");
}

TEST_CASE("chain: duplicate set header fails", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    for (auto kind : {ArcHeaderKind::aar, ArcHeaderKind::ams, ArcHeaderKind::seal}) {
        const std::string dup = field_of(msg, kind, 1) + "\r\n" + msg;
        check_settled_fail(dup, "duplicate");
    }
}

TEST_CASE("chain: a missing header in a set fails", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    check_settled_fail(without(msg, ArcHeaderKind::aar, 1),
                       "missing ARC-Authentication-Results i=1");
    check_settled_fail(without(msg, ArcHeaderKind::ams, 1), "missing ARC-Message-Signature i=1");
    check_settled_fail(without(msg, ArcHeaderKind::seal, 1), "missing ARC-Seal i=1");
}

TEST_CASE("chain: cv=none at i>1 fails", "[chain][rfc8617]") {
    std::string msg = tests::seal_message(base_message, hop(origin(), Cv::none));
    msg = tests::seal_message(msg, hop(relay(), Cv::none));
    check_settled_fail(msg, "ARC-Seal i=2 has cv=none");
}

TEST_CASE("chain: cv=pass at i=1 fails", "[chain][rfc8617]") {
    const std::string msg = tests::seal_message(base_message, hop(origin(), Cv::pass));
    check_settled_fail(msg, "ARC-Seal i=1 has cv=pass");
}

TEST_CASE("chain: newest cv=fail fails without any key lookup", "[chain][rfc8617]") {
    std::string msg = tests::seal_message(base_message, hop(origin(), Cv::none));
    msg = tests::seal_message(msg, hop(relay(), Cv::fail));
    check_settled_fail(msg, "says cv=fail");
    CHECK(verify(msg, dns_for({origin(), relay()})).ended);
    // Also when the rest of the chain is broken: step 2 comes first.
    check_settled_fail(without(msg, ArcHeaderKind::aar, 1), "says cv=fail");
}

TEST_CASE("chain: an older seal with cv=fail fails", "[chain][rfc8617]") {
    std::string msg = tests::seal_message(base_message, hop(origin(), Cv::fail));
    msg = tests::seal_message(msg, hop(relay(), Cv::pass));
    check_settled_fail(msg, "ARC-Seal i=1 has cv=fail");
    CHECK_FALSE(verify(msg, dns_for({origin(), relay()})).ended);
}

TEST_CASE("chain: an ARC header without a valid instance fails", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    const std::string zero = edit_field(msg, ArcHeaderKind::seal, 1, "i=1", "i=0");
    check_settled_fail(zero, "ARC-Seal has no valid instance");
    CHECK(verify(zero, Dns{}).sets == 1);
    check_settled_fail("ARC-Authentication-Results: mx.example; i=1; spf=pass\r\n" + msg,
                       "no valid instance");
    check_settled_fail("ARC-Message-Signature: i=x; a=rsa-sha256\r\n" + msg, "no valid instance");
}

TEST_CASE("chain: unparseable set headers fail", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    check_unparseable_seal(msg, 1);
    check_settled_fail(edit_field(msg, ArcHeaderKind::ams, 1, "; bh=", "; xbh="),
                       "ARC-Message-Signature i=1: missing bh=");
}

TEST_CASE("chain: AMS h= including arc-seal fails", "[chain][rfc8617]") {
    auto o = hop(origin(), Cv::none);
    o.signed_headers = "from:to:subject:arc-seal";
    check_settled_fail(tests::seal_message(base_message, o), "h= includes ARC-Seal");
}

// ---------------------------------------------------------------------------------------------
// Tampering.

TEST_CASE("chain: tampered body fails", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    auto r = verify(edit(msg, "noon", "one"), dns_for({origin(), relay()}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Message-Signature i=2: body hash mismatch"));
}

TEST_CASE("chain: tampered signed header fails", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    auto r = verify(edit(msg, "Subject: Lunch", "Subject: Dinner"), dns_for({origin(), relay()}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Message-Signature i=2: signature did not verify"));
}

TEST_CASE("chain: tampered AAR fails at the seal", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    for (std::uint32_t i : {1u, 2u}) {
        auto r = verify(edit_field(msg, ArcHeaderKind::aar, i, "spf=pass", "spf=fail"),
                        dns_for({origin(), relay()}));
        CHECK(r.status == ChainStatus::fail);
        CHECK_THAT(r.reason, Contains("ARC-Seal i=2: signature did not verify"));
    }
}

TEST_CASE("chain: tampered seal fails", "[chain][rfc8617]") {
    auto o = hop(origin(), Cv::none);
    o.timestamp = now - 10;
    const std::string msg = tests::seal_message(base_message, o);
    const std::string t = "t=" + std::to_string(now - 10);
    auto r = verify(edit_field(msg, ArcHeaderKind::seal, 1, t, "t=" + std::to_string(now - 9)),
                    dns_for({origin()}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Seal i=1: signature did not verify"));
    // The same edit in the AMS breaks the AMS first.
    auto a = verify(edit_field(msg, ArcHeaderKind::ams, 1, t, "t=" + std::to_string(now - 9)),
                    dns_for({origin()}));
    CHECK(a.status == ChainStatus::fail);
    CHECK_THAT(a.reason, Contains("ARC-Message-Signature i=1: signature did not verify"));
}

TEST_CASE("chain: tampered older AMS fails at the newest seal", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    auto r = verify(edit_field(msg, ArcHeaderKind::ams, 1, "c=relaxed/relaxed", "c=relaxed/simple"),
                    dns_for({origin(), relay()}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Seal i=2"));
}

TEST_CASE("chain: an unsigned header may be added; a signed one may not", "[chain][rfc6376]") {
    const std::string msg = chain_of(base_message, {origin()});
    const Dns dns = dns_for({origin()});
    CHECK(verify("X-Added: by a relay\r\n" + msg, dns).status == ChainStatus::pass);
    // h= names are matched bottom-up (RFC 6376 §5.4.2): a second Subject on top is not signed,
    // one below the signed Subject replaces it.
    CHECK(verify("Subject: spoof\r\n" + msg, dns).status == ChainStatus::pass);
    CHECK(verify(edit(msg, "Subject: Lunch\r\n", "Subject: Lunch\r\nSubject: spoof\r\n"), dns)
              .status == ChainStatus::fail);
}

TEST_CASE("chain: over-signed headers cannot be added anywhere", "[chain][rfc6376]") {
    auto o = hop(origin(), Cv::none);
    o.signed_headers = "from:to:subject:subject:date";
    const std::string msg = tests::seal_message(base_message, o);
    const Dns dns = dns_for({origin()});
    CHECK(verify(msg, dns).status == ChainStatus::pass);
    auto r = verify("Subject: spoof\r\n" + msg, dns);
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Message-Signature i=1"));
}

TEST_CASE("chain: whitespace changes pass under relaxed, fail under simple", "[chain][rfc6376]") {
    auto relaxed = tests::seal_message(base_message, hop(origin(), Cv::none));
    auto o = hop(origin(), Cv::none);
    o.header_canon = mail::Canon::simple;
    o.body_canon = mail::Canon::simple;
    auto simple = tests::seal_message(base_message, o);
    const Dns dns = dns_for({origin()});

    const std::string header_from = "Subject: Lunch", header_to = "Subject:   Lunch  ";
    CHECK(verify(edit(relaxed, header_from, header_to), dns).status == ChainStatus::pass);
    CHECK(verify(edit(simple, header_from, header_to), dns).status == ChainStatus::fail);

    const std::string body_from = "Lunch at  noon?", body_to = "Lunch \t at noon?   ";
    CHECK(verify(edit(relaxed, body_from, body_to), dns).status == ChainStatus::pass);
    auto r = verify(edit(simple, body_from, body_to), dns);
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("body hash mismatch"));

    // Trailing empty lines are ignored by both.
    CHECK(verify(relaxed + "\r\n\r\n", dns).status == ChainStatus::pass);
    CHECK(verify(simple + "\r\n\r\n", dns).status == ChainStatus::pass);
}

TEST_CASE("chain: l= lets content be appended after the signed length", "[chain][rfc6376]") {
    auto split = mail::split_message(base_message);
    mail::BodyHasher h(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { h.add_line(l); });
    h.finish();
    auto o = hop(origin(), Cv::none);
    o.body_length = h.canonical_length();
    const std::string with_l = tests::seal_message(base_message, o);
    const std::string without_l = tests::seal_message(base_message, hop(origin(), Cv::none));
    const Dns dns = dns_for({origin()});
    CHECK(verify(with_l + "appended footer\r\n", dns).status == ChainStatus::pass);
    CHECK(verify(without_l + "appended footer\r\n", dns).status == ChainStatus::fail);
    CHECK(verify(edit(with_l, "noon", "nine"), dns).status == ChainStatus::fail);
}

TEST_CASE("chain: expired AMS (x= before now) fails", "[chain][rfc6376]") {
    auto o = hop(origin(), Cv::none);
    o.timestamp = now - 1000;
    o.expiration = now - 1;
    auto r = verify(tests::seal_message(base_message, o), dns_for({origin()}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("expired"));
    o.expiration = now + 1000;
    CHECK(verify(tests::seal_message(base_message, o), dns_for({origin()})).status ==
          ChainStatus::pass);
}

// ---------------------------------------------------------------------------------------------
// Key answers.

TEST_CASE("chain: temporary key failure gives temperror", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    Dns dns;
    dns.set(origin(), dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL"));
    auto r = verify(msg, dns);
    CHECK(r.status == ChainStatus::temperror);
    CHECK_THAT(r.reason, Contains("temporary DNS failure (SERVFAIL)"));
    CHECK_FALSE(r.oldest_pass);
}

TEST_CASE("chain: one key temporary but another signature fails for certain gives fail",
          "[chain][rfc8617]") {
    SECTION("AMS key temporary, seal fails") {
        const std::string msg = tests::seal_message(base_message, hop(list(), origin(), Cv::none));
        Dns dns = dns_for({origin()});
        dns.set(list(), dns::TxtAnswer::failed(dns::Status::temporary, "timeout"));
        CHECK(verify(msg, dns).status == ChainStatus::temperror);
        auto r = verify(edit_field(msg, ArcHeaderKind::aar, 1, "spf=pass", "spf=none"), dns);
        CHECK(r.status == ChainStatus::fail);
        CHECK_THAT(r.reason, Contains("ARC-Seal i=1"));
    }
    SECTION("seal key temporary, AMS fails") {
        const std::string msg = tests::seal_message(base_message, hop(list(), origin(), Cv::none));
        Dns dns = dns_for({list()});
        dns.set(origin(), dns::TxtAnswer::failed(dns::Status::temporary, "timeout"));
        CHECK(verify(msg, dns).status == ChainStatus::temperror);
        auto r = verify(edit(msg, "noon", "one"), dns);
        CHECK(r.status == ChainStatus::fail);
        CHECK_THAT(r.reason, Contains("body hash mismatch"));
    }
    SECTION("newest seal key temporary, older seal fails") {
        const std::string msg = chain_of(base_message, {origin(), relay()});
        Dns dns = dns_for({origin()});
        dns.set(relay(), dns::TxtAnswer::failed(dns::Status::temporary, "timeout"));
        CHECK(verify(msg, dns).status == ChainStatus::temperror);
        auto r = verify(edit_field(msg, ArcHeaderKind::aar, 1, "spf=pass", "spf=none"), dns);
        CHECK(r.status == ChainStatus::fail);
        CHECK_THAT(r.reason, Contains("ARC-Seal i=1"));
    }
}

TEST_CASE("chain: nxdomain and nodata for a key fail", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    auto nx = verify(msg, Dns{});
    CHECK(nx.status == ChainStatus::fail);
    CHECK_THAT(nx.reason, Contains("no key at s1._domainkey.origin.example"));
    Dns nodata;
    nodata.set(origin(), dns::TxtAnswer::failed(dns::Status::nodata, "NODATA"));
    CHECK(verify(msg, nodata).status == ChainStatus::fail);
    // A positive answer without records is no key either.
    Dns empty;
    empty.set(origin(), dns::TxtAnswer::found({}));
    CHECK(verify(msg, empty).status == ChainStatus::fail);
}

TEST_CASE("chain: revoked, unparseable or mismatched keys fail", "[chain][rfc6376]") {
    const std::string msg = chain_of(base_message, {origin()});
    for (const std::string& txt : std::vector<std::string>{
             "v=DKIM1; k=rsa; p=", "v=DKIM1; p=!!!", "not a key",
             std::string("v=DKIM1; k=ed25519; p=") + tests::keys::ed25519_raw_b64}) {
        INFO("TXT " << txt);
        Dns dns;
        dns.set(origin(), dns::TxtAnswer::found({txt}));
        CHECK(verify(msg, dns).status == ChainStatus::fail);
    }
    Dns mismatch;
    mismatch.set(origin(), dns::TxtAnswer::found({std::string("v=DKIM1; k=ed25519; p=") +
                                                  tests::keys::ed25519_raw_b64}));
    CHECK_THAT(verify(msg, mismatch).reason, Contains("key type does not match a="));
    Dns revoked;
    revoked.set(origin(), dns::TxtAnswer::found({"v=DKIM1; p="}));
    CHECK_THAT(verify(msg, revoked).reason, Contains("revoked"));
}

TEST_CASE("chain: the wrong key fails, several records where the second is right pass",
          "[chain][rfc6376]") {
    const std::string msg = chain_of(base_message, {origin()});
    const std::string wrong = relay().key_record();
    const std::string right = origin().key_record();
    Dns only_wrong;
    only_wrong.set(origin(), dns::TxtAnswer::found({wrong}));
    auto r = verify(msg, only_wrong);
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("signature did not verify"));
    for (const auto& records :
         {std::vector<std::string>{wrong, right}, std::vector<std::string>{right, wrong},
          std::vector<std::string>{"v=DKIM1; p=", "garbage", right}}) {
        Dns dns;
        dns.set(origin(), dns::TxtAnswer::found(records));
        CHECK(verify(msg, dns).status == ChainStatus::pass);
    }
}

TEST_CASE("chain: RSA keys under the policy minimum fail; the minimum is configurable",
          "[chain][rfc8301]") {
    const Signer weak{&keys().rsa512, "weak.example", "old"};
    const std::string msg = chain_of(base_message, {weak});
    auto r = verify(msg, dns_for({weak}));
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("512-bit"));
    auto lax = options();
    lax.keys.min_rsa_bits = 512;
    CHECK(verify(msg, dns_for({weak}), lax).status == ChainStatus::pass);
}

TEST_CASE("chain: keys never provided count as temporary failures", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(options());
    auto names = v.begin(std::move(split.headers));
    REQUIRE(names.size() == 1);
    CHECK_FALSE(v.settled());
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    // An answer for a name that was not asked for is ignored.
    v.provide_key(mail::KeyName{"other", "origin.example"},
                  dns::TxtAnswer::found({origin().key_record()}));
    auto r = v.finish();
    CHECK(r.status == ChainStatus::temperror);
    CHECK_THAT(r.reason, Contains("no answer for key s1._domainkey.origin.example"));
}

TEST_CASE("chain: repeated key answers keep the first", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin()});
    auto run = [&](const dns::TxtAnswer& first, const dns::TxtAnswer& second) {
        auto split = mail::split_message(msg);
        arc::ChainVerifier v(options());
        auto names = v.begin(std::move(split.headers));
        REQUIRE(names.size() == 1);
        mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
        v.provide_key(names[0], first);
        v.provide_key(names[0], second);
        return v.finish().status;
    };
    const auto good = dns::TxtAnswer::found({origin().key_record()});
    const auto temp = dns::TxtAnswer::failed(dns::Status::temporary, "timeout");
    CHECK(run(good, temp) == ChainStatus::pass);
    CHECK(run(temp, good) == ChainStatus::temperror);
}

// ---------------------------------------------------------------------------------------------
// Key names.

TEST_CASE("chain: keys needed are deduplicated", "[chain][rfc8617]") {
    auto names_for = [](const std::string& msg, bool oldest_pass = true) {
        auto opts = options();
        opts.oldest_pass = oldest_pass;
        arc::ChainVerifier v(opts);
        return v.begin(mail::split_message(msg).headers);
    };
    using mail::KeyName;
    SECTION("same selector and domain for AMS and AS: one name") {
        auto names = names_for(chain_of(base_message, {origin()}));
        REQUIRE(names.size() == 1);
        CHECK(names[0] == KeyName{"s1", "origin.example"});
        CHECK(names[0].dns_name() == "s1._domainkey.origin.example");
    }
    SECTION("the same signer at several hops: still one name per key") {
        auto names = names_for(chain_of(base_message, {origin(), relay(), origin(), relay()}));
        CHECK(names == std::vector<KeyName>{{"s1", "origin.example"}, {"s2", "relay.example"}});
    }
    SECTION("different AMS and AS keys: both") {
        auto names = names_for(tests::seal_message(base_message, hop(list(), origin(), Cv::none)));
        CHECK(names == std::vector<KeyName>{{"ed", "list.example"}, {"s1", "origin.example"}});
    }
    SECTION("without oldest-pass, older AMS keys are not needed") {
        std::string msg = tests::seal_message(base_message, hop(list(), origin(), Cv::none));
        msg = tests::seal_message(msg, hop(relay(), Cv::pass));
        CHECK(names_for(msg, true) == std::vector<KeyName>{{"ed", "list.example"},
                                                           {"s1", "origin.example"},
                                                           {"s2", "relay.example"}});
        CHECK(names_for(msg, false) ==
              std::vector<KeyName>{{"s1", "origin.example"}, {"s2", "relay.example"}});
    }
}

// ---------------------------------------------------------------------------------------------
// oldest-pass (RFC 8617 §5.2 step 5).

TEST_CASE("chain: oldest-pass is 0 when every AMS passes", "[chain][rfc8617]") {
    auto r = verify(chain_of(base_message, {origin(), relay()}), dns_for({origin(), relay()}));
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
}

TEST_CASE("chain: oldest-pass is N when AMS(N-1) fails", "[chain][rfc8617]") {
    const Dns dns = dns_for({origin(), relay(), list()});
    SECTION("body changed between hop 1 and hop 2") {
        std::string msg = tests::seal_message(base_message, hop(origin(), Cv::none));
        msg = edit(msg, "Alice\r\n", "Alice\r\n--\r\nlist footer\r\n");
        msg = tests::seal_message(msg, hop(relay(), Cv::pass));
        auto r = verify(msg, dns);
        CHECK(r.status == ChainStatus::pass);
        CHECK(r.oldest_pass == std::optional<std::uint32_t>(2));
    }
    SECTION("body changed before hop 3") {
        std::string msg = chain_of(base_message, {origin(), relay()});
        msg = edit(msg, "Hi Bob,", "[list] Hi Bob,");
        msg = tests::seal_message(msg, hop(list(), Cv::pass));
        auto r = verify(msg, dns);
        CHECK(r.status == ChainStatus::pass);
        CHECK(r.oldest_pass == std::optional<std::uint32_t>(3));
    }
    SECTION("signed header changed between hop 1 and hop 2 of three") {
        std::string msg = tests::seal_message(base_message, hop(origin(), Cv::none));
        msg = edit(msg, "Subject: Lunch", "Subject: [list] Lunch");
        msg = tests::seal_message(msg, hop(relay(), Cv::pass));
        msg = tests::seal_message(msg, hop(list(), Cv::pass));
        auto r = verify(msg, dns);
        CHECK(r.status == ChainStatus::pass);
        CHECK(r.oldest_pass == std::optional<std::uint32_t>(2));
    }
}

TEST_CASE("chain: oldest-pass withheld when an older AMS key is temporary", "[chain][rfc8617]") {
    std::string msg = tests::seal_message(base_message, hop(list(), origin(), Cv::none));
    msg = tests::seal_message(msg, hop(relay(), Cv::pass));
    Dns dns = dns_for({origin(), relay()});
    dns.set(list(), dns::TxtAnswer::failed(dns::Status::temporary, "timeout"));
    auto r = verify(msg, dns);
    CHECK(r.status == ChainStatus::pass);
    CHECK_FALSE(r.oldest_pass);
    // And not computed at all when disabled.
    auto opts = options();
    opts.oldest_pass = false;
    auto off = verify(msg, dns_for({origin(), relay(), list()}), opts);
    CHECK(off.status == ChainStatus::pass);
    CHECK_FALSE(off.oldest_pass);
}

// ---------------------------------------------------------------------------------------------
// The step-by-step interface.

TEST_CASE("chain: ChainVerifier step by step agrees with verify_message", "[chain][rfc8617]") {
    const std::string msg = chain_of(base_message, {origin(), relay()});
    const Dns dns = dns_for({origin(), relay()});
    auto split = mail::split_message(msg);
    const std::size_t header_count = split.headers.size();
    arc::ChainVerifier v(options());
    auto names = v.begin(std::move(split.headers));
    CHECK(v.headers().size() == header_count);
    CHECK(v.headers().front().is("arc-seal"));
    CHECK(v.headers().back().is("message-id"));
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    for (const auto& n : names)
        v.provide_key(n, dns(n));
    auto r = v.finish();
    auto whole = verify(msg, dns);
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.status == whole.status);
    CHECK(r.reason == whole.reason);
    CHECK(r.oldest_pass == whole.oldest_pass);
    CHECK(r.sets == 2);
}

TEST_CASE("chain: a body hash for sealing is shared with an AMS of the same canonicalization",
          "[chain][rfc8617][rfc6376]") {
    // The chain's AMSs are relaxed/relaxed without l=: a relaxed hash for our seal is theirs,
    // a simple one is a second hasher; both digests are those of the body alone.
    const std::string msg = chain_of(base_message, {origin(), relay()});
    const Dns dns = dns_for({origin(), relay()});
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(options());
    auto names = v.begin(std::move(split.headers));
    const std::size_t relaxed = v.add_body_hash(mail::Canon::relaxed);
    const std::size_t simple = v.add_body_hash(mail::Canon::simple);
    CHECK(relaxed == 0); // the hasher analyse() made for the AMSs
    CHECK(simple == 1);
    CHECK(v.add_body_hash(mail::Canon::relaxed) == relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    for (const auto& n : names)
        v.provide_key(n, dns(n));
    CHECK(v.finish().status == ChainStatus::pass);
    CHECK(*v.body_hash(relaxed) == tests::hash_body(mail::Canon::relaxed, split.body));
    CHECK(*v.body_hash(simple) == tests::hash_body(mail::Canon::simple, split.body));

    // Without a chain there is no AMS hasher: ours is the only one.
    auto plain = mail::split_message(base_message);
    arc::ChainVerifier none(options());
    CHECK(none.begin(std::move(plain.headers)).empty());
    const std::size_t only = none.add_body_hash(mail::Canon::relaxed);
    mail::for_each_line(plain.body, [&](std::string_view l) { none.add_body_line(l); });
    CHECK(none.finish().status == ChainStatus::none);
    CHECK(*none.body_hash(only) == tests::hash_body(mail::Canon::relaxed, plain.body));
}

// ---------------------------------------------------------------------------------------------
// The chain builder checked against independent implementations.

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary);
    out << data;
}

// Verifies messages 0..N-1 in one process (importing dkim alone takes about a second).
constexpr const char* dkimpy_script = R"PY(
import os
import sys
try:
    import dkim
except ImportError:
    print('NO-DKIMPY')
    sys.exit(0)

directory = sys.argv[1]
records = {}
for line in open(os.path.join(directory, 'records.txt'), 'rb').read().splitlines():
    name, _, txt = line.partition(b' ')
    records[name] = txt

def dnsfunc(name, timeout=5):
    if isinstance(name, str):
        name = name.encode()
    return records.get(name.rstrip(b'.'))

for n in range(int(sys.argv[2])):
    message = open(os.path.join(directory, '%d.eml' % n), 'rb').read()
    cv, results, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
    print(n, 'pass' if cv == dkim.CV_Pass else 'fail', reason)
)PY";

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "arc_unit_XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// dkimpy's arc_verify verdict (true = pass) for each message, with `signers`' key records as
// the only DNS; nullopt when /usr/bin/python3 cannot import dkim. `output` gets its report.
std::optional<std::vector<bool>> dkimpy_verdicts(const std::vector<std::string>& messages,
                                                 std::initializer_list<Signer> signers,
                                                 std::string& output) {
    TempDir dir;
    write_file(dir.path() / "verify.py", dkimpy_script);
    std::string records;
    for (const auto& s : signers)
        records += s.dns_name() + " " + s.key_record() + "\n";
    write_file(dir.path() / "records.txt", records);
    for (std::size_t i = 0; i < messages.size(); ++i)
        write_file(dir.path() / (std::to_string(i) + ".eml"), messages[i]);
    const std::string cmd = "/usr/bin/python3 '" + (dir.path() / "verify.py").string() + "' '" +
                            dir.path().string() + "' " + std::to_string(messages.size()) + " > '" +
                            (dir.path() / "out.txt").string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    output = read_file(dir.path() / "out.txt");
    if (rc != 0 && output.empty())
        return std::nullopt; // no /usr/bin/python3 at all
    if (output.find("NO-DKIMPY") != std::string::npos)
        return std::nullopt;
    std::vector<bool> verdicts(messages.size(), false);
    std::istringstream lines(output);
    std::size_t n = 0;
    std::string verdict;
    while (lines >> n >> verdict) {
        if (n < verdicts.size())
            verdicts[n] = verdict == "pass";
        std::string rest;
        std::getline(lines, rest);
    }
    return verdicts;
}

} // namespace

TEST_CASE("chain: chains from the test builder verify with dkimpy", "[chain][interop]") {
    // dkimpy 1.1.4 verifies ARC signatures with rsa-sha256 only, so these chains use RSA keys.
    auto o1 = hop(origin(), Cv::none);
    o1.header_canon = mail::Canon::simple;
    o1.body_canon = mail::Canon::simple;
    o1.timestamp = now;
    auto o2 = hop(relay(), Cv::pass);
    o2.fold = true;
    o2.timestamp = now + 60;
    const std::string two = tests::seal_message(tests::seal_message(base_message, o1), o2);

    // Three hops: the second signs with one key and seals with another, over-signs Subject
    // and uses l=; a footer is then added before the third hop.
    std::string three = tests::seal_message(base_message, hop(origin(), Cv::none));
    auto mid = hop(origin(), relay(), Cv::pass);
    mid.signed_headers = "from:to:subject:subject:date:message-id";
    mid.body_length = tests::crlf("Hi Bob,\n Lunch at noon?\n\n--\nAlice\n").size();
    three = tests::seal_message(three, mid) + "footer\r\n";
    three = tests::seal_message(three, hop(relay(), Cv::pass));

    const std::vector<std::string> messages = {
        two,
        edit(two, "noon", "one"),
        edit_field(two, ArcHeaderKind::aar, 1, "spf=pass", "spf=fail"),
        three,
    };
    const Dns dns = dns_for({origin(), relay()});
    CHECK(verify(messages[0], dns).status == ChainStatus::pass);
    CHECK(verify(messages[1], dns).status == ChainStatus::fail);
    CHECK(verify(messages[2], dns).status == ChainStatus::fail);
    auto r3 = verify(messages[3], dns);
    CHECK(r3.status == ChainStatus::pass);
    CHECK(r3.oldest_pass == std::optional<std::uint32_t>(2));

    std::string output;
    auto verdicts = dkimpy_verdicts(messages, {origin(), relay()}, output);
    if (!verdicts) {
        WARN("/usr/bin/python3 cannot import dkim (python3-dkim): dkimpy cross-check skipped");
        return;
    }
    INFO("dkimpy said:\n" << output);
    // The tampered copies are the negative control: dkimpy rejects what we reject.
    CHECK(*verdicts == std::vector<bool>{true, false, false, true});
}

TEST_CASE("chain: the builder reproduces the ARC suite's signing vectors", "[chain][suite]") {
    const std::string file = tests::suite_dir() + "/tests/arc-draft-sign-tests.yml";
    if (!std::filesystem::exists(file)) {
        WARN("ARC test suite not found at " << file << ": signing vectors skipped");
        return;
    }
    // Expected b= of a suite AS/AMS value; its line breaks are plain LF, so unfold first.
    auto expected_b = [](std::string value) {
        for (auto& c : value)
            if (c == '\n')
                c = ' ';
        auto tags = mail::parse_tag_list(value);
        REQUIRE(tags);
        REQUIRE(tags->has("b"));
        return mail::strip_fws(*tags->get("b"));
    };
    int checked = 0;
    for (const auto& sc : tests::load_suite(file)) {
        for (const auto& c : sc.cases) {
            if (c.id != "i0_base" && c.id != "i1_base" && c.id != "i2_base")
                continue;
            INFO("suite case " << c.id);
            auto key = mail::PrivateKey::from_pem(sc.fields.at("privatekey"));
            REQUIRE(key);
            Signer s{&*key, sc.fields.at("domain"), sc.fields.at("sel")};
            const std::string msg = tests::to_crlf(c.fields.at("message"));
            const bool has_chain = msg.find("ARC-Seal:") != std::string::npos;
            SealOptions o = hop(s, has_chain ? Cv::pass : Cv::none);
            o.signed_headers = c.fields.at("sig-headers");
            o.timestamp = std::stoull(c.fields.at("t"));
            // The AAR payload after "i=N;", whitespace runs collapsed (relaxed does the same).
            std::string aar = c.fields.at("AAR");
            aar = aar.substr(aar.find(';') + 1);
            std::string payload;
            for (char ch : aar) {
                const bool ws = ch == ' ' || ch == '\t' || ch == '\n';
                if (ws && (payload.empty() || payload.back() == ' '))
                    continue;
                payload.push_back(ws ? ' ' : ch);
            }
            while (!payload.empty() && payload.back() == ' ')
                payload.pop_back();
            o.aar_payload = payload;

            auto set = tests::make_arc_set(msg, o);
            std::uint32_t seals = 0;
            for (auto p = msg.find("ARC-Seal:"); p != std::string::npos;
                 p = msg.find("ARC-Seal:", p + 1))
                ++seals;
            CHECK(set.instance == seals + 1);
            CHECK(tests::b_value(set.ams) == expected_b(c.fields.at("AMS")));
            CHECK(tests::b_value(set.seal) == expected_b(c.fields.at("AS")));

            // And the verifier accepts the result with the scenario's key.
            const std::string sealed =
                set.seal + "\r\n" + set.ams + "\r\n" + set.aar + "\r\n" + msg;
            auto opts = options();
            auto r = arc::verify_message(sealed, opts, [&](const mail::KeyName& k) {
                return tests::suite_lookup(sc, k.dns_name());
            });
            CHECK(r.status == ChainStatus::pass);
            ++checked;
        }
    }
    CHECK(checked == 3);
}

// ---------------------------------------------------------------------------------------------
// CPU bounds (issue 15, class 4): records tried per key, public-key operations per message.

TEST_CASE("chain: a selector with 50 records costs at most 3 verifications per signature",
          "[chain][rfc6376][issue15]") {
    const std::string msg = chain_of(base_message, {origin()});
    // 49 records of another key, the right one last: every signature would try all 50.
    std::vector<std::string> records(49, relay().key_record());
    records.push_back(origin().key_record());
    Dns dns;
    dns.set(origin(), dns::TxtAnswer::found(records));
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(options());
    for (const auto& n : v.begin(std::move(split.headers)))
        v.provide_key(n, dns(n));
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    auto r = v.finish();
    // Only the first three records are keys to us (RFC 6376 §3.6.2.2): the 50th never is.
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("signature did not verify"));
    CHECK(v.key_budget()->used() <= 3);
    // The right key among the first three verifies.
    std::swap(records.front(), records.back());
    dns.set(origin(), dns::TxtAnswer::found(records));
    CHECK(verify(msg, dns).status == ChainStatus::pass);
}

TEST_CASE("chain: a spent public-key operation budget fails the chain and says so",
          "[chain][rfc8617][issue15]") {
    const std::string msg = chain_of(base_message, {origin(), relay(), list()});
    const Dns dns = dns_for({origin(), relay(), list()});
    auto opts = options();
    // Newest AMS and three seals: 4 operations; the older AMSs (oldest-pass) 2 more.
    opts.keys.max_key_operations = 3;
    auto r = verify(msg, dns, opts);
    CHECK(r.status == ChainStatus::fail);
    CHECK_THAT(r.reason, Contains("ARC-Seal i=1") &&
                             Contains("per-message signature budget exhausted (3 public-key"));
    // Enough for the verdict but not for oldest-pass: pass, oldest-pass withheld.
    opts.keys.max_key_operations = 4;
    r = verify(msg, dns, opts);
    CHECK(r.status == ChainStatus::pass);
    CHECK_FALSE(r.oldest_pass);
    opts.keys.max_key_operations = 6;
    r = verify(msg, dns, opts);
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
    // A budget given in the options is the one drawn from (shared with DKIM in the filter).
    opts.budget = std::make_shared<mail::KeyOperationBudget>(10);
    for (int i = 0; i < 7; ++i)
        REQUIRE(opts.budget->take());
    r = verify(msg, dns, opts);
    CHECK(r.status == ChainStatus::fail);
    CHECK(opts.budget->exhausted());
    CHECK(opts.budget->used() == 10);
}

TEST_CASE("chain: the default budget verifies a 50-set chain fully", "[chain][rfc8617][issue15]") {
    std::string msg = base_message;
    for (int i = 0; i < 50; ++i)
        msg = tests::seal_message(msg, hop(list(), i == 0 ? Cv::none : Cv::pass));
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(options());
    const Dns dns = dns_for({list()});
    for (const auto& n : v.begin(std::move(split.headers)))
        v.provide_key(n, dns(n));
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    auto r = v.finish();
    CHECK(r.status == ChainStatus::pass);
    CHECK(r.oldest_pass == std::optional<std::uint32_t>(0));
    CHECK(v.key_budget()->used() == 100); // 50 seals + 50 AMSs
    CHECK_FALSE(v.key_budget()->exhausted());
}

// ---------------------------------------------------------------------------------------------
// Issue 18: conformance with RFC 8617 and RFC 6376 where peers agreed and we did not.

TEST_CASE("chain: CFWS around the AAR instance passes", "[chain][rfc8617]") {
    // RFC 8617 §4.1.1: instance = [CFWS] %s"i" [CFWS] "=" [CFWS] position (issue 18 item 1).
    for (const char* instance : {"i=1 (comment);", "(comment) i=1;", "i = 1;"}) {
        INFO(instance);
        auto o = hop(origin(), Cv::none);
        o.aar_edits = {{"i=1;", instance}};
        std::string msg = tests::seal_message(base_message, o);
        REQUIRE_THAT(msg, Contains(instance));
        auto r = verify(msg, dns_for({origin()}));
        CHECK(r.status == ChainStatus::pass);
        msg = tests::seal_message(msg, hop(relay(), Cv::pass));
        auto r2 = verify(msg, dns_for({origin(), relay()}));
        CHECK(r2.status == ChainStatus::pass);
        CHECK(r2.sets == 2);
    }
}

TEST_CASE("chain: a tag-level problem in an older AMS only moves oldest-pass", "[chain][rfc8617]") {
    // RFC 8617 §5.2: the verdict comes from the newest AMS and every seal; older AMSs decide
    // oldest-pass only (issue 18 item 2). The seals here are valid over the edited AMS.
    const std::vector<std::pair<std::string, std::string>> edits = {
        {"c=relaxed/relaxed", "c=relaxed/bogus"},
        {"a=rsa-sha256", "a=rsa-sha1"},
        {"a=rsa-sha256", "a=foo-sha256"},
        {"; t=", "; t=x"},
        {"; l=", "; l=1x"},
        {"; bh=", "; xbh="},
        {"; h=", "; xh="},
        {"; b=", "; b=!!"},
        {"d=origin.example", "d=origin..example"},
        {"; x=", "; x=soon"},
    };
    const Dns dns = dns_for({origin(), relay()});
    for (const auto& [from, to] : edits) {
        INFO(from << " -> " << to);
        auto o = hop(origin(), Cv::none);
        o.timestamp = now - 100;
        o.expiration = now + 100;
        o.body_length = 10000;
        o.ams_edits = {{from, to}};
        std::string one = tests::seal_message(base_message, o);
        // The same problem in the newest (only) AMS fails the chain.
        auto newest = verify(one, dns);
        CHECK(newest.status == ChainStatus::fail);
        CHECK_THAT(newest.reason, Contains("ARC-Message-Signature i=1"));
        // In an older AMS it does not.
        std::string two = tests::seal_message(one, hop(relay(), Cv::pass));
        auto r = verify(two, dns);
        CHECK(r.status == ChainStatus::pass);
        CHECK(r.oldest_pass == std::optional<std::uint32_t>(2));
        REQUIRE(r.chain.size() == 2);
        CHECK(r.chain[1].ams_domain == "relay.example");
        // Without oldest-pass, the older AMS is not looked at at all.
        auto opts = options();
        opts.oldest_pass = false;
        CHECK(verify(two, dns, opts).status == ChainStatus::pass);
    }
}

TEST_CASE("chain: a bare CR inserted into a sealed field fails; one that was sealed passes",
          "[chain][rfc6376]") {
    // RFC 6376 §3.4.2 relaxed header canonicalization unfolds CRLF and keeps any other CR
    // (issue 18 item 3).
    const std::string msg = chain_of(base_message, {origin(), relay()});
    for (std::uint32_t i : {1u, 2u}) {
        auto r = verify(edit_field(msg, ArcHeaderKind::aar, i, "spf=pass", "spf=\rpass"),
                        dns_for({origin(), relay()}));
        CHECK(r.status == ChainStatus::fail);
        CHECK_THAT(r.reason, Contains("ARC-Seal i=2: signature did not verify"));
    }
    auto o = hop(origin(), Cv::none);
    o.aar_edits = {{"spf=pass", "spf=\rpass"}};
    const std::string sealed = tests::seal_message(base_message, o);
    CHECK(verify(sealed, dns_for({origin()})).status == ChainStatus::pass);
    CHECK(verify(edit(sealed, "spf=\rpass", "spf=pass"), dns_for({origin()})).status ==
          ChainStatus::fail);
}

TEST_CASE("chain: a bare CR in the newest seal's b= is reported as such", "[chain][rfc6376]") {
    // Issue 18 item 5: the reason names what is wrong, not "no valid instance".
    const std::string msg = chain_of(base_message, {origin(), relay()});
    const std::string b = tests::b_value(field_of(msg, ArcHeaderKind::seal, 2));
    const std::string bad = edit_field(msg, ArcHeaderKind::seal, 2, "b=" + b.substr(0, 4),
                                       "b=" + b.substr(0, 2) + "\r" + b.substr(2, 2));
    check_settled_fail(bad, "ARC-Seal cannot be parsed: bare CR in the value of b=");
    auto r = verify(bad, dns_for({origin(), relay()}));
    CHECK_THAT(r.reason, !Contains("instance"));
    check_settled_fail(edit_field(msg, ArcHeaderKind::ams, 1, "; d=", "; d=\x01"),
                       "ARC-Message-Signature cannot be parsed: invalid character in the value "
                       "of d=");
}

TEST_CASE("chain: an x-trace= tag in a seal is ignored (issue 18 item 6 decision)",
          "[chain][rfc6376]") {
    // RFC 6376 §3.2: unrecognized tags MUST be ignored; a '-' in a tag name is accepted
    // (README "Conformance decisions").
    auto o = hop(origin(), Cv::none);
    o.extra_seal_tags = {{"x-trace", "hop1"}};
    const std::string msg = tests::seal_message(base_message, o);
    REQUIRE_THAT(msg, Contains("x-trace=hop1"));
    CHECK(verify(msg, dns_for({origin()})).status == ChainStatus::pass);
}

TEST_CASE("chain: a t= in the future is not checked (issue 18 item 6 decision)",
          "[chain][rfc6376]") {
    // RFC 6376 §3.5: verifiers MAY ignore signatures with a timestamp in the future; we do not
    // (README "Conformance decisions"), minutes or decades ahead.
    for (std::uint64_t ahead : {std::uint64_t{600}, std::uint64_t{40} * 365 * 86400}) {
        auto o = hop(origin(), Cv::none);
        o.timestamp = now + ahead;
        const std::string msg = tests::seal_message(base_message, o);
        CHECK(verify(msg, dns_for({origin()})).status == ChainStatus::pass);
    }
}

TEST_CASE("chain: the newest seal, parsed once for steps 2 and 3, is still checked in full",
          "[chain][rfc8617][issue21]") {
    // Issue 21: step 2's parse of ARC-Seal i=N is reused by step 3; a second ARC-Seal i=N, an
    // unparseable newest seal and one that says cv=fail must all still be found.
    const std::string msg = chain_of(base_message, {origin(), relay()});
    const std::string newest = field_of(msg, ArcHeaderKind::seal, 2);
    check_settled_fail(newest + "\r\n" + msg, "duplicate ARC-Seal i=2");
    check_unparseable_seal(msg, 2);
    check_unparseable_seal(msg, 1);
    // A second newest seal saying cv=fail ends the chain whichever copy comes first (step 2).
    std::string failing = newest;
    const auto cv = failing.find("cv=pass");
    REQUIRE(cv != std::string::npos);
    failing.replace(cv, 7, "cv=fail");
    check_settled_fail(failing + "\r\n" + msg, "says cv=fail");
    check_settled_fail(msg.substr(0, msg.find(newest)) + newest + "\r\n" + failing +
                           msg.substr(msg.find(newest) + newest.size()),
                       "says cv=fail");
    // And the chain itself, its newest seal parsed once, passes.
    CHECK(verify(msg, dns_for({origin(), relay()})).status == ChainStatus::pass);
}
