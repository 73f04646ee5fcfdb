// SPDX-License-Identifier: ISC
// A PEM private key (RFC 7468 §10 PKCS #8, or the type-specific RFC 8017 §A.1.2 form) decoded
// through an OpenSSL 3 decoder restricted to one key type. PEM_read_bio_PrivateKey() sets up a
// decoder for every key type and structure the loaded providers know, which was a quarter of
// the filter's start-up instructions for its one seal key (issue 21).
#pragma once

#include <openssl/evp.h>

#include <string_view>

namespace arcf::mail {

/// The key in `pem` if it is a private key of OpenSSL key type `type` ("RSA", "ED25519"),
/// owned by the caller; nullptr otherwise (OpenSSL's error queue left empty).
EVP_PKEY* decode_private_pem_as(std::string_view pem, const char* type);

/// The two key types DKIM and ARC sign with (RSA, RFC 8301; Ed25519, RFC 8463) each through
/// its own decoder, then anything else through PEM_read_bio_PrivateKey(), so that other inputs
/// get exactly the verdicts they always had. Owned by the caller; nullptr if not a private key.
EVP_PKEY* decode_private_pem(std::string_view pem);

} // namespace arcf::mail
