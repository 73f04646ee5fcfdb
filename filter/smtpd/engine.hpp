// SPDX-License-Identifier: ISC
// The OpenSMTPD filter engine: sessions, the data path and the commit decision, as a pure state
// machine. Lines and DNS answers in; protocol output, queries, deadlines and log lines out.
#pragma once

#include "dns/answer.hpp"
#include "filter/pipeline/message.hpp"
#include "filter/pipeline/policy.hpp"
#include "filter/pipeline/sender_auth.hpp"
#include "filter/pipeline/spool.hpp"
#include "filter/pipeline/stats.hpp"
#include "filter/smtpd/protocol.hpp"
#include "filter/smtpd/replay.hpp"
#include "filter/smtpd/reply.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

struct EngineOptions {
    std::string authserv_id; ///< empty: smtpd's config|admd (the default)
    std::vector<std::string> trusted_authserv_ids;
    Policy policy; ///< trust boundary, what gets sealed, with which key
    bool scrub_forged = true;
    arc::SealOptions seal;
    mail::KeyPolicy keys;
    bool oldest_pass = true;
    /// SPF (and later DKIM, DMARC) for our Authentication-Results and AAR; temperror policy.
    SenderAuthOptions auth;
    /// Commit answer for a temporary failure. 421 disconnects; 451 keeps the session.
    std::string tempfail_reply =
        "421 4.7.0 Message authentication temporarily failed (DNS), try again later";
    /// From the message's first DNS query: answers missing by then are temporary failures.
    std::uint32_t message_deadline_ms = 30000;
    std::size_t spool_memory_limit = 1024 * 1024;
    /// Larger messages pass unverified and unsealed, but still scrubbed and with our
    /// Authentication-Results (arc=none, or fail when ARC fields are present, with the reason).
    std::size_t max_message_bytes = 64 * 1024 * 1024;
    std::size_t max_header_fields = 1000;
    std::size_t max_header_bytes = 1024 * 1024;
    std::uint32_t max_arc_sets = 50;
    /// Commit answer, from protocol 0.7 on, for a message with a line longer than a data-line
    /// can carry back to smtpd (max_output_line() in filter/smtpd/reply.hpp: 64,950 data bytes).
    /// Before 0.7 smtpd keeps 1997 bytes of each line anyway: such lines are cut to that and the
    /// message is passed on unsealed.
    std::string line_too_long_reply =
        "550 5.6.0 Message refused: a line is too long to pass through the ARC filter";
    /// Set while the filter runs on the built-in defaults because its configuration could not
    /// be loaded (start-up safety, filter/shell/smtpd_shell.hpp): the problem, e.g. "cannot read
    /// PATH: Permission denied (user opensmtpd)". Every message's log line carries it.
    std::string config_error;
    /// With config_error: defer every message at commit with config_error_reply (true), or
    /// pass it as the built-in verify-only configuration does (false: no seal).
    bool config_error_defer = true;
    /// 451, never 421: smtpd turns a 421 into a disconnect (protocol notes §5); a 451 refuses
    /// this message only and the sender retries. RFC 3463 §3.4 X.3.5: "System incorrectly
    /// configured".
    std::string config_error_reply = "451 4.3.5 Mail system configuration error, try again later";
    /// Tests only: called at fault-injection points ("complete", "replay"); may throw.
    std::function<void(std::string_view)> fault_injection;
};

using QueryId = std::uint64_t;
using MessageId = std::uint64_t;

struct Actions {
    std::string output; ///< protocol lines for stdout, in order (with the replays below)
    /// Messages handed back to smtpd: the lines of `replay` go into `output` before offset
    /// `at` (offsets never decrease). The shell pulls them in bounded chunks as stdout drains
    /// (Engine::pull); tests expand them in place (Engine::expand_replays).
    struct PendingReplay {
        std::size_t at = 0;
        std::unique_ptr<Replay> replay;
    };
    std::vector<PendingReplay> replays;
    struct Query {
        QueryId id;
        std::string name;
        dns::RecordType type = dns::RecordType::txt; ///< TXT for keys; SPF asks for all five
    };
    std::vector<Query> queries;
    std::vector<QueryId> cancels;
    struct Deadline {
        MessageId message;
        std::uint32_t ms;
    };
    std::vector<Deadline> deadlines;
    std::vector<std::string> logs; ///< one key=value line each, for stderr
    /// smtpd's handshake just completed (config|ready): the shell logs its start-up line
    /// (filter/config/startup_line.hpp) with Engine::protocol() and Engine::smtpd_version().
    bool handshake_done = false;
};

/// The filter protocol version a smtpd release speaks ("6.8.0p2" -> "0.6", "7.4.0" -> "0.7";
/// "" when unknown), for the start-up line when smtpd does not send config|protocol (before 7.6).
std::string protocol_of_release(std::string_view release);

/// The pipeline's settings for messages of an engine (or Exim) with these options.
pipeline::Settings message_settings(const EngineOptions& opts, std::string authserv_id);

class Engine {
  public:
    explicit Engine(EngineOptions opts);
    ~Engine();

