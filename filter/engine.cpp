// SPDX-License-Identifier: ISC
// OpenSMTPD filter engine (shared notes, opensmtpd-filter-protocol.md §2–§6, §11).
#include "filter/engine.hpp"

#include "filter/log.hpp"
#include "filter/protocol.hpp"

#include <algorithm>
#include <exception>
#include <optional>

namespace arcf::filter {

struct Engine::Message {
    MessageId id = 0;
    std::shared_ptr<const EngineOptions> opts; ///< the configuration it started under
    std::string msgid;                         ///< smtpd's transaction id from tx-begin, when known
    std::string token;                         ///< the data-line token, echoed back
    Spool spool;
    std::unique_ptr<MessageJob> job;
    std::unique_ptr<SenderAuth> auth; ///< null once the message is too large to matter
    std::size_t pending = 0;          ///< ARC key lookups outstanding
    bool deadline_armed = false;
    bool data_done = false;
    bool completed = false;
    bool tempfail = false;
    bool deadline_hit = false;
    bool too_large = false;
    std::string error; ///< internal error: the message is deferred, never lost
    std::optional<std::string> commit_token; ///< a commit that came before we were done
    explicit Message(std::size_t limit) : spool(limit) {}
};

struct Engine::Session {
    std::string id;
    std::string version = "0.6";
    std::string client_ip;
    std::string helo;
    std::string mail_from;
    std::string auth_user;
    std::string msgid;
    std::vector<std::string> rcpts;
    std::unique_ptr<Message> msg;
};

namespace {

// Responses put SESSION before TOKEN from protocol 0.5 on; 0.4 had TOKEN first. Appended to
// `out` in place: a message's replay is one such line per message line.
void append_data(std::string& out,
                 const std::string& version,
                 std::string_view s,
                 std::string_view t,
                 std::string_view line) {
    if (version_before(version, "0.5"))
        append_dataline(out, t, s, line);
    else
        append_dataline(out, s, t, line);
}
std::string proceed(const std::string& version, std::string_view s, std::string_view t) {
    return version_before(version, "0.5") ? format_proceed(t, s) : format_proceed(s, t);
}
std::string
reject(const std::string& version, std::string_view s, std::string_view t, std::string_view reply) {
    return version_before(version, "0.5") ? format_reject(t, s, reply) : format_reject(s, t, reply);
}

} // namespace

namespace {
// A query started in this same batch is withdrawn rather than cancelled: the shell never sees
// it (a cancel would reach the shell before the query it cancels).
void cancel_query(Actions& out, QueryId id) {
    auto it = std::find_if(out.queries.begin(), out.queries.end(),
                           [&](const Actions::Query& q) { return q.id == id; });
    if (it != out.queries.end())
        out.queries.erase(it);
    else
        out.cancels.push_back(id);
}

std::shared_ptr<const EngineOptions> checked(EngineOptions o) {
    if (!is_valid_reject_reply(o.tempfail_reply))
        o.tempfail_reply =
            "451 4.7.0 Message authentication temporarily failed (DNS), try again later";
    return std::make_shared<const EngineOptions>(std::move(o));
}
} // namespace

Engine::Engine(EngineOptions opts)
    : opts_(checked(std::move(opts))), authserv_id_(opts_->authserv_id) {}

Engine::~Engine() = default;

void Engine::reconfigure(EngineOptions opts) {
    opts_ = checked(std::move(opts));
    authserv_id_ = !opts_->authserv_id.empty() ? opts_->authserv_id
                   : !admd_.empty()            ? admd_
                                               : std::string("localhost");
}

Engine::Session& Engine::session(std::string_view id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
        // Created lazily on any line: data-lines can overtake the reports of the same session.
        it = sessions_.emplace(std::string(id), Session{}).first;
        it->second.id = std::string(id);
    }
    return it->second;
}

void Engine::on_line(std::string_view line, std::uint64_t now, Actions& out) {
    auto l = parse_line(line);
    if (!l) {
        std::string shown(line.substr(0, 120));
        out.logs.push_back("event=protocol-error reason=" + quote_log("unparseable line skipped") +
                           " line=" + quote_log(shown));
        return;
    }
    switch (l->type) {
    case LineType::config:
        on_config(l->key, l->value, out);
        break;
    case LineType::report:
        on_report(*l, out);
        break;
    case LineType::filter:
        on_filter(*l, now, out);
        break;
    }
}

