// SPDX-License-Identifier: ISC
// Unit tests for mail/key_record.hpp: DKIM key records (RFC 6376 §3.6.1, RFC 8463 §4.2).
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"

#include <string>
#include <vector>

#include "mail/key_record.hpp"

using namespace arcf;
using mail::Errc;
using mail::KeyType;

namespace {

const std::string rsa_p = tests::keys::rsa1024_spki_b64;
const std::string ed_p = tests::keys::ed25519_raw_b64;

mail::KeyRecord parse_ok(const std::string& txt, const mail::KeyPolicy& policy = {}) {
    auto r = mail::parse_key_record(txt, policy);
    INFO("record: " << txt);
    INFO("error: " << (r ? std::string() : r.error().detail));
    REQUIRE(r);
    return *r;
}

Errc parse_error(const std::string& txt, const mail::KeyPolicy& policy = {}) {
    auto r = mail::parse_key_record(txt, policy);
    INFO("record: " << txt);
    REQUIRE_FALSE(r);
    return r.error().code;
}

// True when `rec` holds the RSA test key: it verifies openssl's signature over SHA-256("abc").
bool is_rsa_test_key(const mail::KeyRecord& rec) {
    return rec.key.type() == KeyType::rsa &&
           rec.key.verify(mail::sha256("abc"), tests::unb64(tests::keys::rsa1024_sig_abc_b64));
}

} // namespace

TEST_CASE("key_record: minimal RSA record; v= and k= are optional", "[key_record][rfc6376]") {
    auto rec = parse_ok("p=" + rsa_p);
    CHECK(is_rsa_test_key(rec));
    CHECK(rec.key.bits() == 1024);
    CHECK_FALSE(rec.testing);
    CHECK_FALSE(rec.strict_identity);
    CHECK(is_rsa_test_key(parse_ok("v=DKIM1; k=rsa; p=" + rsa_p)));
    CHECK(is_rsa_test_key(parse_ok("v=DKIM1; p=" + rsa_p + ";")));
}

TEST_CASE("key_record: an x-rotation= tag is ignored (issue 18 item 6 decision)",
          "[key_record][rfc6376]") {
    auto r = parse_ok("v=DKIM1; k=rsa; x-rotation=2026-12; p=" + rsa_p);
    CHECK(r.key.type() == mail::KeyType::rsa);
}

