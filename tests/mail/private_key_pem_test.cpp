// SPDX-License-Identifier: ISC
// Unit tests for mail/private_key_pem.hpp: the decoders restricted to one key type give the
// very key OpenSSL's generic PEM_read_bio_PrivateKey() gives, refuse the other types, and
// decode_private_pem() keeps the generic path's verdict on everything else.
#include "tests/arc/test_keys.hpp"
#include "tests/catch.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "mail/private_key_pem.hpp"

using namespace arcf;

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey generic(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    Pkey k(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    ERR_clear_error();
    return k;
}

bool same_key(const Pkey& a, const Pkey& b) {
    return a && b && EVP_PKEY_get_base_id(a.get()) == EVP_PKEY_get_base_id(b.get()) &&
           EVP_PKEY_eq(a.get(), b.get()) == 1;
}

// The RSA numbers of `a` and `b` are equal, each under its own parameter name.
bool same_rsa_numbers(EVP_PKEY* a, EVP_PKEY* b) {
    for (const char* name :
         {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
          OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
          OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}) {
        BIGNUM *x = nullptr, *y = nullptr;
        bool same = EVP_PKEY_get_bn_param(a, name, &x) == 1 &&
                    EVP_PKEY_get_bn_param(b, name, &y) == 1 && BN_cmp(x, y) == 0;
        BN_clear_free(x);
        BN_clear_free(y);
        if (!same)
            return false;
    }
    return true;
}

// An RSA PKCS#1 v1.5 signature over a SHA-256 digest (deterministic: equal keys, equal
// signatures), which uses the private half that EVP_PKEY_eq() does not compare.
std::string rsa_sign(EVP_PKEY* key) {
    const std::string digest(32, '\x5a');
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    std::string sig(static_cast<std::size_t>(EVP_PKEY_get_size(key)), '\0');
    std::size_t len = sig.size();
    bool ok =
        ctx && EVP_PKEY_sign_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_sign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                      reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    EVP_PKEY_CTX_free(ctx);
    REQUIRE(ok);
    sig.resize(len);
    return sig;
}

} // namespace

TEST_CASE("private_key_pem: the RSA decoder takes PKCS#8 and PKCS#1 RSA keys, as the generic "
          "path does",
          "[crypto][rfc8017]") {
    for (const char* pem : {tests::keys::rsa1024_pkcs8, tests::keys::rsa1024_pkcs1,
                            tests::keys::rsa2048_pkcs8, tests::keys::rsa512_pkcs8}) {
        Pkey k(mail::decode_private_pem_as(pem, "RSA"));
        REQUIRE(k);
        CHECK(EVP_PKEY_get_base_id(k.get()) == EVP_PKEY_RSA);
        CHECK(same_key(k, generic(pem)));
        CHECK(ERR_peek_error() == 0);
    }
    Pkey pkcs8(mail::decode_private_pem_as(tests::keys::rsa1024_pkcs8, "RSA"));
    Pkey pkcs1(mail::decode_private_pem_as(tests::keys::rsa1024_pkcs1, "RSA"));
    CHECK(same_key(pkcs8, pkcs1));
}

TEST_CASE("private_key_pem: the Ed25519 decoder takes the Ed25519 key (RFC 8410 §7)",
          "[crypto][rfc8463]") {
    Pkey k(mail::decode_private_pem_as(tests::keys::ed25519_pkcs8, "ED25519"));
    REQUIRE(k);
    CHECK(EVP_PKEY_get_base_id(k.get()) == EVP_PKEY_ED25519);
    CHECK(same_key(k, generic(tests::keys::ed25519_pkcs8)));
}

TEST_CASE("private_key_pem: a decoder refuses the other key types and non-keys, leaving no "
          "error behind",
          "[crypto]") {
    const char* const cases[][2] = {
        {tests::keys::ed25519_pkcs8, "RSA"},
        {tests::keys::ec_p256_pkcs8, "RSA"},
        {tests::keys::rsa2048_pkcs8, "ED25519"},
        {tests::keys::ec_p256_pkcs8, "ED25519"},
        {"", "RSA"},
        {"not a key", "RSA"},
        {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "RSA"}};
    for (const auto& c : cases) {
        CAPTURE(c[0], c[1]);
        CHECK(mail::decode_private_pem_as(c[0], c[1]) == nullptr);
        CHECK(ERR_peek_error() == 0);
    }
}

