// SPDX-License-Identifier: ISC
// RSA and SHA-256 through EVP with everything prepared outside the timed loop.
#include "bench/limits.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

namespace arcf::bench {

namespace {

struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    void operator()(EVP_MD* m) const { EVP_MD_free(m); }
};

std::unique_ptr<EVP_PKEY_CTX, Free> rsa_ctx(EVP_PKEY* key, bool sign) {
    std::unique_ptr<EVP_PKEY_CTX, Free> ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1)
        throw std::runtime_error("EVP RSA context setup failed");
    return ctx;
}

} // namespace

double Limits::seal_seconds(double bytes) const {
    return 2 / rsa_sign_per_s + bytes / sha256_bytes_per_s;
}

double Limits::verify_seconds(double bytes, unsigned sets) const {
    return (1.0 + sets) / rsa_verify_per_s + bytes / sha256_bytes_per_s;
}

Limits measure_limits(const RunShape& shape) {
    Limits l;
    std::unique_ptr<EVP_PKEY, Free> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    if (!key)
        throw std::runtime_error("RSA-2048 key generation failed");
    std::array<unsigned char, 32> digest{};
    digest.fill(0x5a);
    std::vector<unsigned char> sig(256);
    std::size_t sig_len = sig.size();

    auto signer = rsa_ctx(key.get(), true);
    if (EVP_PKEY_sign(signer.get(), sig.data(), &sig_len, digest.data(), digest.size()) != 1)
        throw std::runtime_error("EVP_PKEY_sign failed");
    l.rsa_sign_per_s = median_rate(
        [&] {
            std::size_t len = sig.size();
            EVP_PKEY_sign(signer.get(), sig.data(), &len, digest.data(), digest.size());
        },
        shape);

    auto verifier = rsa_ctx(key.get(), false);
    if (EVP_PKEY_verify(verifier.get(), sig.data(), sig_len, digest.data(), digest.size()) != 1)
        throw std::runtime_error("EVP_PKEY_verify failed");
    l.rsa_verify_per_s = median_rate(
        [&] { EVP_PKEY_verify(verifier.get(), sig.data(), sig_len, digest.data(), digest.size()); },
        shape);

    // SHA-256 over 1 MiB per digest in 16 KiB updates (openssl speed -evp sha256 -bytes 16384).
    std::unique_ptr<EVP_MD, Free> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
    if (!md || !ctx)
        throw std::runtime_error("SHA-256 unavailable");
    std::vector<unsigned char> block(16 * 1024, 0x61);
    constexpr int blocks = 64;
    double digests_per_s = median_rate(
        [&] {
            unsigned int len = 0;
            EVP_DigestInit_ex(ctx.get(), md.get(), nullptr);
            for (int i = 0; i < blocks; ++i)
                EVP_DigestUpdate(ctx.get(), block.data(), block.size());
            EVP_DigestFinal_ex(ctx.get(), digest.data(), &len);
        },
        shape);
    l.sha256_bytes_per_s = digests_per_s * static_cast<double>(block.size() * blocks);
    return l;
}

} // namespace arcf::bench
