// SPDX-License-Identifier: ISC
// Unit tests for dkim/verifier.hpp and dkim/resinfo.hpp: RFC 6376 §6.1 verification of
// signatures made in the test, and their RFC 8601 resinfo.
#include "arc/chain.hpp"
#include "tests/arc/chain_builder.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dkim/resinfo.hpp"
#include "dkim/verifier.hpp"
#include "mail/auth_results.hpp"
#include "mail/base64.hpp"
#include "mail/signature_check.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using arcf::test::Contains;
using dkim::DkimResult;
using tests::Signer;

namespace {

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

Signer author() {
    return Signer{&keys().rsa2048, "example.com", "s2048"};
}
Signer esp() {
    return Signer{&keys().ed25519, "esp.example", "ed"};
}
Signer list() {
    return Signer{&keys().rsa1024, "lists.example.org", "l1"};
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

dkim::DkimOptions options() {
    dkim::DkimOptions o;
    o.now = now;
    return o;
}

// --- A test-only DKIM signer (RFC 6376 §5), independent of the verifier's header selection. ---

struct Spec {
    Signer signer;
    std::string c = "relaxed/relaxed";
    std::string h = "from:to:subject:date";
    /// Tags after the required ones, in order (i=, l=, t=, x=, q=, z=, ...); a tag named here
    /// that is also required ("a", "v") replaces the required one.
    std::vector<std::pair<std::string, std::string>> extra;
    bool fold = false;
};

std::optional<std::string> extra_tag(const Spec& s, const std::string& name) {
    for (const auto& [n, v] : s.extra)
        if (n == name)
            return v;
    return std::nullopt;
}

mail::Canon canon_part(const std::string& c, bool body) {
    auto slash = c.find('/');
    std::string part =
        body ? (slash == std::string::npos ? "simple" : c.substr(slash + 1)) : c.substr(0, slash);
    return part == "relaxed" ? mail::Canon::relaxed : mail::Canon::simple;
}

std::vector<std::string> names_of(const std::string& h) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (true) {
        auto colon = h.find(':', pos);
        out.push_back(
            text::to_lower(h.substr(pos, colon == std::string::npos ? colon : colon - pos)));
        if (colon == std::string::npos)
            return out;
        pos = colon + 1;
    }
}

// The DKIM-Signature field (no final CRLF) for `message` (CRLF).
std::string signature_field(const std::string& message, const Spec& s) {
    auto split = mail::split_message(message);
    std::optional<std::uint64_t> limit;
    if (auto l = extra_tag(s, "l"))
        limit = std::stoull(*l);
    const mail::Canon hc = canon_part(s.c, false), bc = canon_part(s.c, true);
    const std::string bh = tests::b64(tests::hash_body(bc, split.body, limit));
    std::vector<std::pair<std::string, std::string>> tags = {
        {"v", extra_tag(s, "v").value_or("1")},
        {"a", extra_tag(s, "a").value_or(std::string(arc::to_string(s.signer.key->algorithm())))},
        {"c", s.c},
        {"d", s.signer.domain},
        {"s", s.signer.selector},
        {"h", s.h},
        {"bh", bh},
    };
    for (const auto& t : s.extra)
        if (t.first != "v" && t.first != "a")
            tags.push_back(t);
    tags.emplace_back("b", "");
    auto join = [&](const std::string& b) {
        std::string out = "DKIM-Signature: ";
        for (std::size_t i = 0; i < tags.size(); ++i) {
            if (i != 0)
                out += s.fold ? ";\r\n\t" : "; ";
            out += tags[i].first + "=" + (tags[i].first == "b" ? b : tags[i].second);
        }
        return out;
    };
    // RFC 6376 §5.4.2: each name picks the next unused instance from the bottom.
    std::string data;
    std::vector<bool> used(split.headers.size(), false);
    for (const auto& name : names_of(s.h)) {
        for (std::size_t k = split.headers.size(); k-- > 0;) {
            if (!used[k] && split.headers[k].is(name)) {
                used[k] = true;
                mail::append_canon_header(data, hc, split.headers[k].raw());
                break;
            }
        }
    }
    mail::append_canon_header(data, hc, join(""), false);
    auto sig = s.signer.key->sign(mail::sha256(data));
    REQUIRE(sig);
    std::string b = mail::base64_encode(*sig);
    if (s.fold)
        b.insert(b.size() / 2, "\r\n ");
    return join(b);
}

std::string sign(const std::string& message, const Spec& s) {
    return signature_field(message, s) + "\r\n" + message;
}

Spec spec(const Signer& signer, std::string c = "relaxed/relaxed") {
    Spec s;
    s.signer = signer;
    s.c = std::move(c);
    return s;
}

const std::string base_message = tests::crlf("From: Alice <alice@example.com>\n"
                                             "To: Bob <bob@dest.example>\n"
                                             "Subject:  Lunch   plans \n"
                                             "Date: Sat, 01 Jun 2024 12:00:00 +0000\n"
                                             "Message-ID: <1@example.com>\n"
                                             "\n"
                                             "Hi Bob,\n"
                                             "  Lunch at  noon? \n"
                                             "\n"
                                             "-- \n"
                                             "Alice\n"
                                             "\n");

std::vector<dkim::DkimSignatureResult>
verify(const std::string& msg, const Dns& dns, const dkim::DkimOptions& opts = options()) {
    auto rs = dkim::verify_dkim_message(msg, opts, dns);
    for (const auto& r : rs)
        UNSCOPED_INFO("dkim=" << dkim::to_string(r.result) << " d=" << r.domain << ": "
                              << r.reason);
    return rs;
}

dkim::DkimSignatureResult
verify_one(const std::string& msg, const Dns& dns, const dkim::DkimOptions& opts = options()) {
    auto rs = verify(msg, dns, opts);
    REQUIRE(rs.size() == 1);
    return rs[0];
}

std::string edit(std::string msg, const std::string& from, const std::string& to) {
    auto pos = msg.find(from);
    REQUIRE(pos != std::string::npos);
    return msg.replace(pos, from.size(), to);
}

} // namespace

