// SPDX-License-Identifier: ISC
// Unit tests for mail/rsa_public_der.hpp: the strict DER reader for RSA public keys, checked
// against openssl's own encodings of the test keys and against hand-made odd encodings.
#include "tests/arc/test_keys.hpp"
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"

#include <string>

#include "mail/rsa_public_der.hpp"

using namespace arcf;
using mail::parse_rsa_public_der;
using tests::unb64;

namespace {

// A DER writer for the odd cases (definite lengths, minimal unless asked otherwise).
std::string len_octets(std::size_t n, bool long_form = false) {
    if (n < 0x80 && !long_form)
        return std::string(1, static_cast<char>(n));
    std::string bytes;
    for (; n != 0; n >>= 8)
        bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    if (bytes.empty())
        bytes.push_back('\0');
    return static_cast<char>(0x80 | bytes.size()) + bytes;
}

std::string tlv(unsigned char tag, const std::string& content, bool long_form = false) {
    return static_cast<char>(tag) + len_octets(content.size(), long_form) + content;
}

const std::string rsa_oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 11);
const std::string null_params("\x05\x00", 2);
const std::string e65537("\x01\x00\x01", 3);

// A 1024-bit modulus magnitude (top bit set) and its DER INTEGER (with the 0x00 sign octet).
std::string modulus() {
    std::string n(128, '\x5a');
    n[0] = '\xc3';
    return n;
}
std::string integer(const std::string& contents) {
    return tlv(0x02, contents);
}

std::string pkcs1(const std::string& n_int, const std::string& e_int) {
    return tlv(0x30, n_int + e_int);
}

std::string spki(const std::string& alg_contents, const std::string& key, char unused = '\0') {
    return tlv(0x30, tlv(0x30, alg_contents) + tlv(0x03, std::string(1, unused) + key));
}

} // namespace

TEST_CASE("rsa der: SPKI and PKCS#1 of the same key give the same numbers", "[crypto][rfc6376]") {
    // The numbers are views into the input: it stays alive.
    const std::string spki = unb64(tests::keys::rsa1024_spki_b64);
    const std::string pkcs1_der = unb64(tests::keys::rsa1024_pkcs1_pub_b64);
    const std::string spki2048 = unb64(tests::keys::rsa2048_spki_b64);
    auto from_spki = parse_rsa_public_der(spki);
    auto from_pkcs1 = parse_rsa_public_der(pkcs1_der);
    REQUIRE(from_spki);
    REQUIRE(from_pkcs1);
    CHECK(from_spki->modulus.size() == 128);
    CHECK((static_cast<unsigned char>(from_spki->modulus[0]) & 0x80) != 0); // sign octet gone
    CHECK(from_spki->exponent == e65537);
    CHECK(from_spki->modulus == from_pkcs1->modulus);
    CHECK(from_spki->exponent == from_pkcs1->exponent);

    auto k2048 = parse_rsa_public_der(spki2048);
    REQUIRE(k2048);
    CHECK(k2048->modulus.size() == 256); // long-form lengths (0x82) on every level
    CHECK(k2048->exponent == e65537);
}

TEST_CASE("rsa der: hand-made strict encodings are read", "[crypto]") {
    const std::string n = modulus();
    const std::string key = pkcs1(integer(std::string(1, '\0') + n), integer(e65537));
    for (const std::string& der : {key, spki(rsa_oid + null_params, key)}) {
        auto r = parse_rsa_public_der(der);
        REQUIRE(r);
        CHECK(r->modulus == n);
        CHECK(r->exponent == e65537);
    }
    // A modulus whose top octet needs no sign octet.
    std::string small = n;
    small[0] = '\x43';
    const std::string small_key = pkcs1(integer(small), integer(std::string(1, '\x03')));
    auto r = parse_rsa_public_der(small_key);
    REQUIRE(r);
    CHECK(r->modulus == small);
    CHECK(r->exponent == std::string(1, '\x03'));
}

TEST_CASE("rsa der: anything but strict DER of an rsaEncryption key is left to OpenSSL",
          "[crypto]") {
    const std::string n_int = integer(std::string(1, '\0') + modulus());
    const std::string e_int = integer(e65537);
    const std::string key = pkcs1(n_int, e_int);
    const std::string alg = rsa_oid + null_params;
    CHECK(parse_rsa_public_der(spki(alg, key)));

    CHECK_FALSE(parse_rsa_public_der(""));
    CHECK_FALSE(parse_rsa_public_der(key.substr(0, key.size() - 1)));         // truncated
    CHECK_FALSE(parse_rsa_public_der(key + std::string(1, '\0')));            // trailing octet
    CHECK_FALSE(parse_rsa_public_der(spki(alg, key) + std::string(1, '\0'))); // same, SPKI
    CHECK_FALSE(parse_rsa_public_der(spki(rsa_oid, key)));                    // no NULL params
    CHECK_FALSE(parse_rsa_public_der(spki(alg + null_params, key)));          // extra element
    CHECK_FALSE(parse_rsa_public_der(spki(alg, key, '\x01')));                // unused bits
    // Another algorithm (id-Ed25519, 1.3.101.112) with the same shape.
    CHECK_FALSE(parse_rsa_public_der(spki(std::string("\x06\x03\x2b\x65\x70", 5), key)));
    // A length in long form where the short form was required, or with a leading zero.
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, tlv(0x02, e65537, true))));
    CHECK_FALSE(parse_rsa_public_der(std::string("\x30\x82\x00", 3) + std::string(1, '\x86') +
                                     n_int + e_int));
    // Indefinite length (BER only).
    CHECK_FALSE(
        parse_rsa_public_der(std::string("\x30\x80", 2) + n_int + e_int + std::string(2, '\0')));
    // INTEGERs: negative, zero, an unneeded leading zero octet, empty.
    CHECK_FALSE(parse_rsa_public_der(pkcs1(integer(modulus()), e_int)));
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, integer(std::string(1, '\0')))));
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, integer(std::string("\x00\x01", 2)))));
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, integer(""))));
    // A third INTEGER, or a missing one.
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, e_int + e_int)));
    CHECK_FALSE(parse_rsa_public_der(pkcs1(n_int, "")));
    // Wrong tags.
    CHECK_FALSE(parse_rsa_public_der(tlv(0x31, n_int + e_int)));
    CHECK_FALSE(parse_rsa_public_der(pkcs1(tlv(0x04, modulus()), e_int)));
}
