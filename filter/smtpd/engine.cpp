// SPDX-License-Identifier: ISC
// OpenSMTPD filter engine (shared notes, opensmtpd-filter-protocol.md §2–§6, §11).
#include "filter/smtpd/engine.hpp"

#include "filter/pipeline/log.hpp"
#include "filter/smtpd/protocol.hpp"
#include "filter/smtpd/reply.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <variant>

namespace arcf::filter {

struct Engine::Message {
    MessageId id = 0;
    std::shared_ptr<const EngineOptions> opts; ///< the configuration it started under
    std::string msgid;                         ///< smtpd's transaction id from tx-begin, when known
    std::string token;                         ///< the data-line token, echoed back
    std::unique_ptr<Spool> spool;              ///< handed to the replay when the message completes
    std::unique_ptr<MessageJob> job;
    std::unique_ptr<SenderAuth> auth; ///< null once the message is too large to matter
    std::size_t pending = 0;          ///< ARC key lookups outstanding
    bool deadline_armed = false;
    bool data_done = false;
    bool completed = false;
    bool tempfail = false;
    bool deadline_hit = false;
    bool too_large = false;
    bool replay_queued = false;
    std::string error; ///< internal error: the message is deferred, never lost
    std::string reply; ///< the commit answer once completed: empty proceeds, else reject|reply
    std::optional<std::string> commit_token; ///< a commit that came before we were done
    explicit Message(std::size_t limit) : spool(std::make_unique<Spool>(limit)) {}
};

struct Engine::Session {
    std::string id;
    Version version; ///< of its latest line (0.6 until one arrives)
    std::string client_ip;
    std::string helo;
    std::string mail_from;
    std::string auth_user;
    std::string msgid;
    std::vector<std::string> rcpts;
    std::unique_ptr<Message> msg;
};

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

Engine::Session& Engine::session(const SessionRef& ref) {
    auto it = sessions_.find(ref.id);
    if (it == sessions_.end()) {
        // Created lazily on any line: data-lines can overtake the reports of the same session.
        it = sessions_.emplace(std::string(ref.id), Session{}).first;
        it->second.id = std::string(ref.id);
    }
    // Each line says which protocol it speaks; the replies follow the latest one.
    it->second.version = ref.version;
    return it->second;
}

void Engine::on_line(std::string_view line, std::uint64_t now, Actions& out) {
    try {
        on_line_impl(line, now, out);
    } catch (const std::exception& e) {
        // Issue 15 class 5: a failure (std::bad_alloc included) costs the message of this
        // line's session, deferred, never the loop or the other sessions.
        internal_error(line, e.what(), out);
    }
}

void Engine::internal_error(std::string_view line, std::string_view why, Actions& out) {
    try {
        out.logs.push_back("event=internal-error reason=" + quote_log(why));
        const Event ev = decode(line);
        auto ref = session_of(ev);
        if (!ref)
            return;
        auto it = sessions_.find(ref->id);
        if (it == sessions_.end() || !it->second.msg || it->second.msg->completed)
            return;
        Message& m = *it->second.msg;
        if (m.error.empty())
            m.error = "internal error: " + std::string(why);
        if (auto* d = std::get_if<DataLine>(&ev); d && d->line == ".")
            m.data_done = true;
        try_complete(it->second, out);
    } catch (const std::exception&) {
        // Nothing more can be done for this line; the loop goes on.
    }
}

namespace {
template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
} // namespace

// One typed event per line (filter/smtpd/protocol.hpp resolves the per-version layouts); each kind
// has one handler here.
void Engine::on_line_impl(std::string_view line, std::uint64_t now, Actions& out) {
    const Event ev = decode(line);
    std::visit(
        Overloaded{
            [&](const Malformed& e) {
                std::string shown(e.line.substr(0, 120));
                out.logs.push_back(
                    "event=protocol-error reason=" +
                    quote_log("malformed line skipped: " + std::string(to_string(e.error))) +
                    " line=" + quote_log(shown));
            },
            [&](const ConfigAdmd& e) {
                admd_ = std::string(e.admd);
                if (opts_->authserv_id.empty())
                    authserv_id_ = admd_;
            },
            [&](const ConfigReady&) { on_ready(out); },
            // smtpd-version, protocol, subsystem, smtp-session-timeout, ...: nothing to do.
            [&](const ConfigOther&) {},
            [&](const LinkConnect& e) { session(e.s).client_ip.assign(e.client_ip); },
            [&](const LinkDisconnect& e) { on_disconnect(e.s.id, out); },
            [&](const LinkIdentify& e) { session(e.s).helo.assign(e.helo); },
            [&](const LinkAuth& e) {
                session(e.s).auth_user.assign(e.pass ? e.user : std::string_view());
            },
            [&](const TxBegin& e) {
                Session& s = session(e.s);
                s.msgid.assign(e.msgid);
                s.mail_from.clear();
                s.rcpts.clear();
            },
            [&](const TxMail& e) {
                Session& s = session(e.s);
                if (e.ok)
                    s.mail_from.assign(e.address);
            },
            [&](const TxRcpt& e) {
                Session& s = session(e.s);
                if (e.ok)
                    s.rcpts.emplace_back(e.address);
            },
            [&](const TxReset& e) { on_tx_end(session(e.s), e.msgid, true, out); },
            [&](const TxRollback& e) { on_tx_end(session(e.s), e.msgid, false, out); },
            [&](const OtherReport&) {},
            [&](const DataLine& e) { on_data_line(session(e.s), e.token, e.line, now, out); },
            [&](const Commit& e) { on_commit(session(e.s), e.token, out); },
            // Phases we did not register still get an answer rather than a hung session.
            [&](const OtherFilter& e) {
                Responder(session(e.s).version, e.s.id, e.token).proceed(out.output);
            },
        },
        ev);
}

void Engine::on_ready(Actions& out) {
    if (authserv_id_.empty())
        authserv_id_ = "localhost";
    append_registration(out.output);
    ready_ = true;
}

void Engine::on_disconnect(std::string_view id, Actions& out) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
        drop_message(it->second, out);
        sessions_.erase(it);
    }
}