TEST_CASE("private_key_pem: decode_private_pem gives the generic path's key for every type",
          "[crypto]") {
    for (const char* pem :
         {tests::keys::rsa1024_pkcs8, tests::keys::rsa1024_pkcs1, tests::keys::rsa2048_pkcs8,
          tests::keys::ed25519_pkcs8, tests::keys::ec_p256_pkcs8}) {
        Pkey k(mail::decode_private_pem(pem));
        CHECK(same_key(k, generic(pem)));
        CHECK(ERR_peek_error() == 0);
    }
    CHECK(mail::decode_private_pem("not a key") == nullptr);
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("private_key_pem: RSA keys read by hand are OpenSSL's keys, private half included",
          "[crypto][rfc8017][rfc5208]") {
    for (const char* pem : {tests::keys::rsa1024_pkcs8, tests::keys::rsa1024_pkcs1,
                            tests::keys::rsa2048_pkcs8, tests::keys::rsa512_pkcs8}) {
        Pkey k(mail::decode_rsa_private_pem(pem));
        REQUIRE(k);
        Pkey g = generic(pem);
        CHECK(same_key(k, g));
        CHECK(EVP_PKEY_get_bits(k.get()) == EVP_PKEY_get_bits(g.get()));
        CHECK(same_rsa_numbers(k.get(), g.get()));
        CHECK(rsa_sign(k.get()) == rsa_sign(g.get()));
        CHECK(ERR_peek_error() == 0);
    }
    // Text before the block and CRLF line ends (RFC 7468 §2, §5.2).
    std::string crlf = "Key for s1._domainkey\r\n";
    for (const char* p = tests::keys::rsa1024_pkcs8; *p != '\0'; ++p)
        crlf += *p == '\n' ? std::string("\r\n") : std::string(1, *p);
    Pkey k(mail::decode_rsa_private_pem(crlf));
    CHECK(same_key(k, generic(tests::keys::rsa1024_pkcs8)));
}

TEST_CASE("private_key_pem: what the hand reader leaves to OpenSSL", "[crypto]") {
    CHECK(mail::decode_rsa_private_pem(tests::keys::ed25519_pkcs8) == nullptr);
    CHECK(mail::decode_rsa_private_pem(tests::keys::ec_p256_pkcs8) == nullptr);
    // A PKCS#1 body under the PKCS#8 label, and the other way round.
    std::string swapped = tests::keys::rsa1024_pkcs1;
    for (auto at = swapped.find("RSA PRIVATE KEY"); at != std::string::npos;
         at = swapped.find("RSA PRIVATE KEY"))
        swapped.replace(at, 15, "PRIVATE KEY");
    CHECK(mail::decode_rsa_private_pem(swapped) == nullptr);
    // An encrypted traditional key (RFC 1421 headers): not base64, so not read by hand.
    CHECK(mail::decode_rsa_private_pem("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                       "DEK-Info: AES-128-CBC,00\n\nAAAA\n"
                                       "-----END RSA PRIVATE KEY-----\n") == nullptr);
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("private_key_pem: the first PEM block, its label and its decoded text", "[rfc7468]") {
    auto b = mail::first_pem_block("junk\n-----BEGIN X Y-----\nAAEC\nAw==\n-----END X Y-----\n"
                                   "-----BEGIN Z-----\nAAAA\n-----END Z-----\n");
    REQUIRE(b);
    CHECK(b->label == "X Y");
    CHECK(b->der == std::string("\0\1\2\3", 4));
    auto last = mail::first_pem_block("-----BEGIN X-----\r\nAAEC\r\n-----END X-----");
    REQUIRE(last);
    CHECK(last->der == std::string("\0\1\2", 3));
    CHECK_FALSE(mail::first_pem_block(""));
    CHECK_FALSE(mail::first_pem_block("no block here\n"));
    CHECK_FALSE(mail::first_pem_block("-----BEGIN X-----\nAAEC\n"));                  // no end
    CHECK_FALSE(mail::first_pem_block("-----BEGIN X-----\nAAEC\n-----END Y-----\n")); // other end
    CHECK_FALSE(mail::first_pem_block("-----BEGIN X\nAAEC\n-----END X-----\n"));      // bad begin
    CHECK_FALSE(mail::first_pem_block("-----BEGIN X-----\nA!EC\n-----END X-----\n")); // not base64
}
