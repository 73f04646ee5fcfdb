// SPDX-License-Identifier: ISC
// The one test driver of the pure smtpd engine (filter/smtpd/engine.hpp): it feeds protocol
// lines as smtpd writes them, records every query the engine asks (id, name, type, the session it
// is for, the order it was asked in), answers them from a callback, fires deadlines, expands the
// message replays in place and sorts the output back per session. No sockets, timers or clock:
// the engine tests, the transcript fault runner, the reliability tests and the engine fuzz
// target all drive the engine through it.
#pragma once

#include "dns/answer.hpp"
#include "filter/smtpd/engine.hpp"
#include "filter/smtpd/protocol.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace arcf::tests {

inline constexpr std::uint64_t engine_now = 1795918548;
inline const std::string engine_token = "e43f4b5e888d8c53";  ///< the data-line token
inline const std::string engine_commit = "e43f4b628180a9ae"; ///< the commit token

/// A session id as smtpd writes them (16 hex digits).
inline std::string session_id(unsigned n) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", 0x63df94b5u + n);
    return buf;
}

/// The config lines smtpd writes before the first session. `protocol` is the protocol version
/// smtpd 7.x announces (empty: none, as 6.8 writes them).
inline std::vector<std::string> handshake_lines(const std::string& smtpd_version = "6.8.0p2",
                                                const std::string& protocol = "",
                                                bool session_timeout = true) {
    std::vector<std::string> v{"config|smtpd-version|" + smtpd_version};
    if (!protocol.empty())
        v.push_back("config|protocol|" + protocol);
    if (session_timeout)
        v.push_back("config|smtp-session-timeout|300");
    for (const char* l :
         {"config|subsystem|smtp-in", "config|admd|mx.example.test", "config|ready"})
        v.emplace_back(l);
    return v;
}

/// One line as smtpd stores it: "." doubled at the start (RFC 5321 §4.5.2).
inline std::string dot_stuffed(const std::string& line) {
    return (!line.empty() && line[0] == '.') ? "." + line : line;
}

/// The message text smtpd stores from the data-lines (un-stuffed, up to "."), CRLF.
inline std::string stored(const std::vector<std::string>& datalines) {
    std::string m;
    for (const auto& l : datalines) {
        if (l == ".")
            break;
        m += (!l.empty() && l[0] == '.' ? l.substr(1) : l) + "\r\n";
    }
    return m;
}

/// The data-lines of `session` in a protocol output buffer, without the filter-dataline prefix.
inline std::vector<std::string> datalines_of(const std::string& out, const std::string& session) {
    std::vector<std::string> v;
    const std::string prefix = "filter-dataline|" + session + "|" + engine_token + "|";
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto nl = out.find('\n', pos);
        std::string line = out.substr(pos, nl - pos);
        if (line.rfind(prefix, 0) == 0)
            v.push_back(line.substr(prefix.size()));
        if (nl == std::string::npos)
            break;
        pos = nl + 1;
    }
    return v;
}

/// The session id of a "report|..." or "filter|..." line (its sixth field), or "".
inline std::string session_of_line(std::string_view line) {
    std::size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
        auto bar = line.find('|', pos);
        if (bar == std::string_view::npos)
            return {};
        pos = bar + 1;
    }
    return std::string(line.substr(pos, line.find('|', pos) - pos));
}

