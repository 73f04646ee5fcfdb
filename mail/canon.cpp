// SPDX-License-Identifier: ISC
// RFC 6376 §3.4 canonicalization algorithms.
#include "mail/canon.hpp"

#include <bit>
#include <cstring>

#include "mail/header.hpp"
#include "text/ascii.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace arcf::mail {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// SHA-256 is fed in blocks of this size (one EVP call per block, not per line).
constexpr std::size_t buffer_size = 8 * 1024;
// Bytes past buffer_size that whole-block stores may write (add_line: 16; add_text: a block
// stored at buffer_size, then one SP and a CRLF).
constexpr std::size_t buffer_slack = 32;

#if !defined(__SSE2__)
// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact: no borrow between bytes).
constexpr std::uint64_t zero_bytes(std::uint64_t x) {
    constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    return ~(((x & low7) + low7) | x | low7);
}
#endif

// RFC 6376 §3.4.4 on a line without WSP at its end: the index of the first byte that relaxed
// canonicalization changes (a tab, or WSP right after WSP), npos when the line stays as it is.
// Sixteen bytes at a time (SSE2; eight elsewhere): text and base64 lines are scanned, not
// rewritten.
std::size_t first_relaxed_change(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    std::size_t i = 0;
#if defined(__SSE2__)
    {
        // Sixteen bytes at a time: one bit per byte for SP and for HTAB.
        const __m128i spaces = _mm_set1_epi8(' '), tabs = _mm_set1_epi8('\t');
        unsigned carry = 0; // 1 when the byte before this block is WSP
        for (; i + 16 <= n; i += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const auto tab = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)));
            const unsigned wsp =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, spaces))) | tab;
            const unsigned change = tab | (wsp & ((wsp << 1) | carry));
            if (change != 0)
                return i + static_cast<std::size_t>(std::countr_zero(change));
            carry = wsp >> 15;
        }
        if (i < n && n >= 16) {
            // The last bytes through one more block ending at the end of the line; its lanes
            // before `i` were checked already (and hold the predecessor of lane `i`).
            const std::size_t base = n - 16;
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + base));
            const auto tab = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)));
            const unsigned wsp =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, spaces))) | tab;
            const unsigned change = (tab | (wsp & (wsp << 1))) & (0xffffu << (i - base));
            return change != 0 ? base + static_cast<std::size_t>(std::countr_zero(change))
                               : std::string_view::npos;
        }
    }
#else
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t spaces = 0x2020202020202020ull, tabs = 0x0909090909090909ull;
        std::uint64_t carry = 0; // 0x80 in byte 0 when the byte before this word is WSP
        for (; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            const std::uint64_t tab = zero_bytes(w ^ tabs);
            const std::uint64_t wsp = zero_bytes(w ^ spaces) | tab;
            const std::uint64_t change = tab | (wsp & ((wsp << 8) | carry));
            if (change != 0)
                return i + static_cast<std::size_t>(std::countr_zero(change)) / 8;
            carry = wsp >> 56;
        }
    }
#endif
    for (; i < n; ++i)
        if (p[i] == '\t' || (p[i] == ' ' && i > 0 && is_wsp(p[i - 1])))
            return i;
    return std::string_view::npos;
}

// Writes the relaxed form of `line` (no WSP at its end; its first change at `change`) to `o`,
// which has room for line.size() bytes; returns the end. The unchanged stretches are copied at
// once; at each change, one SP for the whole WSP run (none if its first byte, a space, was
// already copied). No WSP ends the line, so that SP is never trailing, and each stretch after
// a run starts with a non-WSP byte.
char* write_relaxed(char* o, std::string_view line, std::size_t change) {
    std::string_view rest = line;
    for (std::size_t k = change; k != std::string_view::npos; k = first_relaxed_change(rest)) {
        std::memcpy(o, rest.data(), k);
        o += k;
        const bool space_copied = k > 0 && rest[k - 1] == ' ';
        std::size_t end = k;
        while (end < rest.size() && is_wsp(rest[end]))
            ++end;
        if (!space_copied)
            *o++ = ' ';
        rest.remove_prefix(end);
    }
    std::memcpy(o, rest.data(), rest.size());
    return o + rest.size();
}

