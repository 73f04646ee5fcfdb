// SPDX-License-Identifier: ISC
// RFC 6376 §3.4 canonicalization algorithms.
#include "mail/canon.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "mail/header.hpp"
#include "text/ascii.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ARCF_CANON_WIDE 1 // relaxed_wide(), chosen at run time
#endif

namespace arcf::mail {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Bytes past buffer_size that may be written before the next check: a 64-byte store (the wide
// step), a 16-byte one, or one relaxed_byte() step (three bytes).
constexpr std::size_t buffer_slack = 64;
constexpr std::size_t direct_min = BodyHasher::simple_direct_min;

// RFC 6376 §3.4.4 one byte at a time, on the body as a stream: CRLF passes through (a bare LF
// becomes CRLF, the line-end rule of for_each_line), a WSP run becomes one SP, and a run right
// before the line end goes. A CR not followed by LF is an ordinary byte.
struct RelaxedState {
    bool pend_sp = false; ///< a WSP run not yet written (one SP unless the line ends now)
    bool pend_cr = false; ///< a CR after that run, not yet written (the run stays unless LF)
    bool cr_prev = false; ///< the byte before is a CR already written
    bool clean() const { return !pend_sp && !pend_cr; }
};

// Writes the output for `c` at `o` (at most three bytes); returns the new end.
char* relaxed_byte(RelaxedState& s, char c, char* o) {
    switch (c) {
    case ' ':
    case '\t':
        if (s.pend_cr) { // WSP, CR, WSP: the CR was an ordinary byte, the first run stays
            *o++ = ' ';
            *o++ = '\r';
            s.pend_cr = false;
        }
        s.pend_sp = true;
        s.cr_prev = false;
        return o;
    case '\r':
        if (s.pend_cr) { // WSP, CR, CR: the first CR was an ordinary byte
            *o++ = ' ';
            *o++ = '\r';
            s.pend_cr = s.pend_sp = false;
        }
        if (s.pend_sp) {
            s.pend_cr = true; // the run goes if an LF comes next
            return o;
        }
        *o++ = '\r';
        s.cr_prev = true;
        return o;
    case '\n':
        // The line ends: WSP before it goes (with pend_cr, its CR is that of the CRLF).
        if (s.pend_cr || !s.cr_prev)
            *o++ = '\r';
        *o++ = '\n';
        s = RelaxedState{};
        return o;
    default:
        if (s.pend_cr) {
            *o++ = ' ';
            *o++ = '\r';
        } else if (s.pend_sp) {
            *o++ = ' ';
        }
        *o++ = c;
        s = RelaxedState{};
        return o;
    }
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

#if defined(ARCF_CANON_WIDE)
// RFC 6376 §3.4.4 on 64 bytes at a time, without a branch on what they hold (AVX-512 VBMI2,
// where the CPU has it). Window A at `p` is decided with window B after it in view: a WSP byte
// after a WSP byte goes (the run's first byte stays, as SP), a whole run goes when a line end
// follows it (CRLF, or a bare LF: the run is at the end of the line either way), and the kept
// bytes are packed to `o` (64 bytes stored, the kept ones first). A bare CR is an ordinary
// byte here as in relaxed_byte(). What stops it (rare): a bare LF in A (a CR is added before
// it), a WSP run from A's end that B does not end before its last byte, fewer than 128 bytes
// before `stop`, or the output past `o_end`. The state before `p` must be clean; the byte before
// it (`p > ctx`) tells whether A begins after a CR or inside a run already decided. Returns
// where it stopped (clean again: the rest of a decided run skipped), `o` past the output.
__attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt,bmi"))) const char*
relaxed_wide(const char* p,
             const char* const stop,
             const char* const ctx,
             char*& o,
             const char* const o_end) {
    const __m512i sp = _mm512_set1_epi8(' '), ht = _mm512_set1_epi8('\t'),
                  cr = _mm512_set1_epi8('\r'), lf = _mm512_set1_epi8('\n');
    // The byte before A: a WSP there is of a run decided already (the callers never stop
    // inside one, so A then begins with no WSP); a CR there saves a needless stop at an LF.
    std::uint64_t wsp_in = p > ctx && is_wsp(p[-1]) ? 1 : 0;
    std::uint64_t cr_in = p > ctx && p[-1] == '\r' ? 1 : 0;
    if (stop - p >= 128) {
        __m512i va = _mm512_loadu_si512(p);
        std::uint64_t ht_a = _mm512_cmpeq_epi8_mask(va, ht);
        std::uint64_t wsp_a = _mm512_cmpeq_epi8_mask(va, sp) | ht_a;
        std::uint64_t cr_a = _mm512_cmpeq_epi8_mask(va, cr);
        std::uint64_t lf_a = _mm512_cmpeq_epi8_mask(va, lf);
        while (stop - p >= 128 && o < o_end) {
            const __m512i vb = _mm512_loadu_si512(p + 64);
            const std::uint64_t ht_b = _mm512_cmpeq_epi8_mask(vb, ht);
            const std::uint64_t wsp_b = _mm512_cmpeq_epi8_mask(vb, sp) | ht_b;
            const std::uint64_t cr_b = _mm512_cmpeq_epi8_mask(vb, cr);
            const std::uint64_t lf_b = _mm512_cmpeq_epi8_mask(vb, lf);
            // Line ends: a CR with LF after it (in B for A's last byte), or an LF (bare ones
            // only in B: A is not written with one).
            const std::uint64_t eol_a = cr_a & ((lf_a >> 1) | (lf_b << 63));
            const std::uint64_t eol_b = lf_b | (cr_b & (lf_b >> 1)); // but for bit 63
            const std::uint64_t bare_lf = lf_a & ~((cr_a << 1) | cr_in);
            // The WSP run at the start of B, and whether a line end follows it.
            const auto lead = static_cast<unsigned>(std::countr_zero(~wsp_b));
            if (bare_lf != 0 || lead >= 63)
                break;
            const std::uint64_t end_in = (eol_b >> lead) & 1;
            // The runs of A before a line end go whole: their bits, filled down from the byte
            // before the line end through the run in doubling steps (g: the bits that start
            // d WSP bytes in a row).
            std::uint64_t gone = wsp_a & ((eol_a >> 1) | (end_in << 63));
            std::uint64_t g = wsp_a;
            auto fill = [&](unsigned d) {
                gone |= (gone >> d) & g;
                g &= g >> d;
            };
            fill(1);
            fill(2);
            fill(4);
            fill(8);
            fill(16);
            gone |= (gone >> 32) & g;
            const std::uint64_t keep = ~(gone | (wsp_a & ((wsp_a << 1) | wsp_in)));
            const __m512i spaced = _mm512_mask_mov_epi8(va, ht_a, sp);
            _mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, spaced));
            o += __builtin_popcountll(keep);
            p += 64;
            wsp_in = wsp_a >> 63;
            cr_in = cr_a >> 63;
            va = vb;
            ht_a = ht_b;
            wsp_a = wsp_b;
            cr_a = cr_b;
            lf_a = lf_b;
        }
    }
    // The rest of a run decided already (it ends before `stop`: B ended it).
    if (wsp_in != 0)
        while (p < stop && is_wsp(*p))
            ++p;
    return p;
}

// RFC 6376 §3.4.4 on one line of at least 64 bytes (`n` at `p`, no WSP at its end) that it
// leaves as it is (no HTAB, no WSP after WSP: the usual line of base64 or prose), checked and
// copied to `o` 64 bytes at a time (AVX-512BW): windows [0, 64), [64, 128) ... and the last 64
// bytes, overlapping the one before (plain loads: masked ones cost far more here). Returns the
// end of the output, or null when the line changes (what was copied is then to be overwritten).
__attribute__((target("avx512f,avx512bw"))) char*
copy_unchanged_line_wide(char* o, const char* p, std::size_t n) {
    if (n < 64)
        return nullptr; // (the last window would begin before the line)
    const __m512i sp = _mm512_set1_epi8(' '), ht = _mm512_set1_epi8('\t');
    std::uint64_t change = 0;
    std::uint64_t wsp_in = 0; // the byte before the window is WSP
    std::size_t i = 0;
    for (; n - i >= 64; i += 64) {
        const __m512i v = _mm512_loadu_si512(p + i);
        const std::uint64_t ht_v = _mm512_cmpeq_epi8_mask(v, ht);
        const std::uint64_t wsp = _mm512_cmpeq_epi8_mask(v, sp) | ht_v;
        change |= ht_v | (wsp & ((wsp << 1) | wsp_in));
        wsp_in = wsp >> 63;
        _mm512_storeu_si512(o + i, v);
    }
    if (i < n) {
        // The last window begins inside the one before, so each pair of bytes is inside one
        // window (the previous window saw the pair at this window's start).
        const __m512i v = _mm512_loadu_si512(p + n - 64);
        const std::uint64_t ht_v = _mm512_cmpeq_epi8_mask(v, ht);
        const std::uint64_t wsp = _mm512_cmpeq_epi8_mask(v, sp) | ht_v;
        change |= ht_v | (wsp & (wsp << 1));
        _mm512_storeu_si512(o + n - 64, v);
    }
    return change == 0 ? o + n : nullptr;
}

// BodyHasher's relaxed line writer on such a CPU: a line of 64 bytes or more that stays as it
// is (base64, most prose) is checked and copied 64 bytes at a time; any other goes the 16-byte
// way (write_relaxed_fused: 16 bytes of slack past the line).
__attribute__((target("avx512f,avx512bw"))) char*
write_relaxed_line_wide(char* o, const char* p, std::size_t n) {
    if (n >= 64)
        if (char* const end = copy_unchanged_line_wide(o, p, n); end != nullptr)
            return end;
    return write_relaxed_fused(o, std::string_view(p, n));
}

bool wide_allowed = true; // see allow_wide_relaxed()

// Decided once at start-up (no guard to test on each body line).
const bool wide_cpu = [] {
    __builtin_cpu_init(); // (other static initializers may run before libgcc's)
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
           __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi");
}();

bool have_wide_step() {
    return wide_cpu;
}
#endif

// A run of CRLF, for the empty lines held back.
struct CrlfRun {
    static constexpr std::size_t lines = 256;
    char bytes[2 * lines];
    CrlfRun() {
        for (std::size_t i = 0; i < lines; ++i) {
            bytes[2 * i] = '\r';
            bytes[2 * i + 1] = '\n';
        }
    }
};
const CrlfRun crlf_run;

} // namespace