TEST_CASE("dkim: no DKIM-Signature gives no result", "[dkim][rfc6376]") {
    dkim::DkimVerifier v(options());
    auto split = mail::split_message(base_message);
    CHECK(v.begin(split.headers).empty());
    CHECK_FALSE(v.needs_body());
    CHECK(v.finish().empty());
    auto ri = dkim::dkim_resinfos({});
    REQUIRE(ri.size() == 1);
    CHECK(mail::format_resinfo(ri[0]) == "dkim=none");
}

TEST_CASE("dkim: simple and relaxed signatures pass", "[dkim][rfc6376]") {
    auto dns = dns_for({author(), esp()});
    for (const char* c : {"simple/simple", "relaxed/relaxed", "relaxed/simple", "simple/relaxed",
                          "relaxed", "simple"}) {
        for (const Signer& signer : {author(), esp()}) {
            INFO("c=" << c << " d=" << signer.domain);
            auto r = verify_one(sign(base_message, spec(signer, c)), dns);
            CHECK(r.result == DkimResult::pass);
            CHECK(r.reason.empty());
            CHECK(r.domain == signer.domain);
            CHECK(r.selector == signer.selector);
            CHECK(r.identity == "@" + signer.domain);
            CHECK(r.algorithm == arc::to_string(signer.key->algorithm()));
            CHECK(r.header_b.size() == 12);
            CHECK_FALSE(r.body_partial);
            REQUIRE(r.body_bytes);
        }
    }
    // Folded signature field, a folded b= and LF line ends on input.
    Spec folded = spec(author(), "simple/simple");
    folded.fold = true;
    std::string signed_msg = sign(base_message, folded);
    CHECK(verify_one(signed_msg, dns).result == DkimResult::pass);
    std::string lf = signed_msg;
    lf.erase(std::remove(lf.begin(), lf.end(), '\r'), lf.end());
    CHECK(verify_one(lf, dns).result == DkimResult::pass);
}

TEST_CASE("dkim: relaxed tolerates whitespace changes, simple does not", "[dkim][rfc6376]") {
    auto dns = dns_for({author()});
    const std::string relaxed = sign(base_message, spec(author(), "relaxed/relaxed"));
    const std::string simple = sign(base_message, spec(author(), "simple/simple"));
    auto rewrap = [](std::string m) {
        m = edit(m, "Subject:  Lunch   plans ", "subject: Lunch\r\n plans");
        return edit(m, "  Lunch at  noon? \r\n", " Lunch\tat noon?\r\n") + "\r\n\r\n";
    };
    CHECK(verify_one(rewrap(relaxed), dns).result == DkimResult::pass);
    auto r = verify_one(rewrap(simple), dns);
    CHECK(r.result == DkimResult::fail);
    CHECK(r.reason == "body hash did not verify");
}

TEST_CASE("dkim: tampered header or body fails", "[dkim][rfc6376]") {
    auto dns = dns_for({author()});
    const std::string msg = sign(base_message, spec(author()));
    auto header = verify_one(edit(msg, "Subject:  Lunch", "Subject:  Dinner"), dns);
    CHECK(header.result == DkimResult::fail);
    CHECK(header.reason == "signature did not verify");
    auto body = verify_one(edit(msg, "noon", "midnight"), dns);
    CHECK(body.result == DkimResult::fail);
    CHECK(body.reason == "body hash did not verify");
    // A field not in h= may change.
    CHECK(verify_one(edit(msg, "Message-ID: <1@", "Message-ID: <2@"), dns).result ==
          DkimResult::pass);
    // A From added on top is not selected (bottom-up): only over-signing protects against it.
    CHECK(verify_one("From: mallory@evil.example\r\n" + msg, dns).result == DkimResult::pass);
    // The signature field itself is covered too (RFC 6376 §3.7).
    CHECK(verify_one(edit(msg, "h=from:to:subject:date", "h=from:to:subject:date:reply-to"), dns)
              .result == DkimResult::fail);
}

