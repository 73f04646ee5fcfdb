// SPDX-License-Identifier: ISC
// Sender authentication of one message: the place where the results of SPF (RFC 7208), and later
// DKIM (RFC 6376) and DMARC (RFC 7489), are collected for our Authentication-Results and AAR
// (RFC 8601 §2.7, RFC 8617 §5.1). Pure: it asks for DNS lookups and is fed the answers.
#pragma once

#include "arc/chain.hpp"
#include "dmarc/arc_override.hpp"
#include "dmarc/evaluator.hpp"
#include "dmarc/org_domain.hpp"
#include "dns/answer.hpp"
#include "spf/evaluator.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dkim/verifier.hpp"
#include "mail/auth_results.hpp"

namespace arcf::filter {

/// What a temporary failure of a method (e.g. spf=temperror) does to the message.
enum class TempErrorAction {
    defer,  ///< the commit gets the tempfail reply (RFC 7208 §8.6 allows 451), nothing is added
    record, ///< the result is written as temperror and the message accepted
};

std::string_view to_string(TempErrorAction a);

struct SenderAuthOptions {
    bool spf = true;   ///< RFC 7208 check_host() for MAIL FROM (the HELO identity without one)
    bool dkim = true;  ///< RFC 6376 §6 verification of every DKIM-Signature
    bool dmarc = true; ///< RFC 7489 §6.6 policy discovery and identifier alignment
    TempErrorAction temperror = TempErrorAction::defer;
    spf::Limits spf_limits;          ///< RFC 7208 §4.6.4
    mail::KeyPolicy keys;            ///< key sizes and algorithms (RFC 8301, RFC 8463)
    std::size_t max_signatures = 10; ///< DKIM signatures checked per message (the rest: policy)
    /// ARC sealers whose recorded results may override a DMARC failure (RFC 8617 §7.2.1).
    std::vector<std::string> trusted_sealers;
    /// The Public Suffix List (RFC 7489 §3.2); null: only the default rule (last two labels).
    std::shared_ptr<const dmarc::OrgDomain> psl;
};

/// What the SMTP session told us about the sender when the message started.
struct SenderContext {
    std::string client_ip; ///< "" (unix socket) or "local": local submission, no SPF
    std::string helo;
    std::string mail_from; ///< the reverse-path, with or without <>; "" or "<>" is the null one
    std::string auth_user; ///< non-empty: SMTP AUTH succeeded, no SPF
    std::string receiver;  ///< our authserv-id, for %{r} (RFC 7208 §7.3)
    std::int64_t now = 0;  ///< UNIX time, for %{t}
};

/// One DNS lookup a method needs. Ids are unique within one SenderAuth.
struct AuthQuery {
    std::uint64_t id = 0;
    dns::RecordType type = dns::RecordType::txt;
    std::string name;
};

/// The sender authentication of one message. Create it when the message starts, send what
/// take_queries() returns, feed every answer to on_answer() (and call take_queries() again:
/// answers lead to further lookups), call on_deadline() when the message's DNS time is up.
/// Once finished(), results() are the resinfos to write, in a fixed order: spf, then dkim, then
/// dmarc; a method that did not run (disabled, or skipped for this session) has none.
class SenderAuth {
  public:
    SenderAuth(const SenderAuthOptions& opts, SenderContext ctx);

    /// The header block as received (message order): DKIM key lookups and DMARC policy
    /// discovery start here. Call once; without it DKIM and DMARC report nothing.
    void on_headers(const std::vector<mail::HeaderField>& fields);
    /// Instead of on_headers(): the header block is over the configured limits and is not
    /// examined (issue 15 class 7). DKIM and DMARC then say so rather than anything false
    /// ("no From field"): dkim=policy with `reason` when `dkim_signatures` (else dkim=none, which
    /// is true), dmarc=permerror with `reason` (RFC 7489 §11.2: retrying cannot help). SPF
    /// does not read the header and runs as usual.
    void on_headers_over_limits(std::string reason, bool dkim_signatures);
    /// One body line without its line ending (DKIM body hashes).
    void add_body_line(std::string_view line);
    /// The message data is complete (no more body lines).
    void end_of_data();

    /// The lookups to start now (each returned once).
    std::vector<AuthQuery> take_queries();
    /// An answer to a query take_queries() returned; unknown or repeated ids are ignored.
    void on_answer(std::uint64_t id, const dns::Answer& answer);
    /// The deadline passed: every method still waiting ends in temperror (a missing answer is
    /// temporary, never a permanent verdict).
    void on_deadline();

