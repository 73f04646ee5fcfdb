// SPDX-License-Identifier: ISC
// Sender authentication results of one message (RFC 8601 §2.7): SPF for the MAIL FROM identity
// (RFC 7208 §2.4), DKIM for every signature (RFC 6376 §6) and DMARC for the author domain
// (RFC 7489 §6.6), each through its sans-I/O core; reported as resinfos in that order.
#include "filter/pipeline/sender_auth.hpp"

#include "dmarc/from_domain.hpp"

#include <algorithm>
#include <utility>

#include "dkim/resinfo.hpp"

namespace arcf::filter {

namespace {

/// Header-safe text for a reason= value: ASCII only ("§" spelled out), no controls, bounded.
std::string ascii_text(std::string_view text) {
    constexpr std::size_t max_len = 200;
    std::string out;
    for (std::size_t i = 0; i < text.size() && out.size() < max_len; ++i) {
        auto u = static_cast<unsigned char>(text[i]);
        if (u == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA7) {
            out += "section ";
            ++i;
        } else if (u >= 0x20 && u < 0x7F) {
            out.push_back(text[i]);
        }
    }
    return out;
}

bool printable_ascii(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
}

/// The reverse-path as smtpd reports it is the text between < and >; some callers keep them.
std::string bare_path(std::string_view path) {
    if (path.size() >= 2 && path.front() == '<' && path.back() == '>')
        path = path.substr(1, path.size() - 2);
    return std::string(path);
}

} // namespace

std::string_view to_string(TempErrorAction a) {
    return a == TempErrorAction::defer ? "defer" : "record";
}

SenderAuth::SenderAuth(const SenderAuthOptions& opts, SenderContext ctx)
    : ctx_(std::move(ctx)), mail_from_(bare_path(ctx_.mail_from)) {
    start_spf(opts);
    want_dkim_ = opts.dkim;
    want_dmarc_ = opts.dmarc;
    trusted_sealers_ = opts.trusted_sealers;
    psl_ =
        opts.psl ? opts.psl : std::make_shared<const dmarc::OrgDomain>(dmarc::OrgDomain::empty());
    if (want_dkim_ || want_dmarc_) {
        dkim::DkimOptions d;
        d.keys = opts.keys;
        d.now = static_cast<std::uint64_t>(std::max<std::int64_t>(ctx_.now, 0));
        d.max_signatures = opts.max_signatures;
        // DMARC needs the DKIM verdicts even when dkim= results are not written (§4.2).
        dkim_.emplace(d);
    }
}

void SenderAuth::on_headers(const std::vector<mail::HeaderField>& fields) {
    if (headers_seen_)
        return;
    headers_seen_ = true;
    if (dkim_) {
        for (auto& name : dkim_->begin(fields)) {
            std::uint64_t id = next_id_++;
            routes_.emplace(id, Route{Method::dkim, id});
            outbox_.push_back(AuthQuery{id, dns::RecordType::txt, name.dns_name()});
            dkim_keys_.emplace(id, std::move(name));
        }
    }
    if (!want_dmarc_)
        return;
    // RFC 7489 §6.6.1: the author domain from the RFC5322.From field(s).
    std::vector<std::string_view> from;
    for (const auto& f : fields)
        if (f.is("from"))
            from.push_back(f.value());
    auto domain = dmarc::author_domain(from);
    if (!domain) {
        dmarc_error_ = "From: " + std::string(dmarc::to_string(domain.error().code)) +
                       (domain.error().detail.empty() ? "" : " (" + domain.error().detail + ")");
        return;
    }
    dmarc_.emplace(*domain, *psl_);
    auto name = dmarc_->first_query();
    if (!name.empty()) {
        std::uint64_t id = next_id_++;
        routes_.emplace(id, Route{Method::dmarc, id});
        outbox_.push_back(AuthQuery{id, dns::RecordType::txt, std::move(name)});
    }
}

void SenderAuth::on_headers_over_limits(std::string reason, bool dkim_signatures) {
    if (headers_seen_)
        return;
    headers_seen_ = true;
    limits_ = std::move(reason);
    limits_dkim_ = dkim_signatures;
    dkim_.reset(); // nothing to verify: no key lookups, no body hashing
}

void SenderAuth::add_body_line(std::string_view line) {
    if (dkim_ && dkim_->needs_body())
        dkim_->add_body_line(line);
}

void SenderAuth::end_of_data() {
    data_done_ = true;
}

void SenderAuth::start_spf(const SenderAuthOptions& opts) {
    if (!opts.spf) {
        spf_skipped_ = "disabled";
        return;
    }
    // Mail submitted locally (unix socket, "local") has no client address to check.
    if (ctx_.client_ip.empty() || ctx_.client_ip == "local") {
        spf_skipped_ = "no client address (local submission)";
        return;
    }
    // Our own users: they send from wherever they are; SPF speaks about the sending host only.
    if (!ctx_.auth_user.empty()) {
        spf_skipped_ = "authenticated session";
        return;
    }
    auto ip = spf::IpAddress::parse(ctx_.client_ip);
    if (!ip) {
        spf_skipped_ = "client address is not an IP address";
        return;
    }
    // RFC 7208 §2.4: MAIL FROM; with the null reverse-path, "postmaster@" the HELO identity.
    spf_helo_ = mail_from_.empty();
    if (spf_helo_ && ctx_.helo.empty()) {
        spf_skipped_ = "null reverse-path and no HELO name";
        return;
    }
    auto check = spf::mail_from_identity(*ip, mail_from_, ctx_.helo, ctx_.receiver, ctx_.now);
    spf_domain_ = check.domain;
    spf_.emplace(std::move(check), opts.spf_limits);
    pump_spf();
}

void SenderAuth::pump_spf() {
    while (spf_ && !spf_verdict_) {
        auto step = spf_->step();
        if (auto* q = std::get_if<spf::Query>(&step)) {
            std::uint64_t id = next_id_++;
            routes_.emplace(id, Route{Method::spf, q->id});
            outbox_.push_back(AuthQuery{id, q->type, q->name});
            continue;
        }
        if (auto* v = std::get_if<spf::Verdict>(&step)) {
            spf_verdict_ = *v;
            // Lookups still in flight no longer matter (the evaluator asked ahead).
            std::erase_if(routes_, [](const auto& r) { return r.second.method == Method::spf; });
            std::erase_if(outbox_, [&](const AuthQuery& q) { return routes_.count(q.id) == 0; });
        }
        break; // Waiting, or finished
    }
}

std::vector<AuthQuery> SenderAuth::take_queries() {
    return std::exchange(outbox_, {});
}

void SenderAuth::on_answer(std::uint64_t id, const dns::Answer& answer) {
    auto it = routes_.find(id);
    if (it == routes_.end())
        return;
    Route r = it->second;
    routes_.erase(it);
    switch (r.method) {
    case Method::spf:
        if (spf_ && !spf_verdict_) {
            spf_->answer(r.local, answer);
            pump_spf();
        }
        break;
    case Method::dkim:
        if (auto k = dkim_keys_.find(id); k != dkim_keys_.end() && dkim_ && !concluded_) {
            dkim_->provide_key(k->second, answer);
            dkim_keys_.erase(k);
        }
        break;
    case Method::dmarc:
        if (dmarc_ && !dmarc_->discovered() && !concluded_) {
            // §6.6.3: the organizational domain's record when the author domain has none.
            auto next = dmarc_->provide(answer);
            if (!next.empty()) {
                std::uint64_t nid = next_id_++;
                routes_.emplace(nid, Route{Method::dmarc, nid});
                outbox_.push_back(AuthQuery{nid, dns::RecordType::txt, std::move(next)});
            }
        }
        break;
    }
}

void SenderAuth::on_deadline() {
    if (spf_ && !spf_verdict_) {
        // RFC 7208 §4.6.4 leaves the elapsed-time limit to us; what did not arrive is temporary.
        spf_verdict_ =
            spf::Verdict{spf::Result::temperror, {}, {}, "DNS answers missing at the deadline"};
        std::erase_if(routes_, [](const auto& r) { return r.second.method == Method::spf; });
    }
    // DKIM keys and DMARC records not in by now count as temporary failures (the verifier and
    // the evaluator treat what was never provided that way).
    deadline_ = true;
    routes_.clear();
    dkim_keys_.clear();
    outbox_.clear();
}

bool SenderAuth::finished() const {
    if (spf_ && !spf_verdict_)
        return false;
    if (deadline_ || concluded_ || !dkim_) // DKIM and DMARC (both need the data) are off
        return true;
    if (!data_done_)
        return false;
    return dkim_keys_.empty() && (!dmarc_ || dmarc_->discovered());
}

void SenderAuth::conclude() {
    if (concluded_)
        return;
    concluded_ = true;
    routes_.clear();
    outbox_.clear();
    if (dkim_ && headers_seen_)
        dkim_results_ = dkim_->finish();
    if (!want_dmarc_ || !headers_seen_)
        return;
    if (!limits_.empty()) {
        dmarc::Outcome o;
        o.result = dmarc::Result::permerror;
        o.reason = "not evaluated: " + limits_;
        dmarc_outcome_ = std::move(o);
        return;
    }
    if (!dmarc_) {
        dmarc::Outcome o;
        o.result = dmarc::Result::permerror;
        o.reason = dmarc_error_;
        dmarc_outcome_ = std::move(o);
        return;
    }
    std::vector<dmarc::DkimInput> dk;
    for (const auto& r : dkim_results_)
        dk.push_back(dmarc::DkimInput{r.domain, r.result == dkim::DkimResult::pass,
                                      r.result == dkim::DkimResult::temperror});
    // §4.1: SPF's domain is the MAIL FROM domain, or the HELO domain for a null reverse-path.
    dmarc::SpfInput sp{"none", {}};
    if (spf_verdict_)
        sp = dmarc::SpfInput{std::string(spf::to_string(spf_verdict_->result)), spf_domain_};
    dmarc_outcome_ = dmarc_->finish(dk, sp);
}

bool SenderAuth::temperror() const {
    if (spf_verdict_ && spf_verdict_->result == spf::Result::temperror)
        return true;
    if (dmarc_outcome_ && dmarc_outcome_->result == dmarc::Result::temperror)
        return true;
    // A DKIM key we could not fetch matters when no other signature vouches for the message.
    bool dkim_temp = false, dkim_pass = false;
    for (const auto& r : dkim_results_) {
        dkim_temp = dkim_temp || r.result == dkim::DkimResult::temperror;
        dkim_pass = dkim_pass || r.result == dkim::DkimResult::pass;
    }
    return dkim_temp && !dkim_pass;
}

std::vector<mail::ResInfo> SenderAuth::results(const arc::ChainResult* chain,
                                               const dmarc::SealerResults* newest_aar) const {
    std::vector<mail::ResInfo> out;
    if (spf_verdict_) {
        // RFC 8601 §2.7.2: the identity checked, as smtp.mailfrom or smtp.helo.
        mail::ResInfo r;
        r.method = "spf";
        r.result = std::string(spf::to_string(spf_verdict_->result));
        if ((spf_verdict_->result == spf::Result::permerror ||
             spf_verdict_->result == spf::Result::temperror) &&
            !spf_verdict_->reason.empty())
            r.reason = ascii_text(spf_verdict_->reason);
        // An identity we cannot write as ASCII (SMTPUTF8) is reported by its domain, if that
        // is ASCII, else left out: a header value is no place for a mangled address.
        const std::string& who = spf_helo_ ? ctx_.helo : mail_from_;
        const std::string& shown = printable_ascii(who) ? who : spf_domain_;
        if (printable_ascii(shown))
            r.properties.push_back(
                mail::AuthProperty{"smtp", spf_helo_ ? "helo" : "mailfrom", shown});
        r.raw = mail::format_resinfo(r);
        out.push_back(std::move(r));
    }
    if (want_dkim_ && headers_seen_ && !limits_.empty()) {
        // RFC 8601 §2.7.1 "policy": signed, but not acceptable to the ADMD (not examined).
        mail::ResInfo r = dkim::dkim_none_resinfo();
        if (limits_dkim_) {
            r.result = "policy";
            r.reason = "not checked: " + limits_;
        }
        r.raw = mail::format_resinfo(r);
        out.push_back(std::move(r));
    } else if (want_dkim_ && headers_seen_) {
        for (auto& r : dkim::dkim_resinfos(dkim_results_)) // dkim=none without signatures
            out.push_back(std::move(r));
    }
    if (dmarc_outcome_) {
        std::optional<dmarc::Override> o;
        if (chain && newest_aar)
            o = dmarc::arc_override(*dmarc_outcome_, *chain, trusted_sealers_, *newest_aar, *psl_);
        auto r = dmarc::dmarc_resinfo(*dmarc_outcome_, o);
        r.raw = mail::format_resinfo(r);
        out.push_back(std::move(r));
    }
    return out;
}

bool SenderAuth::would_override(const arc::ChainResult& chain,
                                const dmarc::SealerResults& newest_aar,
                                const std::optional<std::vector<std::string>>& trusted) const {
    if (!dmarc_outcome_ || !psl_)
        return false;
    return dmarc::arc_override(*dmarc_outcome_, chain, trusted ? *trusted : trusted_sealers_,
                               newest_aar, *psl_)
        .has_value();
}

std::vector<std::pair<std::string, std::string>> SenderAuth::log_fields() const {
    std::vector<std::pair<std::string, std::string>> f;
    if (concluded_ && !limits_.empty() && want_dkim_)
        f.emplace_back("dkim", limits_dkim_ ? "policy" : "none"); // not checked: header limits
    if (concluded_ && dkim_ && headers_seen_) {
        std::string v;
        for (const auto& r : dkim_results_)
            v += (v.empty() ? "" : ",") + std::string(dkim::to_string(r.result)) + ":" + r.domain;
        f.emplace_back("dkim", v.empty() ? "none" : v);
    }
    if (dmarc_outcome_) {
        f.emplace_back("dmarc", std::string(dmarc::to_string(dmarc_outcome_->result)));
        if (!dmarc_outcome_->header_from.empty())
            f.emplace_back("header_from", dmarc_outcome_->header_from);
        if (dmarc_outcome_->result == dmarc::Result::fail)
            f.emplace_back("dmarc_policy", std::string(dmarc::to_string(dmarc_outcome_->applied)));
    }
    if (!spf_skipped_.empty()) {
        f.emplace_back("spf", "skipped");
        f.emplace_back("spf_reason", spf_skipped_);
        return f;
    }
    f.emplace_back("spf", spf_verdict_ ? std::string(spf::to_string(spf_verdict_->result))
                                       : std::string("pending"));
    f.emplace_back("spf_identity", spf_helo_ ? "helo" : "mailfrom");
    f.emplace_back("spf_domain", spf_domain_);
    if (spf_verdict_ && !spf_verdict_->reason.empty())
        f.emplace_back("spf_reason", ascii_text(spf_verdict_->reason));
    return f;
}

} // namespace arcf::filter
