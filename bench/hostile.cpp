// SPDX-License-Identifier: ISC
// Worst-case messages for the CPU figures of issue 15 class 4, and their verification through
// the filter's own per-message objects.
#include "bench/hostile.hpp"

#include "arc/seal.hpp"
#include "filter/pipeline/message_job.hpp"
#include "filter/pipeline/sender_auth.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include "bench/corpus.hpp"
#include "bench/measure.hpp"
#include "mail/base64.hpp"
#include "mail/canon.hpp"
#include "mail/header.hpp"
#include "mail/signature_check.hpp"

namespace arcf::bench {

namespace {

struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
    void operator()(BIGNUM* b) const { BN_free(b); }
    void operator()(BN_CTX* c) const { BN_CTX_free(c); }
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
    void operator()(BIO* b) const { BIO_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, Free>;

Bn bn() {
    Bn b(BN_new());
    if (!b)
        throw std::runtime_error("BN_new failed");
    return b;
}

std::string join_crlf(const std::vector<std::string>& fields, const std::string& message) {
    std::string top;
    for (const auto& f : fields)
        top += f + "\r\n";
    return top + message;
}

mail::Digest relaxed_body_hash(std::string_view body) {
    mail::BodyHasher h(mail::Canon::relaxed);
    mail::for_each_line(body, [&](std::string_view l) { h.add_line(l); });
    return h.finish();
}

std::string as_text(const mail::Digest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// A DKIM-Signature (RFC 6376 §3.5, relaxed/relaxed) over `message` by `key`.
std::string dkim_signature(const std::string& message, const arc::SealKey& key) {
    auto split = mail::split_message(message);
    const std::vector<std::string> names = {"from", "to", "subject", "date", "message-id"};
    std::string field = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + key.domain +
                        "; s=" + key.selector + "; t=" + std::to_string(corpus_time) +
                        "; h=from:to:subject:date:message-id; bh=" +
                        mail::base64_encode(as_text(relaxed_body_hash(split.body))) + "; b=";
    auto sig = key.key.sign(
        mail::sha256(mail::signed_header_data(split.headers, names, mail::Canon::relaxed, field)));
    if (!sig)
        throw std::runtime_error("DKIM signing failed: " + sig.error().detail);
    return field + mail::base64_encode(*sig);
}

// `sets` ARC sets (RFC 8617 §5.1) by `hops[i % size]`, without verifying in between (the
// attack's key is one the verifier refuses).
std::string seal_chain(std::string message,
                       std::size_t sets,
                       const std::vector<std::shared_ptr<const arc::SealKey>>& hops) {
    for (std::size_t i = 0; i < sets; ++i) {
        const arc::SealKey& key = *hops.at(i % hops.size());
        arc::ChainResult chain;
        chain.status = i == 0 ? arc::ChainStatus::none : arc::ChainStatus::pass;
        chain.sets = static_cast<std::uint32_t>(i);
        auto split = mail::split_message(message);
        arc::SealOptions so;
        so.authserv_id = "mx." + key.domain;
        so.now = corpus_time;
        auto sealed = arc::seal_message(split.headers, relaxed_body_hash(split.body), chain,
                                        {arc::arc_resinfo(chain, "192.0.2.7")}, key, so);
        if (!sealed.sealed)
            throw std::runtime_error("sealing failed: " + sealed.reason);
        message = join_crlf(sealed.fields, message);
    }
    return message;
}

HostileMessage finish(const std::string& message, std::size_t verifications) {
    HostileMessage m;
    m.lines = lines_of(message);
    m.bytes = message.size();
    m.verifications = verifications;
    return m;
}

std::string record_of(const mail::PrivateKey& k) {
    return "v=DKIM1; k=rsa; p=" + k.public_key_base64();
}

// An RSA key with n of 3072 bits (the largest modulus OpenSSL verifies with an exponent over
// 64 bits) and e a random odd ~3000-bit number: each verification costs about as much as a
// private-key operation without CRT. Also a decoy public key with the same n and e + 2.
struct HugeExponentKey {
    mail::PrivateKey key;
    std::string decoy_spki_b64;
};

std::unique_ptr<EVP_PKEY, Free> from_params(OSSL_PARAM_BLD* bld, int selection) {
    std::unique_ptr<OSSL_PARAM, Free> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, Free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1)
        throw std::runtime_error("EVP_PKEY_fromdata failed");
    return std::unique_ptr<EVP_PKEY, Free>(key);
}

HugeExponentKey huge_exponent_key() {
    std::unique_ptr<BN_CTX, Free> ctx(BN_CTX_new());
    Bn p = bn(), q = bn(), n = bn(), phi = bn(), p1 = bn(), q1 = bn(), e = bn(), d = bn(),
       dp = bn(), dq = bn(), qinv = bn(), g = bn();
    if (BN_generate_prime_ex(p.get(), 1536, 0, nullptr, nullptr, nullptr) != 1 ||
        BN_generate_prime_ex(q.get(), 1536, 0, nullptr, nullptr, nullptr) != 1)
        throw std::runtime_error("prime generation failed");
    BN_mul(n.get(), p.get(), q.get(), ctx.get());
    BN_sub(p1.get(), p.get(), BN_value_one());
    BN_sub(q1.get(), q.get(), BN_value_one());
    BN_mul(phi.get(), p1.get(), q1.get(), ctx.get());
    do {
        BN_rand(e.get(), 3000, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
        BN_gcd(g.get(), e.get(), phi.get(), ctx.get());
    } while (!BN_is_one(g.get()));
    BN_mod_inverse(d.get(), e.get(), phi.get(), ctx.get());
    BN_mod(dp.get(), d.get(), p1.get(), ctx.get());
    BN_mod(dq.get(), d.get(), q1.get(), ctx.get());
    BN_mod_inverse(qinv.get(), q.get(), p.get(), ctx.get());
    std::unique_ptr<OSSL_PARAM_BLD, Free> bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get());
    auto priv = from_params(bld.get(), EVP_PKEY_KEYPAIR);
    std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), priv.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("PEM encoding failed");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    auto key = mail::PrivateKey::from_pem(std::string(data, static_cast<std::size_t>(len)));
    if (!key)
        throw std::runtime_error("huge-exponent key: " + key.error().detail);

    BN_add_word(e.get(), 2);
    std::unique_ptr<OSSL_PARAM_BLD, Free> pub(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(pub.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(pub.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    auto decoy = from_params(pub.get(), EVP_PKEY_PUBLIC_KEY);
    unsigned char* der = nullptr;
    int der_len = i2d_PUBKEY(decoy.get(), &der);
    if (der_len <= 0)
        throw std::runtime_error("decoy encoding failed");
    std::string spki(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
    OPENSSL_free(der);
    return HugeExponentKey{std::move(*key), mail::base64_encode(spki)};
}

std::shared_ptr<const arc::SealKey>
seal_key(const mail::PrivateKey& k, const std::string& domain, const std::string& selector) {
    auto s = std::make_shared<arc::SealKey>();
    s->domain = domain;
    s->selector = selector;
    s->key = k;
    return s;
}

} // namespace

HostileMessage worst_legal_message(unsigned bits) {
    auto generated = mail::PrivateKey::generate(mail::KeyType::rsa, bits);
    if (!generated)
        throw std::runtime_error("key generation: " + generated.error().detail);
    const mail::PrivateKey& k = *generated;
    const std::string record = record_of(k);
    std::map<std::string, dns::TxtAnswer> zone;
    // Ten signers and fifty hops, each under its own name (one key: a key's decoding is
    // cached per process anyway, its verifications are not).
    std::string message = make_message(4 * 1024, 15);
    for (int i = 1; i <= 10; ++i) {
        auto signer = seal_key(k, "sender" + std::to_string(i) + ".example", "d1");
        message = dkim_signature(message, *signer) + "\r\n" + message;
        zone[mail::KeyName{signer->selector, signer->domain}.dns_name()] =
            dns::TxtAnswer::found({record}, 300);
    }
    std::vector<std::shared_ptr<const arc::SealKey>> hops;
    for (int i = 1; i <= 50; ++i) {
        hops.push_back(seal_key(k, "hop" + std::to_string(i) + ".example", "s1"));
        zone[mail::KeyName{"s1", hops.back()->domain}.dns_name()] =
            dns::TxtAnswer::found({record}, 300);
    }
    auto m = finish(seal_chain(message, 50, hops), 110);
    m.zone = std::move(zone);
    return m;
}

HostileMessage exponent_attack_message() {
    auto huge = huge_exponent_key();
    auto key = seal_key(huge.key, "evil.example", "x");
    std::string message = make_message(4 * 1024, 16);
    for (int i = 0; i < 10; ++i)
        message = dkim_signature(message, *key) + "\r\n" + message;
    message = seal_chain(message, 50, {key});
    // 49 decoys, the real key last: every signature would try all 50 records.
    std::vector<std::string> records(49, "v=DKIM1; k=rsa; p=" + huge.decoy_spki_b64);
    records.push_back(record_of(huge.key));
    auto m = finish(message, 110 * 50);
    m.zone[mail::KeyName{"x", "evil.example"}.dns_name()] = dns::TxtAnswer::found(records, 300);
    return m;
}

FilterVerdict verify_as_filter(const HostileMessage& m) {
    filter::JobOptions jo;
    jo.authserv_id = "mx.bench.test";
    jo.verify.now = corpus_time;
    jo.remote_ip = "192.0.2.7";
    filter::MessageJob job(std::move(jo));
    filter::SenderAuthOptions ao;
    ao.spf = false;
    ao.dmarc = false;
    filter::SenderAuth auth(ao, filter::SenderContext{"192.0.2.7", "mail.example", "a@example", "",
                                                      "mx.bench.test",
                                                      static_cast<std::int64_t>(corpus_time)});
    job.set_sender_auth(&auth);
    auto answer = [&](const std::string& name) {
        auto it = m.zone.find(name);
        return it == m.zone.end() ? dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN")
                                  : it->second;
    };
    std::vector<mail::KeyName> names;
    for (const auto& l : m.lines) {
        auto asked = job.add_line(l);
        names.insert(names.end(), asked.begin(), asked.end());
    }
    auto asked = job.end_of_data();
    names.insert(names.end(), asked.begin(), asked.end());
    auth.end_of_data();
    for (const auto& n : names)
        job.provide_key(n, answer(n.dns_name()));
    for (const auto& q : auth.take_queries())
        auth.on_answer(q.id, answer(q.name));
    auth.conclude();
    auto r = job.complete(nullptr, &auth);
    FilterVerdict v;
    v.chain = r.chain.status;
    v.chain_reason = r.chain.reason;
    for (const auto& res : auth.results()) {
        if (res.method != "dkim")
            continue;
        ++v.dkim_total;
        if (res.result == "pass")
            ++v.dkim_pass;
        if (v.dkim_reason.empty())
            v.dkim_reason = res.reason.value_or("");
    }
    return v;
}

struct RsaVerifyMeter::State {
    std::unique_ptr<EVP_PKEY, Free> key;
    std::unique_ptr<EVP_PKEY_CTX, Free> verifier;
    std::vector<unsigned char> sig;
    std::array<unsigned char, 32> digest{};
};

RsaVerifyMeter::RsaVerifyMeter(unsigned bits) : s_(std::make_unique<State>()) {
    s_->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    if (!s_->key)
        throw std::runtime_error("RSA key generation failed");
    s_->digest.fill(0x5a);
    std::unique_ptr<EVP_PKEY_CTX, Free> signer(EVP_PKEY_CTX_new(s_->key.get(), nullptr));
    s_->verifier.reset(EVP_PKEY_CTX_new(s_->key.get(), nullptr));
    for (EVP_PKEY_CTX* c : {signer.get(), s_->verifier.get()})
        if (c == nullptr)
            throw std::runtime_error("EVP context failed");
    if (EVP_PKEY_sign_init(signer.get()) != 1 || EVP_PKEY_verify_init(s_->verifier.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(signer.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(s_->verifier.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(signer.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(s_->verifier.get(), EVP_sha256()) != 1)
        throw std::runtime_error("EVP RSA setup failed");
    std::size_t len = static_cast<std::size_t>(EVP_PKEY_get_size(s_->key.get()));
    s_->sig.resize(len);
    if (EVP_PKEY_sign(signer.get(), s_->sig.data(), &len, s_->digest.data(), s_->digest.size()) !=
        1)
        throw std::runtime_error("EVP RSA sign failed");
    s_->sig.resize(len);
}

RsaVerifyMeter::~RsaVerifyMeter() = default;

double RsaVerifyMeter::per_second(double seconds) {
    State& s = *s_;
    return rate_for(
        [&s] {
            EVP_PKEY_verify(s.verifier.get(), s.sig.data(), s.sig.size(), s.digest.data(),
                            s.digest.size());
        },
        seconds, 8);
}

} // namespace arcf::bench