    /// Every method has its answers (or the deadline passed) and the data is complete.
    bool finished() const;
    /// The final results of SPF, DKIM and DMARC are fixed (call once finished()).
    void conclude();
    /// A temporary failure decides the outcome (RFC 7208 §8.6, RFC 6376 §6.1.2, RFC 7489
    /// §6.6.3): SPF or DMARC temperror, or a DKIM temperror when no signature passed.
    bool temperror() const;
    /// The resinfos for our Authentication-Results: spf, dkim (one per signature), dmarc.
    /// `chain` and the newest set's AAR (its results and client address) decide the ARC-aware
    /// DMARC override (RFC 8617 §7.2.1); without them none is considered.
    std::vector<mail::ResInfo> results(const arc::ChainResult* chain = nullptr,
                                       const dmarc::SealerResults* newest_aar = nullptr) const;
    /// Whether the ARC-aware DMARC override (RFC 8617 §7.2.1) holds for this chain and AAR when
    /// `trusted` are the trusted sealers (nullopt: the configured ones); for the statistics.
    bool would_override(const arc::ChainResult& chain,
                        const dmarc::SealerResults& newest_aar,
                        const std::optional<std::vector<std::string>>& trusted) const;
    /// The DMARC outcome, once concluded (none: DMARC did not run).
    const std::optional<dmarc::Outcome>& dmarc_outcome() const { return dmarc_outcome_; }
    /// key=value pairs for the log line ("spf", "spf_identity", "spf_domain", "spf_reason").
    std::vector<std::pair<std::string, std::string>> log_fields() const;

    /// DKIM draws from `budget` (the message's public-key operation budget, shared with its
    /// ARC verifier: mail/key_budget.hpp) instead of a budget of its own.
    void share_key_budget(mail::SharedKeyBudget budget) {
        if (dkim_)
            dkim_->share_budget(std::move(budget));
    }

    /// DKIM uses `hashes` (the message's body hashes, fed by their owner: mail/body_hashes.hpp)
    /// instead of hashing the body itself; only before on_headers(). False when not taken.
    bool share_body_hashes(mail::SharedBodyHashes hashes) {
        return dkim_ && dkim_->share_body_hashes(std::move(hashes));
    }
    /// Every DKIM-Signature's result (RFC 6376 §6.1), once concluded.
    const std::vector<dkim::DkimSignatureResult>& dkim_results() const { return dkim_results_; }

    /// The SPF verdict, when SPF ran and finished.
    const std::optional<spf::Verdict>& spf_verdict() const { return spf_verdict_; }

  private:
    enum class Method { spf, dkim, dmarc };
    struct Route {
        Method method;
        std::uint64_t local; ///< the method's own query id
    };

    void start_spf(const SenderAuthOptions& opts);
    void pump_spf();

    SenderContext ctx_;
    std::string mail_from_; ///< without <>
    // SPF (RFC 7208): skipped with a reason, or evaluated for one identity (§2.3, §2.4).
    std::string spf_skipped_;
    bool spf_helo_ = false; ///< the HELO identity (null reverse-path)
    std::string spf_domain_;
    std::optional<spf::Evaluator> spf_;
    std::optional<spf::Verdict> spf_verdict_;

    // DKIM (RFC 6376): one verifier for every signature; key queries by our local id.
    std::optional<dkim::DkimVerifier> dkim_;
    std::map<std::uint64_t, mail::KeyName> dkim_keys_;
    std::vector<dkim::DkimSignatureResult> dkim_results_;
    // DMARC (RFC 7489): the author domain's discovery, or why there is none.
    std::shared_ptr<const dmarc::OrgDomain> psl_;
    std::optional<dmarc::Evaluator> dmarc_;
    std::string dmarc_error_; ///< From unusable (RFC 7489 §6.6.1): permerror with this reason
    std::optional<dmarc::Outcome> dmarc_outcome_;
    std::vector<std::string> trusted_sealers_;
    std::string limits_;       ///< non-empty: the header block was over the limits
    bool limits_dkim_ = false; ///< ... and had a DKIM-Signature
    bool want_dkim_ = false, want_dmarc_ = false;
    bool headers_seen_ = false, data_done_ = false, deadline_ = false, concluded_ = false;

    std::vector<AuthQuery> outbox_;
    std::map<std::uint64_t, Route> routes_;
    std::uint64_t next_id_ = 1;
};

} // namespace arcf::filter
