// SPDX-License-Identifier: ISC
// RFC 4648 §4 base64 with DKIM's whitespace tolerance.
#include "mail/base64.hpp"

#include <array>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ARCF_BASE64_SSSE3 1 // decode_blocks(), chosen at run time
#endif

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

// The same values already in place within a quantum's 24 bits: character k of four (k = 0..3)
// contributes bits 18 - 6k .. 23 - 6k, so that a quantum is the OR of four lookups. A byte
// outside the alphabet has bit 31 set, so that one test of the OR finds any of four.
constexpr std::uint32_t invalid = 0x80000000u;
constexpr std::array<std::uint32_t, 256> make_placed(int k) {
    std::array<std::uint32_t, 256> t{};
    for (std::size_t i = 0; i < t.size(); ++i)
        t[i] = table[i] < 0
                   ? invalid
                   : static_cast<std::uint32_t>(table[i]) << static_cast<unsigned>(18 - 6 * k);
    return t;
}
constexpr auto placed0 = make_placed(0), placed1 = make_placed(1), placed2 = make_placed(2),
               placed3 = make_placed(3);

// Four alphabet characters at `p` as 24 bits, or a value with bit 31 set.
inline std::uint32_t quantum(const unsigned char* p) {
    return placed0[p[0]] | placed1[p[1]] | placed2[p[2]] | placed3[p[3]];
}

inline void put3(char* o, std::uint32_t v) {
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>((v >> 8) & 0xff);
    o[2] = static_cast<char>(v & 0xff);
}

#if defined(ARCF_BASE64_SSSE3)
// Blocks of sixteen alphabet characters from `p`, each to twelve bytes at `o` (sixteen are
// stored: `o` needs four bytes of room beyond the result), while they last; returns where the
// first block with another byte (FWS, '=', anything else) or the last few bytes begin, for the
// scalar loops. Each byte is classified by its two nibbles (two table lookups whose AND is
// non-zero for a byte outside the alphabet), moved to its 6-bit value by an offset chosen by
// its high nibble ('/' apart), and the 6-bit values are packed with two multiply-adds.
__attribute__((target("ssse3"))) const unsigned char*
decode_blocks(const unsigned char* p, const unsigned char* end, char*& o) {
    const __m128i nibble = _mm_set1_epi8(0x0f);
    // Bit sets per low and high nibble: 0x10 for high nibbles 0, 1 and 8..f (controls, 8-bit),
    // then one bit per row of the ASCII table 2..7, set in the low-nibble entry where that
    // row's byte is not in the alphabet.
    const __m128i by_low = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                         0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
    const __m128i by_high = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10,
                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
    // Offsets by high nibble, index 1 being '/' (the high nibble of '/' less one): '/' -> 63,
    // '+' -> 62, digits -> 52.., 'A'.. -> 0.., 'a'.. -> 26...
    const __m128i offset = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m128i slash = _mm_set1_epi8('/');
    const __m128i pairs = _mm_set1_epi32(0x01400140); // a * 64 + b per byte pair
    const __m128i quads = _mm_set1_epi32(0x00011000); // ab * 4096 + cd per 16-bit pair
    const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m128i zero = _mm_setzero_si128();
    for (; end - p >= 16; p += 16, o += 12) {
        const __m128i in = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i high = _mm_and_si128(_mm_srli_epi32(in, 4), nibble);
        const __m128i low = _mm_and_si128(in, nibble);
        const __m128i bad =
            _mm_and_si128(_mm_shuffle_epi8(by_low, low), _mm_shuffle_epi8(by_high, high));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(bad, zero)) != 0xffff)
            break;
        const __m128i shift =
            _mm_shuffle_epi8(offset, _mm_add_epi8(_mm_cmpeq_epi8(in, slash), high));
        const __m128i values = _mm_add_epi8(in, shift);
        const __m128i packed = _mm_madd_epi16(_mm_maddubs_epi16(values, pairs), quads);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_shuffle_epi8(packed, order));
    }
    return p;
}

bool have_ssse3() {
    static const bool yes = __builtin_cpu_supports("ssse3");
    return yes;
}
#endif
} // namespace

std::optional<std::string> base64_decode(std::string_view in) {
    // Sized once for the largest result (every four characters give at most three bytes),
    // written through a pointer and cut to size at the end: no growth checks per byte.
    // Sixteen bytes more than that: room for the last block's whole store (decode_blocks).
    std::string out(in.size() / 4 * 3 + 3 + 16, '\0');
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
#if defined(ARCF_BASE64_SSSE3)
            if (have_ssse3()) {
                const unsigned char* const from = p;
                p = decode_blocks(p, end, o);
                chars += static_cast<std::size_t>(p - from);
            }
#endif
            // Two quanta per step while they last (b= values run about 70 characters
            // between folds), then one.
            while (end - p >= 8) {
                const std::uint32_t v = quantum(p), w = quantum(p + 4);
                if (((v | w) & invalid) != 0)
                    break;
                put3(o, v);
                put3(o + 3, w);
                o += 6;
                p += 8;
                chars += 8;
            }
            while (end - p >= 4) {
                const std::uint32_t v = quantum(p);
                if ((v & invalid) != 0)
                    break;
                put3(o, v);
                o += 3;
                p += 4;
                chars += 4;
            }
            if (p == end)
                break;
        }
        const unsigned char c = *p++;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            // The whole fold ("\r\n\t") before the fast loops are tried again.
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
                ++p;
            continue;
        }
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
