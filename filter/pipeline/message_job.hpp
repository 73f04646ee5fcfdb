// SPDX-License-Identifier: ISC
// One message's verification and sealing, shared by the OpenSMTPD and Exim shells: lines in,
// key names out, key answers in, the header lines to add and the decision out. Pure.
#pragma once

#include "arc/chain.hpp"
#include "arc/seal.hpp"
#include "filter/pipeline/seal_outcome.hpp"
#include "filter/pipeline/sender_auth.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/auth_results.hpp"

namespace arcf::filter {

struct JobOptions {
    std::string authserv_id;
    std::vector<std::string> trusted_authserv_ids; ///< our ADMD's other authserv-ids
    arc::SealOptions seal;
    arc::VerifyOptions verify;
    std::string remote_ip; ///< for smtp.remote-ip (RFC 8617 §6)
    bool write_ar = true;  ///< add our Authentication-Results
    /// Remove Authentication-Results bearing our (or a trusted) authserv-id that came from
    /// outside the boundary (RFC 8601 §5): below the MTA's own first Received field.
    bool scrub_forged = true;
    std::size_t max_header_fields = 1000;
    std::size_t max_header_bytes = 1024 * 1024;
};

/// RFC 5322 §2.1.1: the longest line we add (octets, without CRLF). Values that would make a line
/// longer are left out by the write budgets (mail/auth_results.hpp WriteBudget).
constexpr std::size_t max_added_line = 998;

/// The most we add to one message, CRLFs counted: our Authentication-Results and the AAR (each at
/// most WriteBudget::max_results octets of results plus the arc= result and folding), the AMS
/// (h= at most arc::max_signed_fields names) and the ARC-Seal. Measured worst case within the
/// budgets: about 39 KB (tests/filter/pipeline/message_job_test.cpp).
constexpr std::size_t max_added_total = 64 * 1024;

struct JobResult {
    arc::ChainResult chain;
    bool tempfail = false; ///< defer the message: a key answer was temporary
    bool sealed = false;
    pipeline::SealOutcome seal = pipeline::SealOutcome::policy; ///< why sealed or not
    std::string seal_note;                ///< the same in words (seal_error: what failed)
    std::vector<std::string> added_lines; ///< physical header lines to put on top, no EOL
    std::size_t forged_removed = 0;       ///< forged Authentication-Results taken out
    /// What the write budgets left out of our Authentication-Results and AAR (logged as
    /// "omitted_values=" and "omitted_results=").
    mail::WriteStats written;
    /// For the statistics (filter/pipeline/stats.hpp): DMARC failed, the chain passed, and the
    /// newest sealer's AAR vouched for the author domain, so trusting that sealer would
    /// override the failure (RFC 8617 §7.2.1); and whether it was overridden (trusted).
    bool dmarc_vouched = false;
    bool dmarc_overridden = false;
};

class MessageJob {
  public:
    explicit MessageJob(JobOptions opts);

