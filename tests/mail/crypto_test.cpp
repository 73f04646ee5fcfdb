// SPDX-License-Identifier: ISC
// Unit tests for mail/crypto.hpp: SHA-256, rsa-sha256 and ed25519-sha256 keys and signatures.
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"
#include "tests/mail/der_writer.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mail/base64.hpp"
#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"
#include "mail/tag_list.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using mail::Errc;
using mail::KeyPolicy;
using mail::KeyType;
using mail::PublicKey;
using tests::b64;
using tests::unb64;

namespace {

// --- RSA public keys of any size, through the tests' DER writer (tests/mail/der_writer.hpp). ---

using tests::der;

// An unsigned big-endian magnitude as a DER INTEGER.
std::string der_uint(std::string magnitude) {
    if (!magnitude.empty() && (static_cast<unsigned char>(magnitude[0]) & 0x80) != 0)
        magnitude.insert(magnitude.begin(), '\0');
    return der(0x02, magnitude);
}

// PKCS#1 RSAPublicKey with n = 2^(bits-1) + 1 (exactly `bits` bits) and e = 65537. Not a real
// key, but every parser sees a `bits`-bit modulus.
std::string synthetic_rsa_pkcs1(unsigned bits) {
    std::string n((bits + 7) / 8, '\0');
    n[0] = static_cast<char>(1u << ((bits - 1) % 8));
    n.back() = static_cast<char>(n.back() | 1);
    return der(0x30, der_uint(n) + der_uint(std::string("\x01\x00\x01", 3)));
}

// SubjectPublicKeyInfo { rsaEncryption (1.2.840.113549.1.1.1), NULL } wrapping a PKCS#1 key.
std::string rsa_spki(const std::string& pkcs1) {
    const std::string oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00", 13);
    return der(0x30, der(0x30, oid) + der(0x03, std::string(1, '\0') + pkcs1));
}

mail::Digest digest_of(const char* text) {
    return mail::sha256(text);
}

PublicKey public_key(KeyType t, const char* b64_der, const KeyPolicy& policy = {}) {
    auto k = PublicKey::from_der(t, unb64(b64_der), policy);
    INFO("key: " << b64_der);
    REQUIRE(k);
    return *k;
}

Errc key_error(KeyType t, const std::string& der_bytes, const KeyPolicy& policy = {}) {
    auto k = PublicKey::from_der(t, der_bytes, policy);
    REQUIRE_FALSE(k);
    return k.error().code;
}

// RFC 8463 §A.1: the Ed25519 private key as a seed; PKCS#8 wraps it after a fixed prefix.
std::string rfc8463_ed25519_pem() {
    std::string pkcs8("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16);
    pkcs8 += unb64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
    return "-----BEGIN PRIVATE KEY-----\n" + mail::base64_encode(pkcs8) +
           "\n-----END PRIVATE KEY-----\n";
}

constexpr const char* rfc8463_ed25519_p = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* rfc8463_rsa_p =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO"
    "2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

// RFC 8463 §A.3: a message signed with both keys.
constexpr const char* rfc8463_message =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
    " subject : date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
    " date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\n"
    "From: Joe SixPack <joe@football.example.com>\n"
    "To: Suzie Q <suzie@shopping.example.net>\n"
    "Subject: Is dinner ready?\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
    "\n"
    "Hi.\n"
    "\n"
    "We lost the game.  Are you hungry yet?\n"
    "\n"
    "Joe.\n";

// RFC 6376 §3.7 header hash of the DKIM-Signature at `sig_index` (relaxed header canon, as
// both RFC 8463 signatures use), with h= names picked bottom-up (§5.4.2).
mail::Digest dkim_header_digest(const std::vector<mail::HeaderField>& headers,
                                std::size_t sig_index,
                                std::string& signature) {
    const auto& sig = headers[sig_index];
    auto tags = mail::parse_tag_list(sig.value());
    REQUIRE(tags);
    signature = unb64(*tags->get("b"));
    std::string data;
    std::vector<bool> used(headers.size(), false);
    std::string_view h = *tags->get("h");
    while (!h.empty()) {
        auto colon = h.find(':');
        std::string name = text::to_lower(mail::strip_fws(h.substr(0, colon)));
        h = colon == std::string_view::npos ? std::string_view() : h.substr(colon + 1);
        for (std::size_t k = headers.size(); k-- > 0;) {
            if (!used[k] && headers[k].is(name)) {
                used[k] = true;
                mail::append_canon_header(data, mail::Canon::relaxed, headers[k].raw());
                break;
            }
        }
    }
    mail::append_canon_header(data, mail::Canon::relaxed, mail::strip_b_value(sig.raw()), false);
    return mail::sha256(data);
}

} // namespace

TEST_CASE("crypto: SHA-256 known digests, one-shot and streamed", "[crypto]") {
    CHECK(b64(mail::sha256("abc")) == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    CHECK(b64(mail::sha256("")) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    mail::Sha256 h;
    h.update("a");
    h.update("");
    h.update("bc");
    CHECK(h.finish() == mail::sha256("abc"));
    // finish() starts a fresh digest.
    CHECK(h.finish() == mail::sha256(""));
    h.update("abc");
    mail::Sha256 moved(std::move(h));
    CHECK(moved.finish() == mail::sha256("abc"));
    mail::Sha256 assigned;
    assigned.update("zzz");
    assigned = std::move(moved);
    assigned.update("abc");
    CHECK(assigned.finish() == mail::sha256("abc"));
}

TEST_CASE("crypto: algorithm and key type names", "[crypto][rfc6376][rfc8463]") {
    CHECK(mail::to_string(mail::Algorithm::rsa_sha256) == "rsa-sha256");
    CHECK(mail::to_string(mail::Algorithm::ed25519_sha256) == "ed25519-sha256");
    CHECK(mail::to_string(KeyType::rsa) == "rsa");
    CHECK(mail::to_string(KeyType::ed25519) == "ed25519");
    CHECK(mail::key_type_of(mail::Algorithm::rsa_sha256) == KeyType::rsa);
    CHECK(mail::key_type_of(mail::Algorithm::ed25519_sha256) == KeyType::ed25519);
}

TEST_CASE("crypto: RSA private key from PKCS#8 and PKCS#1 PEM", "[crypto][rfc6376]") {
    auto k8 = tests::load_key(tests::keys::rsa1024_pkcs8);
    auto k1 = tests::load_key(tests::keys::rsa1024_pkcs1);
    for (const auto* k : {&k8, &k1}) {
        CHECK(k->type() == KeyType::rsa);
        CHECK(k->bits() == 1024);
        CHECK(k->algorithm() == mail::Algorithm::rsa_sha256);
        // The p= value is the SPKI, as `openssl pkey -pubout -outform DER` writes it.
        CHECK(k->public_key_base64() == tests::keys::rsa1024_spki_b64);
    }
    auto k2048 = tests::load_key(tests::keys::rsa2048_pkcs8);
    CHECK(k2048.bits() == 2048);
    CHECK(k2048.public_key_base64() == tests::keys::rsa2048_spki_b64);
}

TEST_CASE("crypto: Ed25519 private key from PEM; p= is the raw 32-byte key", "[crypto][rfc8463]") {
    auto k = tests::load_key(tests::keys::ed25519_pkcs8);
    CHECK(k.type() == KeyType::ed25519);
    CHECK(k.algorithm() == mail::Algorithm::ed25519_sha256);
    CHECK(k.public_key_base64() == tests::keys::ed25519_raw_b64);
    // RFC 8463 §A.1/§A.2: the example private key and its published public key.
    auto rfc = mail::PrivateKey::from_pem(rfc8463_ed25519_pem());
    REQUIRE(rfc);
    CHECK(rfc->public_key_base64() == rfc8463_ed25519_p);
}

TEST_CASE("crypto: private keys that are not RSA or Ed25519, or not PEM, are refused", "[crypto]") {
    auto ec = mail::PrivateKey::from_pem(tests::keys::ec_p256_pkcs8);
    REQUIRE_FALSE(ec);
    CHECK(ec.error().code == Errc::unsupported);
    for (const char* bad : {"", "not a key",
                            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END "
                            "PRIVATE KEY-----\n"}) {
        auto r = mail::PrivateKey::from_pem(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::crypto);
    }
}

TEST_CASE("crypto: rsa-sha256 signature equals openssl's (PKCS#1 v1.5 is deterministic)",
          "[crypto][rfc6376]") {
    auto k = tests::load_key(tests::keys::rsa1024_pkcs8);
    auto sig = k.sign(digest_of("abc"));
    REQUIRE(sig);
    CHECK(sig->size() == 128);
    CHECK(mail::base64_encode(*sig) == tests::keys::rsa1024_sig_abc_b64);
}

TEST_CASE("crypto: ed25519-sha256 signature equals openssl's over the 32-byte digest",
          "[crypto][rfc8463]") {
    auto k = tests::load_key(tests::keys::ed25519_pkcs8);
    auto sig = k.sign(digest_of("abc"));
    REQUIRE(sig);
    CHECK(sig->size() == 64);
    CHECK(mail::base64_encode(*sig) == tests::keys::ed25519_sig_abc_b64);
}

TEST_CASE("crypto: rsa-sha256 verify of openssl's signature, and every tampering fails",
          "[crypto][rfc6376]") {
    auto pk = public_key(KeyType::rsa, tests::keys::rsa1024_spki_b64);
    CHECK(pk.type() == KeyType::rsa);
    CHECK(pk.bits() == 1024);
    const std::string sig = unb64(tests::keys::rsa1024_sig_abc_b64);
    CHECK(pk.verify(digest_of("abc"), sig));
    CHECK_FALSE(pk.verify(digest_of("abd"), sig));
    std::string flipped = sig;
    flipped[60] = static_cast<char>(flipped[60] ^ 0x01);
    CHECK_FALSE(pk.verify(digest_of("abc"), flipped));
    CHECK_FALSE(pk.verify(digest_of("abc"), sig.substr(0, 127)));
    CHECK_FALSE(pk.verify(digest_of("abc"), sig + '\0'));
    CHECK_FALSE(pk.verify(digest_of("abc"), ""));
    // Another RSA key does not verify it.
    auto other = public_key(KeyType::rsa, tests::keys::rsa2048_spki_b64);
    CHECK_FALSE(other.verify(digest_of("abc"), sig));
}

TEST_CASE("crypto: RSA verification leaves OpenSSL's error queue empty, pass or fail",
          "[crypto][issue21]") {
    // Issue 21: the queue is cleared only after a failure (a pass leaves nothing on it).
    auto pk = public_key(KeyType::rsa, tests::keys::rsa1024_spki_b64);
    const std::string sig = unb64(tests::keys::rsa1024_sig_abc_b64);
    ERR_clear_error();
    for (int round = 0; round < 3; ++round) {
        CHECK(pk.verify(digest_of("abc"), sig));
        CHECK(ERR_peek_error() == 0);
        std::string flipped = sig;
        flipped[round] = static_cast<char>(flipped[round] ^ 0x40);
        CHECK_FALSE(pk.verify(digest_of("abc"), flipped));
        CHECK(ERR_peek_error() == 0);
        CHECK_FALSE(pk.verify(digest_of("abc"), sig.substr(0, 100)));
        CHECK(ERR_peek_error() == 0);
    }
}

TEST_CASE("crypto: ed25519-sha256 verify of openssl's signature, and every tampering fails",
          "[crypto][rfc8463]") {
    auto pk = public_key(KeyType::ed25519, tests::keys::ed25519_raw_b64);
    CHECK(pk.type() == KeyType::ed25519);
    const std::string sig = unb64(tests::keys::ed25519_sig_abc_b64);
    CHECK(pk.verify(digest_of("abc"), sig));
    CHECK_FALSE(pk.verify(digest_of("abd"), sig));
    std::string flipped = sig;
    flipped[10] = static_cast<char>(flipped[10] ^ 0x80);
    CHECK_FALSE(pk.verify(digest_of("abc"), flipped));
    CHECK_FALSE(pk.verify(digest_of("abc"), sig.substr(0, 63)));
    CHECK_FALSE(pk.verify(digest_of("abc"), ""));
    // An RSA signature never verifies with an Ed25519 key, nor the other way round.
    CHECK_FALSE(pk.verify(digest_of("abc"), unb64(tests::keys::rsa1024_sig_abc_b64)));
    auto rsa = public_key(KeyType::rsa, tests::keys::rsa1024_spki_b64);
    CHECK_FALSE(rsa.verify(digest_of("abc"), sig));
}

TEST_CASE("crypto: sign/verify round trip through PrivateKey and PublicKey",
          "[crypto][rfc6376][rfc8463]") {
    for (const char* pem :
         {tests::keys::rsa1024_pkcs8, tests::keys::rsa2048_pkcs8, tests::keys::ed25519_pkcs8}) {
        auto priv = tests::load_key(pem);
        auto pub = PublicKey::from_der(priv.type(), unb64(priv.public_key_base64()), {});
        REQUIRE(pub);
        CHECK(pub->type() == priv.type());
        const auto d = digest_of("round trip");
        auto sig = priv.sign(d);
        REQUIRE(sig);
        CHECK(pub->verify(d, *sig));
        CHECK_FALSE(pub->verify(digest_of("round trap"), *sig));
    }
}

TEST_CASE("crypto: a default-constructed PublicKey verifies nothing", "[crypto]") {
    PublicKey none;
    CHECK_FALSE(none.verify(digest_of("abc"), unb64(tests::keys::rsa1024_sig_abc_b64)));
}

TEST_CASE("crypto: RSA public key in PKCS#1 RSAPublicKey form (RFC 6376 §3.6.1)",
          "[crypto][rfc6376]") {
    auto pk = public_key(KeyType::rsa, tests::keys::rsa1024_pkcs1_pub_b64);
    CHECK(pk.bits() == 1024);
    CHECK(pk.verify(digest_of("abc"), unb64(tests::keys::rsa1024_sig_abc_b64)));
}

TEST_CASE("crypto: the test DER writer reproduces openssl's SPKI", "[crypto]") {
    // Guards the synthetic keys below: wrapping openssl's PKCS#1 key gives openssl's SPKI.
    CHECK(rsa_spki(unb64(tests::keys::rsa1024_pkcs1_pub_b64)) ==
          unb64(tests::keys::rsa1024_spki_b64));
}

TEST_CASE("crypto: RSA keys under 1024 bits refused (RFC 8301 §3.2)", "[crypto][rfc8301]") {
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::rsa512_spki_b64)) == Errc::key_too_small);
    CHECK(key_error(KeyType::rsa, rsa_spki(synthetic_rsa_pkcs1(1023))) == Errc::key_too_small);
    CHECK(key_error(KeyType::rsa, synthetic_rsa_pkcs1(1023)) == Errc::key_too_small);
    auto ok = PublicKey::from_der(KeyType::rsa, rsa_spki(synthetic_rsa_pkcs1(1024)), {});
    REQUIRE(ok);
    CHECK(ok->bits() == 1024);
}

