// SPDX-License-Identifier: ISC
// One message's way through verification, sender authentication, policy and sealing.
#include "filter/pipeline/message.hpp"

#include "filter/pipeline/message_job.hpp"

#include <algorithm>
#include <utility>

namespace arcf::pipeline {

std::string_view to_string(SealOutcome s) {
    switch (s) {
    case SealOutcome::sealed:
        return "sealed";
    case SealOutcome::not_configured:
        return "not_configured";
    case SealOutcome::policy:
        return "policy";
    case SealOutcome::no_key_for_domain:
        return "no_key_for_domain";
    case SealOutcome::too_large:
        return "too_large";
    case SealOutcome::header_limits:
        return "header_limits";
    case SealOutcome::auth_temperror:
        return "auth_temperror";
    case SealOutcome::chain_temperror:
        return "chain_temperror";
    case SealOutcome::chain_fail:
        return "chain_fail";
    case SealOutcome::over_limit:
        return "over_limit";
    case SealOutcome::leading_fold:
        return "leading_fold";
    case SealOutcome::line_cut:
        return "line_cut";
    case SealOutcome::line_refused:
        return "line_refused";
    case SealOutcome::added_too_long:
        return "added_too_long";
    case SealOutcome::seal_error:
        return "seal_error";
    case SealOutcome::internal_error:
        return "internal_error";
    }
    return "unknown";
}

std::string_view to_string(Disposition d) {
    switch (d) {
    case Disposition::deliver:
        return "deliver";
    case Disposition::defer:
        return "defer";
    case Disposition::reject:
        return "reject";
    }
    return "unknown";
}

namespace {

filter::JobOptions job_options(const Settings& s, const Envelope& env, std::uint64_t now) {
    // Each member initialized once, from the settings: default-constructing the options and
    // assigning over them built (and threw away) the default signed-header list and copied
    // every list twice, for each message (issue 21).
    arc::VerifyOptions verify{};
    verify.keys = s.keys;
    verify.now = now;
    verify.oldest_pass = s.oldest_pass;
    verify.max_sets = s.max_arc_sets;
    return filter::JobOptions{.authserv_id = s.authserv_id,
                              .trusted_authserv_ids = s.trusted_authserv_ids,
                              .seal = s.seal,
                              .verify = std::move(verify),
                              .remote_ip = env.client_ip,
                              .write_ar = s.policy.mode != filter::Mode::seal,
                              .scrub_forged = s.scrub_forged,
                              .max_header_fields = s.max_header_fields,
                              .max_header_bytes = s.max_header_bytes};
}

} // namespace

Message::Message(std::shared_ptr<const Settings> settings, Envelope env, std::uint64_t now)
    : settings_(std::move(settings)), env_(std::move(env)), now_(now),
      job_(std::make_unique<filter::MessageJob>(job_options(*settings_, env_, now_))) {
    // Sender authentication starts with the message, from what the MTA reported so far
    // (client, HELO, MAIL FROM, AUTH): its lookups overlap with the transfer.
    auth_ = std::make_unique<filter::SenderAuth>(
        settings_->auth,
        filter::SenderContext{env_.client_ip, env_.helo, env_.mail_from, env_.auth_user,
                              settings_->authserv_id, static_cast<std::int64_t>(now_)});
    job_->set_sender_auth(auth_.get()); // DKIM and DMARC see the same lines as ARC
    pump_auth();
}

Message::~Message() {
    if (job_)
        job_->set_sender_auth(nullptr);
}

void Message::set_envelope(Envelope env) {
    if (job_->headers_done() || !skipped_.empty())
        return;
    // Nothing was asked yet that depends on the client (Exim: SPF waits for the context);
    // questions already open are forgotten (the driver never answered them).
    env_ = std::move(env);
    job_->set_remote_ip(env_.client_ip);
    job_->set_sender_auth(nullptr);
    for (auto it = open_.begin(); it != open_.end();) {
        it->second.auth.clear();
        if (it->second.keys.empty()) {
            by_question_.erase({it->second.type, it->second.name});
            std::erase_if(outbox_, [&](const Query& q) { return q.id == it->first; });
            it = open_.erase(it);
        } else {
            ++it;
        }
    }
    auth_ = std::make_unique<filter::SenderAuth>(
        settings_->auth,
        filter::SenderContext{env_.client_ip, env_.helo, env_.mail_from, env_.auth_user,
                              settings_->authserv_id, static_cast<std::int64_t>(now_)});
    job_->set_sender_auth(auth_.get());
    pump_auth();
}

bool Message::headers_done() const {
    return job_->headers_done();
}

void Message::add_line(std::string_view line) {
    if (!skipped_.empty()) {
        // Still read to the end of the header block (bounded by max-header-bytes): forged
        // Authentication-Results are taken out of every message we pass (RFC 8601 §5).
        if (!job_->headers_done())
            job_->add_line(line);
        return;
    }
    if (job_->headers_done()) {
        // A body line (RFC 5322 §2.1): no header block left to end, and keys are asked for
        // only at its end; the common case, so without the general path's calls (issue 21).
        if (auto names = job_->add_line(line); !names.empty())
            ask_keys(names);
        return;
    }
    ask_keys(job_->add_line(line));
    after_line(false);
}

void Message::end_of_data() {
    if (data_done_)
        return;
    data_done_ = true;
    if (!skipped_.empty()) {
        job_->end_of_data();
        return;
    }
    const bool had_headers = job_->headers_done();
    ask_keys(job_->end_of_data());
    if (auth_)
        auth_->end_of_data();
    after_line(had_headers);
}

void Message::after_line(bool had_headers) {
    // The header block just ended: DKIM keys and the DMARC record are wanted now.
    if (auth_ && !had_headers && job_->headers_done())
        pump_auth();
}

void Message::skip_verification(std::string reason) {
    if (!skipped_.empty())
        return;
    // Too large to hash within our limits: neither verified nor sealed (the keys it asked for
    // no longer matter), but scrubbed and with our verdict.
    skipped_ = std::move(reason);
    job_->skip_verification(skipped_);
    job_->set_sender_auth(nullptr);
    auth_.reset();
    open_.clear();
    by_question_.clear();
    outbox_.clear();
}

Message::Open& Message::ask(dns::RecordType type, std::string name) {
    auto key = std::make_pair(type, name);
    if (auto it = by_question_.find(key); it != by_question_.end())
        return open_.at(it->second);
    const QueryId id = next_id_++;
    by_question_.emplace(std::move(key), id);
    outbox_.push_back(Query{id, type, name});
    return open_.emplace(id, Open{type, std::move(name), {}, {}}).first->second;
}

void Message::ask_keys(const std::vector<mail::KeyName>& names) {
    for (const auto& n : names)
        ask(dns::RecordType::txt, n.dns_name()).keys.push_back(n);
}

void Message::pump_auth() {
    if (!auth_)
        return;
    for (auto& q : auth_->take_queries())
        ask(q.type, std::move(q.name)).auth.push_back(q.id);
}

std::vector<Query> Message::take_queries() {
    return std::exchange(outbox_, {});
}

void Message::on_answer(QueryId id, const dns::Answer& answer) {
    auto it = open_.find(id);
    if (it == open_.end() || finished_)
        return; // unknown, repeated, or from before the deadline or a skip
    Open q = std::move(it->second);
    open_.erase(it);
    by_question_.erase({q.type, q.name});
    for (const auto& k : q.keys)
        job_->provide_key(k, answer);
    if (auth_) {
        for (auto local : q.auth)
            auth_->on_answer(local, answer);
        pump_auth(); // an answer may lead to further lookups (RFC 7208 §5)
    }
}

void Message::on_deadline() {
    // Missing answers now count as temporary failures, never as a permanent fail. Questions
    // asked later (keys of a slow header block) are new and get a deadline of their own.
    deadline_hit_ = true;
    open_.clear();
    by_question_.clear();
    outbox_.clear();
    if (auth_)
        auth_->on_deadline();
}

bool Message::ready() const {
    if (!data_done_)
        return false;
    if (!skipped_.empty())
        return true;
    return open_.empty() && outbox_.empty() && (!auth_ || auth_->finished());
}

Outcome Message::finish(const Delivery& delivery) {
    finished_ = true;
    if (!data_done_)
        end_of_data();
    const Settings& s = *settings_;
    Outcome o;
    // The client, as every mode knows it ("-": none, e.g. the command line or a local socket).
    o.log.emplace_back("ip", env_.client_ip.empty() ? "-" : env_.client_ip);
    // From smtpd protocol 0.7 a line that does not fit a data-line cannot be handed back
    // intact, and cutting it would change the message: it is refused with a clear reply.
    const bool refused = delivery.refuse_long_lines && delivery.longest_line > delivery.line_room;
    if (auth_)
        auth_->conclude();
    // A method's temperror defers the message when so configured (RFC 7208 §8.6: 451), as
    // ARC's own temperror always does; otherwise it is written as a result.
    const bool auth_defer = !refused && auth_ && auth_->temperror() &&
                            s.auth.temperror == filter::TempErrorAction::defer;
    if (refused) {
        o.disposition = Disposition::reject;
        o.reply = s.line_too_long_reply;
        o.seal = SealOutcome::line_refused;
        o.log.emplace_back("arc", "skipped");
        o.log.emplace_back("reason",
                           "a line of " + std::to_string(delivery.longest_line) +
                               " bytes is longer than a data-line can carry back to the MTA (" +
                               std::to_string(delivery.line_room) + ")");
        o.log.emplace_back("sealed", "no");
        o.log.emplace_back("seal", std::string(to_string(o.seal)));
        add_log(o);
        return o;
    }

    std::shared_ptr<const arc::SealKey> key;
    std::optional<SealOutcome> why_not;
    filter::Envelope penv{env_.client_ip, env_.auth_user, env_.mail_from, env_.rcpts};
    if (!skipped_.empty()) {
        why_not = SealOutcome::too_large;
    } else if (auth_defer) {
        why_not = SealOutcome::auth_temperror;
    } else if (filter::wants_seal(s.policy, penv)) {
        key = filter::choose_key(s.policy, penv, job_->header_from());
        if (!key)
            why_not = SealOutcome::no_key_for_domain;
    } else {
        why_not = s.policy.mode == filter::Mode::verify ? SealOutcome::not_configured
                                                        : SealOutcome::policy;
    }
    if (key && delivery.longest_line > delivery.line_room) {
        // smtpd before 7.4 cuts every line to 1997 bytes itself; a seal over the uncut line
        // would never verify.
        key = nullptr;
        why_not = SealOutcome::line_cut;
    }
    filter::JobResult r = job_->complete(key, auth_defer ? nullptr : auth_.get());
    o.chain = std::move(r.chain);
    o.seal = why_not && !r.sealed ? *why_not : r.seal;
    if (o.seal == SealOutcome::sealed)
        o.seal_detail = r.seal_note.substr(r.seal_note.find(' ') + 1); // "i=N cv=X"
    else if (o.seal == SealOutcome::seal_error)
        o.seal_detail = r.seal_note;
    if (r.tempfail || auth_defer) {
        o.disposition = Disposition::defer;
        o.reply = s.tempfail_reply;
    } else {
        o.added_lines = std::move(r.added_lines);
        o.removed_lines = job_->removed_lines();
    }

    o.log.emplace_back("arc", std::string(arc::to_string(o.chain.status)));
    o.log.emplace_back("sets", std::to_string(o.chain.sets));
    if (o.chain.oldest_pass)
        o.log.emplace_back("oldest_pass", std::to_string(*o.chain.oldest_pass));
    o.log.emplace_back("reason", o.chain.reason);
    o.log.emplace_back("sealed", o.seal == SealOutcome::sealed ? "yes" : "no");
    o.log.emplace_back("seal", std::string(to_string(o.seal)));
    if (!o.seal_detail.empty())
        o.log.emplace_back("seal_detail", o.seal_detail);
    // The key that sealed (or failed to): which d=/s= receivers will look up (RFC 8617 §4.1.3).
    if (key && (o.seal == SealOutcome::sealed || o.seal == SealOutcome::seal_error)) {
        o.log.emplace_back("seal_d", key->domain);
        o.log.emplace_back("seal_s", key->selector);
    }
    o.facts.forged_removed = r.forged_removed;
    o.facts.dmarc_vouched = r.dmarc_vouched;
    o.facts.dmarc_overridden = r.dmarc_overridden;
    if (r.forged_removed > 0)
        o.log.emplace_back("forged_ar_removed", std::to_string(r.forged_removed));
    if (r.written.total() > 0) { // values too long for a header line (issue 15 class 2)
        o.log.emplace_back("omitted_values", std::to_string(r.written.values_omitted));
        o.log.emplace_back("omitted_results", std::to_string(r.written.results_omitted));
    }
    if (!o.chain.chain.empty()) {
        // The ARC-Seal of the highest instance (RFC 8617 §4.2.1): the newest sealer, whose
        // word the chain's verdict rests on, as it wrote d= and s=.
        const auto& newest = o.chain.chain.back();
        o.log.emplace_back("arc_d", newest.seal_domain);
        o.log.emplace_back("arc_s", newest.seal_selector);
        if (s.policy.trusted_sealers.count(newest.seal_domain) != 0)
            o.log.emplace_back("trusted_sealer", "yes");
    }
    if (!skipped_.empty())
        o.log.emplace_back("verify", "skipped");
    add_log(o);
    return o;
}

void Message::add_log(Outcome& o) const {
    if (auth_)
        o.dkim = auth_->dkim_results();
    if (auth_)
        for (auto& kv : auth_->log_fields())
            o.log.push_back(std::move(kv));
    if (deadline_hit_)
        o.log.emplace_back("deadline", "hit");
    // The same results as typed facts, for the statistics.
    Facts& f = o.facts;
    if (auth_) {
        if (const auto& v = auth_->spf_verdict())
            f.spf = std::string(spf::to_string(v->result));
        for (const auto& d : o.dkim)
            f.dkim.emplace_back(dkim::to_string(d.result));
        if (const auto& d = auth_->dmarc_outcome())
            f.dmarc = std::string(dmarc::to_string(d->result));
    }
    const bool temperror = f.spf == "temperror" || f.dmarc == "temperror" ||
                           std::find(f.dkim.begin(), f.dkim.end(), "temperror") != f.dkim.end();
    f.dns_temporary = deadline_hit_ || temperror || o.chain.status == arc::ChainStatus::temperror;
}

} // namespace arcf::pipeline