void Engine::on_config(std::string_view key, std::string_view value, Actions& out) {
    if (key == "admd") {
        admd_ = std::string(value);
        if (opts_->authserv_id.empty())
            authserv_id_ = admd_;
    } else if (key == "ready") {
        if (authserv_id_.empty())
            authserv_id_ = "localhost";
        // Only events that exist in every 0.6/0.7 smtpd: an unknown name is fatal to smtpd.
        for (const char* ev : {"link-connect", "link-disconnect", "link-identify", "link-auth",
                               "tx-begin", "tx-mail", "tx-rcpt", "tx-reset", "tx-rollback"})
            out.output += std::string("register|report|smtp-in|") + ev + "\n";
        out.output += "register|filter|smtp-in|data-line\n";
        out.output += "register|filter|smtp-in|commit\n";
        out.output += "register|ready\n";
        ready_ = true;
    }
    // Other keys (smtpd-version, protocol, subsystem, smtp-session-timeout, ...) are ignored.
}

void Engine::on_report(const ProtocolLine& l, Actions& out) {
    if (l.subsystem != "smtp-in")
        return;
    if (l.event == "link-disconnect") {
        auto it = sessions_.find(l.session);
        if (it != sessions_.end()) {
            drop_message(it->second, out);
            sessions_.erase(it);
        }
        return;
    }
    Session& s = session(l.session);
    s.version.assign(l.version);
    const bool v06 = !version_before(l.version, "0.6");
    if (l.event == "link-connect") {
        if (auto f = split_params(l.params, 4))
            s.client_ip = address_of((*f)[2]);
    } else if (l.event == "link-identify") {
        if (auto f = split_params(l.params, 2))
            s.helo = std::string((*f)[1]);
    } else if (l.event == "link-auth") {
        // 0.7 moved the user name (which may contain '|') last.
        if (auto f = split_params(l.params, 2)) {
            bool v07 = !version_before(l.version, "0.7");
            std::string_view user = v07 ? (*f)[1] : (*f)[0];
            std::string_view result = v07 ? (*f)[0] : (*f)[1];
            s.auth_user = result == "pass" ? std::string(user) : std::string();
        }
    } else if (l.event == "tx-begin") {
        s.msgid = std::string(l.params);
        s.mail_from.clear();
        s.rcpts.clear();
    } else if (l.event == "tx-mail" || l.event == "tx-rcpt") {
        // 0.6 moved the address (which may contain '|') last: msgid|result|address.
        if (auto f = split_params(l.params, 3)) {
            std::string_view result = v06 ? (*f)[1] : (*f)[2];
            std::string_view address = v06 ? (*f)[2] : (*f)[1];
            if (result == "ok") {
                if (l.event == "tx-mail")
                    s.mail_from = std::string(address);
                else
                    s.rcpts.emplace_back(address);
            }
        }
    } else if (l.event == "tx-reset" || l.event == "tx-rollback") {
        std::string_view msgid = l.params.substr(0, l.params.find('|'));
        if (s.msg && (s.msg->msgid.empty() || msgid.empty() || s.msg->msgid == msgid))
            drop_message(s, out);
        if (l.event == "tx-reset") {
            s.mail_from.clear();
            s.rcpts.clear();
        }
    }
}

void Engine::on_filter(const ProtocolLine& l, std::uint64_t now, Actions& out) {
    Session& s = session(l.session);
    s.version.assign(l.version);
    if (l.event == "data-line") {
        on_data_line(s, l.token, l.params, now, out);
        return;
    }
    if (l.event == "commit") {
        // Exactly one answer per request, always: a message we hold decides; anything else
        // (no message, lost state) proceeds.
        if (s.msg && s.msg->data_done && !s.msg->completed) {
            // smtpd asks only after it has our "." back, so this is a peer out of step: the
            // answer waits for the message (bounded by its deadline), whose data goes first;
            // answering now would commit a message we never handed back.
            if (s.msg->commit_token) // a second one: the first is refused, both answered
                out.output +=
                    reject(s.version, s.id, *s.msg->commit_token, s.msg->opts->tempfail_reply);
            s.msg->commit_token = std::string(l.token);
            return;
        }
        if (s.msg && s.msg->completed && s.msg->tempfail)
            out.output += reject(s.version, s.id, l.token, s.msg->opts->tempfail_reply);
        else
            out.output += proceed(s.version, s.id, l.token);
        if (s.msg && s.msg->completed)
            drop_message(s, out);
        return;
    }
    // Phases we did not register still get an answer rather than a hung session.
    out.output += proceed(s.version, s.id, l.token);
}