TEST_CASE("crypto: the RSA minimum is configurable", "[crypto][rfc8301]") {
    KeyPolicy strict;
    strict.min_rsa_bits = 2048;
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::rsa1024_spki_b64), strict) ==
          Errc::key_too_small);
    CHECK(PublicKey::from_der(KeyType::rsa, unb64(tests::keys::rsa2048_spki_b64), strict));
    KeyPolicy lax;
    lax.min_rsa_bits = 512;
    auto small = PublicKey::from_der(KeyType::rsa, unb64(tests::keys::rsa512_spki_b64), lax);
    REQUIRE(small);
    CHECK(small->bits() == 512);
}

TEST_CASE("crypto: RSA keys over 8192 bits refused, 8192 accepted", "[crypto]") {
    auto k8192 = PublicKey::from_der(KeyType::rsa, rsa_spki(synthetic_rsa_pkcs1(8192)), {});
    REQUIRE(k8192);
    CHECK(k8192->bits() == 8192);
    CHECK(key_error(KeyType::rsa, rsa_spki(synthetic_rsa_pkcs1(8193))) == Errc::key_too_large);
    CHECK(key_error(KeyType::rsa, rsa_spki(synthetic_rsa_pkcs1(9000))) == Errc::key_too_large);
    CHECK(key_error(KeyType::rsa, synthetic_rsa_pkcs1(9000)) == Errc::key_too_large);
    KeyPolicy small_max;
    small_max.max_rsa_bits = 1024;
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::rsa2048_spki_b64), small_max) ==
          Errc::key_too_large);
}