bool allow_wide_relaxed(bool allow) {
#if defined(ARCF_CANON_WIDE)
    return std::exchange(wide_allowed, allow);
#else
    (void)allow;
    return false;
#endif
}

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
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : raw.substr(colon + 1);
    // Written through a pointer into room for the largest result (relaxed output is never
    // longer than its input: a space is only written for a run of WSP already passed), and
    // cut to size at the end; the 16 bytes more let whole blocks be stored (issue 21).
    const std::size_t start = out.size();
    out.resize(start + name.size() + 1 + value.size() + 2 + 16);
    char* d = out.data() + start;
    for (char ch : name)
        *d++ = text::to_lower(ch);
    *d++ = ':';
    bool pending_space = false;
    bool started = false;
    const char* p = value.data();
    const char* const end = p + value.size();
    while (p < end) {
#if defined(__SSE2__)
        // Sixteen bytes at a time: stored whole, kept up to the first SP, HTAB or CR.
        const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
        while (end - p >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const __m128i hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, ht)), _mm_cmpeq_epi8(v, cr));
            const auto m = static_cast<unsigned>(_mm_movemask_epi8(hit));
            const auto n = m == 0 ? 16u : static_cast<unsigned>(std::countr_zero(m));
            if (n != 0) {
                if (pending_space)
                    *d++ = ' ';
                pending_space = false;
                started = true;
                _mm_storeu_si128(reinterpret_cast<__m128i*>(d), v);
                d += n;
                p += n;
            }
            if (m != 0)
                break;
        }
        if (p == end)
            break;