#if defined(__SSE2__)
// The relaxed form of `line` (no WSP at its end) written to `o` in one pass that scans and
// copies sixteen bytes at a time; `o` has room for line.size() + 16 bytes (each block is stored
// whole before the scan decides how much of it counts). Same output as write_relaxed(): a
// stretch without change is kept, each WSP run becomes one SP (the first byte of the run when
// it is a space that was kept, RFC 6376 §3.4.4). Returns the end of the output.
char* write_relaxed_fused(char* o, std::string_view line) {
    const char* const p = line.data();
    const std::size_t n = line.size();
    const __m128i spaces = _mm_set1_epi8(' '), tabs = _mm_set1_epi8('\t');
    std::size_t src = 0; // start of the current unchanged stretch (never inside a WSP run)
    std::size_t i = 0;   // next byte to scan (i >= src)
    unsigned carry = 0;  // 1 when the byte before block `i` is WSP within the stretch
    for (;;) {
        unsigned change = 0;
        std::size_t base = i;
        if (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + (i - src)), v);
            const auto tab = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)));
            const unsigned wsp =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, spaces))) | tab;
            change = tab | (wsp & ((wsp << 1) | carry));
            if (change == 0) {
                carry = wsp >> 15;
                i += 16;
                continue;
            }
        } else if (i < n && n >= 16 && n - 16 >= src) {
            // The last bytes: one block ending at the end of the line, stored where the
            // stretch maps it (its lanes before `i` are bytes of the stretch, already stored
            // the same); its lanes before `i` do not count as changes but are predecessors.
            base = n - 16;
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + base));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + (base - src)), v);
            const auto tab = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)));
            const unsigned wsp =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, spaces))) | tab;
            change = (tab | (wsp & (wsp << 1))) & (0xffffu << (i - base));
            if (change == 0)
                return o + (n - src);
        } else {
            // A short rest (the stretch began less than 16 bytes before the end): bytewise.
            std::size_t j = i;
            while (j < n && p[j] != '\t' && !(p[j] == ' ' && j > 0 && is_wsp(p[j - 1])))
                ++j;
            std::memcpy(o + (i - src), p + i, j - i);
            if (j == n)
                return o + (n - src);
            change = 1;
            base = j;
        }
        // A change at `k`: the stretch ends there; the WSP run around it becomes one SP.
        const std::size_t k = base + static_cast<std::size_t>(std::countr_zero(change));
        o += k - src;
        const bool space_copied = k > src && p[k - 1] == ' ';
        std::size_t end = k;
        while (end < n && is_wsp(p[end]))
            ++end;
        if (!space_copied)
            *o++ = ' ';
        src = i = end; // a non-WSP byte: no line ends in WSP
        carry = 0;
    }
}
#endif

// The first SP, HTAB or CR at or after `q` (`end` when none), sixteen bytes at a time: header
// values (b=, bh=, long lists) are mostly runs without any.
const char* next_wsp_or_cr(const char* q, const char* end) {
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
    for (; end - q >= 16; q += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, ht)),
                                         _mm_cmpeq_epi8(v, cr));
        const auto m = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (m != 0)
            return q + std::countr_zero(m);
    }
#endif
    while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
        ++q;
    return q;
}

} // namespace

std::string_view to_string(Canon c) {
    return c == Canon::simple ? "simple" : "relaxed";
}

void append_canon_header(std::string& out, Canon c, std::string_view raw, bool with_crlf) {
    if (c == Canon::simple) {
        // RFC 6376 §3.4.1: the field exactly as it is.
        out.append(raw);
        if (with_crlf)
            out.append("\r\n");
        return;
    }
    // RFC 6376 §3.4.2: lower-case name, unfold, collapse WSP, strip WSP at the end and around
    // the colon. Unfolding removes CRLF pairs only; a CR or LF on its own is an ordinary byte and
    // stays (issue 18 item 3: deleting it let a bare CR be inserted into a sealed field, and
    // made our seals over such a field verify nowhere else).
    std::size_t colon = raw.find(':');
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    for (char ch : name)
        out.push_back(text::to_lower(ch));
    out.push_back(':');
    if (colon == std::string_view::npos) {
        if (with_crlf)
            out.append("\r\n");
        return;
    }
    std::string_view value = raw.substr(colon + 1);
    out.reserve(out.size() + value.size() + 2);
    bool pending_space = false;
    bool started = false;
    const char* p = value.data();
    const char* const end = p + value.size();
    while (p < end) {
        // A run of bytes that stay as they are, appended at once.
        const char* q = next_wsp_or_cr(p, end);
        while (q < end && *q == '\r' && !(q + 1 < end && q[1] == '\n'))
            q = next_wsp_or_cr(q + 1, end); // a lone CR stays (see above)
        if (q != p) {
            if (pending_space)
                out.push_back(' ');
            pending_space = false;
            started = true;
            out.append(p, static_cast<std::size_t>(q - p));
        }
        if (q == end)
            break;
        if (is_wsp(*q)) {
            pending_space = started;
            p = q + 1;
        } else {
            p = q + 2; // CRLF: unfold
        }
    }
    if (with_crlf)
        out.append("\r\n");
}