TEST_CASE("crypto: k=rsa with a non-RSA or undecodable key is refused", "[crypto][rfc6376]") {
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::ed25519_spki_b64)) == Errc::bad_value);
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::ec_p256_spki_b64)) == Errc::bad_value);
    CHECK(key_error(KeyType::rsa, unb64(tests::keys::ed25519_raw_b64)) == Errc::crypto);
    CHECK(key_error(KeyType::rsa, "") == Errc::crypto);
    CHECK(key_error(KeyType::rsa, std::string(64, 'x')) == Errc::crypto);
    // A truncated SPKI.
    std::string spki = unb64(tests::keys::rsa1024_spki_b64);
    CHECK(key_error(KeyType::rsa, spki.substr(0, spki.size() - 1)) == Errc::crypto);
}

TEST_CASE("crypto: Ed25519 public key of the wrong length refused (RFC 8463 §4.2)",
          "[crypto][rfc8463]") {
    const std::string raw = unb64(tests::keys::ed25519_raw_b64);
    REQUIRE(raw.size() == 32);
    CHECK(key_error(KeyType::ed25519, raw.substr(0, 31)) == Errc::bad_value);
    CHECK(key_error(KeyType::ed25519, raw + 'x') == Errc::bad_value);
    CHECK(key_error(KeyType::ed25519, "") == Errc::bad_value);
    // The SPKI form is not what RFC 8463 publishes in p=.
    CHECK(key_error(KeyType::ed25519, unb64(tests::keys::ed25519_spki_b64)) == Errc::bad_value);
    // The key size policy is about RSA only.
    KeyPolicy strict;
    strict.min_rsa_bits = 4096;
    CHECK(PublicKey::from_der(KeyType::ed25519, raw, strict));
}