class EngineDriver {
  public:
    /// A query the engine asked.
    struct Query {
        filter::QueryId id = 0;
        dns::RecordType type = dns::RecordType::txt;
        std::string name;
        std::string session;   ///< the session whose line, answer or deadline led to it
        std::size_t index = 0; ///< 0-based, in the order the engine asked
    };
    /// What the driver saw a session send (read through the engine's own decoder).
    struct SessionInput {
        std::size_t requests = 0; ///< filter requests other than data-line (each needs a result)
        std::size_t dots = 0;     ///< ends of data
        bool modern = false;      ///< some line said protocol 0.7 or later
        bool dropped = false;     ///< tx-reset, tx-rollback or link-disconnect was seen
        bool ancient = false;     ///< some line said protocol 0.4 (token first in responses)
    };
    /// What came out for one session.
    struct SessionOutput {
        std::vector<std::string> datalines; ///< in order, "." included
        std::vector<std::string> results;   ///< "proceed" or "reject|..."
    };
    using Resolver = std::function<dns::Answer(const Query&)>;
    /// A static DNS: (type, name) -> answer.
    using Zone = std::map<std::pair<dns::RecordType, std::string>, dns::Answer>;
    /// The answer `zone` has for (t, name); NXDOMAIN (with `nx_text`) when it has none.
    static dns::Answer lookup(const Zone& zone,
                              dns::RecordType t,
                              const std::string& name,
                              const char* nx_text = "NXDOMAIN") {
        auto it = zone.find({t, name});
        return it != zone.end() ? it->second : dns::Answer::failed(dns::Status::nxdomain, nx_text);
    }
    /// A resolver answering from `zone` (which must outlive it).
    static Resolver from_zone(const Zone& zone, const char* nx_text = "NXDOMAIN") {
        return [&zone, nx_text](const Query& q) { return lookup(zone, q.type, q.name, nx_text); };
    }

    /// Feeds `handshake` (none when empty) before anything else.
    explicit EngineDriver(filter::EngineOptions o, const std::vector<std::string>& handshake = {})
        : engine(std::move(o)) {
        for (const auto& l : handshake)
            feed(l);
    }
    EngineDriver(const EngineDriver&) = delete;
    EngineDriver& operator=(const EngineDriver&) = delete;

    filter::Engine engine;
    std::string version = "0.6";
    std::map<filter::QueryId, std::string> outstanding; ///< id -> name, unanswered
    std::map<filter::QueryId, Query> queries;           ///< every query asked, by id
    std::vector<filter::MessageId> deadlines;           ///< every deadline asked, in order
    std::map<filter::MessageId, std::string> deadline_session;
    std::vector<std::string> logs;
    std::vector<std::string> problems; ///< cancels of unknown queries, reused query ids
    std::string output;                ///< everything written, replays expanded
    std::size_t requests = 0;          ///< filter requests fed that need a filter-result
    std::map<std::string, SessionInput, std::less<>> inputs;
    /// Called for each new query as it is recorded (e.g. to hold one back).
    std::function<void(const Query&)> on_query;
    /// Called with the actions of each step before the driver records them (checks that need
    /// the state before, e.g. "a cancel is for an outstanding query").
    std::function<void(const filter::Actions&)> on_actions;