TEST_CASE("dkim: over-signing a missing field blocks adding it", "[dkim][rfc6376]") {
    auto dns = dns_for({author()});
    Spec s = spec(author());
    s.h = "from:from:to:subject:date:reply-to";
    const std::string msg = sign(base_message, s);
    CHECK(verify_one(msg, dns).result == DkimResult::pass);
    CHECK(verify_one(edit(msg, "To:", "Reply-To: x@evil.example\r\nTo:"), dns).result ==
          DkimResult::fail);
    CHECK(verify_one(edit(msg, "To:", "From: x@evil.example\r\nTo:"), dns).result ==
          DkimResult::fail);
}

TEST_CASE("dkim: several signatures with mixed results", "[dkim][rfc6376]") {
    Dns dns = dns_for({author(), esp()});
    dns.set(list(), dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL"));
    Signer missing{&keys().rsa1024, "nokey.example", "gone"};
    std::string msg = sign(base_message, spec(author()));
    msg = sign(msg, spec(missing));
    msg = sign(msg, spec(list()));
    msg = edit(msg, "Hi Bob,", "Hi Rob,"); // breaks every body hash signed so far
    msg = sign(msg, spec(esp()));          // newest, on top, signs the edited body

    dkim::DkimVerifier v(options());
    auto split = mail::split_message(msg);
    auto names = v.begin(split.headers);
    // In message order (newest first), each key once.
    REQUIRE(names.size() == 4);
    CHECK(names[0].dns_name() == esp().dns_name());
    CHECK(names[1].dns_name() == list().dns_name());
    CHECK(names[2].dns_name() == missing.dns_name());
    CHECK(names[3].dns_name() == author().dns_name());
    CHECK(v.needs_body());
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    for (auto it = names.rbegin(); it != names.rend(); ++it)
        v.provide_key(*it, dns(*it));
    auto rs = v.finish();
    REQUIRE(rs.size() == 4);
    CHECK(rs[0].result == DkimResult::pass);
    CHECK(rs[0].domain == "esp.example");
    CHECK(rs[1].result == DkimResult::temperror);
    CHECK_THAT(rs[1].reason, Contains("temporary DNS failure (SERVFAIL)"));
    CHECK(rs[2].result == DkimResult::permerror);
    CHECK(rs[2].reason == "no key at gone._domainkey.nokey.example");
    CHECK(rs[3].result == DkimResult::fail);
    CHECK(rs[3].reason == "body hash did not verify");
    // finish() again: the same results.
    auto again = v.finish();
    REQUIRE(again.size() == 4);
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(again[i].result == rs[i].result);
}

TEST_CASE("dkim: key answers in any order, repeated and unasked ones ignored", "[dkim]") {
    Dns dns = dns_for({author(), esp()});
    std::string msg = sign(sign(base_message, spec(author())), spec(esp()));
    msg = sign(msg, spec(author(), "simple/simple")); // same key as the first
    auto split = mail::split_message(msg);
    dkim::DkimVerifier v(options());
    auto names = v.begin(split.headers);
    REQUIRE(names.size() == 2);
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    v.provide_key(mail::KeyName{"x", "unasked.example"}, dns::TxtAnswer::found({"p="}));
    v.provide_key(names[1], dns(names[1]));
    v.provide_key(names[0], dns(names[0]));
    for (const auto& n : names)
        v.provide_key(n, dns::TxtAnswer::failed(dns::Status::temporary, "late"));
    auto rs = v.finish();
    REQUIRE(rs.size() == 3);
    for (const auto& r : rs)
        CHECK(r.result == DkimResult::pass);
}

TEST_CASE("dkim: key lookups that fail", "[dkim][rfc6376]") {
    const std::string msg = sign(base_message, spec(author()));
    SECTION("temporary failure is temperror") {
        Dns dns;
        dns.set(author(), dns::TxtAnswer::failed(dns::Status::temporary, "timeout"));
        auto r = verify_one(msg, dns);
        CHECK(r.result == DkimResult::temperror);
        CHECK(r.reason == "key s2048._domainkey.example.com: temporary DNS failure (timeout)");
    }
    SECTION("never answered is temperror") {
        dkim::DkimVerifier v(options());
        auto split = mail::split_message(msg);
        REQUIRE(v.begin(split.headers).size() == 1);
        auto rs = v.finish();
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].result == DkimResult::temperror);
        CHECK_THAT(rs[0].reason, Contains("no answer for key"));
    }
    SECTION("NXDOMAIN and NODATA are permerror") {
        CHECK(verify_one(msg, Dns{}).result == DkimResult::permerror);
        Dns nodata;
        nodata.set(author(), dns::TxtAnswer::failed(dns::Status::nodata, "NODATA"));
        auto r = verify_one(msg, nodata);
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "no key at s2048._domainkey.example.com");
    }
    SECTION("a temporary failure wins over a body that changed (RFC 6376 §6.1.2 first)") {
        Dns dns;
        dns.set(author(), dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL"));
        CHECK(verify_one(edit(msg, "noon", "one"), dns).result == DkimResult::temperror);
    }
}