TEST_CASE("crypto: RFC 8463 §A.3 signatures verify with the §A.2 keys",
          "[crypto][rfc8463][rfc6376]") {
    const std::string msg = tests::crlf(rfc8463_message);
    auto split = mail::split_message(msg);
    REQUIRE(split.headers.size() == 7);
    auto ed = public_key(KeyType::ed25519, rfc8463_ed25519_p);
    auto rsa = public_key(KeyType::rsa, rfc8463_rsa_p);
    std::string ed_sig, rsa_sig;
    const auto ed_digest = dkim_header_digest(split.headers, 0, ed_sig);
    const auto rsa_digest = dkim_header_digest(split.headers, 1, rsa_sig);
    CHECK(ed.verify(ed_digest, ed_sig));
    CHECK(rsa.verify(rsa_digest, rsa_sig));
    CHECK_FALSE(rsa.verify(ed_digest, rsa_sig));

    // Changing a signed header breaks both; the body hash in bh= is the relaxed body.
    std::string tampered = msg;
    tampered.replace(tampered.find("dinner"), 6, "supper");
    auto t = mail::split_message(tampered);
    std::string s1, s2;
    CHECK_FALSE(ed.verify(dkim_header_digest(t.headers, 0, s1), s1));
    CHECK_FALSE(rsa.verify(dkim_header_digest(t.headers, 1, s2), s2));
    CHECK(b64(tests::hash_body(mail::Canon::relaxed, split.body)) ==
          "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
}

namespace {

// What OpenSSL's generic decoders make of `der` as a k=rsa key, in from_der()'s terms: the
// outcome from_der() had before it decoded RSA keys itself (nullopt: accepted, with `bits`).
std::optional<Errc> generic_outcome(const std::string& der, unsigned& bits) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (k == nullptr) {
        p = reinterpret_cast<const unsigned char*>(der.data());
        k = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
    }
    ERR_clear_error();
    if (k == nullptr)
        return Errc::crypto;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> owned(k, EVP_PKEY_free);
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
        return Errc::bad_value;
    bits = static_cast<unsigned>(std::max(EVP_PKEY_get_bits(k), 0));
    const KeyPolicy policy;
    if (bits < policy.min_rsa_bits)
        return Errc::key_too_small;
    if (bits > policy.max_rsa_bits)
        return Errc::key_too_large;
    return std::nullopt;
}

} // namespace