#endif
        const char ch = *p;
        if (is_wsp(ch)) {
            pending_space = started;
            ++p;
        } else if (ch == '\r' && p + 1 < end && p[1] == '\n') {
            p += 2; // CRLF: unfold
        } else {
            // Any other byte, a CR on its own included (see above), stays.
            if (pending_space)
                *d++ = ' ';
            pending_space = false;
            started = true;
            *d++ = ch;
            ++p;
        }
    }
    if (with_crlf) {
        *d++ = '\r';
        *d++ = '\n';
    }
    out.resize(static_cast<std::size_t>(d - out.data()));
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

#if defined(__SSE2__)
namespace {

// BodyHasher's relaxed line writer on any other x86 CPU: 16 bytes at a time.
char* write_relaxed_line(char* o, const char* p, std::size_t n) {
    return write_relaxed_fused(o, std::string_view(p, n));
}

} // namespace
#endif

BodyHasher::BodyHasher(Canon c, std::optional<std::uint64_t> limit)
    : canon_(c), limit_(limit), buf_(new char[buffer_size + buffer_slack]) {
#if defined(__SSE2__)
    // The writer add_line() uses for lines that fit, chosen once (allow_wide_relaxed() at
    // construction decides for the hasher's lifetime).
    if (c == Canon::relaxed)
        write_relaxed_ = &write_relaxed_line;
#if defined(ARCF_CANON_WIDE)
    if (c == Canon::relaxed && wide_allowed && have_wide_step())
        write_relaxed_ = &write_relaxed_line_wide;
#endif
#endif
}

