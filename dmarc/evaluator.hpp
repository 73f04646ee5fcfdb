// SPDX-License-Identifier: ISC
// DMARC policy discovery and evaluation (RFC 7489 §6.6) as a sans-I/O state machine: it names
// the TXT queries, is fed their answers, and turns the DKIM and SPF results into an Outcome.
#pragma once

#include "dmarc/org_domain.hpp"
#include "dmarc/record.hpp"
#include "dmarc/result.hpp"
#include "dns/answer.hpp"

#include <optional>
#include <string>
#include <vector>

namespace arcf::dmarc {

/// One DKIM signature's verdict (RFC 6376 §6.1): its d= and whether it passed or met a
/// temporary error (a failed or unusable signature is neither).
struct DkimInput {
    std::string domain;
    bool pass = false;
    bool temperror = false;
};

/// The SPF verdict (RFC 7208 §2.6) in its lower-case name ("pass", "fail", "softfail",
/// "neutral", "none", "temperror", "permerror"), and the domain it was checked for: the
/// MAIL FROM domain, or the HELO domain when MAIL FROM was null (RFC 7489 §4.1).
struct SpfInput {
    std::string result;
    std::string domain;
};

struct Outcome {
    Result result = Result::none;
    std::string policy_domain; ///< where the record was found; empty when none was
    Policy p = Policy::none;
    std::optional<Policy> sp;
    /// §6.3: sp= (when present) for a From domain below the Organizational Domain whose policy
    /// was found there, otherwise p=.
    Policy applied = Policy::none;
    /// What the policy asks for this message: `applied` on fail, weakened by one step when
    /// the message falls outside the pct= sample (§6.3 "pct", §6.6.4); none otherwise.
    Policy disposition = Policy::none;
    bool subdomain = false; ///< the policy came from the Organizational Domain (§6.6.3 step 3)
    std::string header_from;
    bool dkim_aligned = false; ///< an aligned DKIM pass (§3.1.1, §4.2)
    bool spf_aligned = false;  ///< an aligned SPF pass (§3.1.2, §4.2)
    std::string reason;        ///< one sentence, for logs and the A-R reason
    int pct = 100;
};

/// Evaluates DMARC for one author domain. Drive it like this:
///
///     Evaluator ev(domain, psl);
///     for (auto name = ev.first_query(); !name.empty(); name = ev.provide(lookup_txt(name))) {}
///     Outcome o = ev.finish(dkim_results, spf_result);
///
/// At most two TXT lookups: _dmarc.<From domain>, then _dmarc.<Organizational Domain> when the
/// first has no DMARC record (§6.6.3).
class Evaluator {
  public:
    /// `from_domain` as author_domain() returns it; an empty one makes the outcome permerror
    /// without any query.
    Evaluator(std::string from_domain, const OrgDomain& psl);

    /// "_dmarc.<from-domain>", or empty when there is nothing to ask.
    std::string first_query() const;

    /// The answer to the last query named. Returns the next name to query (the Organizational
    /// Domain fallback of §6.6.3 step 3), or empty when discovery is over. Calls after that
    /// are ignored.
    std::string provide(const dns::TxtAnswer& answer);

    /// Discovery is over (the next provide() would be ignored).
    bool discovered() const { return stage_ == Stage::done; }

    /// The verdict (§4.2, §6.6.2). `sample` is the caller's uniform draw in 0..99 for pct=
    /// (§6.6.4): the message is in the sample when sample < pct, so the default 0 applies every
    /// policy with pct > 0. Discovery not finished counts as a temporary DNS failure.
    Outcome
    finish(const std::vector<DkimInput>& dkim, const SpfInput& spf, unsigned sample = 0) const;

    const std::string& from_domain() const { return from_; }
    const std::string& org_domain() const { return org_; }
    /// The policy record discovery settled on, if any.
    const std::optional<Record>& record() const { return record_; }

  private:
    enum class Stage { from, org, done };

    Outcome base() const;

    OrgDomain psl_;
    std::string from_, org_;
    Stage stage_ = Stage::from;
    std::optional<Record> record_;
    std::string policy_domain_;
    bool temporary_ = false;
    std::string note_; ///< why discovery found no usable record, or the DNS error
};

} // namespace arcf::dmarc
