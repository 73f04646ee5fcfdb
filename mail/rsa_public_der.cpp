// SPDX-License-Identifier: ISC
// The DER of an RSA public key, read with der_reader.hpp (X.690 §10).
#include "mail/rsa_public_der.hpp"

#include "mail/der_reader.hpp"

namespace arcf::mail {

namespace {

using der::rsa_encryption_oid;
using der::tag_bit_string;
using der::tag_null;
using der::tag_oid;
using der::tag_sequence;
using der::take;
using der::take_positive_integer;

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, the whole input.
std::optional<RsaPublicNumbers> rsa_public_key(std::string_view in) {
    std::string_view seq;
    RsaPublicNumbers out;
    if (!take(in, tag_sequence, seq) || !in.empty() || !take_positive_integer(seq, out.modulus) ||
        !take_positive_integer(seq, out.exponent) || !seq.empty())
        return std::nullopt;
    return out;
}

} // namespace

std::optional<RsaPublicNumbers> parse_rsa_public_der(std::string_view der) {
    // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
    //                                     subjectPublicKey BIT STRING }
    std::string_view in = der, spki, alg, oid, params, bits;
    if (take(in, tag_sequence, spki) && in.empty() && take(spki, tag_sequence, alg) &&
        take(spki, tag_bit_string, bits) && spki.empty()) {
        // RFC 3279 §2.3.1: rsaEncryption's parameters are NULL.
        if (!take(alg, tag_oid, oid) || oid != rsa_encryption_oid || !take(alg, tag_null, params) ||
            !params.empty() || !alg.empty())
            return std::nullopt;
        if (bits.empty() || bits[0] != 0)
            return std::nullopt; // unused bits: not an octet string of DER
        return rsa_public_key(bits.substr(1));
    }
    return rsa_public_key(der);
}

} // namespace arcf::mail
