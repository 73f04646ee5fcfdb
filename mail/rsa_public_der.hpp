// SPDX-License-Identifier: ISC
// The two DER forms of an RSA public key a DKIM key record's p= may hold (RFC 6376 §3.6.1):
// SubjectPublicKeyInfo with rsaEncryption (RFC 5280 §4.1.2.7, RFC 3279 §2.3.1) and the bare
// PKCS#1 RSAPublicKey (RFC 8017 §A.1.1). Decoded by hand so that the hot path avoids OpenSSL
// 3's generic decoder, which costs about ten RSA verifications per key.
#pragma once

#include <optional>
#include <string_view>

namespace arcf::mail {

/// The modulus and public exponent as big-endian magnitudes (no leading zero octet); views
/// into the input.
struct RsaPublicNumbers {
    std::string_view modulus;
    std::string_view exponent;
};

/// Strict DER only: minimal lengths, positive minimal INTEGERs, parameters NULL, no trailing
/// bytes. Anything else is nullopt, and the caller hands the bytes to OpenSSL's generic
/// decoder instead (so that odd encodings behave exactly as they always did).
std::optional<RsaPublicNumbers> parse_rsa_public_der(std::string_view der);

} // namespace arcf::mail
