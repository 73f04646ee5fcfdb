// SPDX-License-Identifier: ISC
// Signature algorithms through OpenSSL 3 EVP: rsa-sha256 (RFC 6376 §3.3.1) and ed25519-sha256
// (RFC 8463). rsa-sha1 is not offered (RFC 8301 §3.1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mail/result.hpp"

struct evp_md_ctx_st;

namespace arcf::mail {

namespace detail {
/// An OpenSSL key with the context it is used through, prepared once (crypto.cpp).
struct KeyHandle;
} // namespace detail

enum class KeyType { rsa, ed25519 };
std::string_view to_string(KeyType k);

/// Signature algorithm of an a= tag.
enum class Algorithm { rsa_sha256, ed25519_sha256 };
std::string_view to_string(Algorithm a);
KeyType key_type_of(Algorithm a);

using Digest = std::array<unsigned char, 32>;

/// Streaming SHA-256.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(std::string_view data);
    Digest finish();
    /// A second context in the same state: the digest of a common prefix, continued twice.
    Sha256 fork() const;

  private:
    evp_md_ctx_st* ctx_;
};
Digest sha256(std::string_view data);

/// The public exponent of an RSA key we verify with is odd, at least 3 and at most 32 bits
/// long. RSA verification costs about one modular squaring per exponent bit: e = 65537 (what
/// every DKIM key generator uses, RFC 8301 §3.2 keys included) costs 17, a 3000-bit exponent
/// (which OpenSSL accepts for moduli up to 3072 bits) about 180 times as much. 32 bits keep
/// every exponent seen in practice (3, 17, 65537) with a worst case of about 4x e = 65537; Go's
/// crypto/rsa draws the same line (2^31 - 1).
inline constexpr unsigned max_rsa_exponent_bits = 32;

/// What keys we accept and how much verification work they may cost (issue 15, class 4).
struct KeyPolicy {
    /// RFC 8301 §3.2: verifiers MUST NOT consider RSA keys under 1024 bits valid.
    unsigned min_rsa_bits = 1024;
    /// RFC 8301 §3.2: verifiers MUST accept 1024..4096 bits; larger keys cost CPU (RSA
    /// verification grows with the square of the modulus), 8192 is the most we verify with.
    unsigned max_rsa_bits = 8192;
    /// RFC 6376 §3.6.2.2 lets a verifier use one record of a multi-record answer or try them
    /// all; we consider at most this many records of one key answer, in answer order (the
    /// others are ignored), so a signature costs at most this many verifications.
    std::size_t max_key_records = 3;
    /// A key record (one TXT RR, its strings joined) longer than this is refused: an RSA-4096
    /// record is under 1 KB, an RSA-8192 one about 1.5 KB.
    std::size_t max_record_bytes = 8192;
    /// Public-key operations (verifications, every record tried counts) for one message:
    /// ARC-Seals, ARC-Message-Signatures and DKIM-Signatures together (mail/key_budget.hpp).
    /// The worst legal message with sane keys needs 110 (50 seals, 50 AMSs with oldest-pass,
    /// 10 DKIM signatures); 0 means no limit.
    std::size_t max_key_operations = 256;
};

/// A verification key; cheap to copy (shared, immutable).
class PublicKey {
  public:
    /// `der` is the decoded p= value: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey for RSA
    /// (RFC 6376 §3.6.1), the raw 32-byte key for Ed25519 (RFC 8463 §4.2). Keys are decoded
    /// once per process: the same bytes again return the same key (a bounded cache).
    static Result<PublicKey> from_der(KeyType type, std::string_view der, const KeyPolicy& policy);

    KeyType type() const { return type_; }
    unsigned bits() const { return bits_; }
    /// Verifies `signature` over the SHA-256 digest of the signed data. For RSA this is PKCS#1
    /// v1.5 with SHA-256; for Ed25519 the digest itself is the message (RFC 8463 §3).
    bool verify(const Digest& digest, std::string_view signature) const;

  private:
    friend class PrivateKey;
    std::shared_ptr<detail::KeyHandle> key_;
    KeyType type_ = KeyType::rsa;
    unsigned bits_ = 0;
};

/// A signing key, parsed once and reused.
class PrivateKey {
  public:
    /// PEM: PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1 ("BEGIN RSA PRIVATE KEY").
    static Result<PrivateKey> from_pem(std::string_view pem);

    KeyType type() const { return type_; }
    unsigned bits() const { return bits_; }
    Algorithm algorithm() const {
        return type_ == KeyType::rsa ? Algorithm::rsa_sha256 : Algorithm::ed25519_sha256;
    }
    Result<std::string> sign(const Digest& digest) const;
    /// The p= value for a DKIM key record (base64 of SPKI for RSA, raw key for Ed25519).
    std::string public_key_base64() const;
    /// Whether `pub` is the public half of this key.
    bool matches(const PublicKey& pub) const;
    /// Generates a new key: RSA of `bits` bits, or Ed25519 (bits ignored).
    static Result<PrivateKey> generate(KeyType type, unsigned bits);
    /// PKCS#8 PEM text of the private key.
    std::string to_pem() const;

  private:
    std::shared_ptr<detail::KeyHandle> key_;
    KeyType type_ = KeyType::rsa;
    unsigned bits_ = 0;
};

} // namespace arcf::mail
