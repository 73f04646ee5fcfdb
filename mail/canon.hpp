// SPDX-License-Identifier: ISC
// Canonicalization (RFC 6376 §3.4): simple and relaxed, header and body. The body is hashed as a
// stream of lines; no canonical copy of the body is ever kept.
#pragma once

#include <cstdint>
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

/// Returns `raw` with the value of its b= tag removed, keeping "b=" (RFC 6376 §3.7, RFC 8617
/// §5.1.1). Other tags, bh= included, are untouched.
std::string strip_b_value(std::string_view raw);

/// Streaming body canonicalizer + SHA-256. Feed each body line without its line ending.
/// Lines that canonicalization leaves unchanged (most of them) are copied once, into the buffer
/// SHA-256 is fed from in large blocks.
class BodyHasher {
  public:
    explicit BodyHasher(Canon c, std::optional<std::uint64_t> limit = std::nullopt);

    void add_line(std::string_view line);
    /// Many body lines at once: exactly for_each_line(text, add_line) (mail/header.hpp: lines
    /// end at LF, one CR before it dropped; a last piece without LF is a line too), without a
    /// call or a split per line: relaxed lines are scanned, copied and canonicalized in one
    /// pass over `text`.
    void add_text(std::string_view text);
    /// Completes the body (RFC 6376 §3.4.3/§3.4.4 trailing empty lines) and returns the hash.
    Digest finish();
    /// Canonical bytes hashed so far, after finish() the full canonical length (before l=).
    std::uint64_t canonical_length() const { return length_; }
    Canon canon() const { return canon_; }
    std::optional<std::uint64_t> limit() const { return limit_; }

  private:
    void put_line(std::string_view canonical);
    /// add_text's relaxed lines from `p` (its first byte not WSP, CR or LF: the line is not
    /// empty) and those after it that begin the same way; returns the start of the next line.
    const char* add_relaxed_line(const char* p, const char* end);
    void emit(std::string_view data);
    void flush_buffer();

    Canon canon_;
    std::optional<std::uint64_t> limit_;
    Sha256 sha_;
    std::unique_ptr<char[]> buf_;
    std::size_t used_ = 0;
    std::string line_; ///< scratch for a relaxed line that changes
    std::uint64_t pending_empty_ = 0;
    std::uint64_t length_ = 0;
    std::uint64_t hashed_ = 0;
};

} // namespace arcf::mail
