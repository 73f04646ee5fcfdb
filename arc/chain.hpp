// SPDX-License-Identifier: ISC
// ARC chain validation (RFC 8617 §5.2) as a sans-I/O state machine: headers in, key names out,
// body lines and key answers in, a verdict out.
#pragma once

#include "arc/arc_headers.hpp"
#include "dns/answer.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"
#include "mail/key_budget.hpp"
#include "mail/key_name.hpp"
#include "mail/key_record.hpp"
#include "mail/signature_check.hpp"

namespace arcf::arc {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

/// The verdict for the whole chain; `temperror` only when a key answer was temporary and nothing
/// failed for certain (a temporary DNS failure is never reported as fail). A chain whose
/// verification the public-key operation budget stopped is `fail`: we cannot vouch for it, as
/// for a chain longer than max_sets (RFC 8617 §4.2.1).
enum class ChainStatus { none, pass, fail, temperror };
std::string_view to_string(ChainStatus s);

/// What we learned of one ARC set (for logs, the AAR and later policy).
struct SetSummary {
    std::uint32_t instance = 0;
    Cv cv = Cv::none;
    std::string seal_domain, seal_selector;
    std::string ams_domain, ams_selector;
};

struct ChainResult {
    ChainStatus status = ChainStatus::none;
    std::string reason;     ///< one human-readable sentence
    std::uint32_t sets = 0; ///< N, the highest instance (0 when none)
    bool ended = false;     ///< the newest ARC-Seal already says cv=fail (never extend it)
    std::optional<std::uint32_t> oldest_pass; ///< RFC 8617 §5.2 step 5 (0 = every AMS passed)
    std::vector<SetSummary> chain;            ///< sets 1..N when the structure was valid
};

struct VerifyOptions {
    KeyPolicy keys; ///< also max_key_operations, the size of the budget made when none is given
    /// The message's public-key operation budget, shared with its DKIM verifier; null: the
    /// verifier makes its own of keys.max_key_operations.
    SharedKeyBudget budget;
    std::uint64_t now = 0;                 ///< UNIX time, for x= expiry
    bool oldest_pass = true;               ///< also validate older AMSs (costs their key lookups)
    std::uint32_t max_sets = max_instance; ///< longer chains fail (RFC 8617 §4.2.1 caps at 50)
};

class ChainVerifier {
  public:
    explicit ChainVerifier(VerifyOptions opts);
    ~ChainVerifier();
    ChainVerifier(const ChainVerifier&) = delete;
    ChainVerifier& operator=(const ChainVerifier&) = delete;

    /// Takes the complete header block (in message order) and returns the deduplicated keys to
    /// look up. The list is empty when the verdict needs no key (no chain, broken structure).
    std::vector<KeyName> begin(std::vector<HeaderField> headers);
    /// One body line without its line ending.
    void add_body_line(std::string_view line);
    /// Also hashes the body under `c` without l= (for sealing this message), sharing the
    /// hasher of an AMS that uses the same: one body hash per distinct canonicalization. Call
    /// after begin(); the index is for body_hash().
    std::size_t add_body_hash(Canon c);
    /// That digest, once every body line was given.
    const Digest& body_hash(std::size_t index);
    /// A key answer; names not asked for are ignored, repeated answers keep the first.
    void provide_key(const KeyName& name, const dns::TxtAnswer& answer);
    /// Computes the verdict. Keys never provided count as temporary failures.
    ChainResult finish();

    const std::vector<HeaderField>& headers() const { return headers_; }
    /// The verdict is already known from the headers alone (no body or keys needed).
    bool settled() const { return settled_.has_value(); }
    /// The public-key operation budget this verifier draws from (never null), to share with
    /// the message's DKIM verifier.
    const SharedKeyBudget& key_budget() const { return budget_; }

  private:
    struct Set;

    ChainResult fail_result(std::string reason) const;
    std::optional<ChainResult> analyse();
    /// pass / fail / temporary for one AMS.
    int verify_ams(const Set& set, std::string& why);
    int verify_seal(std::uint32_t instance, const Digest& digest, std::string& why);
    /// The digest each ARC-Seal signs, for instances 1..N (RFC 8617 §5.1.1).
    std::vector<Digest> seal_digests() const;
    int check_signature(const KeyName& key,
                        const Digest& digest,
                        const std::string& sig,
                        Algorithm alg,
                        std::string& why);

    VerifyOptions opts_;
    std::vector<HeaderField> headers_;
    std::vector<Set> sets_; // index = instance - 1
    std::map<KeyName, KeyLookup> keys_;
    BodyHashes hashes_;
    std::optional<ChainResult> settled_;
    SharedKeyBudget budget_;
};

/// Convenience for tools and tests: verifies a whole message, asking `lookup` for each key.
template <class Lookup>
ChainResult verify_message(std::string_view message, const VerifyOptions& opts, Lookup&& lookup) {
    auto split = split_message(message);
    ChainVerifier v(opts);
    auto names = v.begin(std::move(split.headers));
    for_each_line(split.body, [&](std::string_view line) { v.add_body_line(line); });
    for (const auto& n : names)
        v.provide_key(n, lookup(n));
    return v.finish();
}

} // namespace arcf::arc
