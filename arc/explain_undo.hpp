// SPDX-License-Identifier: ISC
// What `verify --explain` undoes to find where a chain broke (arc/explain.hpp): a footer added
// to the body (the longest prefix of it that matches a signed body hash) and a forwarder's usual
// edits of a header field (a subject tag, re-spacing, re-folding), reverted one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "mail/canon.hpp"
#include "mail/header.hpp"

namespace arcf::arc::undo {

using mail::Canon;
using mail::Digest;
using mail::for_each_line;
using mail::HeaderField;
using mail::Sha256;
using mail::sha256;

/// RFC 6376 §3.4.3 / §3.4.4 for one body line (no line ending): simple keeps it, relaxed
/// drops WSP at its end and reduces every other WSP run to one SP.
void canon_body_line(Canon c, std::string_view line, std::string& out);

struct PrefixMatch {
    std::size_t lines = 0; ///< the body's first `lines` lines hash to the wanted value
};

/// One pass over the body under one canonicalization, with the digest of the body cut at each
/// line boundary: the running hash holds every canonical line but the trailing empty ones
/// (which RFC 6376 §3.4.3/§3.4.4 drop at the end of a body), so the digest of the body cut
/// after line k is one fork of it: linear in the body, not one hash per cut. Only cuts with at
/// most `max_footer` bytes after them are tried (a fork costs about a microsecond: a body of
/// millions of short lines would otherwise take seconds). Keyed by the wanted digest (raw
/// bytes); a digest no prefix matches is absent.
std::map<std::string, PrefixMatch> match_prefixes(std::string_view body,
                                                  Canon c,
                                                  const std::set<std::string>& wanted,
                                                  std::uint64_t max_footer);

/// The byte offset of line `index` (0-based) of `body`.
std::size_t offset_of_line(std::string_view body, std::size_t index);
/// The number of lines of `body`.
std::size_t count_lines(std::string_view body);

/// "Subject: [list] Re: hi" -> "Subject: Re: hi": the first bracketed tag, with the white space
/// after it, removed from the start of the value (after any "Re:"/"Fwd:" prefixes), and the tag
/// in `tag`. Empty when the value has no such tag.
std::string strip_subject_tag(const HeaderField& f, std::string& tag);

/// "Name:  a \t b " -> "Name: a b": one space after the colon, white space runs as one space,
/// none at the end; line breaks (CRLF) kept as they are.
std::string plain_spacing(const HeaderField& f);

/// The field without its line breaks: `keep_wsp` removes only the CRLFs (undoing a fold at
/// existing white space, RFC 5322 §2.2.3), otherwise the white space after them too (undoing
/// a line break put inside a word).
std::string unfolded(std::string_view raw, bool keep_wsp);

} // namespace arcf::arc::undo
