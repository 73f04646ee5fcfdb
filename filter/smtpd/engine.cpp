// SPDX-License-Identifier: ISC
// OpenSMTPD filter engine (shared notes, opensmtpd-filter-protocol.md §2–§6, §11).
#include "filter/smtpd/engine.hpp"

#include "filter/pipeline/log.hpp"
#include "filter/pipeline/spool.hpp"
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
    std::unique_ptr<pipeline::Message> pipe;   ///< verification, authentication, policy, seal
    bool deadline_armed = false;
    bool data_done = false;
    bool completed = false;
    bool tempfail = false;
    bool too_large = false;
    bool replay_queued = false;
    bool config_defer = false; ///< deferred unread: the configuration could not be loaded
    std::string error;         ///< internal error: the message is deferred, never lost
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

// Only smtpd 7.6 and later name their protocol in the handshake (config|protocol); for older
// releases the start-up line derives it from the release (shared notes §1). Informational: the
// codec reads each line's own version field.
std::string protocol_of_release(std::string_view release) {
    unsigned major = 0, minor = 0, patch = 0;
    std::size_t i = 0;
    auto number = [&](unsigned& n) {
        const std::size_t from = i;
        while (i < release.size() && release[i] >= '0' && release[i] <= '9' && i - from < 4)
            n = n * 10 + static_cast<unsigned>(release[i++] - '0');
        return i > from;
    };
    if (!number(major) || i >= release.size() || release[i++] != '.' || !number(minor))
        return {};
    if (i < release.size() && release[i] == '.') {
        ++i;
        number(patch);
    }
    const unsigned v = major * 100 + minor;
    if (v < 606)
        return {};
    if (v == 606)
        return patch < 2 ? "0.4" : "0.5";
    if (v < 704)
        return "0.6";
    return "0.7";
}

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
    // smtpd sends a message's data-lines in runs: the session of the previous line is checked
    // before the map (map nodes do not move; on_disconnect forgets the pointer it erases).
    if (last_session_ == nullptr || last_session_->id != ref.id) {
        auto it = sessions_.find(ref.id);
        if (it == sessions_.end()) {
            // Created lazily on any line: data-lines can overtake the reports of the session.
            it = sessions_.emplace(std::string(ref.id), Session{}).first;
            it->second.id = std::string(ref.id);
        }
        last_session_ = &it->second;
    }
    // Each line says which protocol it speaks; the replies follow the latest one.
    last_session_->version = ref.version;
    return *last_session_;
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
    // Nearly every line is the next data-line of the message of the previous one. decode()
    // finds a line's first seven '|' and judges only the bytes up to the seventh, never the
    // time field between the second and third: a line whose bytes there are the same as those
    // of a data-line it already decoded, around a time field without '|', is that same
    // DataLine (same session, version and token) with its own text. Taken without decoding
    // again; any other line goes through decode() below.
    if (data_session_ != nullptr && line.starts_with(data_head_)) {
        const std::size_t time_end = line.find('|', data_head_.size());
        if (time_end != std::string_view::npos && line.substr(time_end).starts_with(data_tail_)) {
            on_data_line(*data_session_,
                         line.substr(time_end + data_token_, data_tail_.size() - 1 - data_token_),
                         line.substr(time_end + data_tail_.size()), now, out);
            return;
        }
    }
    data_session_ = nullptr;
    const Event ev = decode(line);
    std::visit(Overloaded{
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
                   // Kept for the start-up line only: the replies follow each line's own version.
                   // subsystem, smtp-session-timeout, ...: nothing to do.
                   [&](const ConfigOther& e) {
                       if (e.key == "smtpd-version")
                           smtpd_version_.assign(e.value.substr(0, 64));
                       else if (e.key == "protocol")
                           protocol_.assign(e.value.substr(0, 16));
                   },
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
                   [&](const DataLine& e) {
                       Session& s = session(e.s);
                       remember_data_line(line, e, s);
                       on_data_line(s, e.token, e.line, now, out);
                   },
                   [&](const Commit& e) { on_commit(session(e.s), e.token, out); },
                   // Phases we did not register still get an answer rather than a hung session.
                   [&](const OtherFilter& e) {
                       Responder(session(e.s).version, e.s.id, e.token).proceed(out.output);
                   },
               },
               ev);
}