std::string strip_b_value(std::string_view raw) {
    std::size_t colon = raw.find(':');
    std::size_t pos = colon == std::string_view::npos ? 0 : colon + 1;
    while (pos <= raw.size()) {
        std::size_t semi = raw.find(';', pos);
        std::size_t end = semi == std::string_view::npos ? raw.size() : semi;
        std::size_t p = pos;
        while (p < end && (is_wsp(raw[p]) || raw[p] == '\r' || raw[p] == '\n'))
            ++p;
        if (p < end && raw[p] == 'b') {
            std::size_t q = p + 1;
            while (q < end && (is_wsp(raw[q]) || raw[q] == '\r' || raw[q] == '\n'))
                ++q;
            if (q < end && raw[q] == '=') {
                std::string out(raw.substr(0, q + 1));
                out.append(raw.substr(end));
                return out;
            }
        }
        if (semi == std::string_view::npos)
            break;
        pos = semi + 1;
    }
    return std::string(raw);
}

BodyHasher::BodyHasher(Canon c, std::optional<std::uint64_t> limit)
    : canon_(c), limit_(limit), buf_(new char[buffer_size + buffer_slack]) {}

void BodyHasher::emit(std::string_view data) {
    length_ += data.size();
    if (limit_) {
        if (hashed_ >= *limit_)
            return;
        std::uint64_t room = *limit_ - hashed_;
        if (data.size() > room)
            data = data.substr(0, static_cast<std::size_t>(room));
    }
    hashed_ += data.size();
    if (used_ + data.size() > buffer_size) {
        flush_buffer();
        if (data.size() >= buffer_size) {
            sha_.update(data);
            return;
        }
    }
    std::memcpy(buf_.get() + used_, data.data(), data.size());
    used_ += data.size();
}

void BodyHasher::flush_buffer() {
    sha_.update(std::string_view(buf_.get(), used_));
    used_ = 0;
}

void BodyHasher::put_line(std::string_view canonical) {
    if (canonical.empty()) {
        ++pending_empty_; // trailing empty lines are ignored (§3.4.3, §3.4.4)
        return;
    }
    for (; pending_empty_ > 0; --pending_empty_)
        emit("\r\n");
    const std::size_t n = canonical.size();
    if (!limit_ && used_ + n + 2 <= buffer_size) {
        // The common case: the line and its CRLF straight into the buffer.
        char* o = buf_.get() + used_;
        std::memcpy(o, canonical.data(), n);
        o[n] = '\r';
        o[n + 1] = '\n';
        used_ += n + 2;
        length_ += n + 2;
        hashed_ += n + 2;
        return;
    }
    emit(canonical);
    emit("\r\n");
}

void BodyHasher::add_line(std::string_view line) {
    if (canon_ == Canon::simple) {
        put_line(line); // RFC 6376 §3.4.3: the line as it is
        return;
    }
    // RFC 6376 §3.4.4: drop WSP at the end of the line, reduce WSP runs to one SP.
    while (!line.empty() && is_wsp(line.back()))
        line.remove_suffix(1);
#if defined(__SSE2__)
    if (!limit_ && used_ + line.size() + 2 <= buffer_size && !line.empty()) {
        // The common case, in one pass: scanned and copied straight into the buffer SHA-256 is
        // fed from (it has 16 bytes of slack past buffer_size for the last block's store).
        if (pending_empty_ > 0 && used_ + line.size() + 2 * (pending_empty_ + 1) <= buffer_size) {
            for (; pending_empty_ > 0; --pending_empty_) {
                buf_[used_++] = '\r';
                buf_[used_++] = '\n';
                length_ += 2;
                hashed_ += 2;
            }
        } else {
            for (; pending_empty_ > 0; --pending_empty_)
                emit("\r\n");
            if (used_ + line.size() + 2 > buffer_size)
                flush_buffer();
        }
        char* const begin = buf_.get() + used_;
        char* o = write_relaxed_fused(begin, line);
        *o++ = '\r';
        *o++ = '\n';
        const auto n = static_cast<std::size_t>(o - begin);
        used_ += n;
        length_ += n;
        hashed_ += n;
        return;
    }
#endif
    const std::size_t change = first_relaxed_change(line);
    if (change == std::string_view::npos) {
        put_line(line);
        return;
    }
    for (; pending_empty_ > 0; --pending_empty_)
        emit("\r\n");
    if (!limit_ && used_ + line.size() + 2 <= buffer_size) {
        // Straight into the buffer SHA-256 is fed from.
        char* const begin = buf_.get() + used_;
        char* o = write_relaxed(begin, line, change);
        *o++ = '\r';
        *o++ = '\n';
        const auto n = static_cast<std::size_t>(o - begin);
        used_ += n;
        length_ += n;
        hashed_ += n;
        return;
    }
    line_.resize(line.size());
    line_.resize(
        static_cast<std::size_t>(write_relaxed(line_.data(), line, change) - line_.data()));
    put_line(line_);
}

