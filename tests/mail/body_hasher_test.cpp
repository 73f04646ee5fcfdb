// SPDX-License-Identifier: ISC
// Differential tests of mail::BodyHasher (the streaming body canonicalizer, mail/canon.hpp)
// against a plain reference of RFC 6376 §3.4.3 (simple) and §3.4.4 (relaxed) written here: the
// body is cut into lines as for_each_line does (at LF, one CR before it dropped, a last piece
// without LF is a line), each line canonicalized, trailing empty lines dropped, then l= applied.
#include "tests/catch.hpp"
#include "tests/support/xorshift.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "mail/canon.hpp"
#include "mail/header.hpp"

using namespace arcf;
using mail::Canon;

namespace {

using test::Rng;

// The bytes of `s` with CR, LF and HTAB spelled out, for failure messages.
std::string shown(std::string_view s) {
    std::string out;
    for (char c : s)
        out += c == '\r'   ? std::string("\\r")
               : c == '\n' ? std::string("\\n")
               : c == '\t' ? std::string("\\t")
                           : std::string(1, c);
    return out;
}

bool wsp(char c) {
    return c == ' ' || c == '\t';
}

// RFC 6376 §3.4.4 on one line: WSP at its end removed, each WSP run one SP.
std::string relaxed_line(std::string_view line) {
    while (!line.empty() && wsp(line.back()))
        line.remove_suffix(1);
    std::string out;
    bool run = false;
    for (char c : line) {
        if (wsp(c)) {
            run = true;
            continue;
        }
        if (run)
            out += ' ';
        run = false;
        out += c;
    }
    return out;
}

// The lines of a body as for_each_line cuts them (written out again here on purpose).
std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            lines.emplace_back(text.substr(pos));
            break;
        }
        std::size_t end = nl;
        if (end > pos && text[end - 1] == '\r')
            --end;
        lines.emplace_back(text.substr(pos, end - pos));
        pos = nl + 1;
    }
    return lines;
}

// The canonical body of these lines (RFC 6376 §3.4.3/§3.4.4), before l=.
std::string canonical_body(Canon c, const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += (c == Canon::relaxed ? relaxed_line(l) : l) + "\r\n";
    // Empty lines at the end are ignored.
    while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0)
        out.erase(out.size() - 2);
    if (out == "\r\n")
        out.clear();
    // Simple: an empty body is one CRLF; relaxed: it stays empty (errata 1384).
    if (c == Canon::simple && out.empty())
        out = "\r\n";
    return out;
}

struct Outcome {
    mail::Digest digest;
    std::uint64_t length;
    bool operator==(const Outcome&) const = default;
};

Outcome reference(Canon c, const std::vector<std::string>& lines, std::optional<std::uint64_t> l) {
    const std::string body = canonical_body(c, lines);
    const std::string_view hashed =
        l ? std::string_view(body).substr(
                0, static_cast<std::size_t>(std::min<std::uint64_t>(*l, body.size())))
          : std::string_view(body);
    return {mail::sha256(hashed), body.size()};
}

// A body over {a, SP, HTAB, CR, LF}, with long lines and long runs now and then.
std::string random_body(Rng& r) {
    std::string b;
    const std::size_t pieces = 1 + r.below(r.below(4) == 0 ? 400 : 40);
    static const char alphabet[] = {'a', ' ', '\t', '\r', '\n'};
    for (std::size_t i = 0; i < pieces; ++i) {
        switch (r.below(10)) {
        case 0: // a long line of text with single SPs
            for (std::size_t n = 10 + r.below(300); n > 0; --n)
                b += r.below(6) == 0 ? ' ' : 'a';
            break;
        case 1: // a long WSP run
            for (std::size_t n = 1 + r.below(60); n > 0; --n)
                b += r.below(2) == 0 ? ' ' : '\t';
            break;
        case 2: // empty lines
            for (std::size_t n = 1 + r.below(8); n > 0; --n)
                b += r.below(3) == 0 ? "\n" : "\r\n";
            break;
        case 3:
            b += "\r\n";
            break;
        default:
            for (std::size_t n = 1 + r.below(12); n > 0; --n)
                b += alphabet[r.below(5)];
        }
    }
    return b;
}

