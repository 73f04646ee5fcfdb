// SPDX-License-Identifier: ISC
// DMARC policy discovery (RFC 7489 §6.6.3) and evaluation (§4.2, §6.6.2, §6.6.4).
#include "dmarc/evaluator.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace arcf::dmarc {

namespace {

// §6.3 pct: "the next less-strict policy": reject → quarantine → none.
Policy weaker(Policy p) {
    return p == Policy::reject ? Policy::quarantine : Policy::none;
}

std::string query_name(const std::string& domain) {
    return "_dmarc." + domain;
}

} // namespace

Evaluator::Evaluator(std::string from_domain, const OrgDomain& psl)
    : psl_(psl), from_(normalize_domain(from_domain)), org_(psl.organizational(from_)) {
    if (from_.empty()) {
        stage_ = Stage::done;
        note_ = "no RFC5322.From domain";
    }
}

std::string Evaluator::first_query() const {
    return from_.empty() ? std::string() : query_name(from_);
}

std::string Evaluator::provide(const dns::TxtAnswer& answer) {
    if (stage_ == Stage::done)
        return {};
    const std::string& asked = stage_ == Stage::from ? from_ : org_;
    // §6.6.3 leaves DNS errors to the receiver; a transient one gives temperror (never a
    // silent "none" that an attacker could provoke by making our resolver fail).
    if (answer.status == dns::Status::temporary) {
        temporary_ = true;
        note_ = "DNS lookup of " + query_name(asked) + " failed" +
                (answer.detail.empty() ? std::string() : ": " + answer.detail);
        stage_ = Stage::done;
        return {};
    }
    // Steps 2 and 4: records that do not begin with v=DMARC1 are discarded.
    std::vector<std::string_view> dmarc;
    if (answer.status == dns::Status::ok)
        for (const auto& r : answer.records)
            if (is_dmarc_record(r))
                dmarc.push_back(r);
    if (dmarc.empty()) {
        // Step 3: fall back to the Organizational Domain, if it is a different name.
        if (stage_ == Stage::from && org_ != from_) {
            stage_ = Stage::org;
            return query_name(org_);
        }
        note_ = stage_ == Stage::from
                    ? "no DMARC record at " + query_name(from_)
                    : "no DMARC record at " + query_name(from_) + " or " + query_name(org_);
        stage_ = Stage::done;
        return {};
    }
    stage_ = Stage::done;
    // Step 5: several records mean no policy at all.
    if (dmarc.size() > 1) {
        note_ = std::to_string(dmarc.size()) + " DMARC records at " + query_name(asked);
        return {};
    }
    // Step 6: an unusable p= without a valid rua= means no DMARC processing.
    auto rec = parse_record(dmarc.front());
    if (!rec) {
        note_ = "DMARC record at " + query_name(asked) + " unusable: " + rec.error().detail;
        return {};
    }
    record_ = std::move(*rec);
    policy_domain_ = asked;
    return {};
}

Outcome Evaluator::base() const {
    Outcome o;
    o.header_from = from_;
    o.policy_domain = policy_domain_;
    if (record_) {
        o.p = record_->p;
        o.sp = record_->sp;
        o.pct = record_->pct;
        o.subdomain = policy_domain_ != from_;
        // §6.3 sp: "Requested Mail Receiver policy for all subdomains"; it only matters when
        // the record was found at the Organizational Domain above the From domain (§6.6.3).
        o.applied = o.subdomain && o.sp ? *o.sp : o.p;
    }
    return o;
}

Outcome
Evaluator::finish(const std::vector<DkimInput>& dkim, const SpfInput& spf, unsigned sample) const {
    Outcome o = base();
    if (from_.empty()) {
        o.result = Result::permerror;
        o.reason = note_;
        return o;
    }
    if (stage_ != Stage::done) {
        o.result = Result::temperror;
        o.reason = "DMARC policy discovery did not finish";
        return o;
    }
    if (temporary_) {
        o.result = Result::temperror;
        o.reason = note_;
        return o;
    }
    if (!record_) {
        // §6.6.3: "If the remaining set contains multiple records or no records, policy
        // discovery terminates and DMARC processing is not applied to this message."
        o.result = Result::none;
        o.reason = note_;
        return o;
    }
    // §4.2: pass when DKIM or SPF (or both) pass with an aligned identifier. §3.1.1 aligns
    // each signature's d= with adkim, §3.1.2 the SPF-authenticated domain with aspf.
    const DkimInput* dkim_pass = nullptr;
    const DkimInput* dkim_temp = nullptr;
    for (const auto& d : dkim) {
        if (!aligned(d.domain, from_, record_->adkim, psl_))
            continue;
        if (d.pass && !dkim_pass)
            dkim_pass = &d;
        else if (!d.pass && d.temperror && !dkim_temp)
            dkim_temp = &d;
    }
    std::string spf_result = text::to_lower(spf.result);
    bool spf_domain_aligned = aligned(spf.domain, from_, record_->aspf, psl_);
    o.dkim_aligned = dkim_pass != nullptr;
    o.spf_aligned = spf_result == "pass" && spf_domain_aligned;
    if (o.dkim_aligned || o.spf_aligned) {
        o.result = Result::pass;
        o.reason = o.dkim_aligned ? "aligned DKIM pass for " + normalize_domain(dkim_pass->domain)
                                  : "aligned SPF pass for " + normalize_domain(spf.domain);
        return o;
    }
    // No aligned pass: a temporary error that could still have produced one leaves the result
    // open (RFC 7489 §11.2 temperror: "A later attempt might produce a final result").
    if (dkim_temp || (spf_result == "temperror" && spf_domain_aligned)) {
        o.result = Result::temperror;
        o.reason = dkim_temp ? "no aligned pass; DKIM for " + normalize_domain(dkim_temp->domain) +
                                   " met a temporary error"
                             : "no aligned pass; SPF for " + normalize_domain(spf.domain) +
                                   " met a temporary error";
        return o;
    }
    o.result = Result::fail;
    o.reason = "no aligned DKIM or SPF pass";
    // §6.6.4 and §6.3 pct: outside the sample, the next less-strict policy applies.
    bool sampled = sample < static_cast<unsigned>(std::clamp(o.pct, 0, 100));
    o.disposition = sampled ? o.applied : weaker(o.applied);
    if (!sampled)
        o.reason += " (outside the pct=" + std::to_string(o.pct) + " sample)";
    return o;
}

} // namespace arcf::dmarc