TEST_CASE("key_record: v= must be DKIM1 and the first tag", "[key_record][rfc6376]") {
    CHECK(parse_error("v=DKIM2; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("v=dkim1; p=" + rsa_p) == Errc::unsupported); // case-sensitive
    CHECK(parse_error("v=; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("k=rsa; v=DKIM1; p=" + rsa_p) == Errc::syntax);
    CHECK(parse_error("p=" + rsa_p + "; v=DKIM1") == Errc::syntax);
}

TEST_CASE("key_record: k= rsa, ed25519 and unknown types", "[key_record][rfc6376][rfc8463]") {
    auto ed = parse_ok("v=DKIM1; k=ed25519; p=" + ed_p);
    CHECK(ed.key.type() == KeyType::ed25519);
    CHECK(ed.key.verify(mail::sha256("abc"), tests::unb64(tests::keys::ed25519_sig_abc_b64)));
    CHECK(parse_error("k=dsa; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("k=RSA; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("k=; p=" + rsa_p) == Errc::unsupported);
    // The key must match k=: an RSA key under k=ed25519 has the wrong length, and an Ed25519
    // key without k= is read as RSA.
    CHECK(parse_error("k=ed25519; p=" + rsa_p) == Errc::bad_value);
    CHECK(parse_error("p=" + ed_p) == Errc::crypto);
}

TEST_CASE("key_record: p= may contain whitespace and folding", "[key_record][rfc6376]") {
    std::string spaced;
    for (std::size_t i = 0; i < rsa_p.size(); ++i) {
        spaced += rsa_p[i];
        if (i % 20 == 19)
            spaced += (i % 40 == 39) ? "\r\n\t" : " ";
    }
    CHECK(is_rsa_test_key(parse_ok("v=DKIM1; k=rsa; p=" + spaced)));
    CHECK(is_rsa_test_key(parse_ok("v=DKIM1; k=rsa; p= " + rsa_p + " ")));
}

TEST_CASE("key_record: empty p= means revoked", "[key_record][rfc6376]") {
    CHECK(parse_error("v=DKIM1; k=rsa; p=") == Errc::revoked);
    CHECK(parse_error("v=DKIM1; p= ;") == Errc::revoked);
    CHECK(parse_error("v=DKIM1; k=ed25519; p=") == Errc::revoked);
}

TEST_CASE("key_record: missing or undecodable p=", "[key_record][rfc6376]") {
    CHECK(parse_error("v=DKIM1; k=rsa") == Errc::missing_tag);
    CHECK(parse_error("v=DKIM1; p=!!!!") == Errc::bad_value);
    CHECK(parse_error("v=DKIM1; p=" + rsa_p.substr(1)) == Errc::bad_value);
    CHECK(parse_error("v=DKIM1; p=AAAA") == Errc::crypto);
}

TEST_CASE("key_record: h= must allow sha256", "[key_record][rfc6376]") {
    CHECK(is_rsa_test_key(parse_ok("h=sha256; p=" + rsa_p)));
    CHECK(is_rsa_test_key(parse_ok("h=sha1:sha256; p=" + rsa_p)));
    CHECK(is_rsa_test_key(parse_ok("h= sha1 : sha256 ; p=" + rsa_p)));
    CHECK(parse_error("h=sha1; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("h=SHA256; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("h=sha512:sha1; p=" + rsa_p) == Errc::unsupported);
}

TEST_CASE("key_record: s= must include email or *", "[key_record][rfc6376]") {
    CHECK(is_rsa_test_key(parse_ok("s=email; p=" + rsa_p)));
    CHECK(is_rsa_test_key(parse_ok("s=*; p=" + rsa_p)));
    CHECK(is_rsa_test_key(parse_ok("s=tlsrpt:email; p=" + rsa_p)));
    CHECK(parse_error("s=tlsrpt; p=" + rsa_p) == Errc::unsupported);
    CHECK(parse_error("s=emails; p=" + rsa_p) == Errc::unsupported);
}

TEST_CASE("key_record: t= flags y and s", "[key_record][rfc6376]") {
    auto y = parse_ok("t=y; p=" + rsa_p);
    CHECK(y.testing);
    CHECK_FALSE(y.strict_identity);
    auto s = parse_ok("t=s; p=" + rsa_p);
    CHECK_FALSE(s.testing);
    CHECK(s.strict_identity);
    auto both = parse_ok("t=y : s; p=" + rsa_p);
    CHECK(both.testing);
    CHECK(both.strict_identity);
    // Unknown flags are ignored (RFC 6376 §3.6.1).
    auto other = parse_ok("t=x; p=" + rsa_p);
    CHECK_FALSE(other.testing);
    CHECK_FALSE(other.strict_identity);
}

TEST_CASE("key_record: unknown tags are ignored, syntax errors are not", "[key_record][rfc6376]") {
    CHECK(is_rsa_test_key(parse_ok("v=DKIM1; n=some notes; g=*; zz=1; p=" + rsa_p)));
    CHECK(parse_error("v=DKIM1;; p=" + rsa_p) == Errc::syntax);
    CHECK(parse_error("v=DKIM1; p=" + rsa_p + "; p=" + rsa_p) == Errc::duplicate_tag);
    CHECK(parse_error("this is not a key record") == Errc::syntax);
}

TEST_CASE("key_record: the key size policy applies", "[key_record][rfc8301]") {
    const std::string small = std::string("v=DKIM1; k=rsa; p=") + tests::keys::rsa512_spki_b64;
    CHECK(parse_error(small) == Errc::key_too_small);
    mail::KeyPolicy lax;
    lax.min_rsa_bits = 512;
    CHECK(parse_ok(small, lax).key.bits() == 512);
    mail::KeyPolicy strict;
    strict.min_rsa_bits = 2048;
    CHECK(parse_error("p=" + rsa_p, strict) == Errc::key_too_small);
}

TEST_CASE("key_record: parse_key_records keeps the usable keys in order", "[key_record][rfc6376]") {
    const std::string rsa2048 = std::string("v=DKIM1; p=") + tests::keys::rsa2048_spki_b64;
    const std::vector<std::string> records = {
        "v=DKIM1; k=rsa; p=",  // revoked
        "v=spf1 -all",         // not a key record
        rsa2048,               // usable
        "v=DKIM1; p=" + rsa_p, // usable
        "v=DKIM1; k=ed25519; p=" + ed_p,
    };
    mail::Error err;
    mail::KeyPolicy all;
    all.max_key_records = 0; // every record
    auto keys = mail::parse_key_records(records, all, &err);
    REQUIRE(keys.size() == 3);
    CHECK(keys[0].key.bits() == 2048);
    CHECK(is_rsa_test_key(keys[1]));
    CHECK(keys[2].key.type() == KeyType::ed25519);
    // The first failure is reported.
    CHECK(err.code == Errc::revoked);
}

TEST_CASE("key_record: parse_key_records with nothing usable reports the first error",
          "[key_record][rfc6376]") {
    mail::Error err;
    auto keys = mail::parse_key_records({"v=DKIM2; p=" + rsa_p, "v=DKIM1; p="}, {}, &err);
    CHECK(keys.empty());
    CHECK(err.code == Errc::unsupported);
    // A null error pointer is allowed.
    CHECK(mail::parse_key_records({"garbage", "p=" + rsa_p}, {}, nullptr).size() == 1);
    CHECK(mail::parse_key_records({}, {}, &err).empty());
}

TEST_CASE("key_record: only the first max_key_records records of an answer are considered",
          "[key_record][rfc6376][issue15]") {
    // RFC 6376 §3.6.2.2 leaves the choice to the verifier: a selector with 50 records must not
    // cost 50 verifications per signature (issue 15, class 4).
    const std::string usable = "v=DKIM1; p=" + rsa_p;
    std::vector<std::string> records(49,
                                     std::string("v=DKIM1; p=") + tests::keys::rsa2048_spki_b64);
    records.push_back(usable);
    mail::Error err;
    auto keys = mail::parse_key_records(records, {}, &err);
    CHECK(keys.size() == 3); // the default: 3
    for (const auto& k : keys)
        CHECK(k.key.bits() == 2048);
    mail::KeyPolicy one;
    one.max_key_records = 1;
    CHECK(mail::parse_key_records(records, one, &err).size() == 1);
    // Unusable records count too: nothing usable among the first three.
    err = {};
    CHECK(mail::parse_key_records({"v=spf1 -all", "x", "v=DKIM1; p=", usable}, {}, &err).empty());
    CHECK(err.code == Errc::unsupported); // v=spf1
    mail::KeyPolicy all;
    all.max_key_records = 0;
    CHECK(mail::parse_key_records(records, all, &err).size() == 50);
}

TEST_CASE("key_record: a record longer than max_record_bytes is refused", "[key_record][issue15]") {
    const std::string usable = "v=DKIM1; p=" + rsa_p;
    // Padded with an unknown tag (which RFC 6376 §3.6.1 says to ignore) to just the bound.
    const std::string pad = "; n=";
    std::string at_bound = usable + pad + std::string(8192 - usable.size() - pad.size(), 'x');
    REQUIRE(at_bound.size() == 8192);
    CHECK(is_rsa_test_key(parse_ok(at_bound)));
    auto r = mail::parse_key_record(at_bound + "x", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::key_too_large);
    CHECK(r.error().detail == "key record of 8193 bytes (at most 8192)");
    mail::KeyPolicy small;
    small.max_record_bytes = 128;
    CHECK(parse_error(usable, small) == Errc::key_too_large);
}
