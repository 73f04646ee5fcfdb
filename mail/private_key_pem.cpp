// SPDX-License-Identifier: ISC
#include "mail/private_key_pem.hpp"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <memory>

namespace arcf::mail {

namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct DecoderFree {
    void operator()(OSSL_DECODER_CTX* c) const { OSSL_DECODER_CTX_free(c); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view pem) {
    return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

} // namespace

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
    for (const char* type : {"RSA", "ED25519"})
        if (EVP_PKEY* key = decode_private_pem_as(pem, type))
            return key;
    auto bio = memory_bio(pem);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    ERR_clear_error();
    return key;
}

} // namespace arcf::mail
