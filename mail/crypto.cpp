// SPDX-License-Identifier: ISC
// OpenSSL 3 EVP wrappers for DKIM/ARC signatures. The cost of ARC is the cost of its RSA
// operations, so everything around them is prepared once: the SHA-256 implementation is fetched
// once, public keys are decoded once per process (by hand for RSA, see rsa_public_der.hpp) and
// each key keeps the EVP_PKEY_CTX it is used through.
#include "mail/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "mail/base64.hpp"
#include "mail/private_key_pem.hpp"
#include "mail/rsa_public_der.hpp"

namespace arcf::mail {

namespace detail {

struct KeyHandle {
    EVP_PKEY* pkey;
    /// RSA only: a context set up for verification (public keys) or signing (private keys),
    /// created on first use and reused; `mu` serializes its use.
    EVP_PKEY_CTX* ctx = nullptr;
    std::mutex mu;

    explicit KeyHandle(EVP_PKEY* k) : pkey(k) {}
    ~KeyHandle() {
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pkey);
    }
    KeyHandle(const KeyHandle&) = delete;
    KeyHandle& operator=(const KeyHandle&) = delete;
};

} // namespace detail

namespace {

using detail::KeyHandle;

std::shared_ptr<KeyHandle> own(EVP_PKEY* k) {
    return std::make_shared<KeyHandle>(k);
}

struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    void operator()(BIO* b) const { BIO_free(b); }
    void operator()(EVP_MD* m) const { EVP_MD_free(m); }
    void operator()(BIGNUM* b) const { BN_free(b); }
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// OpenSSL 3 looks an implementation up by name at every EVP_DigestInit_ex given EVP_sha256();
// an explicitly fetched one is used as is.
const EVP_MD* sha256_md() {
    static const std::unique_ptr<EVP_MD, CtxFree> fetched(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    return fetched ? fetched.get() : EVP_sha256();
}

// An RSA context for PKCS#1 v1.5 with SHA-256 (RFC 6376 §3.3.1), for signing or verifying.
EVP_PKEY_CTX* rsa_context(EVP_PKEY* key, bool sign) {
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), sha256_md()) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return ctx.release();
}

