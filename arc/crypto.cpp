// SPDX-License-Identifier: ISC
// OpenSSL 3 EVP wrappers for DKIM/ARC signatures.
#include "arc/crypto.hpp"

#include "arc/base64.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace arcf::arc {

namespace {

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
    return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free);
}

struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    void operator()(BIO* b) const { BIO_free(b); }
};

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

} // namespace

std::string_view to_string(KeyType k) {
    return k == KeyType::rsa ? "rsa" : "ed25519";
}
std::string_view to_string(Algorithm a) {
    return a == Algorithm::rsa_sha256 ? "rsa-sha256" : "ed25519-sha256";
}
KeyType key_type_of(Algorithm a) {
    return a == Algorithm::rsa_sha256 ? KeyType::rsa : KeyType::ed25519;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}
Sha256::~Sha256() {
    EVP_MD_CTX_free(ctx_);
}
Sha256::Sha256(Sha256&& o) noexcept : ctx_(o.ctx_) {
    o.ctx_ = nullptr;
}
Sha256& Sha256::operator=(Sha256&& o) noexcept {
    if (this != &o) {
        EVP_MD_CTX_free(ctx_);
        ctx_ = o.ctx_;
        o.ctx_ = nullptr;
    }
    return *this;
}
void Sha256::update(std::string_view data) {
    if (!data.empty())
        EVP_DigestUpdate(ctx_, data.data(), data.size());
}
Digest Sha256::finish() {
    Digest d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.data(), &len);
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
    return d;
}
Digest sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Result<PublicKey> PublicKey::from_der(KeyType type, std::string_view der, const KeyPolicy& policy) {
    PublicKey pk;
    pk.type_ = type;
    EVP_PKEY* raw = nullptr;
    if (type == KeyType::ed25519) {
        if (der.size() != 32)
            return fail(Errc::bad_value, "ed25519 key is not 32 bytes");
        raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(der), der.size());
        if (raw == nullptr)
            return fail(Errc::crypto, "ed25519 key rejected");
        pk.key_ = own(raw);
        pk.bits_ = 256;
        return pk;
    }
    const unsigned char* p = bytes(der);
    raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (raw == nullptr) {
        ERR_clear_error();
        p = bytes(der);
        raw = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
    }
    ERR_clear_error();
    if (raw == nullptr)
        return fail(Errc::crypto, "undecodable RSA public key");
    pk.key_ = own(raw);
    if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA)
        return fail(Errc::bad_value, "k=rsa record holds a non-RSA key");
    int bits = EVP_PKEY_get_bits(raw);
    pk.bits_ = bits > 0 ? static_cast<unsigned>(bits) : 0;
    if (pk.bits_ < policy.min_rsa_bits)
        return fail(Errc::key_too_small, std::to_string(pk.bits_) + "-bit RSA key");
    if (pk.bits_ > policy.max_rsa_bits)
        return fail(Errc::key_too_large, std::to_string(pk.bits_) + "-bit RSA key");
    return pk;
}

bool PublicKey::verify(const Digest& digest, std::string_view signature) const {
    if (!key_)
        return false;
    if (type_ == KeyType::ed25519) {
        std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
        bool ok = ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), digest.data(),
                                   digest.size()) == 1;
        ERR_clear_error();
        return ok;
    }
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
              EVP_PKEY_verify(ctx.get(), bytes(signature), signature.size(), digest.data(),
                              digest.size()) == 1;
    ERR_clear_error();
    return ok;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    std::unique_ptr<BIO, CtxFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return fail(Errc::crypto, "out of memory");
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    ERR_clear_error();
    if (raw == nullptr)
        return fail(Errc::crypto, "not a PEM private key");
    PrivateKey k;
    k.key_ = own(raw);
    int id = EVP_PKEY_get_base_id(raw);
    if (id == EVP_PKEY_RSA) {
        k.type_ = KeyType::rsa;
    } else if (id == EVP_PKEY_ED25519) {
        k.type_ = KeyType::ed25519;
    } else {
        return fail(Errc::unsupported, "private key is neither RSA nor Ed25519");
    }
    int bits = EVP_PKEY_get_bits(raw);
    k.bits_ = bits > 0 ? static_cast<unsigned>(bits) : 0;
    return k;
}

Result<std::string> PrivateKey::sign(const Digest& digest) const {
    std::string sig;
    size_t len = 0;
    if (type_ == KeyType::ed25519) {
        std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
            EVP_DigestSign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
            ERR_clear_error();
            return fail(Errc::crypto, "ed25519 signing failed");
        }
        sig.resize(len);
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           digest.data(), digest.size()) != 1) {
            ERR_clear_error();
            return fail(Errc::crypto, "ed25519 signing failed");
        }
        sig.resize(len);
        return sig;
    }
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
        ERR_clear_error();
        return fail(Errc::crypto, "RSA signing failed");
    }
    sig.resize(len);
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, digest.data(),
                      digest.size()) != 1) {
        ERR_clear_error();
        return fail(Errc::crypto, "RSA signing failed");
    }
    sig.resize(len);
    return sig;
}

std::string PrivateKey::public_key_base64() const {
    if (type_ == KeyType::ed25519) {
        std::string raw(32, '\0');
        size_t len = raw.size();
        EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &len);
        raw.resize(len);
        return base64_encode(raw);
    }
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key_.get(), &der);
    if (len <= 0)
        return {};
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return base64_encode(out);
}

bool PrivateKey::matches(const PublicKey& pub) const {
    if (!key_ || !pub.key_ || type_ != pub.type_)
        return false;
    bool eq = EVP_PKEY_eq(key_.get(), pub.key_.get()) == 1;
    ERR_clear_error();
    return eq;
}

Result<PrivateKey> PrivateKey::generate(KeyType type, unsigned bits) {
    EVP_PKEY* raw = nullptr;
    if (type == KeyType::ed25519) {
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    } else {
        if (bits < 1024 || bits > 8192)
            return fail(Errc::bad_value, "RSA keys are 1024 to 8192 bits");
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    }
    ERR_clear_error();
    if (raw == nullptr)
        return fail(Errc::crypto, "key generation failed");
    PrivateKey k;
    k.key_ = own(raw);
    k.type_ = type;
    int b = EVP_PKEY_get_bits(raw);
    k.bits_ = b > 0 ? static_cast<unsigned>(b) : 0;
    return k;
}

std::string PrivateKey::to_pem() const {
    std::unique_ptr<BIO, CtxFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        ERR_clear_error();
        return {};
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

} // namespace arcf::arc
