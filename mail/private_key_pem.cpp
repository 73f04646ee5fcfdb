// SPDX-License-Identifier: ISC
#include "mail/private_key_pem.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "mail/base64.hpp"
#include "mail/rsa_private_der.hpp"

namespace arcf::mail {

namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct DecoderFree {
    void operator()(OSSL_DECODER_CTX* c) const { OSSL_DECODER_CTX_free(c); }
};
struct OsslFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view pem) {
    return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first line of `text` and what follows it; the line without its end of line.
std::string_view next_line(std::string_view& text) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

// The RSA key of `numbers`, made from its parameters by the provider's key management.
EVP_PKEY* rsa_key(const RsaPrivateNumbers& numbers) {
    const std::array<std::pair<const char*, std::string_view>, 8> fields{{
        {OSSL_PKEY_PARAM_RSA_N, numbers.modulus},
        {OSSL_PKEY_PARAM_RSA_E, numbers.public_exponent},
        {OSSL_PKEY_PARAM_RSA_D, numbers.private_exponent},
        {OSSL_PKEY_PARAM_RSA_FACTOR1, numbers.prime1},
        {OSSL_PKEY_PARAM_RSA_FACTOR2, numbers.prime2},
        {OSSL_PKEY_PARAM_RSA_EXPONENT1, numbers.exponent1},
        {OSSL_PKEY_PARAM_RSA_EXPONENT2, numbers.exponent2},
        {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, numbers.coefficient},
    }};
    std::array<std::unique_ptr<BIGNUM, OsslFree>, 8> bns;
    std::unique_ptr<OSSL_PARAM_BLD, OsslFree> bld(OSSL_PARAM_BLD_new());
    if (!bld)
        return nullptr;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& [name, magnitude] = fields[i];
        bns[i].reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(magnitude.data()),
                               static_cast<int>(magnitude.size()), nullptr));
        if (!bns[i] || OSSL_PARAM_BLD_push_BN(bld.get(), name, bns[i].get()) != 1)
            return nullptr;
    }
    std::unique_ptr<OSSL_PARAM, OsslFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, OsslFree> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1)
        key = nullptr;
    return key;
}

} // namespace

std::optional<PemBlock> first_pem_block(std::string_view pem) {
    // RFC 7468 §2: text before the encapsulation boundary is ignored, as OpenSSL's reader does.
    constexpr std::string_view begin = "-----BEGIN ", dashes = "-----";
    while (!pem.empty()) {
        std::string_view line = next_line(pem);
        if (line.substr(0, begin.size()) != begin)
            continue;
        line.remove_prefix(begin.size());
        if (line.size() < dashes.size() || line.substr(line.size() - dashes.size()) != dashes)
            return std::nullopt;
        PemBlock block{std::string(line.substr(0, line.size() - dashes.size())), {}};
        const std::string end = "-----END " + block.label + "-----";
        std::string_view body = pem;
        while (!pem.empty()) {
            const char* at = pem.data();
            if (next_line(pem) == end) {
                auto decoded =
                    base64_decode(body.substr(0, static_cast<std::size_t>(at - body.data())));
                if (!decoded)
                    return std::nullopt;
                block.der = std::move(*decoded);
                return block;
            }
        }
        return std::nullopt;
    }
    return std::nullopt;
}

EVP_PKEY* decode_rsa_private_pem(std::string_view pem) {
    auto block = first_pem_block(pem);
    if (!block)
        return nullptr;
    std::optional<RsaPrivateNumbers> numbers;
    if (block->label == "PRIVATE KEY")
        numbers = parse_rsa_private_key_info(block->der);
    else if (block->label == "RSA PRIVATE KEY")
        numbers = parse_rsa_private_key(block->der);
    EVP_PKEY* key = numbers ? rsa_key(*numbers) : nullptr;
    OPENSSL_cleanse(block->der.data(), block->der.size());
    ERR_clear_error();
    return key;
}

EVP_PKEY* decode_private_pem_as(std::string_view pem, const char* type) {
    auto bio = memory_bio(pem);
    EVP_PKEY* key = nullptr;
    // No input structure named: the decoder takes PKCS #8 PrivateKeyInfo and the type's own
    // form ("RSA PRIVATE KEY") alike, as the generic path does.
    std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> ctx(OSSL_DECODER_CTX_new_for_pkey(
        &key, "PEM", nullptr, type, EVP_PKEY_KEYPAIR, nullptr, nullptr));
    if (!bio || !ctx || OSSL_DECODER_from_bio(ctx.get(), bio.get()) != 1) {
        EVP_PKEY_free(key);
        key = nullptr;
    }
    ERR_clear_error();
    return key;
}

EVP_PKEY* decode_private_pem(std::string_view pem) {
    if (EVP_PKEY* key = decode_rsa_private_pem(pem))
        return key;
    if (EVP_PKEY* key = decode_private_pem_as(pem, "ED25519"))
        return key;
    auto bio = memory_bio(pem);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    ERR_clear_error();
    return key;
}

} // namespace arcf::mail