    /// One line from smtpd (without '\n'); `now` is UNIX time in seconds.
    void on_line(std::string_view line, std::uint64_t now, Actions& out);
    /// The answer to one of the queries in Actions::queries (of the type asked), handed to the
    /// message's pipeline by its own question id (filter/pipeline/message.hpp).
    void on_answer(QueryId id, const dns::Answer& answer, Actions& out);
    void on_deadline(MessageId id, Actions& out);

    /// Appends the next chunk (about `chunk` bytes of whole lines) of `r` to `data`. A failure
    /// on the way (an exception such as std::bad_alloc, or a spool read error) ends the message
    /// with its "." and defers it at commit (on_replay_failed). Returns false once r is done.
    bool pull(Replay& r, std::string& data, std::size_t chunk, Actions& out);
    /// The replay of message `id` could not be written whole: its commit gets the tempfail
    /// reply, never "proceed" (issue 15, class 5).
    void on_replay_failed(MessageId id, std::string_view reason, Actions& out);
    /// Writes every replay of `a` into a.output at its place (tests; memory as the old engine).
    void expand_replays(Actions& a);

    /// New options for messages that start from now on (SIGHUP); messages in flight keep theirs.
    void reconfigure(EngineOptions opts);

    bool ready() const { return ready_; }
    std::size_t sessions() const { return sessions_.size(); }
    std::size_t pending_queries() const { return queries_.size(); }
    const std::string& authserv_id() const { return authserv_id_; }
    /// The filter protocol smtpd speaks, as its handshake told it ("" before config|ready or
    /// when unknown): config|protocol (smtpd 7.6 on), else derived from config|smtpd-version.
    const std::string& protocol() const { return protocol_; }
    /// config|smtpd-version as smtpd wrote it (at most 64 bytes kept).
    const std::string& smtpd_version() const { return smtpd_version_; }
    /// The counters of every message finished since the engine started (filter/pipeline/stats.hpp).
    const pipeline::Stats& stats() const { return stats_; }

  private:
    struct Message;
    struct Session;

    void on_line_impl(std::string_view line, std::uint64_t now, Actions& out);
    void internal_error(std::string_view line, std::string_view why, Actions& out);
    void on_answer_impl(QueryId id, const dns::Answer& answer, Actions& out);
    void on_deadline_impl(MessageId id, Actions& out);
    void fail_by_id(MessageId id, std::string_view why, Actions& out);
    void on_ready(Actions& out);
    void on_commit(Session& s, std::string_view token, Actions& out);
    void on_tx_end(Session& s, std::string_view msgid, bool reset, Actions& out);
    void on_disconnect(std::string_view id, Actions& out);
    void on_data_line(
        Session& s, std::string_view token, std::string_view line, std::uint64_t now, Actions& out);
    void remember_data_line(std::string_view line, const DataLine& d, Session& s);
    void take_queries(Message& m, Actions& out);
    void cancel_queries(MessageId id, Actions& out);
    const std::shared_ptr<const pipeline::Settings>& settings();
    void arm_deadline(Message& m, Actions& out);
    void try_complete(Session& s, Actions& out);
    void complete(Session& s, Actions& out);
    void finish_message(Session& s, const Responder& data, Actions& out);
    void fail_message(Session& s, const Responder& data, std::string_view why, Actions& out);
    void answer_commit(Session& s, std::string_view token, Actions& out);
    void drop_message(Session& s, Actions& out);
    Session& session(const SessionRef& ref);
    Session* session_of_message(MessageId id);

    /// Shared with each message when it starts: a reload never changes a message in flight.
    std::shared_ptr<const EngineOptions> opts_;
    std::string authserv_id_;
    std::string admd_;          ///< smtpd's config|admd
    std::string protocol_;      ///< config|protocol, or derived at config|ready
    std::string smtpd_version_; ///< config|smtpd-version
    bool ready_ = false;
    std::map<std::string, Session, std::less<>> sessions_;
    Session* last_session_ = nullptr; ///< the session of the latest line (in sessions_)
    /// The latest data-line that went through decode(), as the two runs of bytes around its
    /// time field: "filter|VERSION|" and "|SUBSYSTEM|data-line|SESSION|TOKEN|", and its session
    /// (held only while every line since took this path: any other line clears it, so the
    /// session cannot have been erased). A line made of the same runs around any time field
    /// without '|' decodes to the same DataLine (see on_line_impl); empty when there is none.
    std::string data_head_, data_tail_;
    std::size_t data_token_ = 0; ///< where the token starts in data_tail_
    Session* data_session_ = nullptr;
    /// What the pipeline asks for, by the message's own query id.
    struct QueryRef {
        MessageId message;
        pipeline::QueryId local;
    };
    /// opts_ and authserv_id_ as the pipeline's settings (rebuilt when either changes).
    std::shared_ptr<const pipeline::Settings> settings_;
    /// The options settings_ was made from (held: a raw pointer could match new options
    /// allocated where freed ones were).
    std::shared_ptr<const EngineOptions> settings_source_;
    std::map<QueryId, QueryRef> queries_;
    std::map<MessageId, std::string> message_sessions_;
    QueryId next_query_ = 1;
    MessageId next_message_ = 1;
    pipeline::Stats stats_;
};

} // namespace arcf::filter