TEST_CASE("dkim: key records that cannot verify the signature", "[dkim][rfc6376][rfc8301]") {
    const std::string msg = sign(base_message, spec(author()));
    auto with_record = [&](const std::string& record) {
        Dns dns;
        dns.set(author(), dns::TxtAnswer::found({record}));
        return verify_one(msg, dns);
    };
    const std::string p = author().key->public_key_base64();
    SECTION("revoked (empty p=)") {
        auto r = with_record("v=DKIM1; k=rsa; p=");
        CHECK(r.result == DkimResult::permerror);
        CHECK_THAT(r.reason, Contains("revoked"));
    }
    SECTION("k= does not match a=") {
        auto r = with_record("v=DKIM1; k=ed25519; p=" + esp().key->public_key_base64());
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "key type does not match a=");
    }
    SECTION("h= without sha256") {
        auto r = with_record("v=DKIM1; h=sha1; p=" + p);
        CHECK(r.result == DkimResult::permerror);
        CHECK_THAT(r.reason, Contains("h= does not allow sha256"));
        CHECK(with_record("v=DKIM1; h=sha1:sha256; p=" + p).result == DkimResult::pass);
    }
    SECTION("RSA key under 1024 bits (RFC 8301 §3.2)") {
        Signer weak{&keys().rsa512, "example.com", "s2048"};
        Dns dns;
        dns.publish(weak);
        auto r = verify_one(sign(base_message, spec(weak)), dns);
        CHECK(r.result == DkimResult::permerror);
        CHECK_THAT(r.reason, Contains("unusable key"));
        dkim::DkimOptions lax = options();
        lax.keys.min_rsa_bits = 512;
        CHECK(verify_one(sign(base_message, spec(weak)), dns, lax).result == DkimResult::pass);
    }
    SECTION("key policy minimum above the key") {
        dkim::DkimOptions strict = options();
        strict.keys.min_rsa_bits = 4096;
        CHECK(verify_one(msg, dns_for({author()}), strict).result == DkimResult::permerror);
    }
    SECTION("a broken record next to a usable one (RFC 6376 §3.6.2.2)") {
        Dns dns;
        dns.set(author(), dns::TxtAnswer::found({"garbage", "v=DKIM1; p=" + p}));
        CHECK(verify_one(msg, dns).result == DkimResult::pass);
    }
    SECTION("another key of the right type is a fail, not an error") {
        auto r = with_record("v=DKIM1; p=" + list().key->public_key_base64());
        CHECK(r.result == DkimResult::fail);
        CHECK(r.reason == "signature did not verify");
    }
}

TEST_CASE("dkim: t=s in the key record needs i= in d= itself", "[dkim][rfc6376]") {
    Dns dns;
    dns.set(author(), dns::TxtAnswer::found({author().key_record() + "; t=s"}));
    Spec sub = spec(author());
    sub.extra = {{"i", "alice@mail.example.com"}};
    auto r = verify_one(sign(base_message, sub), dns);
    CHECK(r.result == DkimResult::permerror);
    CHECK_THAT(r.reason, Contains("t=s"));
    CHECK(r.identity == "alice@mail.example.com");
    Spec same = spec(author());
    same.extra = {{"i", "alice@example.com"}};
    CHECK(verify_one(sign(base_message, same), dns).result == DkimResult::pass);
    // Without t=s a subdomain identity is fine.
    CHECK(verify_one(sign(base_message, sub), dns_for({author()})).result == DkimResult::pass);
}

TEST_CASE("dkim: signatures that cannot be used are permerror", "[dkim][rfc6376][rfc8301]") {
    auto dns = dns_for({author()});
    auto one = [&](Spec s) { return verify_one(sign(base_message, s), dns); };
    SECTION("rsa-sha1") {
        Spec s = spec(author());
        s.extra = {{"a", "rsa-sha1"}};
        auto r = one(s);
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "rsa-sha1 refused (RFC 8301)");
        CHECK(r.algorithm == "rsa-sha1");
        CHECK(r.domain == "example.com");
        CHECK(r.header_b.size() == 12);
    }
    SECTION("expired") {
        Spec s = spec(author());
        s.extra = {{"t", std::to_string(now - 7200)}, {"x", std::to_string(now - 1)}};
        auto r = one(s);
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "signature expired (x=" + std::to_string(now - 1) + ")");
        s.extra = {{"t", std::to_string(now - 7200)}, {"x", std::to_string(now)}};
        CHECK(one(s).result == DkimResult::pass); // still valid at x= itself
    }
    SECTION("i= outside d=") {
        Spec s = spec(author());
        s.extra = {{"i", "alice@example.net"}};
        auto r = one(s);
        CHECK(r.result == DkimResult::permerror);
        CHECK_THAT(r.reason, Contains("i= domain is not d="));
        CHECK(r.identity == "alice@example.net");
    }
    SECTION("h= without From") {
        Spec s = spec(author());
        s.h = "to:subject:date";
        auto r = one(s);
        CHECK(r.result == DkimResult::permerror);
        CHECK_THAT(r.reason, Contains("From"));
    }
    SECTION("duplicate tag") {
        Spec s = spec(author());
        s.extra = {{"d", "example.com"}};
        auto r = one(s);
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "duplicate tag d");
    }
    SECTION("missing v=") {
        auto r = verify_one(edit(sign(base_message, spec(author())), "v=1; ", ""), dns);
        CHECK(r.result == DkimResult::permerror);
        CHECK(r.reason == "missing v=");
    }
    SECTION("no lookups for any of them") {
        Spec s = spec(author());
        s.extra = {{"a", "rsa-sha1"}};
        dkim::DkimVerifier v(options());
        auto split = mail::split_message(sign(base_message, s));
        CHECK(v.begin(split.headers).empty());
        CHECK_FALSE(v.needs_body());
    }
}