TEST_CASE("crypto: RSA keys decode as OpenSSL's generic decoder decodes them, odd DER included",
          "[crypto][rfc6376]") {
    const std::string pkcs1 = unb64(tests::keys::rsa1024_pkcs1_pub_b64);
    const std::string spki = unb64(tests::keys::rsa1024_spki_b64);
    const std::string oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 11);
    std::string negative = pkcs1; // the modulus INTEGER without its sign octet: negative
    REQUIRE(negative.substr(3, 4) == std::string("\x02\x81\x81\x00", 4));
    negative = der(0x30, der(0x02, pkcs1.substr(7, 128)) + pkcs1.substr(7 + 128));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"SPKI", spki},
        {"PKCS#1", pkcs1},
        {"2048-bit SPKI", unb64(tests::keys::rsa2048_spki_b64)},
        {"512-bit SPKI", unb64(tests::keys::rsa512_spki_b64)},
        {"synthetic 8193-bit", rsa_spki(synthetic_rsa_pkcs1(8193))},
        {"Ed25519 SPKI", unb64(tests::keys::ed25519_spki_b64)},
        {"P-256 SPKI", unb64(tests::keys::ec_p256_spki_b64)},
        {"SPKI without NULL parameters",
         der(0x30, der(0x30, oid) + der(0x03, std::string(1, '\0') + pkcs1))},
        {"SPKI + trailing octet", spki + std::string(1, '\0')},
        {"PKCS#1 + trailing octet", pkcs1 + std::string(1, '\0')},
        {"PKCS#1 with a negative modulus", negative},
        {"PKCS#1 with a long-form length",
         std::string("\x30\x82\x00", 3) + static_cast<char>(pkcs1.size() - 3) + pkcs1.substr(3)},
        {"truncated SPKI", spki.substr(0, spki.size() - 1)},
    };
    for (const auto& [what, bytes] : cases) {
        INFO(what);
        unsigned bits = 0;
        auto expected = generic_outcome(bytes, bits);
        // Twice: the second decode comes from the key cache.
        for (int round = 0; round < 2; ++round) {
            auto k = PublicKey::from_der(KeyType::rsa, bytes, {});
            if (expected) {
                REQUIRE_FALSE(k);
                CHECK(k.error().code == *expected);
            } else {
                REQUIRE(k);
                CHECK(k->bits() == bits);
            }
        }
    }
}

