// SPDX-License-Identifier: ISC
// Unit tests for mail/base64.hpp: RFC 4648 §4 with DKIM's FWS tolerance (RFC 6376 §2.4).
#include "tests/catch.hpp"
#include "tests/support/xorshift.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include "mail/base64.hpp"

using namespace arcf;

TEST_CASE("base64: RFC 4648 §10 test vectors encode", "[base64][rfc4648]") {
    CHECK(mail::base64_encode("") == "");
    CHECK(mail::base64_encode("f") == "Zg==");
    CHECK(mail::base64_encode("fo") == "Zm8=");
    CHECK(mail::base64_encode("foo") == "Zm9v");
    CHECK(mail::base64_encode("foob") == "Zm9vYg==");
    CHECK(mail::base64_encode("fooba") == "Zm9vYmE=");
    CHECK(mail::base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64: RFC 4648 §10 test vectors decode", "[base64][rfc4648]") {
    CHECK(mail::base64_decode("") == std::optional<std::string>(""));
    CHECK(mail::base64_decode("Zg==") == std::optional<std::string>("f"));
    CHECK(mail::base64_decode("Zm8=") == std::optional<std::string>("fo"));
    CHECK(mail::base64_decode("Zm9v") == std::optional<std::string>("foo"));
    CHECK(mail::base64_decode("Zm9vYg==") == std::optional<std::string>("foob"));
    CHECK(mail::base64_decode("Zm9vYmE=") == std::optional<std::string>("fooba"));
    CHECK(mail::base64_decode("Zm9vYmFy") == std::optional<std::string>("foobar"));
}

TEST_CASE("base64: the whole alphabet and binary bytes round-trip", "[base64][rfc4648]") {
    // "ABCD" is 0x00 0x10 0x83 and "89+/" is 0xf3 0xdf 0xbf.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto bytes = mail::base64_decode(alphabet);
    REQUIRE(bytes);
    REQUIRE(bytes->size() == 48);
    CHECK(static_cast<unsigned char>((*bytes)[0]) == 0x00);
    CHECK(static_cast<unsigned char>((*bytes)[1]) == 0x10);
    CHECK(static_cast<unsigned char>((*bytes)[2]) == 0x83);
    CHECK(static_cast<unsigned char>((*bytes)[47]) == 0xbf);
    CHECK(mail::base64_encode(*bytes) == alphabet);

    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); len += 37) {
        std::string part = all.substr(0, len);
        CHECK(mail::base64_decode(mail::base64_encode(part)) == std::optional<std::string>(part));
    }
}

TEST_CASE("base64: FWS anywhere is ignored (RFC 6376 §2.4)", "[base64][rfc6376]") {
    CHECK(mail::base64_decode(" Zm9v\r\n\tYmFy ") == std::optional<std::string>("foobar"));
    CHECK(mail::base64_decode("Z m 9 v Y g = =") == std::optional<std::string>("foob"));
    CHECK(mail::base64_decode("Zg=\r\n =") == std::optional<std::string>("f"));
    CHECK(mail::base64_decode(" \t\r\n") == std::optional<std::string>(""));
}

TEST_CASE("base64: invalid characters rejected", "[base64][rfc4648]") {
    CHECK_FALSE(mail::base64_decode("Zm9v!"));
    CHECK_FALSE(mail::base64_decode("Zm9-")); // base64url alphabet is not accepted
    CHECK_FALSE(mail::base64_decode("Zm9_"));
    CHECK_FALSE(mail::base64_decode("Zm9v;"));
    CHECK_FALSE(mail::base64_decode("Zm\x80v"));
    CHECK_FALSE(mail::base64_decode(std::string_view("Zm\0v", 4)));
}

TEST_CASE("base64: length not a multiple of four rejected", "[base64][rfc4648]") {
    CHECK_FALSE(mail::base64_decode("Z"));
    CHECK_FALSE(mail::base64_decode("Zm"));
    CHECK_FALSE(mail::base64_decode("Zm9"));
    CHECK_FALSE(mail::base64_decode("Zm9vY"));
    CHECK_FALSE(mail::base64_decode("Zg="));
    CHECK_FALSE(mail::base64_decode("Zm8=="));
}