    /// One message line, un-stuffed, without EOL. Returns the key names to look up when this
    /// line completed the header block (empty otherwise).
    std::vector<mail::KeyName> add_line(std::string_view line) {
        // A body line: the path of nearly every line of a large message (a 10 MiB one has about
        // 138,000), inline down to the body hasher's buffer (issue 21); the empty result costs
        // nothing here. Any other line (headers, or a line after an empty end_of_data()) goes
        // the general way.
        if (headers_done_ && lines_ != 0) {
            ++lines_;
            body_hashes_->add_line(line); // once for the chain, DKIM and our seal
            if (auth_)
                auth_->add_body_line(line);
            return {};
        }
        return add_other_line(line);
    }
    /// The data ended (also completes a header block without body).
    std::vector<mail::KeyName> end_of_data();
    void provide_key(const mail::KeyName& name, const dns::TxtAnswer& answer);
    /// Verifies, writes the Authentication-Results (if configured) and seals with `key` (null:
    /// no seal). Keys never provided count as temporary failures. `auth` (concluded; null: no
    /// other results) gives our other results (spf, dkim, dmarc: filter/pipeline/sender_auth.hpp),
    /// written after arc= in both our Authentication-Results and our AAR (before the trusted
    /// upstream results there); it sees the chain's verdict and the newest AAR for the
    /// ARC-aware DMARC override (RFC 8617 §7.2.1).
    JobResult complete(const std::shared_ptr<const arc::SealKey>& key,
                       const SenderAuth* auth = nullptr);
    /// Verification is skipped for `reason` (the message is over max-message-bytes): no seal,
    /// the verdict says why; the header block is still read, bounded, so scrubbing still runs.
    void skip_verification(std::string reason) { skipped_ = std::move(reason); }
    /// One flag per input line of the header block: the line belongs to a removed field.
    const std::vector<bool>& removed_lines() const { return removed_lines_; }
    /// The client's address for smtp.remote-ip, when it is known only after the job started
    /// (Exim: X-ARC-Context is the last header field).
    void set_remote_ip(std::string ip) { opts_.remote_ip = std::move(ip); }
    /// Feeds the header block and the body lines to `auth` too (not owned; null to stop), and
    /// gives its DKIM verifier this message's public-key operation budget (one for ARC and
    /// DKIM together: mail/key_budget.hpp).
    /// Its DKIM verifier also shares this message's body hashes (mail/body_hashes.hpp), which
    /// the job feeds: the body is hashed once per distinct key for ARC, DKIM and our seal.
    void set_sender_auth(SenderAuth* auth) {
        auth_ = auth;
        if (auth != nullptr) {
            auth->share_key_budget(verifier_.key_budget());
            auth->share_body_hashes(body_hashes_);
        }
    }

    bool headers_done() const { return headers_done_; }
    /// The message's body hashes (ARC, DKIM and our seal: mail/body_hashes.hpp).
    const mail::SharedBodyHashes& body_hashes() const { return body_hashes_; }
    const std::vector<mail::HeaderField>& headers() const { return verifier_.headers(); }
    /// Whether input line `index` (0-based, as fed to add_line) belongs to a removed field.
    bool line_removed(std::size_t index) const {
        return index < removed_lines_.size() && removed_lines_[index];
    }
    /// The value of the From: field, for key choice; empty unless there is exactly one.
    std::string_view header_from() const;

  private:
    /// add_line() but for its inline case.
    std::vector<mail::KeyName> add_other_line(std::string_view line);
    /// add_line() for a line of the header block (or its empty line).
    std::vector<mail::KeyName> add_header_line(std::string_view line);
    std::vector<mail::KeyName> finish_headers();
    /// Whether `field` (below the boundary) is, or hides behind a bare CR, an
    /// Authentication-Results field bearing one of `ids`.
    static bool forged(const mail::HeaderField& field, const std::vector<std::string>& ids);

    JobOptions opts_;
    SenderAuth* auth_ = nullptr;
    mail::HeaderCollector collector_;
    /// The body hashes of ARC, DKIM and our seal (opts_.verify.body_hashes); fed by add_line.
    mail::SharedBodyHashes body_hashes_;
    arc::ChainVerifier verifier_;
    std::optional<std::size_t> seal_hash_; ///< the verifier's body hash for our seal
    std::vector<std::size_t> field_start_; ///< first input line of each header field
    std::vector<bool> removed_lines_;
    std::vector<bool> removed_fields_;
    std::size_t lines_ = 0;
    std::size_t header_lines_ = 0; ///< input lines of the header block (not its empty line)
    std::size_t boundary_ = 0;     ///< index of the first Received field
    bool headers_done_ = false;
    bool over_limit_ = false;
    std::string limits_reason_;    ///< which header limit was exceeded, by how much
    bool has_arc_headers_ = false; ///< an ARC field name was seen (limits or not)
    bool has_dkim_signature_ = false;
    bool pending_field_ = false;
    bool leading_fold_ = false; ///< the first line is a continuation line (leading WSP)
    std::string skipped_;       ///< why verification is skipped (empty: it is not)
    // The header block is bounded while it is collected (issue 15, class 6b): past
    // max_header_bytes or max_header_fields nothing more is stored, only counted.
    std::size_t header_bytes_seen_ = 0;
    std::size_t fields_seen_ = 0;
    std::size_t stored_lines_ = static_cast<std::size_t>(-1); ///< lines stored before the limit
    bool field_is_ar_ = false; ///< the field being read is an Authentication-Results
};

} // namespace arcf::filter