// The public key (n, e) as an EVP_PKEY, without a decoder.
EVP_PKEY* rsa_from_numbers(const RsaPublicNumbers& num) {
    std::unique_ptr<BIGNUM, CtxFree> n(
        BN_bin2bn(bytes(num.modulus), static_cast<int>(num.modulus.size()), nullptr));
    std::unique_ptr<BIGNUM, CtxFree> e(
        BN_bin2bn(bytes(num.exponent), static_cast<int>(num.exponent.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, CtxFree> bld(OSSL_PARAM_BLD_new());
    if (!n || !e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
        return nullptr;
    std::unique_ptr<OSSL_PARAM, CtxFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        key = nullptr;
    ERR_clear_error();
    return key;
}

// What OpenSSL's generic decoders make of `der` (SubjectPublicKeyInfo of any algorithm, then
// PKCS#1 RSAPublicKey): the slow path, for encodings parse_rsa_public_der() leaves alone.
EVP_PKEY* decode_generic(std::string_view der) {
    const unsigned char* p = bytes(der);
    EVP_PKEY* raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (raw == nullptr) {
        ERR_clear_error();
        p = bytes(der);
        raw = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
    }
    ERR_clear_error();
    return raw;
}

// Decoded public keys by their bytes, one table per key type. Bounded: when full, an
// arbitrary entry makes room (a hostile stream of distinct keys costs a decode each, no more).
class PublicKeyCache {
  public:
    // OpenSSL first: its exit handler is then registered before this object's destructor,
    // which therefore frees the keys before OpenSSL cleans up.
    PublicKeyCache() { OPENSSL_init_crypto(0, nullptr); }

    struct Entry {
        std::shared_ptr<KeyHandle> key;
        unsigned bits = 0;
    };

    std::optional<Entry> find(KeyType type, std::string_view der) {
        std::lock_guard<std::mutex> lock(mu_);
        auto& map = maps_[static_cast<std::size_t>(type)];
        auto it = map.find(der);
        if (it == map.end())
            return std::nullopt;
        return it->second;
    }

    void insert(KeyType type, std::string_view der, Entry e) {
        std::lock_guard<std::mutex> lock(mu_);
        auto& map = maps_[static_cast<std::size_t>(type)];
        if (map.size() >= max_entries)
            map.erase(map.begin());
        map.emplace(std::string(der), std::move(e));
    }

  private:
    static constexpr std::size_t max_entries = 256;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::mutex mu_;
    std::array<std::unordered_map<std::string, Entry, Hash, std::equal_to<>>, 2> maps_;
};

// The public exponent's magnitude (big-endian, no leading zero octet) against
// max_rsa_exponent_bits: why it is refused, or nothing.
std::optional<Error> exponent_problem(std::string_view e) {
    while (!e.empty() && e.front() == '\0')
        e.remove_prefix(1);
    if (e.size() * 8 > max_rsa_exponent_bits) {
        unsigned bits = static_cast<unsigned>(e.size() * 8);
        for (auto top = static_cast<unsigned char>(e.front()); (top & 0x80) == 0; top <<= 1)
            --bits;
        return Error{Errc::key_too_large, "public exponent too large (" + std::to_string(bits) +
                                              " bits, at most " +
                                              std::to_string(max_rsa_exponent_bits) + ")"};
    }
    std::uint64_t value = 0;
    for (char c : e)
        value = (value << 8) | static_cast<unsigned char>(c);
    if (value < 3 || value % 2 == 0)
        return Error{Errc::bad_value, "public exponent " + std::to_string(value) +
                                          " is not an odd number of at least 3"};
    return std::nullopt;
}

// The modulus size in bits from its magnitude.
unsigned modulus_bits(std::string_view n) {
    while (!n.empty() && n.front() == '\0')
        n.remove_prefix(1);
    if (n.empty())
        return 0;
    unsigned bits = static_cast<unsigned>(n.size() * 8);
    for (auto top = static_cast<unsigned char>(n.front()); (top & 0x80) == 0; top <<= 1)
        --bits;
    return bits;
}

// The exponent of a key OpenSSL's generic decoder made, as a magnitude.
std::string exponent_of(EVP_PKEY* key) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) {
        ERR_clear_error();
        return {};
    }
    std::unique_ptr<BIGNUM, CtxFree> e(raw);
    std::string out(static_cast<std::size_t>(BN_num_bytes(e.get())), '\0');
    BN_bn2bin(e.get(), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

PublicKeyCache& key_cache() {
    static PublicKeyCache cache;
    return cache;
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
    EVP_DigestInit_ex(ctx_, sha256_md(), nullptr);
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
Sha256 Sha256::fork() const {
    Sha256 copy;
    if (ctx_ != nullptr)
        EVP_MD_CTX_copy_ex(copy.ctx_, ctx_);
    return copy;
}
Digest Sha256::finish() {
    Digest d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.data(), &len);
    EVP_DigestInit_ex(ctx_, sha256_md(), nullptr);
    return d;
}
Digest sha256(std::string_view data) {
    // One context per thread, reused: no allocation per digest.
    thread_local const std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
    Digest d{};
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), d.data(), &len) != 1) {
        Sha256 h;
        h.update(data);
        return h.finish();
    }
    return d;
}

Result<PublicKey> PublicKey::from_der(KeyType type, std::string_view der, const KeyPolicy& policy) {
    PublicKey pk;
    pk.type_ = type;
    if (type == KeyType::ed25519) {
        if (der.size() != 32)
            return fail(Errc::bad_value, "ed25519 key is not 32 bytes");
        if (auto hit = key_cache().find(type, der)) {
            pk.key_ = hit->key;
            pk.bits_ = hit->bits;
            return pk;
        }
        EVP_PKEY* raw =
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(der), der.size());
        if (raw == nullptr) {
            ERR_clear_error();
            return fail(Errc::crypto, "ed25519 key rejected");
        }
        pk.key_ = own(raw);
        pk.bits_ = 256;
        key_cache().insert(type, der, PublicKeyCache::Entry{pk.key_, pk.bits_});
        return pk;
    }
    if (auto hit = key_cache().find(type, der)) {
        pk.key_ = hit->key;
        pk.bits_ = hit->bits;
    } else {
        EVP_PKEY* raw = nullptr;
        if (auto numbers = parse_rsa_public_der(der)) {
            // Refused before OpenSSL builds the key: the checks cost nothing, the key would.
            if (auto bad = exponent_problem(numbers->exponent))
                return tl::unexpected(*bad);
            if (const unsigned bits = modulus_bits(numbers->modulus); bits > policy.max_rsa_bits)
                return fail(Errc::key_too_large, std::to_string(bits) + "-bit RSA key");
            raw = rsa_from_numbers(*numbers);
        }
        if (raw == nullptr)
            raw = decode_generic(der);
        if (raw == nullptr)
            return fail(Errc::crypto, "undecodable RSA public key");
        pk.key_ = own(raw);
        if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA)
            return fail(Errc::bad_value, "k=rsa record holds a non-RSA key");
        // The same exponent rule for keys only the generic decoder read; a refused key is not
        // cached, so a cached key always passed it.
        if (auto bad = exponent_problem(exponent_of(raw)))
            return tl::unexpected(*bad);
        int bits = EVP_PKEY_get_bits(raw);
        pk.bits_ = bits > 0 ? static_cast<unsigned>(bits) : 0;
        key_cache().insert(type, der, PublicKeyCache::Entry{pk.key_, pk.bits_});
    }
    // RFC 8301 §3.2, and our bound on the work a hostile key may cause: checked on every use,
    // the policy may differ between callers.
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
                  EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) == 1 &&
                  EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), digest.data(),
                                   digest.size()) == 1;
        ERR_clear_error();
        return ok;
    }
    std::lock_guard<std::mutex> lock(key_->mu);
    if (key_->ctx == nullptr)
        key_->ctx = rsa_context(key_->pkey, false);
    bool ok = key_->ctx != nullptr && EVP_PKEY_verify(key_->ctx, bytes(signature), signature.size(),
                                                      digest.data(), digest.size()) == 1;
    // A failed verification leaves errors on OpenSSL's queue; a passing one none, and clearing
    // the empty queue cost as much as 1 % of a 4 KiB verification (issue 21).
    if (!ok)
        ERR_clear_error();
    return ok;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    EVP_PKEY* raw = decode_private_pem(pem);
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
    if (!key_)
        return fail(Errc::crypto,
                    type_ == KeyType::ed25519 ? "ed25519 signing failed" : "RSA signing failed");
    if (type_ == KeyType::ed25519) {
        std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1 ||
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
    // The signing context is set up once per key and reused (the RSA blinding OpenSSL applies
    // to each signature is unaffected).
    std::lock_guard<std::mutex> lock(key_->mu);
    if (key_->ctx == nullptr)
        key_->ctx = rsa_context(key_->pkey, true);
    int size = EVP_PKEY_get_size(key_->pkey);
    if (key_->ctx == nullptr || size <= 0) {
        ERR_clear_error();
        return fail(Errc::crypto, "RSA signing failed");
    }
    sig.resize(static_cast<std::size_t>(size));
    len = sig.size();
    if (EVP_PKEY_sign(key_->ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, digest.data(),
                      digest.size()) != 1) {
        ERR_clear_error();
        return fail(Errc::crypto, "RSA signing failed");
    }
    sig.resize(len);
    return sig;
}

std::string PrivateKey::public_key_base64() const {
    if (!key_)
        return {};
    if (type_ == KeyType::ed25519) {
        std::string raw(32, '\0');
        size_t len = raw.size();
        EVP_PKEY_get_raw_public_key(key_->pkey, reinterpret_cast<unsigned char*>(raw.data()), &len);
        raw.resize(len);
        return base64_encode(raw);
    }
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key_->pkey, &der);
    if (len <= 0)
        return {};
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return base64_encode(out);
}

bool PrivateKey::matches(const PublicKey& pub) const {
    if (!key_ || !pub.key_ || type_ != pub.type_)
        return false;
    bool eq = EVP_PKEY_eq(key_->pkey, pub.key_->pkey) == 1;
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
    if (!key_)
        return {};
    std::unique_ptr<BIO, CtxFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_->pkey, nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        ERR_clear_error();
        return {};
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

} // namespace arcf::mail
