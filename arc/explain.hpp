// SPDX-License-Identifier: ISC
// Why did a chain break? The per-hop report of `filter-arc verify --explain` (issue 20 item 3):
// every ARC set checked on its own (RFC 8617 §5.2 steps 4-6 without stopping at the first
// failure), and for a failed ARC-Message-Signature the common list modifications tried undone:
// a footer appended to the body, a Subject tag, a re-folded field, a duplicated or added field.
// Pure: the message and the key answers in, a report out; every finding is a likelihood.
#pragma once

#include "arc/arc_headers.hpp"
#include "arc/chain.hpp"
#include "dns/answer.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/crypto.hpp"
#include "mail/key_name.hpp"

namespace arcf::arc {

/// How checking one signature (or one body hash) ended.
enum class CheckState {
    pass,
    fail,
    temperror,   ///< no key answer, or a temporary DNS failure
    not_checked, ///< the field is missing or unparsable, or the key-operation budget ran out
};
std::string_view to_string(CheckState s);

/// One thing the report thinks happened to a set's signed content, as a likelihood.
struct Finding {
    std::string part;       ///< "body", "header" or "seal"
    std::string likelihood; ///< "probably" (an undo made a signature or hash verify) or "possibly"
    /// footer, body-length, body-truncated, body-changed, subject-tag, duplicate-field,
    /// refolded, whitespace, canonicalization, added-field, header-changed
    std::string cause;
    std::string field;                         ///< the header field concerned (lower case), if any
    std::optional<std::uint64_t> lines, bytes; ///< the footer's size, for cause footer
    std::string text;                          ///< one sentence for people
};

struct SealReport {
    bool present = false;
    std::string error; ///< why it could not be parsed (empty when parsed)
    Cv cv = Cv::none;
    std::string domain, selector, algorithm;
    std::optional<std::uint64_t> timestamp;
    CheckState signature = CheckState::not_checked;
    std::string why; ///< why the signature did not pass
};

struct AmsReport {
    bool present = false;
    std::string error;
    std::string domain, selector, algorithm;
    std::string canon; ///< c= as "header/body"
    std::optional<std::uint64_t> timestamp, expiration, body_length;
    std::vector<std::string> signed_headers; ///< h=, lower case, in order
    CheckState body_hash = CheckState::not_checked;
    CheckState signature = CheckState::not_checked; ///< the header signature (b=)
    bool header_mismatch = false; ///< a usable key did not verify b=: the signed fields changed
    bool expired = false;         ///< x= is in the past
    std::string why;
};

struct HopReport {
    std::uint32_t instance = 0;
    bool aar_present = false;
    SealReport seal;
    AmsReport ams;
    std::vector<Finding> findings;
};

/// Where the chain broke, when it did.
struct BreakPoint {
    std::uint32_t hop = 0;
    /// ams-body-hash, ams-header-signature, ams (both, or another AMS problem), seal,
    /// structure (a set incomplete), other (e.g. a duplicate field; the verdict's reason)
    std::string part;
    std::string text;
};

struct Explanation {
    ChainResult verdict;         ///< what `filter-arc verify` says (the chain validator's result)
    std::vector<HopReport> hops; ///< oldest first: hops[0] is i=1
    std::optional<BreakPoint> broken;
    std::vector<std::string> notes;   ///< message-level remarks (modifications of a passing chain)
    std::size_t key_operations = 0;   ///< public-key operations of the per-hop checks
    std::size_t extra_operations = 0; ///< public-key operations of the undo candidates
    std::size_t extra_limit = 0;
    bool extra_exhausted = false; ///< some candidates were not tried: the budget ran out
};

struct ExplainOptions {
    KeyPolicy keys;        ///< max_key_operations also bounds the per-hop checks
    std::uint64_t now = 0; ///< UNIX time, for x=
    std::uint32_t max_sets = max_instance;
    /// Public-key operations for the undo candidates of one explain run, all hops together
    /// (each key record tried counts one).
    std::size_t max_extra_operations = 32;
    /// The footer search compares the body cut at each line boundary with at most this many
    /// bytes after it (one SHA-256 finalization per such line).
    std::uint64_t max_footer_bytes = 256 * 1024;
};

/// The keys the report needs: every parsable ARC-Seal's and ARC-Message-Signature's.
std::vector<mail::KeyName> explain_key_names(std::string_view message);

/// The key answers, by key name; a name without an answer counts as a temporary failure.
using KeyAnswers = std::map<mail::KeyName, dns::TxtAnswer>;

/// The per-hop report of `message` (CRLF or LF).
Explanation
explain_chain(std::string_view message, const KeyAnswers& answers, const ExplainOptions& opts);

} // namespace arcf::arc