void Engine::on_data_line(
    Session& s, std::string_view token, std::string_view line, std::uint64_t now, Actions& out) {
    if (!s.msg || s.msg->completed) {
        if (s.msg)
            drop_message(s, out);
        s.msg = std::make_unique<Message>(opts_->spool_memory_limit);
        s.msg->opts = opts_;
        Message& m = *s.msg;
        m.id = next_message_++;
        m.msgid = s.msgid;
        message_sessions_[m.id] = s.id;
        JobOptions jo;
        jo.authserv_id = authserv_id_;
        jo.trusted_authserv_ids = opts_->trusted_authserv_ids;
        jo.seal = opts_->seal;
        jo.verify.keys = opts_->keys;
        jo.verify.now = now;
        jo.verify.oldest_pass = opts_->oldest_pass;
        jo.verify.max_sets = opts_->max_arc_sets;
        jo.remote_ip = s.client_ip;
        jo.write_ar = opts_->policy.mode != Mode::seal;
        jo.scrub_forged = opts_->scrub_forged;
        jo.max_header_fields = opts_->max_header_fields;
        jo.max_header_bytes = opts_->max_header_bytes;
        m.job = std::make_unique<MessageJob>(std::move(jo));
        // Sender authentication starts with the data, from what the session reported so far
        // (client, HELO, MAIL FROM, AUTH); its lookups overlap with the transfer.
        m.auth = std::make_unique<SenderAuth>(
            opts_->auth, SenderContext{s.client_ip, s.helo, s.mail_from, s.auth_user, authserv_id_,
                                       static_cast<std::int64_t>(now)});
        m.job->set_sender_auth(m.auth.get()); // DKIM and DMARC see the same lines
        start_auth_queries(m, out);
    }
    Message& m = *s.msg;
    m.token.assign(token); // reuses its buffer: no allocation per line
    if (line == ".") {
        m.data_done = true;
        if (m.error.empty() && !m.too_large) {
            try {
                start_queries(m, m.job->end_of_data(), out);
                if (m.auth) {
                    m.auth->end_of_data();
                    start_auth_queries(m, out);
                }
            } catch (const std::exception& e) {
                m.error = e.what();
            }
        }
        try_complete(s, out);
        return;
    }
    if (!m.spool.append(line) && m.error.empty())
        m.error = "cannot spool the message (temporary directory full or unwritable?)";
    if (!m.error.empty() || m.too_large)
        return;
    if (m.spool.bytes() > m.opts->max_message_bytes) {
        // Too large to hash within our limits: passed through untouched, neither verified
        // nor sealed (and the keys it asked for no longer matter).
        m.too_large = true;
        m.job->set_sender_auth(nullptr);
        m.auth.reset();
        for (auto q = queries_.begin(); q != queries_.end();) {
            if (q->second.message == m.id) {
                cancel_query(out, q->first);
                q = queries_.erase(q);
            } else {
                ++q;
            }
        }
        m.pending = 0;
        return;
    }
    try {
        // Lines arrive dot-stuffed (RFC 5321 §4.5.2): un-stuff for parsing and hashing only.
        std::string_view plain = (!line.empty() && line[0] == '.') ? line.substr(1) : line;
        const bool had_headers = m.job->headers_done();
        start_queries(m, m.job->add_line(plain), out);
        if (m.auth && !had_headers && m.job->headers_done())
            start_auth_queries(m, out); // DKIM keys and the DMARC record
    } catch (const std::exception& e) {
        m.error = e.what();
    }
}

void Engine::start_queries(Message& m, const std::vector<arc::KeyName>& names, Actions& out) {
    if (names.empty())
        return;
    for (const auto& n : names) {
        QueryId q = next_query_++;
        queries_.emplace(q, QueryRef{m.id, true, n, 0});
        out.queries.push_back(Actions::Query{q, n.dns_name(), dns::RecordType::txt});
        ++m.pending;
    }
    arm_deadline(m, out);
}

