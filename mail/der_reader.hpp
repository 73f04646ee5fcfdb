// SPDX-License-Identifier: ISC
// X.690 §10 (DER) reading for the few types an RSA key uses: SEQUENCE, OBJECT IDENTIFIER, NULL,
// BIT STRING, OCTET STRING, INTEGER. Shared by rsa_public_der.cpp and rsa_private_der.cpp.
#pragma once

#include <cstddef>
#include <string_view>

namespace arcf::mail::der {

inline constexpr unsigned char tag_integer = 0x02, tag_bit_string = 0x03, tag_octet_string = 0x04,
                               tag_null = 0x05, tag_oid = 0x06, tag_sequence = 0x30;

// 1.2.840.113549.1.1.1 (rsaEncryption, RFC 3279 §2.3.1), its DER contents octets.
inline constexpr std::string_view rsa_encryption_oid = "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";

inline unsigned char byte_at(std::string_view s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

/// Takes one TLV of type `tag` from the front of `in`; its contents go to `contents`. X.690
/// §10.1: definite length in the fewest octets (at most two: no key we accept is longer).
inline bool take(std::string_view& in, unsigned char tag, std::string_view& contents) {
    if (in.size() < 2 || byte_at(in, 0) != tag)
        return false;
    std::size_t len = byte_at(in, 1), header = 2;
    if (len >= 0x80) {
        std::size_t octets = len & 0x7f;
        if (octets == 0 || octets > 2 || in.size() < 2 + octets || byte_at(in, 2) == 0)
            return false; // indefinite, too long for any key we accept, or not minimal
        len = 0;
        for (std::size_t i = 0; i < octets; ++i)
            len = (len << 8) | byte_at(in, 2 + i);
        if (len < 0x80)
            return false; // the short form was required
        header += octets;
    }
    if (in.size() - header < len)
        return false;
    contents = in.substr(header, len);
    in.remove_prefix(header + len);
    return true;
}

/// A positive INTEGER in minimal form (X.690 §8.3.2), as its magnitude.
inline bool take_positive_integer(std::string_view& in, std::string_view& magnitude) {
    std::string_view c;
    if (!take(in, tag_integer, c) || c.empty() || (byte_at(c, 0) & 0x80) != 0)
        return false;
    if (byte_at(c, 0) == 0) {
        if (c.size() == 1 || (byte_at(c, 1) & 0x80) == 0)
            return false; // zero, or a leading zero octet that is not needed
        c.remove_prefix(1);
    }
    magnitude = c;
    return true;
}

/// The INTEGER 0 (a version field), in its only DER form.
inline bool take_zero(std::string_view& in) {
    std::string_view c;
    return take(in, tag_integer, c) && c.size() == 1 && c[0] == '\0';
}

} // namespace arcf::mail::der