// Feeds `text` to `h` in random pieces that end after an LF (add_text ends a line at the end
// of each piece), as add_text or as add_line on the piece's lines.
void feed(mail::BodyHasher& h, std::string_view text, Rng& r, int mode) {
    if (mode == 0) {
        h.add_text(text);
        return;
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t cut = text.size();
        if (r.below(3) != 0) {
            const std::size_t nl = text.find('\n', pos + r.below(200));
            if (nl != std::string_view::npos)
                cut = nl + 1;
        }
        const std::string_view piece = text.substr(pos, cut - pos);
        if (mode == 2 && r.below(2) == 0)
            mail::for_each_line(piece, [&](std::string_view l) { h.add_line(l); });
        else
            h.add_text(piece);
        pos = cut;
    }
}

// The relaxed path without its 64-byte step (mail::allow_wide_relaxed) while it lives.
struct NarrowOnly {
    bool before = mail::allow_wide_relaxed(false);
    NarrowOnly() = default;
    NarrowOnly(const NarrowOnly&) = delete;
    NarrowOnly& operator=(const NarrowOnly&) = delete;
    ~NarrowOnly() { mail::allow_wide_relaxed(before); }
};

Outcome run(Canon c, std::optional<std::uint64_t> l, std::string_view text, Rng& r, int mode) {
    mail::BodyHasher h(c, l);
    feed(h, text, r, mode);
    const auto d = h.finish();
    return {d, h.canonical_length()};
}

// Every line through add_line, under both canonicalizations, against the reference.
void check_add_line(const std::vector<std::string>& lines, std::uint32_t round) {
    for (const Canon c : {Canon::relaxed, Canon::simple}) {
        mail::BodyHasher h(c);
        for (const auto& line : lines)
            h.add_line(line);
        const auto d = h.finish();
        INFO("round " << round << " canon " << mail::to_string(c));
        REQUIRE(Outcome{d, h.canonical_length()} == reference(c, lines, std::nullopt));
    }
}

} // namespace

TEST_CASE("body hasher: random bodies over {a, SP, HTAB, CR, LF} agree with the RFC reference",
          "[canon][rfc6376]") {
    // Both ways where the CPU has the 64-byte step: with it and with the 16-byte path alone.
    std::optional<NarrowOnly> narrow;
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    for (std::uint32_t round = 1; round <= 3000; ++round) {
        Rng r{round * 2654435761u};
        const std::string body = random_body(r);
        const auto lines = lines_of(body);
        for (const Canon c : {Canon::relaxed, Canon::simple}) {
            const std::size_t full = canonical_body(c, lines).size();
            std::optional<std::uint64_t> l;
            if (round % 3 == 1)
                l = r.below(full + 3); // l= anywhere, also past the end
            const Outcome want = reference(c, lines, l);
            for (int mode = 0; mode < 3; ++mode) {
                INFO("round " << round << " canon " << mail::to_string(c) << " mode " << mode
                              << " body " << shown(body));
                REQUIRE(run(c, l, body, r, mode) == want);
            }
        }
    }
}

TEST_CASE("body hasher: each line fed by add_line agrees with the reference", "[canon][rfc6376]") {
    // add_line takes any line, CR and (not from for_each_line) LF inside it included: an LF in
    // a line is then an ordinary byte.
    for (std::uint32_t round = 1; round <= 2000; ++round) {
        Rng r{round * 40503u + 7};
        std::vector<std::string> lines(r.below(30));
        // (No CR before an LF inside a line: a line "\r\n" would hash as an empty line.)
        static const char alphabet[] = {'a', ' ', '\t', '\r', 'a', ' ', '\n'};
        for (auto& line : lines)
            for (std::size_t n = r.below(r.below(4) == 0 ? 200 : 12); n > 0; --n) {
                const char c = alphabet[r.below(round % 2 == 0 ? 7 : 6)];
                if (c == '\n' && !line.empty() && line.back() == '\r')
                    line.back() = 'a';
                line += c;
            }
        check_add_line(lines, round);
    }
}

