// SPDX-License-Identifier: ISC
// The DER of an RSA private key, read with der_reader.hpp (X.690 §10).
#include "mail/rsa_private_der.hpp"

#include "mail/der_reader.hpp"

namespace arcf::mail {

using der::take;
using der::take_positive_integer;
using der::take_zero;

// RFC 8017 §A.1.2: RSAPrivateKey ::= SEQUENCE { version Version, modulus INTEGER,
// publicExponent INTEGER, privateExponent INTEGER, prime1 INTEGER, prime2 INTEGER,
// exponent1 INTEGER, exponent2 INTEGER, coefficient INTEGER, otherPrimeInfos OPTIONAL },
// the whole input; version 0 is two-prime, without otherPrimeInfos.
std::optional<RsaPrivateNumbers> parse_rsa_private_key(std::string_view in) {
    std::string_view seq;
    RsaPrivateNumbers k;
    if (!take(in, der::tag_sequence, seq) || !in.empty() || !take_zero(seq))
        return std::nullopt;
    for (std::string_view* n : {&k.modulus, &k.public_exponent, &k.private_exponent, &k.prime1,
                                &k.prime2, &k.exponent1, &k.exponent2, &k.coefficient})
        if (!take_positive_integer(seq, *n))
            return std::nullopt;
    if (!seq.empty())
        return std::nullopt;
    return k;
}

std::optional<RsaPrivateNumbers> parse_rsa_private_key_info(std::string_view der) {
    // RFC 5208 §5: PrivateKeyInfo ::= SEQUENCE { version Version,
    //   privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING,
    //   attributes [0] IMPLICIT Attributes OPTIONAL }
    std::string_view in = der, info, alg, oid, params, key;
    // RFC 3279 §2.3.1: rsaEncryption's parameters are NULL. No attributes.
    if (!take(in, der::tag_sequence, info) || !in.empty() || !take_zero(info) ||
        !take(info, der::tag_sequence, alg) || !take(alg, der::tag_oid, oid) ||
        oid != der::rsa_encryption_oid || !take(alg, der::tag_null, params) || !params.empty() ||
        !alg.empty() || !take(info, der::tag_octet_string, key) || !info.empty())
        return std::nullopt;
    return parse_rsa_private_key(key);
}

} // namespace arcf::mail