// For the short path of on_line_impl: the runs of `line` around its time field (after its
// second '|', up to its third) in front of the text, and its session.
void Engine::remember_data_line(std::string_view line, const DataLine& d, Session& s) {
    const std::size_t head = line.find('|', line.find('|') + 1) + 1;
    const std::size_t time_end = line.find('|', head);
    const std::size_t text = static_cast<std::size_t>(d.line.data() - line.data());
    data_head_.assign(line.substr(0, head));
    data_tail_.assign(line.substr(time_end, text - time_end));
    data_token_ = static_cast<std::size_t>(d.token.data() - line.data()) - time_end;
    data_session_ = &s;
}

void Engine::on_ready(Actions& out) {
    if (authserv_id_.empty())
        authserv_id_ = "localhost";
    append_registration(out.output);
    ready_ = true;
    if (protocol_.empty())
        protocol_ = protocol_of_release(smtpd_version_);
    out.handshake_done = true;
}

void Engine::on_disconnect(std::string_view id, Actions& out) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
        drop_message(it->second, out);
        if (last_session_ == &it->second)
            last_session_ = nullptr;
        if (data_session_ == &it->second)
            data_session_ = nullptr;
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
        if (!opts_->config_error.empty() && opts_->config_error_defer) {
            // Nothing to verify or seal with: the message is spooled and handed back unchanged,
            // and its commit gets config_error_reply. No pipeline, so no DNS.
            m.config_defer = true;
            m.error = opts_->config_error;
        } else {
            // The pipeline starts with the data, from what the session reported so far (client,
            // HELO, MAIL FROM, AUTH): its SPF lookups overlap with the transfer.
            m.pipe = std::make_unique<pipeline::Message>(
                settings(),
                pipeline::Envelope{s.client_ip, s.helo, s.mail_from, s.auth_user, s.rcpts}, now);
            take_queries(m, out);
        }
    }
    Message& m = *s.msg;
    if (m.token != token) // the same on every line of a message: compared, not copied
        m.token.assign(token);
    if (line == ".") {
        m.data_done = true;
        if (m.error.empty()) {
            try {
                m.pipe->end_of_data();
                take_queries(m, out);
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
    try {
        if (!m.too_large && m.spool->bytes() > m.opts->max_message_bytes) {
            // Too large to hash within our limits: passed through neither verified nor sealed
            // (the questions it asked no longer matter), but scrubbed and with our verdict.
            m.too_large = true;
            m.pipe->skip_verification("message larger than limits.max-message-bytes");
            cancel_queries(m.id, out);
        }
        // Lines arrive dot-stuffed (RFC 5321 §4.5.2): un-stuff for parsing and hashing only.
        m.pipe->add_line((!line.empty() && line[0] == '.') ? line.substr(1) : line);
        take_queries(m, out);
    } catch (const std::exception& e) {
        m.error = e.what();
    }
}

void Engine::take_queries(Message& m, Actions& out) {
    if (!m.pipe->has_queries())
        return;
    auto wanted = m.pipe->take_queries();
    for (auto& w : wanted) {
        QueryId q = next_query_++;
        queries_.emplace(q, QueryRef{m.id, w.id});
        out.queries.push_back(Actions::Query{q, std::move(w.name), w.type});
    }
    arm_deadline(m, out);
}

void Engine::cancel_queries(MessageId id, Actions& out) {
    for (auto q = queries_.begin(); q != queries_.end();) {
        if (q->second.message == id) {
            cancel_query(out, q->first);
            q = queries_.erase(q);
        } else {
            ++q;
        }
    }
}

const std::shared_ptr<const pipeline::Settings>& Engine::settings() {
    if (!settings_ || settings_->authserv_id != authserv_id_ || settings_source_ != opts_) {
        settings_ =
            std::make_shared<const pipeline::Settings>(message_settings(*opts_, authserv_id_));
        settings_source_ = opts_;
    }
    return settings_;
}

pipeline::Settings message_settings(const EngineOptions& o, std::string authserv_id) {
    pipeline::Settings s;
    s.authserv_id = std::move(authserv_id);
    s.trusted_authserv_ids = o.trusted_authserv_ids;
    s.policy = o.policy;
    s.scrub_forged = o.scrub_forged;
    s.seal = o.seal;
    s.keys = o.keys;
    s.oldest_pass = o.oldest_pass;
    s.auth = o.auth;
    s.max_header_fields = o.max_header_fields;
    s.max_header_bytes = o.max_header_bytes;
    s.max_arc_sets = o.max_arc_sets;
    s.tempfail_reply = o.tempfail_reply;
    s.line_too_long_reply = o.line_too_long_reply;
    return s;
}

// One deadline per message, from its first lookup: all its questions share it (a new one only
// for questions that start after it passed).
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

// The session whose current message is `id`; null once that message is gone (ended, reset or
// disconnected), so stale answers, deadlines and replay failures find nothing.
Engine::Session* Engine::session_of_message(MessageId id) {
    auto ms = message_sessions_.find(id);
    if (ms == message_sessions_.end())
        return nullptr;
    auto it = sessions_.find(ms->second);
    if (it == sessions_.end() || !it->second.msg || it->second.msg->id != id)
        return nullptr;
    return &it->second;
}

// A failure while handling an answer or a deadline defers that message alone (class 5).
void Engine::fail_by_id(MessageId id, std::string_view why, Actions& out) {
    try {
        out.logs.push_back("event=internal-error reason=" + quote_log(why));
        Session* s = session_of_message(id);
        if (s == nullptr || s->msg->completed)
            return;
        if (s->msg->error.empty())
            s->msg->error = "internal error: " + std::string(why);
        try_complete(*s, out);
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
    Session* s = session_of_message(ref.message);
    if (s == nullptr)
        return;
    Message& m = *s->msg;
    if (!m.completed) {
        m.pipe->on_answer(ref.local, answer);
        take_queries(m, out); // an answer may lead to further lookups (RFC 7208 §5)
    }
    try_complete(*s, out);
}

void Engine::on_deadline_impl(MessageId id, Actions& out) {
    Session* s = session_of_message(id);
    if (s == nullptr)
        return;
    Message& m = *s->msg;
    if (m.completed)
        return;
    // Missing answers now count as temporary failures (never as a permanent fail).
    cancel_queries(id, out);
    m.pipe->on_deadline();
    m.deadline_armed = false; // lookups started later (keys of a slow header block) get their own
    try_complete(*s, out);
}

void Engine::try_complete(Session& s, Actions& out) {
    if (!s.msg || !s.msg->data_done || s.msg->completed)
        return;
    const Message& m = *s.msg;
    // Complete when every answer is in (or the deadline passed).
    if (!m.error.empty() || m.pipe->ready())
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
            " action=defer");
        stats_.record_failure("internal_error");
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
    LogLine log;
    log.add("session", s.id).add("msgid", m.msgid.empty() ? "-" : m.msgid);
    pipeline::Outcome r;
    if (m.error.empty()) {
        // From protocol 0.7 a line that does not fit a data-line cannot be handed back intact
        // (refused at commit); before 0.7 smtpd cuts every line to room() itself, so we echo
        // what it will store, unsealed.
        r = m.pipe->finish(pipeline::Delivery{m.spool->longest_line(), data.room(),
                                              !data.smtpd_cuts_long_lines()});
        for (const auto& [k, v] : r.log)
            log.add(k, v);
    } else if (m.config_defer) {
        r.disposition = pipeline::Disposition::defer;
        r.reply = m.opts->config_error_reply;
    } else {
        r.disposition = pipeline::Disposition::defer;
        r.reply = m.opts->tempfail_reply;
        log.add("arc", "error").add("reason", m.error);
    }
    if (!m.opts->config_error.empty())
        log.add("config_error", m.opts->config_error);
    cancel_queries(m.id, out);

    const bool refused = r.disposition == pipeline::Disposition::reject;
    m.tempfail = r.disposition == pipeline::Disposition::defer;
    m.reply = r.disposition == pipeline::Disposition::deliver ? std::string() : r.reply;
    // The same words in every mode (pipeline::Disposition): smtpd's answer follows from it.
    log.add("action", pipeline::to_string(r.disposition))
        .add("size", static_cast<unsigned long long>(m.spool->bytes()));
    if (m.spool->spilled())
        log.add("spooled", "disk");

    // The replay: our lines on top, then the message as received minus the forged fields we
    // take out, then ".". A deferred message goes back unchanged (its commit is refused); a
    // refused one only as "." (its long line cannot be written).
    auto replay = std::make_unique<Replay>(m.id, data, std::move(r.added_lines),
                                           refused ? nullptr : std::move(m.spool),
                                           std::move(r.removed_lines), m.opts->fault_injection);
    out.logs.push_back(log.str());
    if (m.error.empty())
        stats_.record(r);
    else
        stats_.record_failure("internal_error");
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
        out.logs.push_back("event=replay-failed reason=" + quote_log(reason) + " action=defer");
        Session* s = session_of_message(id);
        if (s == nullptr)
            return;
        Message& m = *s->msg;
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