TEST_CASE("body hasher: bodies larger than the buffer, changes at every offset",
          "[canon][rfc6376]") {
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    // Text like the benchmark's (double spaces, trailing WSP, indented lines, empty lines) and
    // runs of empty lines longer than the buffer, in the middle and at the end; LF-only too.
    for (std::uint32_t round = 1; round <= 40; ++round) {
        Rng r{round * 97u + 3};
        std::string body;
        const char* eol = round % 4 == 0 ? "\n" : "\r\n";
        while (body.size() < 40000) {
            for (int i = 0; i < 6; ++i) {
                for (std::size_t n = 40 + r.below(40); n > 0; --n)
                    body += r.below(7) == 0 ? ' ' : 'a';
                if (r.below(3) == 0)
                    body += ".  b";
                if (r.below(6) == 0)
                    body += ' ';
                body += eol;
            }
            body += "\t\t  <p>aa aa</p>";
            body += eol;
            body += eol;
            if (r.below(10) == 0)
                for (std::size_t n = 3000 + r.below(6000); n > 0; --n)
                    body += r.below(5) == 0 ? " \t" : eol;
        }
        if (round % 2 == 0)
            for (std::size_t n = 5000 + r.below(5000); n > 0; --n)
                body += eol;
        const auto lines = lines_of(body);
        for (const Canon c : {Canon::relaxed, Canon::simple}) {
            const std::size_t full = canonical_body(c, lines).size();
            for (const std::optional<std::uint64_t> l :
                 {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{r.below(full)}}) {
                const Outcome want = reference(c, lines, l);
                for (int mode = 0; mode < 3; ++mode) {
                    INFO("round " << round << " canon " << mail::to_string(c) << " mode " << mode);
                    REQUIRE(run(c, l, body, r, mode) == want);
                }
            }
        }
    }
}

TEST_CASE("body hasher: WSP, CR and LF at every offset around the 16-byte blocks",
          "[canon][rfc6376]") {
    // Every short pattern of the special bytes placed at each offset 0..40 of a line of 'a',
    // which puts it across each block edge and into the last bytes of the text.
    static const char* const patterns[] = {" ",    "  ",     "\t",    " \t ",  " \r",     " \r\n",
                                           "\r",   "\r\r\n", "\n",    "\n\n",  " \n",     "\t\r\r",
                                           " \r ", "\r\n ",  " \r\r", "\r \n", "\r\n\r\n"};
    for (const char* pat : patterns)
        for (std::size_t at = 0; at <= 40; ++at)
            for (std::size_t len = at; len <= at + 20; len += 4) {
                std::string body(len, 'a');
                body.insert(at, pat);
                for (const std::string& text : {body, body + "\r\n", body + "\r", body + " "}) {
                    const auto lines = lines_of(text);
                    for (const Canon c : {Canon::relaxed, Canon::simple}) {
                        Rng r{static_cast<std::uint32_t>(at * 131 + len + 1)};
                        INFO("canon " << mail::to_string(c) << " text " << shown(text));
                        REQUIRE(run(c, std::nullopt, text, r, 0) ==
                                reference(c, lines, std::nullopt));
                    }
                }
            }
}

TEST_CASE("body hasher: add_line with lines longer than the buffer", "[canon][rfc6376]") {
    // Lines past the internal buffer take another path than the usual ones; with WSP runs,
    // a CR, an LF inside (an ordinary byte) and WSP at the end.
    for (std::uint32_t round = 1; round <= 30; ++round) {
        Rng r{round * 7919u};
        std::vector<std::string> lines;
        for (int i = 0; i < 4; ++i) {
            std::string line;
            for (std::size_t n = 8000 + r.below(12000); n > 0; --n) {
                const std::size_t k = r.below(20);
                line += k == 0 ? ' ' : k == 1 ? '\t' : k == 2 && round % 3 == 0 ? '\r' : 'a';
            }
            if (round % 5 == 0)
                line += "\na";
            if (r.below(2) == 0)
                line += " \t ";
            lines.push_back(line);
            if (r.below(2) == 0)
                lines.emplace_back();
        }
        check_add_line(lines, round);
    }
}