void BodyHasher::hash_out(const char* data, std::size_t n) {
    length_ += n;
    if (limit_) {
        // RFC 6376 §3.5 l=: only the first l= canonical bytes are hashed.
        const std::uint64_t room = hashed_ < *limit_ ? *limit_ - hashed_ : 0;
        if (n > room)
            n = static_cast<std::size_t>(room);
    }
    if (n == 0)
        return;
    hashed_ += n;
    sha_.update(std::string_view(data, n));
}

void BodyHasher::hash_pending() {
    while (pending_empty_ > 0) {
        const auto k =
            static_cast<std::size_t>(std::min<std::uint64_t>(pending_empty_, CrlfRun::lines));
        hash_out(crlf_run.bytes, 2 * k);
        pending_empty_ -= k;
    }
}

std::size_t BodyHasher::without_empty_tail(const char* d, std::size_t n, const char* before) {
    // Every line of the canonical stream ends with CRLF, so a CRLF right after a CRLF is an
    // empty line (`before`: the two bytes before `d`).
    auto at = [&](std::size_t i) { return i >= 2 ? d[i - 2] : before[i]; }; // d[i - 2]
    while (n >= 2 && d[n - 2] == '\r' && d[n - 1] == '\n' && at(n - 2) == '\r' && at(n - 1) == '\n')
        n -= 2;
    return n;
}

void BodyHasher::note_end(const char* d, std::size_t n) {
    if (n >= 2) {
        last_[0] = d[n - 2];
        last_[1] = d[n - 1];
    } else if (n == 1) {
        last_[0] = last_[1];
        last_[1] = d[0];
    }
}

void BodyHasher::flush_buffer(bool last) {
    if (used_ == 0)
        return;
    char* const buf = buf_.get();
    // A CR at the end may begin the CRLF of an empty line: it stays for the next bytes to tell.
    const bool keep_cr = !last && buf[used_ - 1] == '\r';
    const std::size_t n = used_ - (keep_cr ? 1 : 0);
    // RFC 6376 §3.4.3/§3.4.4: empty lines at the end of the body are ignored, so those at the
    // end of the buffer wait (as a count) for a line with content.
    const std::size_t cut = without_empty_tail(buf, n, last_);
    if (cut > 0) {
        hash_pending();
        hash_out(buf, cut);
    }
    pending_empty_ += (n - cut) / 2;
    note_end(buf, n);
    used_ = 0;
    if (keep_cr)
        buf[used_++] = '\r';
}

void BodyHasher::put(const char* data, std::size_t n) {
    if (n >= direct_min && (used_ == 0 || buf_[used_ - 1] != '\r')) {
        // Long and final already: hashed where it is, not copied (but a CR at its end, which
        // may begin a CRLF: through the buffer, see flush_buffer).
        flush_buffer(true);
        const std::size_t direct = n - (data[n - 1] == '\r' ? 1 : 0);
        const std::size_t cut = without_empty_tail(data, direct, last_);
        if (cut > 0) {
            hash_pending();
            hash_out(data, cut);
        }
        pending_empty_ += (direct - cut) / 2;
        note_end(data, direct);
        data += direct;
        n -= direct;
    }
    while (n > 0) {
        if (used_ >= buffer_size)
            flush_buffer();
        const std::size_t c = std::min(n, buffer_size - used_);
        std::memcpy(buf_.get() + used_, data, c);
        used_ += c;
        data += c;
        n -= c;
    }
}

