// SPDX-License-Identifier: ISC
// The body hashes of one message (RFC 6376 §3.7 bh=, RFC 8617 §4.1.2 AMS bh=), shared by
// everyone who needs one: the ARC chain verifier (arc/chain.hpp), the DKIM verifier
// (dkim/verifier.hpp) and our seal (filter/pipeline/message_job.hpp). Requests with the same key
// (canonicalization, l=, hash algorithm) share one hasher, so the body is canonicalized and
// hashed once per distinct key, and each body line is given to the set once.
//
// Budget (issue 15 style: every resource bounded): at most `max_hashers` distinct hashers per
// message (default_max_body_hashers). Each costs a full pass of canonicalization and SHA-256
// over the body, and an attacker picks the keys: fifty AMSs and ten DKIM-Signatures with
// distinct l= values would otherwise cost sixty-one passes. When more distinct keys are
// requested than the budget allows, the most important ones get a hasher, in this order:
//   1. the newest ARC-Message-Signature (it decides the chain's verdict, RFC 8617 §5.2 step 4)
//   2. our own seal's body hash (RFC 8617 §5.1)
//   3. DKIM-Signatures, in message order (dkim= and DMARC, RFC 6376 §6.1.3)
//   4. older ARC-Message-Signatures (only the informational oldest-pass, RFC 8617 §5.2 step 5)
// ties in request order. A request left without a hasher has no digest: that signature gets
// a verdict with refused_reason() (DKIM permerror, AMS fail: "body hash not computed: ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"

namespace arcf::mail {

/// The hash a body hash uses. Every algorithm we verify or sign with (rsa-sha256,
/// ed25519-sha256: RFC 6376 §3.3, RFC 8463 §3) hashes the body with SHA-256; the key names it
/// so that a future algorithm with another hash gets its own hasher, never a shared wrong one.
enum class BodyHashAlgorithm { sha256 };

/// The hash algorithm of a signature algorithm's body hash.
constexpr BodyHashAlgorithm body_hash_algorithm(Algorithm) {
    return BodyHashAlgorithm::sha256;
}

/// Who needs a body hash, most important first (see the file comment).
enum class BodyHashUse { arc_newest, seal, dkim, arc_older };

/// Distinct body hashers per message: a legitimate message needs one to three (relaxed and
/// simple, an l= here and there); eight leaves room and caps a hostile message at eight passes.
inline constexpr std::size_t default_max_body_hashers = 8;

class BodyHashes {
  public:
    /// At most `max_hashers` distinct hashers (0: no limit).
    explicit BodyHashes(std::size_t max_hashers = default_max_body_hashers);
    ~BodyHashes();
    BodyHashes(const BodyHashes&) = delete;
    BodyHashes& operator=(const BodyHashes&) = delete;
    BodyHashes(BodyHashes&&) noexcept;
    BodyHashes& operator=(BodyHashes&&) noexcept;

    /// A handle for the body hash of (c, limit, alg), shared with every request of the same
    /// key; `use` ranks it for the budget. Call before the first body line: a key first asked
    /// for later is refused (the lines before it are gone).
    std::size_t request(Canon c,
                        std::optional<std::uint64_t> limit,
                        BodyHashUse use,
                        BodyHashAlgorithm alg = BodyHashAlgorithm::sha256);
    /// One body line without its line ending, to every hasher. The first line fixes which
    /// requests get a hasher.
    void add_line(std::string_view line) {
        // The usual case, one hasher (our seal; or a chain or DKIM whose newest signature
        // uses the same key), straight to it: this runs once per body line.
        if (only_ != nullptr)
            only_->add_line(line);
        else
            add_line_each(line);
    }
    /// Many body lines at once, to every hasher: the same as add_line on each line of
    /// for_each_line(text) (BodyHasher::add_text).
    void add_text(std::string_view text);
    /// Completes the hasher of `handle` (once) and returns its digest; null when the request got
    /// no hasher (over the budget: see refused_reason()).
    const Digest* digest(std::size_t handle);
    /// The whole canonical body length seen by the hasher of `handle` (before l=); 0 without
    /// one. Call after digest().
    std::uint64_t canonical_length(std::size_t handle) const;
    /// Why `handle` has no digest (empty when it has one).
    std::string refused_reason(std::size_t handle) const;

    /// Distinct hashers running (after the first line or digest(): those within the budget).
    std::size_t hashers() const;
    /// Distinct keys requested.
    std::size_t keys() const { return entries_.size(); }
    std::size_t max_hashers() const { return max_; }

  private:
    struct Entry;
    /// Decides once which keys get a hasher (at the first line or digest).
    void start();
    /// add_line() but for the case of one hasher.
    void add_line_each(std::string_view line);

    std::size_t max_;
    std::vector<std::unique_ptr<Entry>> entries_; // index = handle
    bool started_ = false;
    BodyHasher* only_ = nullptr; ///< the hasher when exactly one runs (after start())
};

/// One message's set, held by its owner (who feeds it the body) and the verifiers it lends it to.
using SharedBodyHashes = std::shared_ptr<BodyHashes>;

} // namespace arcf::mail