TEST_CASE("crypto: a cached key is still checked against each caller's policy",
          "[crypto][rfc8301]") {
    const std::string spki = unb64(tests::keys::rsa1024_spki_b64);
    KeyPolicy strict;
    strict.min_rsa_bits = 2048;
    for (int round = 0; round < 2; ++round) {
        auto ok = PublicKey::from_der(KeyType::rsa, spki, {});
        REQUIRE(ok);
        CHECK(ok->verify(digest_of("abc"), unb64(tests::keys::rsa1024_sig_abc_b64)));
        CHECK(key_error(KeyType::rsa, spki, strict) == Errc::key_too_small);
        KeyPolicy small_max;
        small_max.max_rsa_bits = 1023;
        CHECK(key_error(KeyType::rsa, spki, small_max) == Errc::key_too_large);
    }
    // The same bytes under the other key type are not the cached RSA key.
    CHECK(key_error(KeyType::ed25519, spki) == Errc::bad_value);
}

TEST_CASE("crypto: one key signs and verifies again and again through its kept context",
          "[crypto][rfc6376]") {
    auto priv = tests::load_key(tests::keys::rsa1024_pkcs8);
    auto pub = public_key(KeyType::rsa, tests::keys::rsa1024_spki_b64);
    const std::string expected = unb64(tests::keys::rsa1024_sig_abc_b64);
    for (int i = 0; i < 3; ++i) {
        auto sig = priv.sign(digest_of("abc"));
        REQUIRE(sig);
        CHECK(*sig == expected); // PKCS#1 v1.5 is deterministic
        // A failed verification leaves the context usable for the next one.
        std::string bad = expected;
        bad[10] = static_cast<char>(bad[10] ^ 1);
        CHECK_FALSE(pub.verify(digest_of("abc"), bad));
        CHECK_FALSE(pub.verify(digest_of("abd"), expected));
        CHECK(pub.verify(digest_of("abc"), expected));
    }
    // A copy shares the key (and its context).
    mail::PrivateKey copy = priv;
    CHECK(*copy.sign(digest_of("abc")) == expected);
    CHECK(copy.matches(pub));
}