TEST_CASE("dkim: l= with content appended", "[dkim][rfc6376]") {
    auto dns = dns_for({author()});
    auto body_size = [](const std::string& msg, mail::Canon c) {
        mail::BodyHasher h(c);
        mail::for_each_line(mail::split_message(msg).body,
                            [&](std::string_view l) { h.add_line(l); });
        h.finish();
        return h.canonical_length();
    };
    const std::uint64_t signed_bytes = body_size(base_message, mail::Canon::relaxed);
    Spec s = spec(author());
    s.extra = {{"l", std::to_string(signed_bytes)}};
    const std::string msg = sign(base_message, s);

    auto whole = verify_one(msg, dns);
    CHECK(whole.result == DkimResult::pass);
    CHECK(whole.body_length == signed_bytes);
    CHECK(whole.body_bytes == signed_bytes);
    CHECK_FALSE(whole.body_partial);
    CHECK(whole.reason.empty());

    const std::string appended = msg + "--\r\nunsubscribe: https://lists.example.org/\r\n";
    const std::uint64_t total = body_size(appended, mail::Canon::relaxed);
    auto partial = verify_one(appended, dns);
    CHECK(partial.result == DkimResult::pass);
    CHECK(partial.body_partial);
    CHECK(partial.body_bytes == total);
    CHECK(partial.reason == "l= covers " + std::to_string(signed_bytes) + " of " +
                                std::to_string(total) + " body bytes");
    auto ri = mail::format_resinfo(dkim::dkim_resinfo(partial));
    CHECK_THAT(ri, Contains("dkim=pass reason=\"l= covers"));

    // Changing the signed part still fails; a body shorter than l= is refused (RFC 6376 §3.5).
    CHECK(verify_one(edit(appended, "Alice\r\n", "Alicia\r\n"), dns).result == DkimResult::fail);
    auto shorter = verify_one(edit(msg, "\r\nAlice\r\n", "\r\n"), dns);
    CHECK(shorter.result == DkimResult::permerror);
    CHECK_THAT(shorter.reason, Contains("exceeds the"));

    // l=0 signs no body at all.
    Spec zero = spec(author());
    zero.extra = {{"l", "0"}};
    auto z = verify_one(edit(sign(base_message, zero), "noon", "never"), dns);
    CHECK(z.result == DkimResult::pass);
    CHECK(z.body_partial);
}

TEST_CASE("dkim: max_signatures bounds the work", "[dkim]") {
    auto dns = dns_for({author(), esp(), list()});
    std::string msg = sign(sign(sign(base_message, spec(author())), spec(esp())), spec(list()));
    dkim::DkimOptions two = options();
    two.max_signatures = 2;
    auto rs = verify(msg, dns, two);
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].result == DkimResult::pass);
    CHECK(rs[1].result == DkimResult::pass);
    CHECK(rs[2].result == DkimResult::policy);
    CHECK(rs[2].reason == "not checked: more than 2 DKIM signatures");
    CHECK(rs[2].domain == "example.com");

    // Signatures that cannot be used do not count against the limit.
    Spec sha1 = spec(esp());
    sha1.extra = {{"a", "rsa-sha1"}};
    std::string junk = sign(sign(base_message, spec(author())), sha1);
    auto js = verify(junk, dns, two);
    REQUIRE(js.size() == 2);
    CHECK(js[0].result == DkimResult::permerror);
    CHECK(js[1].result == DkimResult::pass);

    // A thousand signatures: only the first ten ask for a key.
    const std::string field(mail::split_message(msg).headers[0].raw());
    std::string many;
    for (int i = 0; i < 1000; ++i)
        many += edit(field, "s=l1", "s=l" + std::to_string(i)) + "\r\n";
    many += msg;
    dkim::DkimVerifier v(options());
    auto split = mail::split_message(many);
    auto names = v.begin(split.headers);
    CHECK(names.size() == 10);
    mail::for_each_line(split.body, [&](std::string_view l) { v.add_body_line(l); });
    for (const auto& n : names)
        v.provide_key(n, dns(n));
    auto all = v.finish();
    REQUIRE(all.size() == 1003);
    CHECK(std::count_if(all.begin(), all.end(),
                        [](const auto& r) { return r.result == DkimResult::policy; }) == 993);
}