void BodyHasher::relaxed(const char* const begin, const char* const end) {
    // The lines of [begin, end) as for_each_line gives them, the last one (without LF) ended as
    // if by CRLF: a text that does not end with LF is canonicalized as the text + CRLF (its CR
    // then ends a line without dropping a CR of the text).
    char* const buf = buf_.get();
    RelaxedState state;
#if defined(ARCF_CANON_WIDE)
    const bool wide = wide_allowed && have_wide_step();
#endif
    // Canonicalizes [p, stop); loads may read up to load_end, p[-1] is readable down to ctx.
    // `main`: stops (in a clean state) where fewer than 17 bytes are left, for the tail.
    // (The output position and state are locals here, so they stay in registers.)
    auto run = [&, this, buf](const char* p, const char* const stop, const char* const load_end,
                              const char* const ctx, bool main) {
        char* o = buf + used_;
        RelaxedState s = state;
        auto room = [&] {
            if (o >= buf + buffer_size) {
                used_ = static_cast<std::size_t>(o - buf);
                flush_buffer();
                o = buf + used_;
            }
        };
        while (p < stop) {
#if defined(ARCF_CANON_WIDE)
            if (s.clean() && wide) {
                // 64 bytes at a time while the wide step goes on (the usual text); what it
                // does not take goes on below.
                for (;;) {
                    room();
                    p = relaxed_wide(p, stop, ctx, o, buf + buffer_size);
                    if (o < buf + buffer_size)
                        break; // not for want of room
                }
                if (p >= stop)
                    break;
            }
#endif
#if defined(__SSE2__)
            if (s.clean()) {
                if (main && stop - p < 17)
                    break;
                // Sixteen bytes at a time while the canonical form is the input: no HTAB, no
                // SP before WSP, CR or LF (the byte after the block is looked at), every CR
                // followed by LF (and so every LF in a block after a CR: the scalar steps
                // never stop before an LF). The block is stored whole; at the first change,
                // the bytes before it count and the change goes byte by byte.
                const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'),
                              cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'),
                              top = _mm_set1_epi8(0x20);
                // (An LF first goes byte by byte: whether a CR is before it is not known here.)
                if (*p != '\n') {
                    while (load_end - p >= 17) {
                        room();
                        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
                        const __m128i n = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
                        const __m128i special_next = _mm_cmpeq_epi8(_mm_min_epu8(n, top), n);
                        const __m128i bad = _mm_or_si128(
                            _mm_or_si128(_mm_cmpeq_epi8(v, ht),
                                         _mm_and_si128(_mm_cmpeq_epi8(v, sp), special_next)),
                            _mm_xor_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(n, lf)));
                        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
                        auto m = static_cast<unsigned>(_mm_movemask_epi8(bad));
                        const auto left = static_cast<std::size_t>(stop - p);
                        if (left < 16)
                            m |= ~0u << left; // the padded tail: its end is where it stops
                        if (m == 0) {
                            o += 16;
                            p += 16;
                            continue;
                        }
                        const auto k = static_cast<std::size_t>(std::countr_zero(m));
                        if (is_wsp(p[k])) {
                            // The usual change, done here: a WSP run (its first byte at k, as
                            // the byte before is no WSP) followed by an ordinary byte becomes
                            // one SP; one followed by CRLF goes (§3.4.4).
                            const char* e = p + k + 1;
                            while (e < load_end && is_wsp(*e))
                                ++e;
                            if (load_end - e >= 2) {
                                if (static_cast<unsigned char>(*e) > 0x20) {
                                    o[k] = ' ';
                                    o += k + 1;
                                    p = e;
                                    continue;
                                }
                                if (e[0] == '\r' && e[1] == '\n') {
                                    o += k;
                                    p = e;
                                    continue;
                                }
                            }
                        }
                        o += k;
                        p += k;
                        break;
                    }
                    if (p >= stop)
                        break;
                }
                s.cr_prev = p > ctx && p[-1] == '\r'; // in a clean state, p[-1] was written
            }
#else
            (void)load_end; // the block loops above only
            (void)ctx;
            if (main && s.clean() && stop - p < 17)
                break;
#endif
            // One byte at a time until the state is clean and no LF comes next.
            do {
                room();
                o = relaxed_byte(s, *p++, o);
            } while (p < stop && (!s.clean() || *p == '\n'));
        }
        used_ = static_cast<std::size_t>(o - buf);
        state = s;
        return p;
    };
    const char* const p = run(begin, end, end, begin, true);
    // The last bytes (fewer than 17) and the CRLF that ends the text, in a padded copy that the
    // same loop reads sixteen bytes at a time; t[0] is the byte before them.
    char t[64];
    const auto r = static_cast<std::size_t>(end - p);
    t[0] = p > begin ? p[-1] : '\0';
    std::memcpy(t + 1, p, r);
    std::size_t len = r;
    if (end[-1] != '\n') {
        t[1 + len++] = '\r';
        t[1 + len++] = '\n';
    }
    std::memset(t + 1 + len, 'x', sizeof t - 1 - len);
    run(t + 1, t + 1 + len, t + sizeof t, t, false);
}

