// SPDX-License-Identifier: ISC
// The steps every DKIM-style signature check shares (RFC 6376 §5.4.2, §6.1.2, §6.1.3), used by
// the ARC-Message-Signature / ARC-Seal checks (arc/chain.hpp) and by DKIM (dkim/verifier.hpp):
// selecting and canonicalizing the signed header fields, one body hash per distinct
// (canonicalization, l=) pair, and a key answer turned into a verdict on one signature.
#pragma once

#include "dns/answer.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"
#include "mail/key_budget.hpp"
#include "mail/key_name.hpp"
#include "mail/key_record.hpp"
#include "mail/result.hpp"

namespace arcf::mail {

/// RFC 6376 §5.4.2 and §3.7: the canonicalized h= fields, each name selecting the next unused
/// instance from the bottom up (names with none left contribute nothing), then the signature
/// field itself (`signature_raw`, b= still present) with its b= value removed and no CRLF.
std::string signed_header_data(const std::vector<HeaderField>& headers,
                               const std::vector<std::string>& signed_names,
                               Canon canon,
                               std::string_view signature_raw);

/// One streaming body hash per distinct (canonicalization, l=) pair; lines go to all of them.
class BodyHashes {
  public:
    BodyHashes();
    ~BodyHashes();
    BodyHashes(BodyHashes&&) noexcept;
    BodyHashes& operator=(BodyHashes&&) noexcept;

    /// The index of the hasher for (c, limit), created on first use.
    std::size_t add(Canon c, std::optional<std::uint64_t> limit);
    /// One body line without its line ending.
    void add_line(std::string_view line);
    /// Completes hasher `index` (once) and returns its digest.
    const Digest& digest(std::size_t index);
    /// The whole canonical body length seen by hasher `index` (before l=); call after digest().
    std::uint64_t canonical_length(std::size_t index) const;
    std::size_t size() const { return hashers_.size(); }

  private:
    struct Entry;
    std::vector<std::unique_ptr<Entry>> hashers_;
};

/// What a key lookup answered, parsed once (RFC 6376 §3.6.2.2: every record is tried).
struct KeyLookup {
    bool answered = false;
    dns::Status status = dns::Status::temporary;
    std::string detail;
    std::vector<KeyRecord> keys;
    Error parse_error; ///< why the first unusable record was refused (when `keys` is empty)

    /// Records the first answer; later ones are ignored.
    void record(const dns::TxtAnswer& answer, const KeyPolicy& policy);
};

/// How checking one signature against its key ended.
enum class SignatureCheck {
    pass,          ///< a key of the right type verified the signature
    bad_signature, ///< usable keys, none verified it
    no_key,        ///< NXDOMAIN or NODATA at the key name
    unusable_key,  ///< records exist but none can verify this signature (syntax, revoked, k=, t=s)
    temporary,     ///< no answer yet, or a temporary DNS failure
    over_budget,   ///< not checked: the message's public-key operation budget is spent
};

struct SignatureVerdict {
    SignatureCheck outcome = SignatureCheck::temporary;
    std::string why; ///< empty for pass
};

/// RFC 6376 §6.1.2: whether the lookup gave any usable key at all; nullopt when it did.
/// `lookup` is null when the key was never asked for.
std::optional<SignatureVerdict> key_problem(const KeyLookup* lookup, const KeyName& name);

/// RFC 6376 §6.1.2/§6.1.3: verifies `signature` over `digest` with each record of `lookup` of
/// the type `alg` needs. `subdomain_identity` (the i= domain is a subdomain of d=) excludes
/// records with t=s (RFC 6376 §3.6.1). Each verification takes one operation from `budget`
/// (null: no limit); when none is left the outcome is over_budget.
SignatureVerdict check_signature(const KeyLookup* lookup,
                                 const KeyName& name,
                                 const Digest& digest,
                                 std::string_view signature,
                                 Algorithm alg,
                                 bool subdomain_identity = false,
                                 KeyOperationBudget* budget = nullptr);

/// The reason given for an over_budget outcome.
std::string budget_exhausted_reason(const KeyOperationBudget& budget);

} // namespace arcf::mail