TEST_CASE("dkim: header selection matches RFC 6376 §5.4.2", "[dkim][rfc6376]") {
    // Two Received fields: h=received:received signs both, bottom one first.
    std::vector<mail::HeaderField> headers = {
        mail::HeaderField("Received: top"),
        mail::HeaderField("From: a@example.com"),
        mail::HeaderField("Received: bottom"),
    };
    std::string data =
        mail::signed_header_data(headers, {"received", "from", "received", "x"},
                                 mail::Canon::relaxed, "DKIM-Signature: a=1; b=abc; bh=x");
    CHECK(data == "received:bottom\r\nfrom:a@example.com\r\nreceived:top\r\n"
                  "dkim-signature:a=1; b=; bh=x");
    // Names match case-insensitively; empty names and names without an instance add nothing.
    data = mail::signed_header_data(headers, {"", "RECEIVED", "To", "received", "received"},
                                    mail::Canon::simple, "DKIM-Signature: b=1");
    CHECK(data == "Received: bottom\r\nReceived: top\r\nDKIM-Signature: b=");
    // Many instances and names: each name takes the next one up, in linear time.
    std::vector<mail::HeaderField> many;
    std::vector<std::string> names;
    for (int i = 0; i < 20000; ++i) {
        many.emplace_back("X: " + std::to_string(i));
        names.emplace_back("x");
    }
    data = mail::signed_header_data(many, names, mail::Canon::relaxed, "S: b=");
    CHECK(data.substr(0, 18) == "x:19999\r\nx:19998\r\n");
    CHECK(data.substr(data.size() - 9) == "x:0\r\ns:b=");
}

TEST_CASE("dkim_resinfo: RFC 8601 properties and reasons", "[dkim_resinfo][rfc8601][rfc6008]") {
    dkim::DkimSignatureResult r;
    r.result = DkimResult::pass;
    r.domain = "example.com";
    r.identity = "@example.com";
    r.selector = "s2048";
    r.algorithm = "rsa-sha256";
    r.header_b = "dGhpcyBpcyBu";
    CHECK(mail::format_resinfo(dkim::dkim_resinfo(r)) ==
          "dkim=pass header.d=example.com header.i=@example.com header.s=s2048 "
          "header.a=rsa-sha256 header.b=dGhpcyBpcyBu");
    r.result = DkimResult::fail;
    r.reason = "body hash did not verify";
    CHECK(mail::format_resinfo(dkim::dkim_resinfo(r)) ==
          "dkim=fail reason=\"body hash did not verify\" header.d=example.com "
          "header.i=@example.com header.s=s2048 header.a=rsa-sha256 header.b=dGhpcyBpcyBu");

    // A hostile field's values never break the header out of its quotes.
    dkim::DkimSignatureResult bad;
    bad.result = DkimResult::permerror;
    bad.reason = "unknown algorithm a=x\"; dkim=pass\r\n";
    bad.algorithm = "x\"; dkim=pass";
    std::string text = mail::format_resinfo(dkim::dkim_resinfo(bad));
    CHECK(text.find_first_of("\r\n") == std::string::npos);
    auto back = mail::parse_authentication_results("mx.example; " + text);
    REQUIRE(back);
    REQUIRE(back->results.size() == 1);
    CHECK(back->results[0].result == "permerror");

    // Real results read back as written, one resinfo each.
    auto dns = dns_for({author(), esp()});
    std::string msg = sign(sign(base_message, spec(author())), spec(esp()));
    auto rs = verify(edit(msg, "noon", "one"), dns);
    std::string ar = "mx.example";
    for (const auto& ri : dkim::dkim_resinfos(rs))
        ar += "; " + mail::format_resinfo(ri);
    auto parsed = mail::parse_authentication_results(ar);
    REQUIRE(parsed);
    REQUIRE(parsed->results.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(parsed->results[i].result == dkim::to_string(rs[i].result));
        CHECK(parsed->results[i].properties[0].value == rs[i].domain);
        CHECK(parsed->results[i].properties[4].value == rs[i].header_b);
    }
    CHECK(dkim::to_string(DkimResult::neutral) == "neutral");
    CHECK(dkim::to_string(DkimResult::policy) == "policy");
}

// ---------------------------------------------------------------------------------------------
// CPU bounds (issue 15, class 4).