// tx-reset (the transaction is over, committed or not) and tx-rollback (it failed).
void Engine::on_tx_end(Session& s, std::string_view msgid, bool reset, Actions& out) {
    if (s.msg && (s.msg->msgid.empty() || msgid.empty() || s.msg->msgid == msgid))
        drop_message(s, out);
    if (reset) {
        s.mail_from.clear();
        s.rcpts.clear();
    }
}

void Engine::on_commit(Session& s, std::string_view token, Actions& out) {
    // Exactly one answer per request, always: a message we hold decides; anything else
    // (no message, lost state) proceeds.
    if (s.msg && s.msg->data_done && !s.msg->completed) {
        // smtpd asks only after it has our "." back, so this is a peer out of step: the
        // answer waits for the message (bounded by its deadline), whose data goes first;
        // answering now would commit a message we never handed back.
        if (s.msg->commit_token) // a second one: the first is refused, both answered
            Responder(s.version, s.id, *s.msg->commit_token)
                .reject(out.output, s.msg->opts->tempfail_reply);
        s.msg->commit_token = std::string(token);
        return;
    }
    answer_commit(s, token, out);
}

void Engine::on_data_line(
    Session& s, std::string_view token, std::string_view line, std::uint64_t now, Actions& out) {
    if (s.msg && s.msg->data_done && !s.msg->completed) {
        // smtpd sends the next message only after our "." and the commit: a peer out of step.
        // The message we hold ends now (its "." goes back, every end of data gets one) and is
        // deferred; these lines start a new message.
        if (s.msg->error.empty())
            s.msg->error = "protocol: data-lines after the end of data";
        complete(s, out);
    }
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
    if (!m.spool->append(line) && m.error.empty())
        m.error = "cannot spool the message (temporary directory full or unwritable?)";
    if (!m.error.empty())
        return;
    if (m.too_large) {
        // Still read to the end of the header block (bounded by max-header-bytes): forged
        // Authentication-Results are taken out of every message we pass (RFC 8601 §5).
        if (!m.job->headers_done())
            m.job->add_line((!line.empty() && line[0] == '.') ? line.substr(1) : line);
        return;
    }
    if (m.spool->bytes() > m.opts->max_message_bytes) {
        // Too large to hash within our limits: passed through neither verified nor sealed (the
        // keys it asked for no longer matter), but scrubbed and with our verdict "skipped".
        m.too_large = true;
        m.job->skip_verification("message larger than limits.max-message-bytes");
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
        if (!m.job->headers_done())
            m.job->add_line((!line.empty() && line[0] == '.') ? line.substr(1) : line);
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

void Engine::start_queries(Message& m, const std::vector<mail::KeyName>& names, Actions& out) {
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
    MessageId mid = 0;
    if (auto q = queries_.find(id); q != queries_.end())
        mid = q->second.message;
    try {
        on_answer_impl(id, answer, out);
    } catch (const std::exception& e) {
        fail_by_id(mid, e.what(), out);
    }
}

void Engine::on_deadline(MessageId id, Actions& out) {
    try {
        on_deadline_impl(id, out);
    } catch (const std::exception& e) {
        fail_by_id(id, e.what(), out);
    }
}

// A failure while handling an answer or a deadline defers that message alone (class 5).
void Engine::fail_by_id(MessageId id, std::string_view why, Actions& out) {
    try {
        out.logs.push_back("event=internal-error reason=" + quote_log(why));
        auto ms = message_sessions_.find(id);
        if (ms == message_sessions_.end())
            return;
        auto it = sessions_.find(ms->second);
        if (it == sessions_.end() || !it->second.msg || it->second.msg->id != id ||
            it->second.msg->completed)
            return;
        if (it->second.msg->error.empty())
            it->second.msg->error = "internal error: " + std::string(why);
        try_complete(it->second, out);
    } catch (const std::exception&) {
        // The loop goes on; the message's own deadline completes it later.
    }
}

void Engine::on_answer_impl(QueryId id, const dns::Answer& answer, Actions& out) {
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

void Engine::on_deadline_impl(MessageId id, Actions& out) {
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
    const Responder data(s.version, s.id, m.token);
    try {
        if (m.opts->fault_injection)
            m.opts->fault_injection("complete");
        finish_message(s, data, out);
    } catch (const std::exception& e) {
        // Issue 15 class 5: a failure here (std::bad_alloc included) defers this message alone.
        fail_message(s, data, e.what(), out);
    }
    if (m.commit_token) {
        // The commit that arrived early gets its answer now, after the data.
        const std::string token = *m.commit_token;
        m.commit_token.reset();
        answer_commit(s, token, out);
    }
}

void Engine::fail_message(Session& s, const Responder& data, std::string_view why, Actions& out) {
    Message& m = *s.msg;
    m.tempfail = true;
    m.reply = m.opts->tempfail_reply;
    for (auto q = queries_.begin(); q != queries_.end();) {
        if (q->second.message == m.id)
            q = queries_.erase(q); // answers for it are ignored from now on
        else
            ++q;
    }
    try {
        if (!m.replay_queued) {
            m.replay_queued = true;
            data.dataline(out.output, "."); // the message ends; its commit is refused
        }
        out.logs.push_back(
            "session=" + s.id + " msgid=" + (m.msgid.empty() ? "-" : m.msgid) +
            " arc=error reason=" + quote_log(std::string("internal error: ") + std::string(why)) +
            " action=tempfail");
    } catch (const std::exception&) {
        // Out of memory even for that: the loop goes on; the log line is lost.
    }
}

void Engine::answer_commit(Session& s, std::string_view token, Actions& out) {
    const Responder r(s.version, s.id, token);
    if (s.msg && s.msg->completed && !s.msg->reply.empty())
        r.reject(out.output, s.msg->reply);
    else
        r.proceed(out.output);
    if (s.msg && s.msg->completed)
        drop_message(s, out);
}

void Engine::finish_message(Session& s, const Responder& data, Actions& out) {
    Message& m = *s.msg;
    JobResult r;
    bool have_result = false;
    std::string note;
    Envelope env{s.client_ip, s.auth_user, s.mail_from, s.rcpts};
    // From protocol 0.7 a line that does not fit a data-line cannot be handed back intact, and
    // cutting it would change the message: it is refused at commit with a clear reply. Before
    // 0.7 smtpd cuts every line to room() itself, so we echo what it will store.
    const bool refused = !data.smtpd_cuts_long_lines() && m.spool->longest_line() > data.room();
    // A method's temperror defers the message when so configured (RFC 7208 §8.6: 451), as
    // ARC's own temperror always does; otherwise it is written as a result.
    if (m.auth)
        m.auth->conclude();
    const bool auth_defer = !refused && m.auth && m.auth->temperror() &&
                            m.opts->auth.temperror == TempErrorAction::defer;
    if (m.error.empty() && !refused) {
        std::shared_ptr<const arc::SealKey> key;
        if (m.too_large) {
            note = "not sealed: message larger than limits.max-message-bytes";
        } else if (auth_defer) {
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
        if (key && m.spool->longest_line() > data.room()) {
            key = nullptr;
            note =
                "not sealed: a line exceeds the 1997 bytes smtpd before 7.4 passes through filters";
        }
        r = m.job->complete(key, auth_defer ? nullptr : m.auth.get());
        have_result = true;
        if (r.sealed || note.empty())
            note = r.seal_note;
    }
    for (const auto& q : queries_)
        if (q.second.message == m.id)
            cancel_query(out, q.first);
    std::erase_if(queries_, [&](const auto& q) { return q.second.message == m.id; });

    m.tempfail = !m.error.empty() || (have_result && r.tempfail) || auth_defer;
    if (m.tempfail)
        m.reply = m.opts->tempfail_reply;
    else if (refused)
        m.reply = m.opts->line_too_long_reply;

    std::string log = "session=" + s.id + " msgid=" + (m.msgid.empty() ? "-" : m.msgid);
    if (refused) {
        log += " arc=skipped reason=" +
               quote_log("a line of " + std::to_string(m.spool->longest_line()) +
                         " bytes is longer than a data-line can carry back to smtpd (" +
                         std::to_string(data.room()) + ")");
    } else if (have_result) {
        log += " arc=" + std::string(arc::to_string(r.chain.status)) +
               " sets=" + std::to_string(r.chain.sets);
        if (r.chain.oldest_pass)
            log += " oldest_pass=" + std::to_string(*r.chain.oldest_pass);
        log += " reason=" + quote_log(r.chain.reason);
        log += std::string(" sealed=") + (r.sealed ? "yes" : "no");
        log += " seal=" + quote_log(note);
        if (r.forged_removed > 0)
            log += " forged_ar_removed=" + std::to_string(r.forged_removed);
        if (r.written.total() > 0) // values too long for a header line (issue 15 class 2)
            log += " omitted_values=" + std::to_string(r.written.values_omitted) +
                   " omitted_results=" + std::to_string(r.written.results_omitted);
        if (!r.chain.chain.empty()) {
            const auto& newest = r.chain.chain.back();
            log += " newest_sealer=" + log_value(newest.seal_domain);
            if (m.opts->policy.trusted_sealers.count(newest.seal_domain) != 0)
                log += " trusted_sealer=yes";
        }
        if (m.too_large)
            log += " verify=skipped";
    } else {
        log += " arc=error reason=" + quote_log(m.error);
    }
    if (m.auth)
        for (const auto& [k, v] : m.auth->log_fields())
            log += " " + k + "=" + log_value(v);
    if (m.deadline_hit)
        log += " deadline=hit";
    log += std::string(" action=") +
           (m.tempfail ? "tempfail"
            : refused  ? "reject"
                       : "proceed") +
           " size=" + std::to_string(m.spool->bytes()) +
           (m.spool->spilled() ? " spooled=disk" : "");

    // The replay: our lines on top, then the message as received minus the forged fields we
    // take out, then ".". A deferred message goes back unchanged (its commit is refused); a
    // refused one only as "." (its long line cannot be written).
    std::vector<std::string> added;
    std::vector<bool> removed;
    if (!m.tempfail && !refused && have_result) {
        added = std::move(r.added_lines);
        removed = m.job->removed_lines();
    }
    auto replay = std::make_unique<Replay>(m.id, data, std::move(added),
                                           refused ? nullptr : std::move(m.spool),
                                           std::move(removed), m.opts->fault_injection);
    out.logs.push_back(std::move(log));
    out.replays.push_back(Actions::PendingReplay{out.output.size(), std::move(replay)});
    m.replay_queued = true;
}

bool Engine::pull(Replay& r, std::string& data, std::size_t chunk, Actions& out) {
    bool more = false;
    std::string why;
    try {
        more = r.next(data, chunk);
        if (!r.failed())
            return more;
        why = "cannot read the spooled message back";
    } catch (const std::exception& e) {
        why = e.what();
    }
    try {
        r.abort(data);
    } catch (const std::exception&) {
        // Not even "." fits in memory now; nothing more this replay can do.
    }
    on_replay_failed(r.message(), why, out);
    return false;
}

void Engine::on_replay_failed(MessageId id, std::string_view reason, Actions& out) {
    try {
        out.logs.push_back("event=replay-failed reason=" + quote_log(reason) + " action=tempfail");
        auto ms = message_sessions_.find(id);
        if (ms == message_sessions_.end())
            return;
        auto it = sessions_.find(ms->second);
        if (it == sessions_.end() || !it->second.msg || it->second.msg->id != id)
            return;
        Message& m = *it->second.msg;
        m.tempfail = true;
        m.reply = m.opts->tempfail_reply;
    } catch (const std::exception&) {
        // The log line is lost; the commit answer below still refuses it when it can.
    }
}

void Engine::expand_replays(Actions& a) {
    if (a.replays.empty())
        return;
    std::string merged;
    std::size_t from = 0;
    auto replays = std::move(a.replays);
    a.replays.clear();
    for (auto& p : replays) {
        merged.append(a.output, from, p.at - from);
        from = p.at;
        while (pull(*p.replay, merged, 64 * 1024, a)) {
        }
    }
    merged.append(a.output, from, std::string::npos);
    a.output = std::move(merged);
}

void Engine::drop_message(Session& s, Actions& out) {
    if (!s.msg)
        return;
    // A commit still waiting for this message gets its one answer: never "proceed" for data
    // we did not hand back.
    if (s.msg->commit_token && !s.msg->completed)
        Responder(s.version, s.id, *s.msg->commit_token)
            .reject(out.output, s.msg->opts->tempfail_reply);
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
