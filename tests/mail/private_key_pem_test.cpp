// SPDX-License-Identifier: ISC
// Unit tests for mail/private_key_pem.hpp: the decoders restricted to one key type give the
// very key OpenSSL's generic PEM_read_bio_PrivateKey() gives, refuse the other types, and
// decode_private_pem() keeps the generic path's verdict on everything else.
#include "tests/arc/test_keys.hpp"
#include "tests/catch.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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