void Engine::start_auth_queries(Message& m, Actions& out) {
    if (!m.auth)
        return;
    auto wanted = m.auth->take_queries();
    if (wanted.empty())
        return;
    for (auto& w : wanted) {
        QueryId q = next_query_++;
        queries_.emplace(q, QueryRef{m.id, false, {}, w.id});
        out.queries.push_back(Actions::Query{q, std::move(w.name), w.type});
    }
    arm_deadline(m, out);
}

// One deadline per message, from its first lookup: ARC keys and SPF share it (a new one only for
// lookups that start after it passed).
void Engine::arm_deadline(Message& m, Actions& out) {
    if (m.deadline_armed)
        return;
    m.deadline_armed = true;
    out.deadlines.push_back(Actions::Deadline{m.id, m.opts->message_deadline_ms});
}

void Engine::on_answer(QueryId id, const dns::Answer& answer, Actions& out) {
    auto q = queries_.find(id);
    if (q == queries_.end())
        return; // cancelled or stale: the message is gone
    QueryRef ref = q->second;
    queries_.erase(q);
    auto ms = message_sessions_.find(ref.message);
    if (ms == message_sessions_.end())
        return;
    auto it = sessions_.find(ms->second);
    if (it == sessions_.end() || !it->second.msg || it->second.msg->id != ref.message)
        return;
    Message& m = *it->second.msg;
    if (ref.arc_key) {
        m.job->provide_key(ref.key, answer);
        if (m.pending > 0)
            --m.pending;
    } else if (m.auth && !m.completed) {
        m.auth->on_answer(ref.auth_id, answer);
        start_auth_queries(m, out); // an answer may lead to further lookups (RFC 7208 §5)
    }
    try_complete(it->second, out);
}

void Engine::on_deadline(MessageId id, Actions& out) {
    auto ms = message_sessions_.find(id);
    if (ms == message_sessions_.end())
        return;
    auto it = sessions_.find(ms->second);
    if (it == sessions_.end() || !it->second.msg || it->second.msg->id != id)
        return;
    Message& m = *it->second.msg;
    if (m.completed)
        return;
    // Missing answers now count as temporary failures (never as a permanent fail).
    for (auto q = queries_.begin(); q != queries_.end();) {
        if (q->second.message == id) {
            cancel_query(out, q->first);
            q = queries_.erase(q);
        } else {
            ++q;
        }
    }
    m.pending = 0;
    if (m.auth)
        m.auth->on_deadline();
    m.deadline_hit = true;
    m.deadline_armed = false; // lookups started later (keys of a slow header block) get their own
    try_complete(it->second, out);
}

void Engine::try_complete(Session& s, Actions& out) {
    if (!s.msg || !s.msg->data_done || s.msg->completed)
        return;
    const Message& m = *s.msg;
    // Complete when the ARC keys and every sender-authentication method are in.
    if ((m.pending == 0 && (!m.auth || m.auth->finished())) || !m.error.empty())
        complete(s, out);
}