TEST_CASE("dkim: signatures beyond the public-key operation budget are policy, with a reason",
          "[dkim][rfc8601][issue15]") {
    const std::string msg =
        sign(sign(sign(base_message, spec(list())), spec(esp())), spec(author()));
    const Dns dns = dns_for({author(), esp(), list()});
    auto opts = options();
    opts.keys.max_key_operations = 2;
    auto rs = verify(msg, dns, opts);
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].result == DkimResult::pass);
    CHECK(rs[1].result == DkimResult::pass);
    CHECK(rs[2].result == DkimResult::policy);
    CHECK_THAT(rs[2].reason, Contains("per-message signature budget exhausted"));
    opts.keys.max_key_operations = 3;
    for (const auto& r : verify(msg, dns, opts))
        CHECK(r.result == DkimResult::pass);
}

TEST_CASE("dkim: 50 records at a selector are not all tried", "[dkim][rfc6376][issue15]") {
    const std::string msg = sign(base_message, spec(author()));
    std::vector<std::string> records(49, list().key_record()); // RSA-1024, another key
    records.push_back(author().key_record());
    Dns dns;
    dns.set(author(), dns::TxtAnswer::found(records));
    auto opts = options();
    opts.budget = std::make_shared<mail::KeyOperationBudget>(0);
    CHECK(verify_one(msg, dns, opts).result == DkimResult::fail);
    CHECK(opts.budget->used() == 3);
}

namespace {

// One message verified as the filter does: DKIM first, then ARC, one budget for both.
struct BothVerdicts {
    std::vector<dkim::DkimSignatureResult> dkim;
    arc::ChainResult chain;
    std::size_t used = 0;
};

BothVerdicts verify_both(const std::string& msg, const Dns& dns, std::size_t max_operations) {
    auto split = mail::split_message(msg);
    arc::VerifyOptions vo;
    vo.now = now;
    vo.keys.max_key_operations = max_operations;
    arc::ChainVerifier cv(vo);
    dkim::DkimVerifier dv(options());
    dv.share_budget(cv.key_budget());
    auto names = dv.begin(split.headers);
    for (const auto& n : cv.begin(std::move(split.headers)))
        names.push_back(n);
    mail::for_each_line(split.body, [&](std::string_view l) {
        cv.add_body_line(l);
        dv.add_body_line(l);
    });
    for (const auto& n : names) {
        cv.provide_key(n, dns(n));
        dv.provide_key(n, dns(n));
    }
    BothVerdicts b;
    b.dkim = dv.finish();
    b.chain = cv.finish();
    b.used = cv.key_budget()->used();
    return b;
}

} // namespace

TEST_CASE("dkim + arc: the worst legal message is fully verified under the default budget",
          "[dkim][chain][rfc8617][issue15]") {
    // 10 DKIM signatures (DkimOptions::max_signatures) and 50 ARC sets (RFC 8617 §4.2.1):
    // 110 public-key operations with oldest-pass.
    std::string msg = base_message;
    for (int i = 0; i < 10; ++i)
        msg = sign(msg, spec(i % 2 == 0 ? esp() : list()));
    const tests::Signer hop{&keys().ed25519, "hop.example", "h"};
    for (int i = 0; i < 50; ++i) {
        tests::SealOptions o;
        o.ams = o.seal = hop;
        o.cv = i == 0 ? arc::Cv::none : arc::Cv::pass;
        msg = tests::seal_message(msg, o);
    }
    Dns dns = dns_for({esp(), list(), hop});
    auto both = verify_both(msg, dns, mail::KeyPolicy{}.max_key_operations);
    REQUIRE(both.dkim.size() == 10);
    for (const auto& r : both.dkim)
        CHECK(r.result == DkimResult::pass);
    CHECK(both.chain.status == arc::ChainStatus::pass);
    CHECK(both.chain.oldest_pass == std::optional<std::uint32_t>(0));
    CHECK(both.used == 110);
    // The budget is shared: with 60 operations DKIM (first, as in the filter) takes 10 and
    // the chain, which needs 51 for its verdict, cannot be vouched for.
    both = verify_both(msg, dns, 60);
    for (const auto& r : both.dkim)
        CHECK(r.result == DkimResult::pass);
    CHECK(both.chain.status == arc::ChainStatus::fail);
    CHECK_THAT(both.chain.reason, Contains("budget exhausted"));
}

namespace {

// Verifies DKIM and the chain of `msg` with one set of body hashes of `max_hashers`, fed once
// (as filter::MessageJob does), with a seal's relaxed body hash requested too.
struct SharedRun {
    std::vector<dkim::DkimSignatureResult> dkim;
    arc::ChainResult chain;
    mail::SharedBodyHashes hashes;
    const mail::Digest* seal = nullptr;
};

SharedRun verify_shared(const std::string& msg, const Dns& dns, std::size_t max_hashers) {
    auto split = mail::split_message(msg);
    SharedRun run;
    run.hashes = std::make_shared<mail::BodyHashes>(max_hashers);
    arc::VerifyOptions vo;
    vo.now = now;
    vo.body_hashes = run.hashes;
    arc::ChainVerifier cv(vo);
    dkim::DkimVerifier dv(options());
    CHECK(dv.share_body_hashes(run.hashes));
    auto names = dv.begin(split.headers);
    CHECK_FALSE(dv.share_body_hashes(std::make_shared<mail::BodyHashes>())); // too late
    for (const auto& n : cv.begin(std::move(split.headers)))
        names.push_back(n);
    const auto seal = cv.add_body_hash(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) {
        run.hashes->add_line(l);
        // The verifiers leave a shared set to its owner: lines given to them are not hashed
        // a second time.
        cv.add_body_line(l);
        dv.add_body_line(l);
    });
    for (const auto& n : names) {
        cv.provide_key(n, dns(n));
        dv.provide_key(n, dns(n));
    }
    run.dkim = dv.finish();
    run.chain = cv.finish();
    run.seal = cv.body_hash(seal);
    return run;
}

