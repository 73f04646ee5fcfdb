// SPDX-License-Identifier: ISC
// Unit tests for mail/rsa_private_der.hpp: the strict DER reader for RSA private keys, checked
// against openssl's own encodings of the test keys and against hand-made odd encodings.
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"
#include "tests/mail/der_writer.hpp"

#include <string>

#include "mail/private_key_pem.hpp"
#include "mail/rsa_private_der.hpp"
#include "mail/rsa_public_der.hpp"

using namespace arcf;
using mail::parse_rsa_private_key;
using mail::parse_rsa_private_key_info;

namespace {

std::string der_of(const char* pem) {
    auto block = mail::first_pem_block(pem);
    REQUIRE(block);
    return block->der;
}

using tests::der;

// The contents of the outer SEQUENCE of `der` (which the tests' keys have in long form).
std::string contents_of(const std::string& der) {
    std::size_t octets = static_cast<unsigned char>(der[1]) & 0x7f;
    return der.substr(2 + octets);
}

const std::string version0 = der(0x02, std::string(1, '\0'));
const std::string rsa_alg =
    der(0x30, der(0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01") + der(0x05, ""));

} // namespace

TEST_CASE("rsa_private_der: PKCS#8 and PKCS#1 forms of one key give the same numbers, whose "
          "public half is the key's SPKI",
          "[crypto][rfc8017][rfc5208]") {
    // The numbers are views into the DER, which must outlive them.
    const std::string info_der = der_of(tests::keys::rsa1024_pkcs8);
    const std::string bare_der = der_of(tests::keys::rsa1024_pkcs1);
    auto info = parse_rsa_private_key_info(info_der);
    auto bare = parse_rsa_private_key(bare_der);
    REQUIRE(info);
    REQUIRE(bare);
    const std::string spki = tests::unb64(tests::keys::rsa1024_spki_b64); // outlives `pub`
    auto pub = mail::parse_rsa_public_der(spki);
    REQUIRE(pub);
    CHECK(info->modulus == pub->modulus);
    CHECK(info->public_exponent == pub->exponent);
    CHECK(info->modulus.size() == 128);
    CHECK(info->prime1.size() == 64);
    CHECK(info->prime2.size() == 64);
    CHECK(info->modulus == bare->modulus);
    CHECK(info->private_exponent == bare->private_exponent);
    CHECK(info->exponent2 == bare->exponent2);
    CHECK(info->coefficient == bare->coefficient);
    // Each form is read only as itself.
    CHECK_FALSE(parse_rsa_private_key(info_der));
    CHECK_FALSE(parse_rsa_private_key_info(bare_der));
    const std::string big_der = der_of(tests::keys::rsa2048_pkcs8);
    auto big = parse_rsa_private_key_info(big_der);
    REQUIRE(big);
    CHECK(big->modulus.size() == 256);
}

TEST_CASE("rsa_private_der: other algorithms and odd encodings are left to OpenSSL",
          "[crypto][rfc8017][rfc5208]") {
    CHECK_FALSE(parse_rsa_private_key_info(der_of(tests::keys::ed25519_pkcs8)));
    CHECK_FALSE(parse_rsa_private_key_info(der_of(tests::keys::ec_p256_pkcs8)));
    const std::string bare = der_of(tests::keys::rsa1024_pkcs1);
    const std::string numbers = contents_of(bare).substr(version0.size());
    REQUIRE(parse_rsa_private_key(der(0x30, version0 + numbers)));
    REQUIRE(parse_rsa_private_key_info(der(0x30, version0 + rsa_alg + der(0x04, bare))));
    // Version 1 (multi-prime), a trailing byte inside and after, a missing number.
    CHECK_FALSE(parse_rsa_private_key(der(0x30, der(0x02, "\x01") + numbers)));
    CHECK_FALSE(parse_rsa_private_key(der(0x30, version0 + numbers + der(0x02, "\x01"))));
    CHECK_FALSE(parse_rsa_private_key(der(0x30, version0 + numbers) + "x"));
    CHECK_FALSE(parse_rsa_private_key(der(0x30, version0 + numbers.substr(0, 100))));
    // A non-minimal INTEGER (leading zero octet before a small first octet).
    CHECK_FALSE(parse_rsa_private_key(der(0x30, der(0x02, std::string("\0\0", 2)) + numbers)));
    // PKCS#8: version 1 (RFC 5958 OneAsymmetricKey), attributes, parameters other than NULL.
    CHECK_FALSE(
        parse_rsa_private_key_info(der(0x30, der(0x02, "\x01") + rsa_alg + der(0x04, bare))));
    CHECK_FALSE(parse_rsa_private_key_info(
        der(0x30, version0 + rsa_alg + der(0x04, bare) + der(0xa0, ""))));
    CHECK_FALSE(parse_rsa_private_key_info(
        der(0x30, version0 + der(0x30, der(0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01")) +
                      der(0x04, bare))));
    CHECK_FALSE(parse_rsa_private_key_info(""));
    CHECK_FALSE(parse_rsa_private_key(""));
}
