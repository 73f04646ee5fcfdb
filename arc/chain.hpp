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

#include "mail/body_hashes.hpp"
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
    /// The message's body hashes, shared with its DKIM verifier and our seal; their owner feeds
    /// them the body (add_body_line then does nothing). Null: the verifier makes a set of its
    /// own (default_max_body_hashers) and add_body_line feeds it.
    SharedBodyHashes body_hashes;
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
    /// One body line without its line ending (ignored when the body hashes were given in
    /// VerifyOptions::body_hashes: their owner feeds them).
    void add_body_line(std::string_view line);
    /// Many body lines at once (lines end at LF, as for_each_line splits them): the same as
    /// add_body_line on each, without a call per line (BodyHasher::add_text).
    void add_body_text(std::string_view text);
    /// Also hashes the body under `c` without l= (for sealing this message), sharing the
    /// hasher of an AMS that uses the same: one body hash per distinct key
    /// (mail/body_hashes.hpp). Call after begin() and before the body; the index is for
    /// body_hash().
    std::size_t add_body_hash(Canon c);
    /// That digest, once every body line was given; null when the body-hash budget left it
    /// out (BodyHashes::refused_reason()).
    const Digest* body_hash(std::size_t index);
    /// The body hashes this verifier uses (never null).
    const SharedBodyHashes& body_hashes() const { return hashes_; }
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
    SharedBodyHashes hashes_;
    bool own_hashes_ = false; ///< hashes_ is ours: add_body_line feeds it
    std::optional<ChainResult> settled_;
    SharedKeyBudget budget_;
};

/// Convenience for tools and tests: verifies a whole message, asking `lookup` for each key.
template <class Lookup>
ChainResult verify_message(std::string_view message, const VerifyOptions& opts, Lookup&& lookup) {
    // The fields view `message`, which outlives the verifier (no copy per field).
    auto split = split_message_view(message);
    ChainVerifier v(opts);
    auto names = v.begin(std::move(split.headers));
    v.add_body_text(split.body);
    for (const auto& n : names)
        v.provide_key(n, lookup(n));
    return v.finish();
}

} // namespace arcf::arc
