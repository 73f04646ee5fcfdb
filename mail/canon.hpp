// SPDX-License-Identifier: ISC
// Canonicalization (RFC 6376 §3.4): simple and relaxed, header and body. The body is hashed as a
// stream of lines; no canonical copy of the body is ever kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mail/crypto.hpp"

namespace arcf::mail {

enum class Canon { simple, relaxed };
std::string_view to_string(Canon c);

/// Appends the canonical form of a header field (`raw` = "Name: value", folded, CRLF breaks) to
/// `out`, followed by CRLF when `with_crlf`.
void append_canon_header(std::string& out, Canon c, std::string_view raw, bool with_crlf = true);

/// Appends one body line (no line ending) in relaxed canonicalization (RFC 6376 §3.4.4) to
/// `out`: no WSP at its end, every other WSP run one SP. The general form, for a line taken on
/// its own; whole bodies go through BodyHasher.
void append_relaxed_body_line(std::string& out, std::string_view line);

/// Returns `raw` with the value of its b= tag removed, keeping "b=" (RFC 6376 §3.7, RFC 8617
/// §5.1.1). Other tags, bh= included, are untouched.
std::string strip_b_value(std::string_view raw);

/// Tests only: whether relaxed body canonicalization may take 64 bytes at a time where the CPU
/// can (AVX-512 VBMI2; default yes), so that the 16-byte path is tested on such CPUs too. A
/// hasher's add_line() keeps the setting of its construction. Returns the setting before.
bool allow_wide_relaxed(bool allow);

/// Streaming body canonicalizer + SHA-256. The canonical body is produced as one byte stream
/// (each line and its CRLF); trailing empty lines are held back as a count until a line with
/// content follows (RFC 6376 §3.4.3/§3.4.4), so the stream needs no per-line bookkeeping.
/// Output goes through a buffer SHA-256 is fed from in large blocks; simple canonicalization
/// hashes long unchanged stretches straight from the input.
class BodyHasher {
  public:
    /// SHA-256 is fed in blocks of this size (one EVP call per block, not per line).
    static constexpr std::size_t buffer_size = 8 * 1024;
    /// Simple canonicalization hashes unchanged stretches at least this long straight from the
    /// input instead of copying them into the buffer (put).
    static constexpr std::size_t simple_direct_min = 2 * 1024;

    explicit BodyHasher(Canon c, std::optional<std::uint64_t> limit = std::nullopt);

    /// One body line without its line ending.
    void add_line(std::string_view line) {
        // The usual line, inline (issue 21: a 10 MiB body is about 138,000 of them): it fits in
        // the buffer's free space with its CRLF, where it is written as it is (RFC 6376 §3.4.3)
        // or by the relaxed line writer (§3.4.4: WSP at the end goes first, then each run
        // becomes one SP). Empty lines need no count here: the buffer's trailing ones are held
        // back when it is hashed (flush_buffer). Any other line goes the general way.
        if (write_relaxed_ != nullptr) {
            while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
                line.remove_suffix(1);
            if (used_ + line.size() + 2 <= buffer_size) {
                end_line(write_relaxed_(buf_.get() + used_, line.data(), line.size()));
                return;
            }
        } else if (canon_ == Canon::simple && line.size() < simple_direct_min &&
                   used_ + line.size() + 2 <= buffer_size) {
            std::memcpy(buf_.get() + used_, line.data(), line.size());
            end_line(buf_.get() + used_ + line.size());
            return;
        }
        add_line_general(line);
    }
    /// Many body lines at once: exactly for_each_line(text, add_line) (mail/header.hpp: lines
    /// end at LF, one CR before it dropped; a last piece without LF is a line too).
    void add_text(std::string_view text);
    /// Completes the body (RFC 6376 §3.4.3/§3.4.4 trailing empty lines) and returns the hash.
    Digest finish();
    /// Canonical bytes hashed so far (output still in the buffer not counted); after finish()
    /// the full canonical length (before l=).
    std::uint64_t canonical_length() const { return length_; }
    Canon canon() const { return canon_; }
    std::optional<std::uint64_t> limit() const { return limit_; }

  private:
    /// Writes the relaxed form of a line (`n` bytes at `p`, no WSP at its end) at `o`, which has
    /// room for n + 64 bytes; returns the end of what it wrote.
    using RelaxedWriter = char* (*)(char* o, const char* p, std::size_t n);

    /// The CRLF of a line whose bytes end at `o` in the buffer.
    void end_line(char* o) {
        o[0] = '\r';
        o[1] = '\n';
        used_ = static_cast<std::size_t>(o + 2 - buf_.get());
    }
    /// add_line() but for its inline cases.
    void add_line_general(std::string_view line);
    /// Canonical bytes, as they are, to the stream.
    void put(const char* data, std::size_t n);
    /// Relaxed canonicalization of the lines of [p, end) (end of text: see add_text).
    void relaxed(const char* p, const char* end);
    /// Hands the buffer to SHA-256 but for its trailing empty lines (counted in pending_empty_)
    /// and, unless `last`, a CR at its end (kept in the buffer).
    void flush_buffer(bool last = false);
    /// The held-back empty lines, hashed (a line with content follows them).
    void hash_pending();
    /// Hashes canonical bytes (l= applied) and counts them.
    void hash_out(const char* data, std::size_t n);
    /// The length of `data` without its trailing empty lines (`before`: the two bytes of the
    /// stream before `data`).
    static std::size_t without_empty_tail(const char* data, std::size_t n, const char* before);
    /// Remembers the last bytes of `data` (after what is in last_) as the stream's last two.
    void note_end(const char* data, std::size_t n);

    Canon canon_;
    /// Relaxed: the line writer for this CPU (null without one: add_line_general then).
    RelaxedWriter write_relaxed_ = nullptr;
    std::optional<std::uint64_t> limit_;
    Sha256 sha_;
    std::unique_ptr<char[]> buf_;
    std::size_t used_ = 0;
    char last_[2] = {'\r', '\n'};     ///< the two bytes of the stream before the buffer
    std::uint64_t pending_empty_ = 0; ///< empty lines after what is hashed, before the buffer
    std::uint64_t length_ = 0;
    std::uint64_t hashed_ = 0;
};

} // namespace arcf::mail