TEST_CASE("body hasher: WSP, CR and LF at every offset around the 64-byte windows",
          "[canon][rfc6376]") {
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    // The relaxed path takes 64 bytes at a time with the next 64 in view (where the CPU has
    // AVX-512 VBMI2): each pattern at every offset of a text of several windows puts it at
    // each position of a window, across each window edge and into the bytes after the last
    // window; a second copy 64 + 17 bytes later meets the first one's window state.
    static const char* const patterns[] = {
        "  ",   " \t",      "\t",      "\t ",   " \r\n",   "\t\r\n", "  \r\n", " \t \r\n",
        " \n",  "\t\n",     "\r",      " \r",   " \r ",    "\r\r\n", "\n",     "\n\n",
        "\r\n", "\r\n\r\n", " \r\r\n", "\r \n", "\r\n  a", "\r\n\t"};
    for (const char* pat : patterns)
        for (std::size_t at = 0; at <= 200; ++at) {
            std::string body(300, 'a');
            for (std::size_t i = 37; i < body.size(); i += 41)
                body[i] = ' '; // single spaces: no change, but WSP next to the pattern
            body.insert(at, pat);
            if (at % 3 == 0)
                body.insert(at + 64 + 17, pat);
            for (const std::string& text : {body + "\r\n", body + " \r\n\r\n", body}) {
                const auto lines = lines_of(text);
                Rng r{static_cast<std::uint32_t>(at + 1)};
                INFO("text " << shown(text));
                REQUIRE(run(Canon::relaxed, std::nullopt, text, r, 0) ==
                        reference(Canon::relaxed, lines, std::nullopt));
            }
        }
}

TEST_CASE("body hasher: WSP runs of every length across the 64-byte windows", "[canon][rfc6376]") {
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    // Runs of 1 to 140 SP/HTAB (longer than a window, and than the view of the next one)
    // starting at every offset of a window, then an ordinary byte, CRLF, a bare LF or a bare CR.
    static const char* const after[] = {"b", "\r\n", "\n", "\rb", "\r\r\n"};
    for (std::size_t len = 1; len <= 140; len += len < 70 ? 1 : 7)
        for (std::size_t at = 0; at < 64 + 3; at += len % 2 == 0 ? 1 : 5)
            for (const char* a : after) {
                std::string text(at, 'a');
                for (std::size_t i = 0; i < len; ++i)
                    text += (i * 7 + len) % 3 == 0 ? '\t' : ' ';
                text += a;
                text += std::string(200, 'c') + "\r\n";
                const auto lines = lines_of(text);
                Rng r{static_cast<std::uint32_t>(len * 1000 + at)};
                INFO("text " << shown(text));
                REQUIRE(run(Canon::relaxed, std::nullopt, text, r, 0) ==
                        reference(Canon::relaxed, lines, std::nullopt));
            }
}

TEST_CASE("body hasher: WSP runs across the 64-byte windows where the buffer is handed on",
          "[canon][rfc6376]") {
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    // Dense WSP runs in a text many times the internal buffer: the wide step stops when the
    // buffer is full and starts again after it was hashed, now and then inside a run whose
    // first byte is written already; a period prime to 64 puts runs across every window edge.
    for (const char* unit : {"ab    ", "a\t \t\tbc", "abc  \r\n", "ab \t\r\nc  d"}) {
        std::string text;
        while (text.size() < 100000)
            text += unit;
        text += "\r\n";
        const auto lines = lines_of(text);
        Rng r{1};
        INFO("unit " << shown(unit));
        REQUIRE(run(Canon::relaxed, std::nullopt, text, r, 0) ==
                reference(Canon::relaxed, lines, std::nullopt));
    }
}