void BodyHasher::add_line_general(std::string_view line) {
    if (canon_ == Canon::simple) {
        put(line.data(), line.size()); // RFC 6376 §3.4.3: the line as it is
        put("\r\n", 2);
        return;
    }
#if defined(__SSE2__)
    // RFC 6376 §3.4.4 on one line: WSP at its end goes, each run becomes one SP (an LF inside
    // the line, never from for_each_line, is an ordinary byte). A line of the usual size is
    // scanned and written in one pass straight into the buffer, with its CRLF.
    while (!line.empty() && is_wsp(line.back()))
        line.remove_suffix(1);
    if (line.size() + 2 <= buffer_size - 1) {
        if (used_ + line.size() + 2 > buffer_size)
            flush_buffer(); // leaves at most one byte
        end_line(write_relaxed_(buf_.get() + used_, line.data(), line.size())); // 64 bytes of slack
        return;
    }
#endif
    if (line.empty()) {
        put("\r\n", 2);
        return;
    }
    if (std::memchr(line.data(), '\n', line.size()) == nullptr) {
        // One line, ended by CRLF.
        relaxed(line.data(), line.data() + line.size());
        return;
    }
    // An LF inside the line (never from for_each_line): an ordinary byte of it.
    std::string out;
    append_relaxed_body_line(out, line);
    out += "\r\n";
    put(out.data(), out.size());
}

void append_relaxed_body_line(std::string& out, std::string_view line) {
    // RFC 6376 §3.4.4: no WSP at the end, each WSP run one SP.
    while (!line.empty() && is_wsp(line.back()))
        line.remove_suffix(1);
    bool run = false;
    for (const char c : line) {
        if (is_wsp(c)) {
            run = true;
            continue;
        }
        if (run)
            out.push_back(' ');
        run = false;
        out.push_back(c);
    }
}

void BodyHasher::add_text(std::string_view text) {
    if (text.empty())
        return;
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    if (canon_ == Canon::relaxed) {
        relaxed(begin, end);
        return;
    }
    // RFC 6376 §3.4.3: each line as it is, with CRLF. Only a bare LF changes (to CRLF, as
    // for_each_line ends lines), and a last line without LF gets its CRLF; the stretches between
    // go to put() whole.
    const char* span = begin;
    const char* q = begin;
    auto bare_lf = [&](const char* at) {
        put(span, static_cast<std::size_t>(at - span));
        put("\r\n", 2);
        span = at + 1;
    };
#if defined(__SSE2__)
    {
        const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
        unsigned carry = 0; // 1 when the byte before the block is CR
        for (; end - q >= 16; q += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
            const auto lfs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
            const auto crs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)));
            for (unsigned bare = lfs & ~((crs << 1) | carry); bare != 0; bare &= bare - 1)
                bare_lf(q + std::countr_zero(bare));
            carry = crs >> 15;
        }
    }
#endif
    for (; q < end; ++q)
        if (*q == '\n' && (q == begin || q[-1] != '\r'))
            bare_lf(q);
    put(span, static_cast<std::size_t>(end - span));
    if (end[-1] != '\n')
        put("\r\n", 2);
}

Digest BodyHasher::finish() {
    // RFC 6376 §3.4.3: an empty body is a single CRLF under simple; §3.4.4 (errata 1384):
    // an empty body stays empty under relaxed. Empty lines still held back are dropped.
    flush_buffer(true);
    pending_empty_ = 0;
    if (canon_ == Canon::simple && length_ == 0)
        hash_out("\r\n", 2);
    return sha_.finish();
}

} // namespace arcf::mail
