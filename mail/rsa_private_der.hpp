// SPDX-License-Identifier: ISC
// The two DER forms of an RSA private key a seal or signing key file holds: PKCS #8
// PrivateKeyInfo with rsaEncryption (RFC 5208 §5, RFC 3279 §2.3.1), "PRIVATE KEY" in PEM, and
// the bare PKCS #1 RSAPrivateKey (RFC 8017 §A.1.2), "RSA PRIVATE KEY". Read by hand so that
// loading the key does not set up OpenSSL 3's decoders, which cost the filter a sixth of its
// start-up instructions (issue 21).
#pragma once

#include <optional>
#include <string_view>

namespace arcf::mail {

/// The eight numbers of a two-prime RSA private key as big-endian magnitudes (no leading zero
/// octet); views into the input.
struct RsaPrivateNumbers {
    std::string_view modulus, public_exponent, private_exponent, prime1, prime2, exponent1,
        exponent2, coefficient;
};

/// Strict DER only: version 0 (two primes; no attributes), minimal lengths, positive minimal
/// INTEGERs, parameters NULL, no trailing bytes. Anything else is nullopt, and the caller
/// hands the key to OpenSSL's generic decoder instead (so that other encodings behave exactly
/// as they always did). The PKCS #8 form:
std::optional<RsaPrivateNumbers> parse_rsa_private_key_info(std::string_view der);
/// The PKCS #1 form:
std::optional<RsaPrivateNumbers> parse_rsa_private_key(std::string_view der);

} // namespace arcf::mail
