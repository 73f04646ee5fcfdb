// SPDX-License-Identifier: ISC
// A minimal DER writer for the tests (X.690 §8.1: tag, definite length, contents), independent of
// OpenSSL and of mail/der_reader.hpp: keys of any size, well formed or deliberately not.
#pragma once

#include <cstddef>
#include <string>

namespace arcf::tests {

/// X.690 §8.1.3: the short form below 128, else the long form in the fewest octets.
inline std::string der_length(std::size_t n) {
    if (n < 0x80)
        return std::string(1, static_cast<char>(n));
    std::string bytes;
    for (; n != 0; n >>= 8)
        bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    return static_cast<char>(0x80 | bytes.size()) + bytes;
}

/// One TLV: `tag`, the length of `content`, `content`.
inline std::string der(unsigned char tag, const std::string& content) {
    return static_cast<char>(tag) + der_length(content.size()) + content;
}

} // namespace arcf::tests