void Engine::complete(Session& s, Actions& out) {
    Message& m = *s.msg;
    m.completed = true;
    JobResult r;
    bool have_result = false;
    std::string note;
    Envelope env{s.client_ip, s.auth_user, s.mail_from, s.rcpts};
    // A method's temperror defers the message when so configured (RFC 7208 §8.6: 451), as
    // ARC's own temperror always does; otherwise it is written as a result.
    if (m.auth)
        m.auth->conclude();
    const bool auth_defer =
        m.auth && m.auth->temperror() && m.opts->auth.temperror == TempErrorAction::defer;
    if (m.error.empty() && !m.too_large) {
        std::shared_ptr<const arc::SealKey> key;
        if (auth_defer) {
            note = "not sealed: sender authentication temperror";
        } else if (wants_seal(m.opts->policy, env)) {
            key = choose_key(m.opts->policy, env, m.job->header_from());
            if (!key)
                note = "not sealed: no key for this message";
        } else {
            note = m.opts->policy.mode == Mode::verify
                       ? "not sealed: mode=verify"
                       : "not sealed: policy (client not trusted or recipient not listed)";
        }
        if (key && version_before(s.version, "0.7") &&
            m.spool.longest_line() > m.opts->legacy_max_output_line) {
            key = nullptr;
            note =
                "not sealed: a line exceeds the 1997 bytes smtpd before 7.4 passes through filters";
        }
        try {
            r = m.job->complete(key, auth_defer ? nullptr : m.auth.get());
            have_result = true;
            if (r.sealed || note.empty())
                note = r.seal_note;
        } catch (const std::exception& e) {
            m.error = e.what();
        }
    }
    for (const auto& q : queries_)
        if (q.second.message == m.id)
            cancel_query(out, q.first);
    std::erase_if(queries_, [&](const auto& q) { return q.second.message == m.id; });

    m.tempfail = !m.error.empty() || (have_result && r.tempfail) || auth_defer;
    std::string& o = out.output;
    // The whole replay in one allocation (a 10 MiB message must not cost twice its size).
    const std::size_t per_line = 19 + s.id.size() + m.token.size();
    std::size_t need = m.spool.bytes() + (m.spool.lines() + 1) * per_line;
    for (const auto& added : r.added_lines)
        need += added.size() + 1 + per_line;
    o.reserve(o.size() + need);
    if (have_result && !m.tempfail)
        for (const auto& added : r.added_lines)
            append_data(o, s.version, s.id, m.token,
                        (!added.empty() && added[0] == '.') ? "." + added : added);
    std::size_t index = 0;
    const bool scrub = have_result && !m.tempfail;
    bool replayed = m.spool.replay([&](std::string_view raw) {
        // Forged Authentication-Results are left out of what smtpd stores (RFC 8601 §5).
        if (!(scrub && m.job->line_removed(index)))
            append_data(o, s.version, s.id, m.token, raw);
        ++index;
    });
    if (!replayed) {
        m.tempfail = true;
        if (m.error.empty())
            m.error = "cannot read the spooled message back";
    }
    append_data(o, s.version, s.id, m.token, ".");

    std::string log = "session=" + s.id + " msgid=" + (m.msgid.empty() ? "-" : m.msgid);
    if (have_result) {
        log += " arc=" + std::string(arc::to_string(r.chain.status)) +
               " sets=" + std::to_string(r.chain.sets);
        if (r.chain.oldest_pass)
            log += " oldest_pass=" + std::to_string(*r.chain.oldest_pass);
        log += " reason=" + quote_log(r.chain.reason);
        log += std::string(" sealed=") + (r.sealed ? "yes" : "no");
        log += " seal=" + quote_log(note);
        if (r.forged_removed > 0)
            log += " forged_ar_removed=" + std::to_string(r.forged_removed);
        if (!r.chain.chain.empty()) {
            const auto& newest = r.chain.chain.back();
            log += " newest_sealer=" + log_value(newest.seal_domain);
            if (m.opts->policy.trusted_sealers.count(newest.seal_domain) != 0)
                log += " trusted_sealer=yes";
        }
    } else if (m.too_large) {
        log += " arc=skipped reason=" + quote_log("message larger than limits.max-message-bytes");
    } else {
        log += " arc=error reason=" + quote_log(m.error);
    }
    if (m.auth)
        for (const auto& [k, v] : m.auth->log_fields())
            log += " " + k + "=" + log_value(v);
    if (m.deadline_hit)
        log += " deadline=hit";
    log += std::string(" action=") + (m.tempfail ? "tempfail" : "proceed") +
           " size=" + std::to_string(m.spool.bytes()) + (m.spool.spilled() ? " spooled=disk" : "");
    out.logs.push_back(std::move(log));
    if (m.commit_token) {
        // The commit that arrived early gets its answer now, after the data.
        const std::string token = *m.commit_token;
        if (m.tempfail)
            out.output += reject(s.version, s.id, token, m.opts->tempfail_reply);
        else
            out.output += proceed(s.version, s.id, token);
        drop_message(s, out);
    }
}

void Engine::drop_message(Session& s, Actions& out) {
    if (!s.msg)
        return;
    // A commit still waiting for this message gets its one answer: never "proceed" for data
    // we did not hand back.
    if (s.msg->commit_token && !s.msg->completed)
        out.output += reject(s.version, s.id, *s.msg->commit_token, s.msg->opts->tempfail_reply);
    MessageId id = s.msg->id;
    for (auto q = queries_.begin(); q != queries_.end();) {
        if (q->second.message == id) {
            cancel_query(out, q->first);
            q = queries_.erase(q);
        } else {
            ++q;
        }
    }
    message_sessions_.erase(id);
    s.msg.reset();
}

} // namespace arcf::filter