    /// Feeds one protocol line; returns its actions, replays expanded into their output.
    filter::Actions feed(const std::string& line) {
        note_input(line);
        filter::Actions a;
        engine.on_line(line, engine_now, a);
        take(a, session_of_line(line));
        return a;
    }
    /// Feeds lines as one batch (one read of the shell): their actions are collected together,
    /// so a query started and dropped within the batch is withdrawn, never asked.
    filter::Actions feed_batch(const std::vector<std::string>& lines) {
        filter::Actions a;
        for (const auto& l : lines) {
            note_input(l);
            engine.on_line(l, engine_now, a);
        }
        take(a, lines.empty() ? std::string() : session_of_line(lines.front()));
        return a;
    }
    /// Feeds the config lines (see handshake_lines).
    filter::Actions handshake(const std::vector<std::string>& lines = handshake_lines()) {
        filter::Actions all;
        for (const auto& l : lines) {
            auto a = feed(l);
            all.output += a.output;
        }
        return all;
    }
    filter::Actions answer(filter::QueryId id, const dns::Answer& ans) {
        outstanding.erase(id);
        filter::Actions a;
        engine.on_answer(id, ans, a);
        auto q = queries.find(id);
        take(a, q == queries.end() ? std::string() : q->second.session);
        return a;
    }
    /// Answers every outstanding query from `resolve`, oldest first, until none is left.
    void answer_all(const Resolver& resolve) {
        while (!outstanding.empty()) {
            auto id = outstanding.begin()->first;
            answer(id, resolve(queries.at(id)));
        }
    }
    /// Answers the queries of `a` (and those the answers lead to) from `resolve` (default:
    /// NXDOMAIN, SPF "none"), adding what comes out to `a`. Returns how many were answered.
    std::size_t settle(filter::Actions& a, const Resolver& resolve = nxdomain) {
        std::size_t i = 0;
        for (; i < a.queries.size(); ++i) {
            const auto& q = a.queries[i];
            auto known = queries.find(q.id);
            // Queries of actions the caller collected from the engine directly are not recorded.
            Query x = known != queries.end() ? known->second : Query{q.id, q.type, q.name, {}, 0};
            merge(a, answer(q.id, resolve(x)));
        }
        return i;
    }
    filter::Actions deadline(filter::MessageId id) {
        filter::Actions a;
        engine.on_deadline(id, a);
        auto s = deadline_session.find(id);
        take(a, s == deadline_session.end() ? std::string() : s->second);
        return a;
    }
    /// Records actions the caller got from the engine directly (e.g. a stale answer).
    void absorb(filter::Actions& a, const std::string& session = {}) { take(a, session); }
    static dns::Answer nxdomain(const Query&) {
        return dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN");
    }

    // ---- lines as smtpd writes them (protocol `version`) ----
    std::string report_line(const std::string& s, const std::string& rest) const {
        auto bar = rest.find('|');
        return "report|" + version + "|1795918548.1|smtp-in|" + rest.substr(0, bar) + "|" + s +
               (bar == std::string::npos ? "" : rest.substr(bar));
    }
    /// A data-line carrying `line` as is (already dot-stuffed).
    std::string data_line(const std::string& s, const std::string& line) const {
        return "filter|" + version + "|1795918548.573631|smtp-in|data-line|" + s + "|" +
               engine_token + "|" + line;
    }
    std::string commit_line(const std::string& s) const {
        return "filter|" + version + "|1795918548.6|smtp-in|commit|" + s + "|" + engine_commit +
               "|";
    }

    // ---- feeding them ----
    filter::Actions report(const std::string& s, const std::string& rest) {
        return feed(report_line(s, rest));
    }
    /// One message line (dot-stuffed here).
    filter::Actions data(const std::string& s, const std::string& line) {
        return feed(data_line(s, dot_stuffed(line)));
    }
    filter::Actions end_data(const std::string& s) { return feed(data_line(s, ".")); }
    /// A message's lines (dot-stuffed here) and the final "."; all their actions.
    filter::Actions message(const std::string& s, const std::vector<std::string>& lines) {
        std::vector<std::string> stuffed;
        for (const auto& l : lines)
            stuffed.push_back(dot_stuffed(l));
        return message_stuffed(s, stuffed);
    }
    /// A message's lines, already dot-stuffed, and the final "."; all their actions.
    filter::Actions message_stuffed(const std::string& s, const std::vector<std::string>& lines) {
        std::vector<std::string> batch;
        for (const auto& l : lines)
            batch.push_back(data_line(s, l));
        batch.push_back(data_line(s, "."));
        return feed_batch(batch);
    }
    filter::Actions commit(const std::string& s) { return feed(commit_line(s)); }
    void connect(const std::string& s, const std::string& ip = "192.0.2.7") {
        report(s, "link-connect|client.example|pass|" + ip + ":59658|127.0.0.1:25");
        report(s, "tx-begin|35163a36");
        report(s, "tx-mail|35163a36|ok|<sender@example.org>");
        report(s, "tx-rcpt|35163a36|ok|<rcpt@example.test>");
    }
    void disconnect(const std::string& s) { report(s, "link-disconnect"); }

