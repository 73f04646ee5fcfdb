// SPDX-License-Identifier: ISC
// Embedded test keys (PEM) and values computed from them independently with the openssl CLI.
#pragma once

namespace arcf::tests::keys {

// Private keys, PEM. rsa1024_pkcs1 is rsa1024_pkcs8 in the traditional "RSA PRIVATE KEY" form.
extern const char* const rsa1024_pkcs8;
extern const char* const rsa1024_pkcs1;
extern const char* const rsa2048_pkcs8;
extern const char* const rsa512_pkcs8;
extern const char* const ed25519_pkcs8;
extern const char* const ec_p256_pkcs8;

// Public keys, base64 of DER: `openssl pkey -pubout -outform DER` (SubjectPublicKeyInfo),
// `openssl rsa -RSAPublicKey_out -outform DER` (PKCS#1) and the raw 32-byte Ed25519 key.
extern const char* const rsa1024_spki_b64;
extern const char* const rsa1024_pkcs1_pub_b64;
extern const char* const rsa2048_spki_b64;
extern const char* const rsa512_spki_b64;
extern const char* const ed25519_spki_b64;
extern const char* const ed25519_raw_b64;
extern const char* const ec_p256_spki_b64;

// Signatures over SHA-256("abc"): `openssl pkeyutl -sign -pkeyopt digest:sha256` (RSA PKCS#1
// v1.5, deterministic) and `openssl pkeyutl -sign -rawin` over the 32-byte digest (Ed25519).
extern const char* const rsa1024_sig_abc_b64;
extern const char* const ed25519_sig_abc_b64;

} // namespace arcf::tests::keys
