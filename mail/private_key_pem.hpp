// SPDX-License-Identifier: ISC
// A PEM private key (RFC 7468 §10 PKCS #8, or the type-specific RFC 8017 §A.1.2 form).
// PEM_read_bio_PrivateKey() sets up an OpenSSL 3 decoder for every key type and structure the
// loaded providers know, which was a quarter of the filter's start-up instructions for its one
// seal key (issue 21): an RSA key is read by hand and an Ed25519 key through a decoder
// restricted to its type; anything else still takes the generic path.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

namespace arcf::mail {

/// The first PEM block of `pem` (RFC 7468 §2): its label and its base64 text decoded.
struct PemBlock {
    std::string label;
    std::string der;
};
/// nullopt if there is none, its end line is missing, or its text is not plain base64 (for
/// instance RFC 1421 headers, as in an encrypted "RSA PRIVATE KEY").
std::optional<PemBlock> first_pem_block(std::string_view pem);

/// The RSA key in `pem` read by hand (rsa_private_der.hpp) and made from its numbers; owned by
/// the caller. nullptr unless the first block is a "PRIVATE KEY" (PKCS #8) or "RSA PRIVATE
/// KEY" (PKCS #1) in the strict DER that rsa_private_der.hpp reads.
EVP_PKEY* decode_rsa_private_pem(std::string_view pem);

/// The key in `pem` if it is a private key of OpenSSL key type `type` ("RSA", "ED25519"),
/// owned by the caller; nullptr otherwise (OpenSSL's error queue left empty).
EVP_PKEY* decode_private_pem_as(std::string_view pem, const char* type);

/// The two key types DKIM and ARC sign with: RSA (RFC 8301) by hand, Ed25519 (RFC 8463)
/// through its own decoder, then anything else through PEM_read_bio_PrivateKey(), so that other
/// inputs get exactly the verdicts they always had. Owned by the caller; nullptr if not a private
/// key.
EVP_PKEY* decode_private_pem(std::string_view pem);

} // namespace arcf::mail