    // ---- reading the output ----
    /// Everything written so far for session `s`.
    SessionOutput output_of(const std::string& s) const {
        SessionOutput o;
        const std::string dl = "filter-dataline|" + s + "|" + engine_token + "|";
        const std::string fr = "filter-result|" + s + "|" + engine_commit + "|";
        for_each_line([&](const std::string& line) {
            if (line.rfind(dl, 0) == 0)
                o.datalines.push_back(line.substr(dl.size()));
            else if (line.rfind(fr, 0) == 0)
                o.results.push_back(line.substr(fr.size()));
        });
        return o;
    }
    /// Every output line is a register, filter-result or filter-dataline line.
    bool well_formed(std::string* bad = nullptr) const {
        if (!output.empty() && output.back() != '\n') {
            if (bad)
                *bad = "unterminated last line";
            return false;
        }
        bool ok = true;
        for_each_line([&](const std::string& line) {
            if (ok && line.rfind("register|", 0) != 0 && line.rfind("filter-result|", 0) != 0 &&
                line.rfind("filter-dataline|", 0) != 0) {
                if (bad)
                    *bad = line;
                ok = false;
            }
        });
        return ok;
    }
    std::size_t results_total() const {
        std::size_t n = 0;
        for_each_line([&](const std::string& line) { n += line.rfind("filter-result|", 0) == 0; });
        return n;
    }

  private:
    static void merge(filter::Actions& all, const filter::Actions& a) {
        all.output += a.output;
        all.queries.insert(all.queries.end(), a.queries.begin(), a.queries.end());
        all.cancels.insert(all.cancels.end(), a.cancels.begin(), a.cancels.end());
        all.deadlines.insert(all.deadlines.end(), a.deadlines.begin(), a.deadlines.end());
        all.logs.insert(all.logs.end(), a.logs.begin(), a.logs.end());
    }

    template <class F>
    void for_each_line(F&& f) const {
        std::size_t pos = 0;
        while (pos < output.size()) {
            auto nl = output.find('\n', pos);
            if (nl == std::string::npos)
                break;
            f(output.substr(pos, nl - pos));
            pos = nl + 1;
        }
    }

    /// Reads `line` through the engine's own decoder: a malformed line is no request and no
    /// session.
    void note_input(std::string_view line) {
        const filter::Event ev = filter::decode(line);
        auto s = filter::session_of(ev);
        if (!s)
            return;
        auto& in = inputs[std::string(s->id)];
        if (filter::max_output_line(s->version) == filter::output_line)
            in.modern = true;
        if (s->version < filter::Version{0, 5})
            in.ancient = true;
        if (std::holds_alternative<filter::TxReset>(ev) ||
            std::holds_alternative<filter::TxRollback>(ev) ||
            std::holds_alternative<filter::LinkDisconnect>(ev))
            in.dropped = true;
        if (std::holds_alternative<filter::Commit>(ev) ||
            std::holds_alternative<filter::OtherFilter>(ev)) {
            ++in.requests;
            ++requests;
        }
        if (auto* d = std::get_if<filter::DataLine>(&ev); d && d->line == ".")
            ++in.dots;
    }

    void take(filter::Actions& a, const std::string& session) {
        if (on_actions)
            on_actions(a);
        for (auto id : a.cancels)
            if (outstanding.erase(id) == 0)
                problems.push_back("cancel of a query not outstanding: " + std::to_string(id));
        for (const auto& q : a.queries) {
            if (queries.count(q.id) != 0)
                problems.push_back("query id reused: " + std::to_string(q.id));
            Query x{q.id, q.type, q.name, session, next_index_++};
            outstanding[q.id] = q.name;
            queries[q.id] = x;
            if (on_query)
                on_query(x);
        }
        for (const auto& d : a.deadlines) {
            deadlines.push_back(d.message);
            deadline_session[d.message] = session;
        }
        logs.insert(logs.end(), a.logs.begin(), a.logs.end());
        engine.expand_replays(a);
        output += a.output;
    }

    std::size_t next_index_ = 0;
};

} // namespace arcf::tests
