// SPDX-License-Identifier: ISC
// Throw-away Ed25519 signing keys for filter tests, with their DKIM key records.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "mail/crypto.hpp"

namespace arcf::tests {

inline mail::PrivateKey make_ed25519_key() {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    EVP_PKEY_free(k);
    return *mail::PrivateKey::from_pem(pem);
}

inline std::string key_record(const mail::PrivateKey& k) {
    return std::string("v=DKIM1; k=") + (k.type() == mail::KeyType::rsa ? "rsa" : "ed25519") +
           "; p=" + k.public_key_base64();
}

} // namespace arcf::tests
