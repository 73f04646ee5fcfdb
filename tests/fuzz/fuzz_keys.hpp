// SPDX-License-Identifier: ISC
// The DNS the message-level fuzz targets see: the ARC suite's published test key, our own
// signing key (tests/arc/test_keys.cpp), and for every other name an answer chosen by a hash of
// the name, so that temporary failures, NXDOMAIN, NODATA and broken records all occur.
#pragma once

#include "arc/chain.hpp"
#include "arc/seal.hpp"
#include "dns/answer.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/filter/test_keys.hpp"

#include <memory>
#include <string>

#include "mail/crypto.hpp"

namespace arcf::fuzz {

/// dummy._domainkey.example.org in the ARC test suite (public half only).
inline constexpr const char* suite_key_record =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6"
    "wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5Qjv"
    "HO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

/// Our sealing key: Ed25519 (cheap to sign with), published at fuzz._domainkey.seal.example.
inline const std::shared_ptr<const arc::SealKey>& seal_key() {
    static const std::shared_ptr<const arc::SealKey> k =
        std::make_shared<const arc::SealKey>(arc::SealKey{
            "seal.example", "fuzz", *mail::PrivateKey::from_pem(tests::keys::ed25519_pkcs8)});
    return k;
}

inline dns::TxtAnswer lookup(const mail::KeyName& name) {
    std::string n = name.dns_name();
    if (n == "dummy._domainkey.example.org")
        return dns::TxtAnswer::found({suite_key_record});
    if (n == "fuzz._domainkey.seal.example")
        return dns::TxtAnswer::found({tests::key_record(seal_key()->key)});
    std::size_t h = std::hash<std::string>{}(n);
    switch (h % 6) {
    case 0:
        return dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL");
    case 1:
        return dns::TxtAnswer::failed(dns::Status::nodata, "NODATA");
    case 2:
        return dns::TxtAnswer::found({"v=DKIM1; p="}); // revoked
    case 3:
        return dns::TxtAnswer::found({"garbage", suite_key_record}); // second record usable
    case 4:
        return dns::TxtAnswer::found({suite_key_record});
    default:
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    }
}

} // namespace arcf::fuzz