void BodyHasher::add_text(std::string_view text) {
#if defined(__SSE2__)
    if (canon_ == Canon::relaxed && !limit_) {
        const char* p = text.data();
        const char* const end = p + text.size();
        while (p < end) {
            const char c = *p;
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                p = add_relaxed_line(p, end);
                continue;
            }
            // Empty lines and lines that start with WSP or CR: one at a time.
            const auto* nl = static_cast<const char*>(std::memchr(p, '\n', std::size_t(end - p)));
            std::string_view line(p, std::size_t((nl != nullptr ? nl : end) - p));
            if (nl != nullptr && !line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            add_line(line);
            p = nl != nullptr ? nl + 1 : end;
        }
        return;
    }
#endif
    for_each_line(text, [&](std::string_view line) { add_line(line); });
}

#if defined(__SSE2__)
const char* BodyHasher::add_relaxed_line(const char* p, const char* const end) {
    // RFC 6376 §3.4.4 as write_relaxed_fused(), with the line's end found in the same scan: a
    // stretch without change is copied sixteen bytes at a time straight into the buffer SHA-256
    // is fed from; a WSP run becomes one SP; at the LF, the CR before it (§3.4.4 works on lines,
    // for_each_line drops it) and then the WSP at the end go. The output never holds two WSP in
    // a row and the line's first byte is kept, so that takes back at most two bytes of it.
    // Goes on with the lines after it while they begin the same way.
    for (; pending_empty_ > 0; --pending_empty_)
        emit("\r\n");
    char* const buf = buf_.get();
    char* const last_store = buf + buffer_size; // a block is stored at or before this
    char* o = buf + used_;                      // where the stretch at `src` goes
    char* counted = o;                          // output up to here is in length_ already
    const char* src = p;                        // start of the current unchanged stretch
    const char* q = p;                          // next byte to scan
    unsigned carry = 0;                         // 1 when the byte before `q` is WSP in the stretch
    const __m128i spaces = _mm_set1_epi8(' '), tabs = _mm_set1_epi8('\t'),
                  lfs = _mm_set1_epi8('\n');
    for (;;) {
        char* const w = o + (q - src);
        if (w > last_store) {
            // A long line: hash what it has so far but its last two bytes (the CR and SP the
            // line's end may take back).
            o = w;
            src = q;
            const auto n = static_cast<std::size_t>(o - buf) - 2;
            length_ += static_cast<std::uint64_t>(o - counted);
            hashed_ += static_cast<std::uint64_t>(o - counted);
            sha_.update(std::string_view(buf, n));
            std::memmove(buf, buf + n, 2);
            o = counted = buf + 2;
            continue;
        }
        const char* k;
        if (end - q >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
            const auto tab = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)));
            const unsigned wsp =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, spaces))) | tab;
            const unsigned change =
                tab | (wsp & ((wsp << 1) | carry)) |
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lfs)));
            if (change == 0) {
                carry = wsp >> 15;
                q += 16;
                continue;
            }
            k = q + std::countr_zero(change);
        } else {
            // The last bytes of the text: bytewise (k[-1] is in the stretch, or a kept byte).
            k = q;
            while (k < end && *k != '\n' && *k != '\t' && !(*k == ' ' && is_wsp(k[-1])))
                ++k;
            std::memcpy(w, q, static_cast<std::size_t>(k - q));
        }
        o += k - src;
        if (k == end || *k == '\n') {
            if (k != end && o[-1] == '\r')
                --o; // o[-1] is the byte before the LF (after a WSP run it is the run's SP)
            if (o[-1] == ' ')
                --o;
            *o++ = '\r';
            *o++ = '\n';
            length_ += static_cast<std::uint64_t>(o - counted); // may take back up to 2 bytes
            hashed_ += static_cast<std::uint64_t>(o - counted);
            used_ = static_cast<std::size_t>(o - buf);
            if (k == end)
                return end;
            const char* const next = k + 1;
            if (next == end || *next == ' ' || *next == '\t' || *next == '\r' || *next == '\n')
                return next; // empty, or begins with WSP or CR: add_text takes it
            // The next line is not empty either: on in the same loop, no call per line.
            counted = o;
            src = q = next;
            carry = 0;
            continue;
        }
        // A tab or a second WSP: the run becomes one SP, unless its first byte was a space kept
        // in the stretch.
        const bool space_copied = o[-1] == ' ';
        while (k < end && is_wsp(*k))
            ++k;
        if (!space_copied)
            *o++ = ' ';
        src = q = k;
        carry = 0;
    }
}
#endif

Digest BodyHasher::finish() {
    // RFC 6376 §3.4.3: an empty body is a single CRLF under simple; §3.4.4 (errata 1384):
    // an empty body stays empty under relaxed.
    if (canon_ == Canon::simple && length_ == 0)
        emit("\r\n");
    pending_empty_ = 0;
    flush_buffer();
    return sha_.finish();
}

} // namespace arcf::mail