TEST_CASE("body hasher: add_line with lines of 64 bytes and more, changed or not",
          "[canon][rfc6376]") {
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    // Lines of 40 to 300 bytes (base64-like runs, single spaces: the usual lines, which pass
    // unchanged and are copied 64 bytes at a time where the CPU can), most with one change put
    // at a random place: an HTAB, a WSP run, WSP at the end, a CR, an LF inside, or one of them
    // right at a 64-byte window edge or in the overlap of the last window; empty lines between
    // and at the end; many lines, so that the buffer is handed on in every state; l= anywhere.
    static const char* const changes[] = {"\t",  "  ", " \t", "\t ", "    ", "\r",
                                          " \r", "\n", "\r ", "a\t", " ",    "\t\t\t"};
    for (std::uint32_t round = 1; round <= 300; ++round) {
        Rng r{round * 2246822519u + 11};
        std::vector<std::string> lines;
        for (std::size_t k = 200 + r.below(400); k > 0; --k) {
            std::string line;
            for (std::size_t n = 40 + r.below(r.below(4) == 0 ? 260 : 60); n > 0; --n)
                line += r.below(round % 3 == 0 ? 12 : 200) == 0
                            ? ' '
                            : static_cast<char>('A' + r.below(26));
            if (r.below(3) != 0) {
                const std::size_t at = r.below(2) == 0
                                           ? r.below(line.size() + 1)
                                           : std::min(line.size(), std::size_t{63} + r.below(3) +
                                                                       (r.below(2) == 0 ? 64 : 0));
                line.insert(at, changes[r.below(std::size(changes))]);
            }
            if (r.below(8) == 0)
                line += r.below(2) == 0 ? " " : " \t ";
            lines.push_back(std::move(line));
            if (r.below(20) == 0)
                for (std::size_t e = 1 + r.below(3); e > 0; --e)
                    lines.emplace_back();
        }
        if (round % 2 == 0)
            for (std::size_t e = 1 + r.below(200); e > 0; --e)
                lines.emplace_back();
        for (const Canon c : {Canon::relaxed, Canon::simple}) {
            const std::size_t full = canonical_body(c, lines).size();
            std::optional<std::uint64_t> l;
            if (round % 4 == 1)
                l = r.below(full + 3);
            mail::BodyHasher h(c, l);
            for (const auto& line : lines)
                h.add_line(line);
            const auto d = h.finish();
            INFO("round " << round << " canon " << mail::to_string(c));
            REQUIRE(Outcome{d, h.canonical_length()} == reference(c, lines, l));
        }
    }
}

TEST_CASE("body hasher: add_line's inline way and the general one meet at the buffer's edge",
          "[canon][rfc6376]") {
    // Issue 21: a line that fits in the buffer's free space with its CRLF is written there
    // inline (relaxed: its trailing WSP cut first, RFC 6376 §3.4.4); one that does not goes the
    // general way, which hands the buffer on first. Here a body fills the buffer to `used`
    // bytes, then a line ends exactly at its edge, one byte short of it or past it (before and
    // after its trailing WSP is cut, short lines and lines of 64 bytes and more), then a run of
    // empty lines that crosses into the next buffer (§3.4.3/§3.4.4: held back, hashed only when
    // a line with content follows), then maybe another line. l= falls at and around the edge.
    constexpr std::size_t size = mail::BodyHasher::buffer_size;
    std::optional<NarrowOnly> narrow; // both ways, as in the first test
    SECTION("as the CPU allows") {}
    SECTION("16 bytes at a time") {
        narrow.emplace();
    }
    std::uint32_t round = 0;
    for (const std::size_t prefix_line : {std::size_t{30}, std::size_t{78}, std::size_t{2046}})
        for (const std::size_t tail_wsp : {std::size_t{0}, std::size_t{1}, std::size_t{3}})
            for (int edge = -3; edge <= 3; ++edge)
                for (const int kind : {0, 1, 2}) {
                    ++round;
                    // The prefix: unchanged lines of `prefix_line` bytes, `used` bytes in all.
                    std::vector<std::string> lines(size / (prefix_line + 2) - 2,
                                                   std::string(prefix_line, 'p'));
                    const std::size_t used = lines.size() * (prefix_line + 2);
                    // The line: its canonical form (kind 1: a double space, which relaxed makes
                    // one byte shorter; kind 2: a short line of SP and HTAB runs) ends `edge`
                    // bytes past the buffer's end with its CRLF, before its trailing WSP.
                    const auto room = static_cast<std::ptrdiff_t>(size - used - 2) + edge;
                    REQUIRE(room > static_cast<std::ptrdiff_t>(tail_wsp + 45));
                    std::string line(static_cast<std::size_t>(room) - tail_wsp, 'x');
                    if (kind == 1)
                        line.replace(line.size() / 2, 2, "  ");
                    if (kind == 2)
                        line = std::string(static_cast<std::size_t>(room) - tail_wsp - 40, 'y') +
                               "a \t b" + std::string(35, 'z');
                    line += std::string(tail_wsp, round % 2 == 0 ? ' ' : '\t');
                    lines.push_back(line);
                    for (std::size_t e = 0; e < 5 + round % 7; ++e)
                        lines.emplace_back();
                    if (round % 3 != 0)
                        lines.emplace_back("after");
                    for (const Canon c : {Canon::relaxed, Canon::simple}) {
                        const std::size_t full = canonical_body(c, lines).size();
                        for (const std::optional<std::uint64_t> l :
                             {std::optional<std::uint64_t>{},
                              std::optional<std::uint64_t>{size - 1},
                              std::optional<std::uint64_t>{size},
                              std::optional<std::uint64_t>{size + 1},
                              std::optional<std::uint64_t>{full - 1}}) {
                            mail::BodyHasher h(c, l);
                            for (const auto& each : lines)
                                h.add_line(each);
                            const auto d = h.finish();
                            INFO("round " << round << " canon " << mail::to_string(c) << " edge "
                                          << edge << " kind " << kind
                                          << " l=" << (l ? std::to_string(*l) : "none"));
                            REQUIRE(Outcome{d, h.canonical_length()} == reference(c, lines, l));
                        }
                    }
                }
}