TEST_CASE("crypto: a shared key verifies and signs from several threads at once", "[crypto]") {
    auto priv = tests::load_key(tests::keys::rsa1024_pkcs8);
    auto pub = public_key(KeyType::rsa, tests::keys::rsa1024_spki_b64);
    const std::string sig = unb64(tests::keys::rsa1024_sig_abc_b64);
    const auto d = digest_of("abc");
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                auto s = priv.sign(d);
                if (pub.verify(d, sig) && s && *s == sig)
                    ++good;
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK(good == 100);
}

namespace {

// The 1024-bit test key's modulus with another public exponent (big-endian magnitude), as
// PKCS#1 (the hand-decoded path) and as SPKI without NULL parameters (which only OpenSSL's
// generic decoder reads).
std::string with_exponent(const std::string& e, bool generic) {
    const std::string pkcs1 = unb64(tests::keys::rsa1024_pkcs1_pub_b64);
    REQUIRE(pkcs1.substr(3, 4) == std::string("\x02\x81\x81\x00", 4));
    const std::string n = pkcs1.substr(7, 128);
    const std::string key = der(0x30, der_uint(n) + der_uint(e));
    if (!generic)
        return key;
    const std::string oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 11);
    return der(0x30, der(0x30, oid) + der(0x03, std::string(1, '\0') + key));
}

std::string magnitude(std::uint64_t v) {
    std::string out;
    for (; v != 0; v >>= 8)
        out.insert(out.begin(), static_cast<char>(v & 0xff));
    return out;
}

} // namespace

TEST_CASE("crypto: RSA public exponents must be odd, at least 3 and at most 32 bits",
          "[crypto][issue15]") {
    for (bool generic : {false, true}) {
        INFO((generic ? "generic decoder" : "hand decoder"));
        // A key only the generic decoder reads must still decode (else this tests nothing).
        REQUIRE(PublicKey::from_der(KeyType::rsa, with_exponent(magnitude(65537), generic), {}));
        for (std::uint64_t e : {3ull, 17ull, 65537ull, 0xffffffffull}) {
            INFO("e = " << e);
            auto k = PublicKey::from_der(KeyType::rsa, with_exponent(magnitude(e), generic), {});
            REQUIRE(k);
            CHECK(k->bits() == 1024);
        }
        for (std::uint64_t e : {1ull, 2ull, 65536ull, 0x100000001ull, 0xffffffffffffffffull}) {
            INFO("e = " << e);
            auto k = PublicKey::from_der(KeyType::rsa, with_exponent(magnitude(e), generic), {});
            REQUIRE_FALSE(k);
            CHECK(k.error().code == (e > 0xffffffffull ? Errc::key_too_large : Errc::bad_value));
        }
    }
}

TEST_CASE("crypto: a key with a huge public exponent is refused at once, not verified with",
          "[crypto][issue15]") {
    // The attack of issue 15 class 4: e nearly as long as n makes every verification cost
    // about as much as a private-key operation without CRT.
    std::string e(127, '\xa7');
    e.back() = '\x01';
    for (bool generic : {false, true}) {
        const std::string key = with_exponent(e, generic);
        for (int round = 0; round < 2; ++round) { // refused keys are not cached as usable
            auto k = PublicKey::from_der(KeyType::rsa, key, {});
            REQUIRE_FALSE(k);
            CHECK(k.error().code == Errc::key_too_large);
            CHECK_THAT(k.error().detail,
                       arcf::test::Contains("public exponent too large (1016 bits"));
        }
    }
}

TEST_CASE("crypto: a forked SHA-256 continues the common prefix independently", "[crypto]") {
    mail::Sha256 running;
    running.update("prefix, ");
    mail::Sha256 a = running.fork();
    a.update("then a");
    running.update("then b");
    CHECK(a.finish() == mail::sha256("prefix, then a"));
    CHECK(running.finish() == mail::sha256("prefix, then b"));
}
