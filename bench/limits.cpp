// SPDX-License-Identifier: ISC
// RSA and SHA-256 through EVP with everything prepared outside the timed loop.
#include "bench/limits.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
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

// SHA-256 over 1 MiB per digest in 16 KiB updates (openssl speed -evp sha256 -bytes 16384).
constexpr std::size_t sha_block = 16 * 1024;
constexpr int sha_blocks = 64;

} // namespace

double Limits::seal_seconds(double bytes) const {
    return 2 / rsa_sign_per_s + bytes / sha256_bytes_per_s;
}

double Limits::verify_seconds(double bytes, unsigned sets) const {
    return (1.0 + sets) / rsa_verify_per_s + bytes / sha256_bytes_per_s;
}

struct LimitMeter::State {
    std::unique_ptr<EVP_PKEY, Free> key;
    std::unique_ptr<EVP_PKEY_CTX, Free> signer, verifier;
    std::unique_ptr<EVP_MD, Free> md;
    std::unique_ptr<EVP_MD_CTX, Free> md_ctx;
    std::array<unsigned char, 32> digest{};
    std::vector<unsigned char> sig = std::vector<unsigned char>(256);
    std::size_t sig_len = 0;
    std::vector<unsigned char> block = std::vector<unsigned char>(sha_block, 0x61);

    void sign() {
        std::size_t len = sig.size();
        EVP_PKEY_sign(signer.get(), sig.data(), &len, digest.data(), digest.size());
    }
    void verify() {
        EVP_PKEY_verify(verifier.get(), sig.data(), sig_len, digest.data(), digest.size());
    }
    void hash() {
        unsigned int len = 0;
        std::array<unsigned char, 32> out{};
        EVP_DigestInit_ex(md_ctx.get(), md.get(), nullptr);
        for (int i = 0; i < sha_blocks; ++i)
            EVP_DigestUpdate(md_ctx.get(), block.data(), block.size());
        EVP_DigestFinal_ex(md_ctx.get(), out.data(), &len);
    }
};

LimitMeter::LimitMeter() : s_(std::make_unique<State>()) {
    s_->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    if (!s_->key)
        throw std::runtime_error("RSA-2048 key generation failed");
    s_->digest.fill(0x5a);
    s_->signer = rsa_ctx(s_->key.get(), true);
    s_->verifier = rsa_ctx(s_->key.get(), false);
    s_->sig_len = s_->sig.size();
    if (EVP_PKEY_sign(s_->signer.get(), s_->sig.data(), &s_->sig_len, s_->digest.data(),
                      s_->digest.size()) != 1 ||
        EVP_PKEY_verify(s_->verifier.get(), s_->sig.data(), s_->sig_len, s_->digest.data(),
                        s_->digest.size()) != 1)
        throw std::runtime_error("EVP RSA sign/verify failed");
    s_->md.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    s_->md_ctx.reset(EVP_MD_CTX_new());
    if (!s_->md || !s_->md_ctx)
        throw std::runtime_error("SHA-256 unavailable");
}

LimitMeter::~LimitMeter() = default;

Limits LimitMeter::measure(const RunShape& shape) {
    State& s = *s_;
    Limits l;
    l.rsa_sign_per_s = median_rate([&] { s.sign(); }, shape);
    l.rsa_verify_per_s = median_rate([&] { s.verify(); }, shape);
    l.sha256_bytes_per_s =
        median_rate([&] { s.hash(); }, shape) * static_cast<double>(sha_block * sha_blocks);
    return l;
}

Limits LimitMeter::sample(double seconds) {
    State& s = *s_;
    Limits l;
    l.rsa_sign_per_s = rate_for([&] { s.sign(); }, seconds, 1);
    l.rsa_verify_per_s = rate_for([&] { s.verify(); }, seconds, 16);
    l.sha256_bytes_per_s =
        rate_for([&] { s.hash(); }, seconds, 1) * static_cast<double>(sha_block * sha_blocks);
    return l;
}

} // namespace arcf::bench
