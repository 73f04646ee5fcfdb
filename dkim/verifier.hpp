// SPDX-License-Identifier: ISC
// DKIM signature verification (RFC 6376 §6.1) as a sans-I/O state machine, shaped like
// ChainVerifier (arc/chain.hpp): headers in, key names out; body lines and key answers in; one
// result per DKIM-Signature field out.
//
// Results (RFC 8601 §2.7.1), chosen consistently:
//   pass       the signature verified (l= may leave body bytes unsigned: see body_partial)
//   fail       body hash or signature did not verify (RFC 6376 §6.1.3)
//   permerror  the signature cannot be checked: bad syntax, missing or invalid tags, an
//              unsupported or refused algorithm (rsa-sha1, RFC 8301), h= without From,
//              i= outside d=, expired (x=), l= beyond the body, no key (NXDOMAIN/NODATA), or a
//              key record that cannot verify it (syntax, revoked p=, k= not matching a=, h=
//              without sha256, t=s with a subdomain i=, RSA key outside KeyPolicy [RFC 8301]:
//              size, public exponent, record length; only the first max_key_records records),
//              or a body hash the message's body-hash budget left out (mail/body_hashes.hpp)
//   temperror  the key lookup failed temporarily (or was never answered)
//   policy     not checked: beyond DkimOptions::max_signatures, or the message's public-key
//              operation budget (KeyPolicy::max_key_operations, shared with ARC) was spent
//   neutral    never produced (RFC 8601 allows it for syntax errors; we say permerror)
// No DKIM-Signature field at all gives an empty result list: the caller writes dkim=none.
#pragma once

#include "dns/answer.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/body_hashes.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"
#include "mail/key_budget.hpp"
#include "mail/key_name.hpp"
#include "mail/signature_check.hpp"

namespace arcf::dkim {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

enum class DkimResult { pass, fail, neutral, policy, temperror, permerror };
std::string_view to_string(DkimResult r);

struct DkimOptions {
    KeyPolicy keys;                  ///< RSA size bounds (RFC 8301 §3.2: at least 1024 bits)
    SharedKeyBudget budget;          ///< null: a budget of keys.max_key_operations of its own
    std::uint64_t now = 0;           ///< UNIX time, for x= expiry (RFC 6376 §3.5)
    std::size_t max_signatures = 10; ///< signatures checked at most, in message order; later
                                     ///< ones get `policy` and cost no lookup and no hashing
    /// The message's body hashes, shared with its ARC verifier and our seal; their owner feeds
    /// them the body (add_body_line then does nothing). Null: a set of the verifier's own
    /// (default_max_body_hashers), fed by add_body_line.
    SharedBodyHashes body_hashes;
};

/// The verdict on one DKIM-Signature field, with what RFC 8601 / RFC 6008 report about it.
struct DkimSignatureResult {
    DkimResult result = DkimResult::permerror;
    std::string domain;    ///< d= (lower case); empty when the field did not say
    std::string selector;  ///< s=
    std::string identity;  ///< i=, or "@" + d= when absent
    std::string algorithm; ///< a= ("rsa-sha256", "ed25519-sha256", or as written when refused)
    std::optional<std::uint64_t> body_length; ///< l=
    std::optional<std::uint64_t> body_bytes;  ///< the canonical body length, when it was hashed
    bool body_partial = false;                ///< pass, but l= left canonical body bytes unsigned
    std::string header_b;                     ///< the first 12 characters of b= (RFC 6008 header.b)
    std::string reason;                       ///< one sentence; empty for a plain pass
};

class DkimVerifier {
  public:
    explicit DkimVerifier(DkimOptions opts);
    ~DkimVerifier();
    DkimVerifier(const DkimVerifier&) = delete;
    DkimVerifier& operator=(const DkimVerifier&) = delete;

    /// Takes the complete header block (message order) once. Every DKIM-Signature field is
    /// parsed and its header hash computed now (the headers are not kept). Returns the distinct
    /// keys to look up, in the order of first use.
    std::vector<KeyName> begin(const std::vector<HeaderField>& headers);
    /// One body line without its line ending (needed only while needs_body(); ignored when the
    /// body hashes are shared: their owner feeds them).
    void add_body_line(std::string_view line);
    /// Many body lines at once (lines end at LF, as for_each_line splits them): the same as
    /// add_body_line on each, without a call per line (BodyHasher::add_text).
    void add_body_text(std::string_view text);
    /// A key answer; names not asked for are ignored, repeated answers keep the first.
    void provide_key(const KeyName& name, const dns::TxtAnswer& answer);
    /// One result per DKIM-Signature field, in message order; empty when there is none. Keys
    /// never provided count as temporary failures. Calling it again returns the same results.
    std::vector<DkimSignatureResult> finish();

    /// Some signature still depends on the body (otherwise add_body_line may be skipped).
    bool needs_body() const { return !pending_.empty(); }
    /// Draws from `budget` (the message's, shared with its ARC chain verifier) from now on;
    /// null keeps the current one. Call before finish().
    void share_budget(SharedKeyBudget budget) {
        if (budget)
            budget_ = std::move(budget);
    }

    /// Uses `hashes` (the message's set, fed by its owner) instead of a set of its own. Only
    /// before begin(): false (nothing changed) afterwards, or for null.
    bool share_body_hashes(SharedBodyHashes hashes) {
        if (!hashes || begun_)
            return false;
        hashes_ = std::move(hashes);
        own_hashes_ = false;
        return true;
    }

  private:
    struct Pending;

    DkimOptions opts_;
    std::vector<DkimSignatureResult> results_;
    std::vector<Pending> pending_;
    std::map<KeyName, KeyLookup> keys_;
    SharedBodyHashes hashes_;
    bool own_hashes_ = false; ///< hashes_ is ours: add_body_line feeds it
    SharedKeyBudget budget_;
    bool begun_ = false;
    bool finished_ = false;
};

/// Convenience for tools and tests: verifies a whole message, asking `lookup` for each key.
template <class Lookup>
std::vector<DkimSignatureResult>
verify_dkim_message(std::string_view message, const DkimOptions& opts, Lookup&& lookup) {
    // The fields view `message`, which outlives the verifier (no copy per field).
    auto split = split_message_view(message);
    DkimVerifier v(opts);
    auto names = v.begin(split.headers);
    if (v.needs_body())
        v.add_body_text(split.body);
    for (const auto& n : names)
        v.provide_key(n, lookup(n));
    return v.finish();
}

} // namespace arcf::dkim