TEST_CASE("body hasher: add_line after add_text left the buffer past its size",
          "[canon][rfc6376]") {
    // add_text may leave the buffer's bytes past buffer_size (its 16-byte blocks write into the
    // slack); add_line's inline way must then not take the line (its free space is none), but
    // hand the buffer on first.
    constexpr std::size_t size = mail::BodyHasher::buffer_size;
    for (std::size_t extra = 0; extra < 40; ++extra)
        for (const Canon c : {Canon::relaxed, Canon::simple}) {
            std::string text;
            std::vector<std::string> lines;
            while (text.size() < size - 100) {
                lines.emplace_back(70, 'q');
                text += lines.back() + "\r\n";
            }
            lines.emplace_back(size - text.size() - 2 + extra % 20, 'r');
            text += lines.back() + "\r\n";
            mail::BodyHasher h(c);
            h.add_text(text);
            for (std::size_t i = 0; i < 3 + extra; ++i) {
                lines.emplace_back(extra % 2 == 0 ? 90 : 10, 's');
                h.add_line(lines.back());
            }
            const auto d = h.finish();
            INFO("extra " << extra << " canon " << mail::to_string(c));
            REQUIRE(Outcome{d, h.canonical_length()} == reference(c, lines, std::nullopt));
        }
}

TEST_CASE("body hasher: simple add_line below, at and above the direct-hash length",
          "[canon][rfc6376]") {
    // RFC 6376 §3.4.3: every line as it is. Lines shorter than simple_direct_min go into the
    // buffer inline; longer ones are hashed where they are (put): both orders, with empty
    // lines between and at the end, and a line ending in CR (kept as it is).
    constexpr std::size_t direct = mail::BodyHasher::simple_direct_min;
    for (std::uint32_t round = 1; round <= 60; ++round) {
        Rng r{round * 7919u + 1};
        std::vector<std::string> lines;
        for (int i = 0; i < 12; ++i) {
            const std::size_t n = direct - 2 + r.below(5);
            std::string line(n, static_cast<char>('a' + r.below(26)));
            if (r.below(4) == 0)
                line.back() = '\r';
            if (r.below(4) == 0)
                line.back() = ' ';
            lines.push_back(line);
            for (std::size_t e = r.below(3); e > 0; --e)
                lines.emplace_back();
            if (r.below(2) == 0)
                lines.emplace_back(r.below(80), 'w');
        }
        for (std::size_t e = r.below(4); e > 0; --e)
            lines.emplace_back();
        check_add_line(lines, round);
    }
}