tests::Signer hop_signer() {
    return tests::Signer{&keys().ed25519, "hop.example", "h"};
}

} // namespace

TEST_CASE("dkim + arc: a DKIM-Signature, an AMS and our seal share one body hash",
          "[dkim][chain][body_hashes][issue16][issue21]") {
    // relaxed/relaxed both, no l=: one hasher for DKIM, the AMS and the seal.
    std::string msg = sign(base_message, spec(author()));
    tests::SealOptions o;
    o.ams = o.seal = hop_signer();
    msg = tests::seal_message(msg, o);
    const Dns dns = dns_for({author(), hop_signer()});
    auto run = verify_shared(msg, dns, mail::default_max_body_hashers);
    REQUIRE(run.dkim.size() == 1);
    CHECK(run.dkim[0].result == DkimResult::pass);
    CHECK(run.chain.status == arc::ChainStatus::pass);
    CHECK(run.hashes->keys() == 1);
    CHECK(run.hashes->hashers() == 1);
    REQUIRE(run.seal != nullptr);
    CHECK(*run.seal == tests::hash_body(mail::Canon::relaxed, mail::split_message(msg).body));

    // A simple/simple DKIM-Signature on top needs a second hasher, and still passes.
    msg = sign(msg, spec(esp(), "simple/simple"));
    run = verify_shared(msg, dns_for({author(), esp(), hop_signer()}),
                        mail::default_max_body_hashers);
    REQUIRE(run.dkim.size() == 2);
    CHECK(run.dkim[0].result == DkimResult::pass);
    CHECK(run.dkim[1].result == DkimResult::pass);
    CHECK(run.chain.status == arc::ChainStatus::pass);
    CHECK(run.hashes->hashers() == 2);
}

TEST_CASE("dkim + arc: body hashes past the budget give a verdict with a reason",
          "[dkim][chain][body_hashes][issue21]") {
    // Three DKIM-Signatures with distinct l= and a 2-set chain whose older AMS has an l= of its
    // own: five keys (with the seal's, shared with the newest AMS).
    std::string msg = base_message;
    for (const char* l : {"3", "2", "1"}) {
        Spec s = spec(author());
        s.extra = {{"l", l}};
        msg = sign(msg, s);
    }
    tests::SealOptions first;
    first.ams = first.seal = hop_signer();
    first.body_length = 5;
    msg = tests::seal_message(msg, first);
    tests::SealOptions second;
    second.ams = second.seal = hop_signer();
    second.cv = arc::Cv::pass;
    msg = tests::seal_message(msg, second);
    const Dns dns = dns_for({author(), hop_signer()});

    auto all = verify_shared(msg, dns, mail::default_max_body_hashers);
    CHECK(all.hashes->hashers() == 5);
    REQUIRE(all.dkim.size() == 3);
    for (const auto& r : all.dkim)
        CHECK(r.result == DkimResult::pass);
    CHECK(all.chain.status == arc::ChainStatus::pass);
    CHECK(all.chain.oldest_pass == std::optional<std::uint32_t>(0));

    // Two hashers: the newest AMS (with our seal) and the first DKIM-Signature in message order.
    auto capped = verify_shared(msg, dns, 2);
    CHECK(capped.hashes->keys() == 5);
    CHECK(capped.hashes->hashers() == 2);
    REQUIRE(capped.dkim.size() == 3);
    CHECK(capped.dkim[0].result == DkimResult::pass);
    for (std::size_t i : {1u, 2u}) {
        CHECK(capped.dkim[i].result == DkimResult::permerror);
        CHECK_THAT(capped.dkim[i].reason,
                   Contains("body hash not computed: more than 2 distinct body hashes"));
    }
    // The verdict still stands; the older AMS is not vouched for (oldest-pass is informational).
    CHECK(capped.chain.status == arc::ChainStatus::pass);
    CHECK(capped.chain.oldest_pass == std::optional<std::uint32_t>(2));
    CHECK(capped.seal != nullptr);

    // One hasher: the newest AMS's, which our seal shares; every DKIM-Signature is left out.
    auto one = verify_shared(msg, dns, 1);
    CHECK(one.chain.status == arc::ChainStatus::pass);
    CHECK(one.seal != nullptr);
    for (const auto& r : one.dkim)
        CHECK(r.result == DkimResult::permerror);
}
