// SPDX-License-Identifier: ISC
// ARC sealing (RFC 8617 §5.1): from the verdict of the same message, the three header fields
// of a new ARC set — ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results.
#pragma once

#include "arc/auth_results_format.hpp"
#include "arc/chain.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "mail/auth_results.hpp"
#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"

namespace arcf::arc {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

/// The header fields our AMS signs by default, when present. "list-*" stands for every List-
/// header. ARC headers are never signed (RFC 8617 §4.1.2).
std::vector<std::string> default_signed_headers();

/// Budgets of the AMS h= list (issue 15 class 2): at most max_signed_fields entries, and a
/// header matched by a "list-*" pattern is signed only when its name has at most
/// max_signed_name octets. Ordinary mail signs about 15 fields.
constexpr std::size_t max_signed_fields = 100;
constexpr std::size_t max_signed_name = 64;

struct SealKey {
    std::string domain;
    std::string selector;
    PrivateKey key;
};

struct SealOptions {
    std::string authserv_id;
    std::vector<std::string> signed_headers = default_signed_headers();
    /// Sign each present header once more than it occurs, so that none can be added later.
    /// Never applied to absent headers (smtpd adds Date/Message-ID after the filters).
    bool oversign = false;
    Canon header_canon = Canon::relaxed;
    Canon body_canon = Canon::relaxed;
    std::uint64_t now = 0;
    /// Test-only layout of the ARC test suite: tags sorted, one line, no folding, and the
    /// trusted results copied with their comments (shared/notes/arc-test-suite.md §2.3).
    bool standardized = false;
};

struct SealResult {
    bool sealed = false;
    std::string reason; ///< why not sealed, or "sealed i=N cv=..."
    std::uint32_t instance = 0;
    Cv cv = Cv::none;
    /// The new fields, each "Name: value" with CRLF folding and no final CRLF, in the order
    /// they go on top of the message: ARC-Seal, ARC-Message-Signature,
    /// ARC-Authentication-Results.
    std::vector<std::string> fields;
    /// What the write budgets left out of the AAR (auth_results.hpp WriteStats).
    std::size_t values_omitted = 0;
    std::size_t results_omitted = 0;
};

/// Results for the AAR: every resinfo of the Authentication-Results fields whose authserv-id is
/// one of `ids` (compared case-insensitively), in message order; arc= results are left out
/// unless `include_arc` (we state our own).
std::vector<ResInfo> trusted_results(const std::vector<HeaderField>& headers,
                                     const std::vector<std::string>& ids,
                                     bool include_arc = false);

/// Seals a message. `headers` is the header block the new set goes on top of; `body_hash` is
/// the body digest under `opts.body_canon`; `chain` the verdict of this very message;
/// `results` the AAR's results in order (normally arc_resinfo() first, then trusted_results()).
/// Does not seal when the chain is temperror, already ended with cv=fail, or has 50 sets.
SealResult seal_message(const std::vector<HeaderField>& headers,
                        const Digest& body_hash,
                        const ChainResult& chain,
                        const std::vector<ResInfo>& results,
                        const SealKey& key,
                        const SealOptions& opts);

/// A piece of a header value that is never split, and whether a space precedes it.
struct FoldToken {
    std::string text;
    bool space_before = true;
};
/// Lays out "Name: value" so that no line exceeds 78 columns when the tokens allow it. Folds only
/// between tokens, with CRLF TAB, i.e. only where FWS is allowed. Callers keep every token short
/// enough for RFC 5322's 998 octets: the write budgets (auth_results.hpp WriteBudget) bound
/// result words, max_signed_name bounds h= words; MessageJob checks every added line.
std::string fold_field(std::string_view name, const std::vector<FoldToken>& tokens);

} // namespace arcf::arc
