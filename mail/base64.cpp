// SPDX-License-Identifier: ISC
// RFC 4648 §4 base64 with DKIM's whitespace tolerance.
#include "mail/base64.hpp"

#include <array>
#include <cstdint>

namespace arcf::mail {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t)
        v = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto table = make_table();
} // namespace

std::optional<std::string> base64_decode(std::string_view in) {
    // Sized once for the largest result (every four characters give at most three bytes),
    // written through a pointer and cut to size at the end: no growth checks per byte.
    std::string out(in.size() / 4 * 3 + 3, '\0');
    char* o = out.data();
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const auto* const end = p + in.size();
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t chars = 0;
    std::size_t pad = 0;
    while (p < end) {
        if (bits == 0 && pad == 0) {
            // At a quantum boundary: whole groups of four alphabet characters at once (a
            // whitespace, '=' or invalid byte ends the run and takes the bytewise way below).
            while (end - p >= 4) {
                const std::int32_t a = table[p[0]], b = table[p[1]], c = table[p[2]],
                                   d = table[p[3]];
                if ((a | b | c | d) < 0)
                    break;
                const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
                o[0] = static_cast<char>(v >> 16);
                o[1] = static_cast<char>((v >> 8) & 0xff);
                o[2] = static_cast<char>(v & 0xff);
                o += 3;
                p += 4;
                chars += 4;
            }
            if (p == end)
                break;
        }
        const unsigned char c = *p++;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            ++pad;
            ++chars;
            continue;
        }
        if (pad != 0)
            return std::nullopt; // data after padding
        std::int8_t v = table[c];
        if (v < 0)
            return std::nullopt;
        ++chars;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if (chars % 4 != 0 || pad > 2)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(o - out.data()));
    return out;
}

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k]));
    };
    for (; i + 2 < in.size(); i += 3) {
        std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    if (i + 1 == in.size()) {
        std::uint32_t v = byte(i) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.append("==");
    } else if (i + 2 == in.size()) {
        std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

} // namespace arcf::mail