TEST_CASE("base64: bad padding rejected", "[base64][rfc4648]") {
    CHECK_FALSE(mail::base64_decode("Z===")); // three pad characters
    CHECK_FALSE(mail::base64_decode("===="));
    CHECK_FALSE(mail::base64_decode("Zg==Zg==")); // data after padding
    CHECK_FALSE(mail::base64_decode("Z=g="));
    CHECK_FALSE(mail::base64_decode("=Zm9"));
}

namespace {

// RFC 4648 §4 with DKIM's FWS, one character at a time: the reference for the decoder's
// four-characters-at-once path (issue 21).
std::optional<std::string> reference_decode(std::string_view in) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t chars = 0, pad = 0;
    for (char c : in) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            ++pad;
            ++chars;
            continue;
        }
        const auto v = alphabet.find(c);
        if (pad != 0 || v == std::string::npos)
            return std::nullopt;
        ++chars;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    if (chars % 4 != 0 || pad > 2)
        return std::nullopt;
    return out;
}

} // namespace

TEST_CASE("base64: decode agrees with a one-character-at-a-time reference", "[base64][rfc4648]") {
    // Valid encodings with FWS, '=' and stray bytes dropped in at random places, so that the
    // four-at-once path starts and stops at every offset of a quantum.
    std::uint32_t s = 4648;
    auto next = [&s] {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    };
    const char noise[] = {' ', '\t', '\r', '\n', '=', '*', 'A', '\0'};
    int valid = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string bytes(next() % 80, '\0');
        for (auto& b : bytes)
            b = static_cast<char>(next() & 0xff);
        std::string text = mail::base64_encode(bytes);
        const std::uint32_t edits = next() % 4;
        for (std::uint32_t e = 0; e < edits; ++e)
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(next() % (text.size() + 1)),
                        noise[next() % sizeof noise]);
        INFO("round " << round << ": " << text);
        const auto got = mail::base64_decode(text);
        REQUIRE(got == reference_decode(text));
        if (edits == 0)
            REQUIRE(got == bytes);
        valid += got.has_value();
    }
    CHECK(valid > 1000);
}

TEST_CASE("base64: long folded values agree with the reference", "[base64][rfc6376]") {
    // Issue 21: b= and p= values of several hundred characters, folded every few dozen
    // characters as signers do (CRLF + WSP at any offset of a quantum), sometimes with a stray
    // byte, so that the two-quanta path starts, stops and resumes everywhere.
    test::Rng rng{8617};
    const char* const folds[] = {"\r\n ", "\r\n\t", " ", "\r\n  \t"};
    const char stray[] = {'*', '=', '-', '\0', '\x80', 'A'};
    for (int round = 0; round < 2000; ++round) {
        std::string bytes(rng.below(600), '\0');
        for (auto& b : bytes)
            b = static_cast<char>(rng.next() & 0xff);
        const std::string plain = mail::base64_encode(bytes);
        std::string text;
        const std::size_t every = 1 + rng.below(90);
        for (std::size_t i = 0; i < plain.size(); ++i) {
            if (i != 0 && i % every == 0)
                text += folds[rng.below(4)];
            text.push_back(plain[i]);
        }
        const bool spoiled = rng.below(4) == 0;
        if (spoiled)
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng.below(text.size() + 1)),
                        stray[rng.below(sizeof stray)]);
        INFO("round " << round << ": " << text);
        const auto got = mail::base64_decode(text);
        REQUIRE(got == reference_decode(text));
        if (!spoiled)
            REQUIRE(got == bytes);
    }
}

TEST_CASE("base64: every byte at every place of a block agrees with the reference",
          "[base64][rfc4648]") {
    // Issue 21: sixteen characters at a time are classified by their nibbles where the CPU
    // can (SSSE3); each of the 256 byte values at each offset of two blocks must be taken or
    // refused exactly as the one-character-at-a-time reference does.
    const std::string valid = mail::base64_encode(std::string(48, '\x5a')); // 64 characters
    for (std::size_t at = 0; at < 32; ++at) {
        for (int b = 0; b < 256; ++b) {
            std::string text = valid;
            text[at] = static_cast<char>(b);
            INFO("byte " << b << " at " << at);
            REQUIRE(mail::base64_decode(text) == reference_decode(text));
        }
    }
    // The whole alphabet in every rotation, so that each character sits at each offset.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t r = 0; r < alphabet.size(); ++r) {
        const std::string text = alphabet.substr(r) + alphabet.substr(0, r);
        INFO("rotation " << r);
        REQUIRE(mail::base64_decode(text) == reference_decode(text));
    }
}
