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
    : canon_(c), limit_(limit), buf_(new char[buffer_size + 16]) {}

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
