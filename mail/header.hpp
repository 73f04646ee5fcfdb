// SPDX-License-Identifier: ISC
// RFC 5322 §2.2 header fields kept as raw bytes, and a message splitter that accepts CRLF or LF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::mail {

/// One header field exactly as it appeared, with line breaks normalised to CRLF and without the
/// CRLF that ends the field. Folded continuation lines stay inside `raw`.
class HeaderField {
  public:
    HeaderField() = default;
    /// A field that owns its text.
    explicit HeaderField(std::string raw);
    /// A field that views `raw` (the same form: CRLF between its lines, none at the end)
    /// without copying it: the text must outlive the field and every copy of it.
    static HeaderField view_of(std::string_view raw);

    HeaderField(const HeaderField& other);
    HeaderField(HeaderField&& other) noexcept;
    HeaderField& operator=(const HeaderField& other);
    HeaderField& operator=(HeaderField&& other) noexcept;
    ~HeaderField() = default;

    std::string_view raw() const { return raw_; }
    /// The field name (no trailing whitespace); empty when the line has no colon (malformed).
    std::string_view name() const { return raw_.substr(0, name_len_); }
    /// Everything after the colon, folding included; empty for a malformed line.
    std::string_view value() const;
    bool is(std::string_view lower_name) const;
    bool malformed() const { return colon_ == std::string::npos; }
    /// Whether the text is viewed (view_of), not owned.
    bool is_view() const { return viewed_; }

  private:
    void locate_colon();
    void take_view_of(const HeaderField& other);

    std::string own_;      ///< the text, unless viewed_
    std::string_view raw_; ///< own_, or the viewed text
    bool viewed_ = false;
    std::size_t name_len_ = 0;
    std::size_t colon_ = std::string::npos;
};

/// Builds header fields from physical lines (no EOL), and says when the header block ends.
class HeaderCollector {
  public:
    /// Feeds one physical header line. Returns false when the line was the empty separator line:
    /// the header block is complete and the line was not consumed as a header.
    bool add_line(std::string_view line);
    /// Flushes a pending field (at end of headers or end of input).
    void finish();
    std::vector<HeaderField>& fields() { return fields_; }
    const std::vector<HeaderField>& fields() const { return fields_; }
    std::size_t total_bytes() const { return bytes_; }

  private:
    std::vector<HeaderField> fields_;
    std::string pending_;
    bool have_pending_ = false;
    std::size_t bytes_ = 0;
};

/// The header fields a reader that takes a bare CR (a CR not followed by LF) for a line break
/// finds in one field's `raw` text (CRLF between its physical lines, as HeaderField keeps
/// it), in order; a line starting with WSP continues the field before it, empty lines are
/// skipped. RFC 5322 §2.2 and §2.3: CR and LF MUST only occur together as CRLF, so text with a
/// bare CR is not a message and readers disagree on it; this is the reading that sees the most
/// fields, used to find forged ones (issue 15 class 7). Without a bare CR: the field itself.
std::vector<HeaderField> fields_with_bare_cr_breaks(std::string_view raw);
/// Whether `text` has a CR that is not followed by LF.
bool has_bare_cr(std::string_view text);

/// Calls `fn(line)` for each line of `text`, splitting at LF and dropping one CR before it; the
/// last line is passed even without a terminator. Returns whether the text ended with LF.
template <class Fn>
bool for_each_line(std::string_view text, Fn&& fn) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            fn(text.substr(pos));
            return false;
        }
        std::size_t end = nl;
        if (end > pos && text[end - 1] == '\r')
            --end;
        fn(text.substr(pos, end - pos));
        pos = nl + 1;
    }
    return true;
}

/// A whole message split into header fields and the body text (as given, CRLF or LF).
struct SplitMessage {
    std::vector<HeaderField> headers;
    std::string_view body;
    bool has_separator = false; ///< an empty line ended the header block
};
SplitMessage split_message(std::string_view message);
/// The same, with fields that view `message` instead of copying it (HeaderField::view_of) when
/// every line of its header block ends in CRLF (else as split_message: a field joined from
/// LF-ended lines is not a piece of the message). `message` must outlive the result and every
/// copy of its fields (issue 21: verify_message holds the whole message; a copy per field was
/// the largest share of its allocations).
SplitMessage split_message_view(std::string_view message);

} // namespace arcf::mail
