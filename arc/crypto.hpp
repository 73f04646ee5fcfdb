// SPDX-License-Identifier: ISC
// Signature algorithms through OpenSSL 3 EVP: rsa-sha256 (RFC 6376 §3.3.1) and ed25519-sha256
// (RFC 8463). rsa-sha1 is not offered (RFC 8301 §3.1).
#pragma once

#include "arc/result.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace arcf::arc {

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

  private:
    evp_md_ctx_st* ctx_;
};
Digest sha256(std::string_view data);

/// Key size policy (RFC 8301 §3.2: verifiers MUST NOT consider RSA keys under 1024 bits valid).
struct KeyPolicy {
    unsigned min_rsa_bits = 1024;
    unsigned max_rsa_bits = 8192; ///< bounds the CPU a hostile key can cost
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

} // namespace arcf::arc
