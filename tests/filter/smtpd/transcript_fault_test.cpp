// SPDX-License-Identifier: ISC
// Recorded smtpd transcripts (protocol 0.6 as smtpd 6.8 speaks it, and 0.7) replayed through the
// engine's public API, first with every DNS query answered from a zone, then once more for every
// query k with query k answered temporary (SERVFAIL), NXDOMAIN, malformed (garbage or a record
// of the wrong shape) or left to the message deadline (issue 16, "Done when").
//
// Every run checks: each filter request (the data-line "." and each commit) is answered exactly
// once and in order; the message comes back as the input plus our header fields and proceeds,
// or comes back unchanged and is deferred (the tempfail reply) — deferred exactly when the
// injected fault is temporary (RFC 8617 §5.2, RFC 7208 §2.6.6, RFC 6376 §6.1.2, RFC 7489
// §6.6.3: a temporary DNS failure of a lookup the verdict needs is a temperror), never for
// NXDOMAIN or a malformed record (permanent: a verdict, not a retry); after the last
// link-disconnect no session and no query is left.
#include "arc/seal.hpp"
#include "filter/smtpd/engine.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"
#include "tests/support/engine_driver.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mail/base64.hpp"
#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/header.hpp"

using namespace arcf;
using filter::Actions;
using filter::Engine;

namespace {

const std::string& TOK = tests::engine_token;
const std::string& COMMIT = tests::engine_commit;
const std::string TEMPFAIL = "451 4.7.0 try again later";

// ---- the DNS of the test: keys, SPF and DMARC records -------------------------------------

struct Signer {
    std::string domain;
    std::string selector = "s1";
    std::shared_ptr<arc::SealKey> key;
    explicit Signer(std::string d)
        : domain(std::move(d)), key(std::make_shared<arc::SealKey>(
                                    arc::SealKey{domain, selector, tests::make_ed25519_key()})) {}
    std::string dns_name() const { return selector + "._domainkey." + domain; }
    std::string record() const { return tests::key_record(key->key); }
};

using Zone = tests::EngineDriver::Zone;

struct World {
    Signer a{"a.example"}, b{"b.example"}, c{"c.example"};
    Signer author{"example.org"};  ///< DKIM signer of the From domain
    Signer receiver{"mx.example"}; ///< the filter under test seals with this
    Zone zone;
    World() {
        for (const Signer* s : {&a, &b, &c, &author, &receiver})
            zone[{dns::RecordType::txt, s->dns_name()}] = dns::Answer::found({s->record()});
        // SPF (RFC 7208): 192.0.2.7 passes; the "a" mechanism costs one more lookup.
        zone[{dns::RecordType::txt, "example.org"}] =
            dns::Answer::found({"v=spf1 ip4:192.0.2.7 -all"});
        zone[{dns::RecordType::txt, "relay.example.net"}] = dns::Answer::found({"v=spf1 a -all"});
        zone[{dns::RecordType::a, "relay.example.net"}] = dns::Answer::found({"192.0.2.8"});
        // DMARC (RFC 7489) p=none: a failure is recorded, never a reject at commit.
        zone[{dns::RecordType::txt, "_dmarc.example.org"}] =
            dns::Answer::found({"v=DMARC1; p=none"});
    }
    dns::Answer lookup(dns::RecordType t, const std::string& name) const {
        return tests::EngineDriver::lookup(zone, t, name);
    }
};

World& world() {
    static World w;
    return w;
}

// ---- messages ---------------------------------------------------------------------------

const std::vector<std::string> plain = {
    "From: Sender <sender@example.org>",
    "To: arctest@example.test",
    "Subject: transcript fault test",
    "Message-ID: <t1@example.org>",
    "Date: Sun, 29 Nov 2026 02:00:00 +0000",
    "",
    "first body line",
    ".leading dot line",
    "pipe|inside|line",
    "trailing spaces   ",
    "",
};

std::string crlf_text(const std::vector<std::string>& lines) {
    std::string t;
    for (const auto& l : lines)
        t += l + "\r\n";
    return t;
}

// A relaxed/relaxed DKIM-Signature (RFC 6376 §3.5) by `s` over From and Subject, on top.
std::vector<std::string> dkim_signed(const std::vector<std::string>& lines, const Signer& s) {
    std::string msg = crlf_text(lines);
    auto split = mail::split_message(msg);
    mail::BodyHasher bh(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { bh.add_line(l); });
    auto d = bh.finish();
    std::string field =
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=" + s.domain +
        "; s=" + s.selector + "; h=from:subject; bh=" +
        mail::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())) +
        "; b=";
    std::string data;
    for (const char* name : {"from", "subject"})
        for (std::size_t k = split.headers.size(); k-- > 0;)
            if (split.headers[k].is(name)) {
                mail::append_canon_header(data, mail::Canon::relaxed, split.headers[k].raw());
                break;
            }
    mail::append_canon_header(data, mail::Canon::relaxed, field, false);
    auto sig = s.key->key.sign(mail::sha256(data));
    REQUIRE(sig);
    std::vector<std::string> out{field + mail::base64_encode(*sig)};
    out.insert(out.end(), lines.begin(), lines.end());
    return out;
}

// `lines` with one ARC set added by `s`, as a forwarder's engine (our own, with the zone's
// keys) stores it.
std::vector<std::string> sealed(const std::vector<std::string>& lines, const Signer& s) {
    filter::EngineOptions o;
    o.policy.keys[s.domain] = s.key;
    o.policy.default_domain = s.domain;
    o.authserv_id = "mx." + s.domain;
    o.auth.spf = o.auth.dkim = o.auth.dmarc = false;
    tests::EngineDriver d(o, tests::handshake_lines("6.8.0p2", "", false));
    const std::string sid = "00000000000000aa";
    auto a = d.message(sid, lines);
    d.settle(a, [](const tests::EngineDriver::Query& q) { return world().lookup(q.type, q.name); });
    std::vector<std::string> out;
    for (const auto& l : tests::datalines_of(a.output, sid)) {
        if (l == ".")
            break;
        out.push_back(!l.empty() && l[0] == '.' ? l.substr(1) : l);
    }
    REQUIRE(out.size() > lines.size());
    REQUIRE(out[0].rfind("ARC-Seal:", 0) == 0);
    return out;
}

// ---- transcripts ------------------------------------------------------------------------

/// One smtpd session of a transcript: who connects, and its messages.
struct SessionSpec {
    std::string id;
    std::string ip = "192.0.2.7";
    std::string helo = "client.example.org";
    std::string mail_from = "sender@example.org";
    std::vector<std::vector<std::string>> messages; ///< as the client sent them (not stuffed)
    /// Lines of a first transaction aborted mid-DATA (tx-rollback, tx-reset), before the rest.
    std::vector<std::string> aborted;
};

/// The event stream of a transcript: protocol lines, plus the place of each commit (the
/// commit request and what smtpd reports after it depend on our answer).
struct Event {
    enum Kind { line, commit } kind = line;
    std::string text;    ///< the protocol line
    std::string session; ///< for commit
    std::string msgid;   ///< for commit
};

struct Transcript {
    std::string name;
    std::string version;
    std::vector<SessionSpec> sessions;
    bool interleave = false; ///< sessions' lines alternate one by one (else one after another)
    std::vector<Event> events;
    std::size_t commits = 0;
    /// Found in the added fields (unfolded) when every answer is right: the verdicts the
    /// transcript is about.
    std::vector<std::string> expect = {};
};

std::string report(const std::string& v,
                   const std::string& s,
                   const std::string& event,
                   const std::string& params = "") {
    return "report|" + v + "|1795918548.100000|smtp-in|" + event + "|" + s +
           (params.empty() ? "" : "|" + params);
}

std::string data_line(const std::string& v, const std::string& s, const std::string& l) {
    return "filter|" + v + "|1795918548.500000|smtp-in|data-line|" + s + "|" + TOK + "|" + l;
}

// The events of one session, in the order smtpd 6.8 sends them (notes §3, §9): the data-lines
// start with smtpd's own Received: field, and tx-data arrives after the first data-lines.
std::vector<Event> session_events(const std::string& v, const SessionSpec& s) {
    std::vector<Event> ev;
    auto L = [&](std::string t) { ev.push_back({Event::line, std::move(t), {}, {}}); };
    L(report(v, s.id, "link-connect", "client.example|pass|" + s.ip + ":59658|127.0.0.1:25"));
    L(report(v, s.id, "link-greeting", "mx.example.test"));
    L(report(v, s.id, "link-identify", "EHLO|" + s.helo));
    // link-auth changed order in 0.7 (notes §1): a failed AUTH still leaves SPF to run.
    L(report(v, s.id, "link-auth", v == "0.6" ? "alice|fail" : "fail|alice"));
    int n = 0;
    auto transaction = [&](const std::vector<std::string>& lines, bool abort) {
        std::string msgid = "3516" + std::to_string(1000 + n++);
        L(report(v, s.id, "tx-begin", msgid));
        L(report(v, s.id, "tx-mail", msgid + "|ok|" + s.mail_from));
        L(report(v, s.id, "tx-rcpt", msgid + "|ok|arctest@example.test"));
        L(report(v, s.id, "tx-envelope", msgid + "|" + msgid + "864cd00b"));
        std::vector<std::string> body = {
            "Received: from " + s.helo + " (client.example [" + s.ip + "])",
            "\tby mx.example.test (OpenSMTPD) with ESMTP id " + msgid,
            "\tfor <arctest@example.test>;", "\tSun, 29 Nov 2026 02:15:48 +0000 (UTC)"};
        body.insert(body.end(), lines.begin(), lines.end());
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (i == 2)
                L(report(v, s.id, "tx-data", msgid + "|ok"));
            L(data_line(v, s.id, !body[i].empty() && body[i][0] == '.' ? "." + body[i] : body[i]));
        }
        if (abort) {
            L(report(v, s.id, "tx-rollback", msgid));
            L(report(v, s.id, "tx-reset", msgid));
            return;
        }
        L(data_line(v, s.id, "."));
        ev.push_back({Event::commit, {}, s.id, msgid});
    };
    if (!s.aborted.empty())
        transaction(s.aborted, true);
    for (const auto& m : s.messages)
        transaction(m, false);
    L(report(v, s.id, "link-disconnect"));
    return ev;
}

Transcript make(std::string name,
                std::string version,
                std::vector<SessionSpec> sessions,
                bool interleave = false) {
    Transcript t{std::move(name), std::move(version), std::move(sessions), interleave, {}, 0, {}};
    std::vector<std::vector<Event>> per;
    for (const auto& s : t.sessions) {
        per.push_back(session_events(t.version, s));
        t.commits += s.messages.size();
    }
    if (!interleave) {
        for (auto& p : per)
            t.events.insert(t.events.end(), p.begin(), p.end());
    } else {
        for (std::size_t k = 0;; ++k) {
            bool any = false;
            for (auto& p : per)
                if (k < p.size()) {
                    t.events.push_back(p[k]);
                    any = true;
                }
            if (!any)
                break;
        }
    }
    return t;
}

const std::vector<std::string>& one_set() {
    static auto m = sealed(plain, world().a);
    return m;
}
const std::vector<std::string>& two_sets() {
    static auto m = sealed(one_set(), world().b);
    return m;
}
const std::vector<std::string>& three_sets() {
    static auto m = sealed(two_sets(), world().c);
    return m;
}

std::vector<Transcript> transcripts() {
    const std::string S1 = "63df94b518cddfac", S2 = "63df94cb4d35e174";
    std::vector<Transcript> ts;
    for (const std::string v : {"0.6", "0.7"}) {
        ts.push_back(
            make("plain", v,
                 {{S1, "192.0.2.7", "client.example.org", "sender@example.org", {plain}, {}}}));
        ts.back().expect = {"arc=none", "spf=pass smtp.mailfrom=sender@example.org", "dmarc=pass"};
        ts.push_back(
            make("one set", v,
                 {{S1, "192.0.2.7", "client.example.org", "sender@example.org", {one_set()}, {}}}));
        ts.back().expect = {"ARC-Seal: i=2;", "cv=pass", "arc=pass"};
        ts.push_back(make(
            "two sets", v,
            {{S1, "192.0.2.7", "client.example.org", "sender@example.org", {two_sets()}, {}}}));
        ts.back().expect = {"ARC-Seal: i=3;", "cv=pass", "arc=pass"};
        ts.push_back(make(
            "three sets", v,
            {{S1, "192.0.2.7", "client.example.org", "sender@example.org", {three_sets()}, {}}}));
        ts.back().expect = {"ARC-Seal: i=4;", "cv=pass", "arc=pass"};
        ts.push_back(make("DKIM-signed", v,
                          {{S1,
                            "192.0.2.7",
                            "client.example.org",
                            "sender@example.org",
                            {dkim_signed(plain, world().author)},
                            {}}}));
        ts.back().expect = {"dkim=pass header.d=example.org", "spf=pass", "dmarc=pass"};
        ts.push_back(
            make("SPF fail", v,
                 {{S1, "198.51.100.9", "client.example.org", "sender@example.org", {plain}, {}}}));
        ts.back().expect = {"spf=fail smtp.mailfrom=sender@example.org", "dmarc=fail"};
        ts.push_back(make(
            "SPF pass through the a mechanism (two lookups)", v,
            {{S1, "192.0.2.8", "relay.example.net", "bounce@relay.example.net", {one_set()}, {}}}));
        ts.back().expect = {"spf=pass smtp.mailfrom=bounce@relay.example.net", "arc=pass"};
        ts.push_back(
            make("two sessions interleaved", v,
                 {{S1, "192.0.2.7", "client.example.org", "sender@example.org", {two_sets()}, {}},
                  {S2,
                   "198.51.100.9",
                   "other.example.org",
                   "sender@example.org",
                   {dkim_signed(plain, world().author)},
                   {}}},
                 true));
        ts.back().expect = {"ARC-Seal: i=3;", "cv=pass", "dkim=pass header.d=example.org",
                            "spf=fail"};
        // A transaction aborted mid-DATA after its header block (its key lookup already out),
        // then two messages in the same session.
        std::vector<std::string> part(one_set().begin(), one_set().end() - 3);
        ts.push_back(make("tx-reset mid-way", v,
                          {{S1,
                            "192.0.2.7",
                            "client.example.org",
                            "sender@example.org",
                            {two_sets(), plain},
                            part}}));
        ts.back().expect = {"ARC-Seal: i=3;", "cv=pass", "ARC-Seal: i=1;", "arc=none"};
    }
    return ts;
}

// ---- the driver -------------------------------------------------------------------------

enum class Fault { none, temporary, nxdomain, garbage, wrong_type, deadline };

const char* to_string(Fault f) {
    switch (f) {
    case Fault::none:
        return "none";
    case Fault::temporary:
        return "temporary (SERVFAIL)";
    case Fault::nxdomain:
        return "NXDOMAIN";
    case Fault::garbage:
        return "malformed (garbage)";
    case Fault::wrong_type:
        return "malformed (record of the wrong shape)";
    case Fault::deadline:
        return "left to the deadline";
    }
    return "?";
}

dns::Answer faulty(Fault f, dns::RecordType t) {
    switch (f) {
    case Fault::temporary:
        return dns::Answer::failed(dns::Status::temporary, "SERVFAIL");
    case Fault::nxdomain:
        return dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN");
    case Fault::garbage:
        return dns::Answer::found({"\x01\x7f garbage;;; p=!!==; v=; ;"});
    case Fault::wrong_type:
        // What another type's RDATA would read as: an address for TXT/MX/PTR, an MX for A/AAAA.
        return dns::Answer::found({t == dns::RecordType::a || t == dns::RecordType::aaaa
                                       ? "10 mx.example.org"
                                       : "192.0.2.1"});
    default:
        return dns::Answer::failed(dns::Status::temporary, "unused");
    }
}

/// What one run produced, per session: the output in order ("D:<data-line>", "R:<result>").
struct Run {
    std::map<std::string, std::vector<std::string>> out;
    std::vector<std::string> logs;
    std::vector<std::string> problems;
    std::size_t queries = 0;
    std::optional<std::string> faulted_name;
    bool deadline_fired = false;
};

/// The shared engine driver (tests/support/engine_driver.hpp) running a transcript: the network
/// answers from the zone, query k with the fault.
class Driver {
  public:
    using Query = tests::EngineDriver::Query;

    Driver(const Transcript& t, std::size_t k, Fault f)
        : t_(t), k_(k), fault_(f),
          d_(opts(),
             tests::handshake_lines(t.version == "0.6" ? "6.8.0p2" : "7.6.0p1",
                                    t.version == "0.6" ? "" : t.version)) {
        d_.version = t.version;
        d_.on_query = [this](const Query& q) {
            if (q.index == k_ && fault_ == Fault::deadline) {
                run_.faulted_name = std::string(dns::to_string(q.type)) + " " + q.name;
                held_ = q.id;
                held_session_ = q.session;
            }
        };
        d_.on_actions = [this](const Actions& a) {
            for (auto id : a.cancels)
                if (held_ && *held_ == id) {
                    held_.reset(); // withdrawn with its message: nothing left to fault
                    run_.faulted_name.reset();
                }
        };
        sync();
    }

    static filter::EngineOptions opts() {
        filter::EngineOptions o;
        o.policy.keys[world().receiver.domain] = world().receiver.key;
        o.policy.default_domain = world().receiver.domain;
        o.tempfail_reply = TEMPFAIL;
        return o;
    }

    Run run() {
        for (const auto& e : t_.events) {
            if (e.kind == Event::line) {
                feed(e.text);
                continue;
            }
            // smtpd sends the commit only after our "." (notes §0): resolve DNS until then.
            while (!released(e.session))
                if (!step()) {
                    run_.problems.push_back("session " + e.session +
                                            ": nothing left to do and the message not released");
                    break;
                }
            std::size_t n_before = results(e.session);
            feed(d_.commit_line(e.session));
            bool ok = results(e.session) == n_before + 1 && last_result(e.session) == "proceed";
            if (ok) {
                feed(report(t_.version, e.session, "tx-commit", e.msgid + "|2665"));
            } else {
                feed(report(t_.version, e.session, "tx-rollback", e.msgid));
            }
            feed(report(t_.version, e.session, "tx-reset", e.msgid));
        }
        // Answers (or deadlines) still due after the last disconnect change nothing.
        while (step()) {
        }
        run_.queries = d_.queries.size();
        run_.logs = d_.logs;
        run_.problems.insert(run_.problems.end(), d_.problems.begin(), d_.problems.end());
        return std::move(run_);
    }

    const Engine& engine() const { return d_.engine; }

  private:
    void feed(const std::string& line) {
        d_.feed(line);
        sync();
    }

    /// One step of the network: the oldest outstanding query is answered (query k with the
    /// fault), or, when only the held query is left, its message's deadline fires.
    bool step() {
        for (const auto& [id, name] : d_.outstanding) {
            if (held_ && *held_ == id)
                continue;
            const Query q = d_.queries.at(id);
            dns::Answer ans = world().lookup(q.type, q.name);
            if (q.index == k_ && fault_ != Fault::none) {
                run_.faulted_name = std::string(dns::to_string(q.type)) + " " + q.name;
                ans = faulty(fault_, q.type);
            }
            d_.answer(q.id, ans);
            sync();
            return true;
        }
        if (held_) {
            // RFC 8617 §5.2 / RFC 7208 §2.6.6: a missing answer at the deadline is temporary.
            auto session = held_session_;
            held_.reset();
            run_.deadline_fired = true;
            const std::size_t asked = d_.deadlines.size(); // not those the firing asks
            for (std::size_t i = 0; i < asked; ++i) {
                auto id = d_.deadlines[i];
                if (d_.deadline_session[id] == session && fired_.insert(i).second) {
                    d_.deadline(id);
                    sync();
                }
            }
            return true;
        }
        return false;
    }

    /// Sorts the driver's new output into run_.out per session, noting lines smtpd would refuse.
    void sync() {
        const std::string& out = d_.output;
        while (parsed_ < out.size()) {
            auto nl = out.find('\n', parsed_);
            if (nl == std::string::npos) {
                run_.problems.push_back("unterminated output line");
                parsed_ = out.size();
                break;
            }
            std::string l = out.substr(parsed_, nl - parsed_);
            parsed_ = nl + 1;
            if (l.rfind("register|", 0) == 0)
                continue;
            const std::string dl = "filter-dataline|", fr = "filter-result|";
            bool is_dl = l.rfind(dl, 0) == 0, is_fr = l.rfind(fr, 0) == 0;
            if (!is_dl && !is_fr) {
                run_.problems.push_back("a line smtpd does not accept: " + l.substr(0, 120));
                continue;
            }
            std::string rest = l.substr(is_dl ? dl.size() : fr.size());
            std::string s = rest.substr(0, 16);
            std::string tok = rest.size() >= 34 ? rest.substr(17, 16) : "";
            if (rest.size() < 34 || rest[16] != '|' || rest[33] != '|' ||
                tok != (is_dl ? TOK : COMMIT)) {
                run_.problems.push_back("bad session/token fields: " + l.substr(0, 120));
                continue;
            }
            run_.out[s].push_back((is_dl ? "D:" : "R:") + rest.substr(34));
        }
    }

    bool released(const std::string& s) const {
        // As many "." back as commits the session has had, plus this message's.
        std::size_t dots = 0, res = 0;
        auto it = run_.out.find(s);
        if (it != run_.out.end())
            for (const auto& l : it->second) {
                dots += l == "D:.";
                res += l.rfind("R:", 0) == 0;
            }
        return dots > res;
    }
    std::size_t results(const std::string& s) const {
        std::size_t n = 0;
        auto it = run_.out.find(s);
        if (it != run_.out.end())
            for (const auto& l : it->second)
                n += l.rfind("R:", 0) == 0;
        return n;
    }
    std::string last_result(const std::string& s) const {
        auto it = run_.out.find(s);
        if (it != run_.out.end())
            for (auto r = it->second.rbegin(); r != it->second.rend(); ++r)
                if (r->rfind("R:", 0) == 0)
                    return r->substr(2);
        return {};
    }

    const Transcript& t_;
    std::size_t k_;
    Fault fault_;
    Run run_;
    tests::EngineDriver d_;
    std::optional<filter::QueryId> held_;
    std::string held_session_;
    std::set<std::size_t> fired_; ///< indices in d_.deadlines that fired
    std::size_t parsed_ = 0;
};

/// What each message of a session became: its data-lines (un-stuffed, "." excluded) and its
/// commit answer.
struct Outcome {
    std::vector<std::string> lines;
    std::string result;
};

/// Splits a session's output into messages; adds a problem when a "." is not followed by
/// exactly one result before the next message's lines, or a result comes without a ".".
std::vector<Outcome> outcomes(const std::vector<std::string>& out,
                              std::vector<std::string>& problems,
                              const std::string& s) {
    std::vector<Outcome> v;
    Outcome cur;
    bool ended = false;
    for (const auto& l : out) {
        if (l.rfind("D:", 0) == 0) {
            if (ended) {
                problems.push_back(s + ": data-lines after a \".\" without a commit answer");
                v.push_back(cur);
                cur = {};
                ended = false;
            }
            if (l == "D:.")
                ended = true;
            else
                cur.lines.push_back(l.substr(2));
        } else {
            if (!ended) {
                problems.push_back(s + ": a commit answer before the message's \".\": " + l);
                continue;
            }
            cur.result = l.substr(2);
            v.push_back(cur);
            cur = {};
            ended = false;
        }
    }
    if (ended || !cur.lines.empty())
        problems.push_back(s + ": a message without a commit answer");
    return v;
}

bool is_added(const std::string& l, bool first) {
    if (!first && !l.empty() && (l[0] == ' ' || l[0] == '\t'))
        return true;
    for (const char* n : {"ARC-Seal:", "ARC-Message-Signature:", "ARC-Authentication-Results:",
                          "Authentication-Results:"})
        if (l.rfind(n, 0) == 0)
            return true;
    return false;
}

/// Checks one run against the transcript. Returns the problems found (empty: all good) and
/// whether any message was deferred.
std::vector<std::string>
check_run(const Transcript& t, Run& r, const Engine& e, Fault f, std::size_t* deferred) {
    auto problems = r.problems;
    *deferred = 0;
    for (const auto& spec : t.sessions) {
        auto msgs = outcomes(r.out[spec.id], problems, spec.id);
        if (msgs.size() != spec.messages.size()) {
            problems.push_back(spec.id + ": " + std::to_string(msgs.size()) +
                               " messages answered, " + std::to_string(spec.messages.size()) +
                               " committed");
            continue;
        }
        for (std::size_t i = 0; i < msgs.size(); ++i) {
            // The data-lines as smtpd sent them, its Received: field first (still stuffed).
            const auto& in = spec.messages[i];
            const auto& got = msgs[i].lines;
            std::size_t body = in.size() + 4;
            if (got.size() < body) {
                problems.push_back(spec.id + " message " + std::to_string(i) + ": lines lost");
                continue;
            }
            std::size_t added = got.size() - body;
            for (std::size_t j = 0; j < in.size(); ++j) {
                std::string want = !in[j].empty() && in[j][0] == '.' ? "." + in[j] : in[j];
                if (got[added + 4 + j] != want) {
                    problems.push_back(spec.id + " message " + std::to_string(i) +
                                       ": line changed: " + got[added + 4 + j]);
                    break;
                }
            }
            for (std::size_t j = 0; j < added; ++j)
                if (!is_added(got[j], j == 0)) {
                    problems.push_back(spec.id + " message " + std::to_string(i) +
                                       ": not one of our fields: " + got[j]);
                    break;
                }
            const auto& res = msgs[i].result;
            if (res == "proceed") {
                if (added == 0)
                    problems.push_back(spec.id + " message " + std::to_string(i) +
                                       ": accepted without our Authentication-Results");
            } else if (res == "reject|" + TEMPFAIL) {
                ++*deferred;
                if (added != 0)
                    problems.push_back(spec.id + " message " + std::to_string(i) +
                                       ": deferred, yet header fields were added");
            } else {
                problems.push_back(spec.id + " message " + std::to_string(i) +
                                   ": unexpected commit answer " + res);
            }
        }
        // Extra results (a commit answered twice) show up as messages without data-lines.
    }
    // Every commit answered exactly once: the total number of results.
    std::size_t total = 0;
    for (const auto& [s, lines] : r.out)
        for (const auto& l : lines)
            total += l.rfind("R:", 0) == 0;
    if (total != t.commits)
        problems.push_back(std::to_string(total) + " commit answers for " +
                           std::to_string(t.commits) + " commits");
    if (e.sessions() != 0)
        problems.push_back(std::to_string(e.sessions()) + " sessions left after disconnect");
    if (e.pending_queries() != 0)
        problems.push_back(std::to_string(e.pending_queries()) + " queries left after disconnect");
    // The log line of each message says what its commit answer did (action=).
    std::size_t proceed_logs = 0, tempfail_logs = 0, deadline_logs = 0;
    for (const auto& l : r.logs) {
        proceed_logs += l.find(" action=deliver") != std::string::npos;
        tempfail_logs += l.find(" action=defer") != std::string::npos;
        deadline_logs += l.find(" deadline=hit") != std::string::npos;
    }
    if (proceed_logs + tempfail_logs != t.commits || tempfail_logs != *deferred)
        problems.push_back("log lines: " + std::to_string(proceed_logs) + " action=deliver, " +
                           std::to_string(tempfail_logs) + " action=defer, for " +
                           std::to_string(t.commits) + " commits, " + std::to_string(*deferred) +
                           " deferred");
    if (f == Fault::deadline && r.deadline_fired && r.faulted_name && deadline_logs != 1)
        problems.push_back("the deadline fired, yet " + std::to_string(deadline_logs) +
                           " log lines say deadline=hit");
    // A permanent answer is a verdict, never a retry.
    bool temporary = f == Fault::temporary || f == Fault::deadline;
    if (r.faulted_name && !temporary && *deferred != 0)
        problems.push_back(std::string(to_string(f)) + " for " + *r.faulted_name +
                           " deferred a message");
    return problems;
}

/// Every message's data-lines, unfolded, one per line.
std::string unfolded(const Transcript& t, Run& r) {
    std::string fields;
    for (const auto& spec : t.sessions) {
        std::vector<std::string> dummy;
        for (const auto& m : outcomes(r.out[spec.id], dummy, spec.id))
            for (const auto& l : m.lines)
                fields +=
                    !l.empty() && (l[0] == ' ' || l[0] == '\t') ? " " + l.substr(1) : "\n" + l;
    }
    return fields;
}

std::string describe(const Transcript& t, std::size_t k, Fault f, const Run& r) {
    std::string s = t.name + " (" + t.version + "): query " + std::to_string(k) + " " +
                    to_string(f) + (r.faulted_name ? " [" + *r.faulted_name + "]" : "");
    return s;
}

} // namespace

TEST_CASE("transcripts: replayed with correct answers, every message sealed and accepted",
          "[transcript][faults]") {
    for (const auto& t : transcripts()) {
        Driver d(t, SIZE_MAX, Fault::none);
        auto r = d.run();
        std::size_t deferred = 0;
        auto problems = check_run(t, r, d.engine(), Fault::none, &deferred);
        INFO(t.name << " (" << t.version << "), " << r.queries << " queries");
        for (const auto& p : problems)
            UNSCOPED_INFO(p);
        CHECK(problems.empty());
        CHECK(deferred == 0);
        CHECK(r.queries > 0); // SPF and DMARC at least: every transcript has queries to fault
        // Each message was sealed by us (one ARC set more), with the verdicts expected.
        for (const auto& spec : t.sessions) {
            std::vector<std::string> dummy;
            for (const auto& m : outcomes(r.out[spec.id], dummy, spec.id))
                CHECK((!m.lines.empty() && m.lines[0].rfind("ARC-Seal:", 0) == 0));
        }
        std::string fields = unfolded(t, r);
        for (const auto& e : t.expect) {
            INFO("expected in the added fields: " << e);
            CHECK(fields.find(e) != std::string::npos);
        }
    }
}

TEST_CASE("transcripts: query k answered temporary, NXDOMAIN, malformed or left to the deadline",
          "[transcript][faults]") {
    std::size_t runs = 0;
    for (const auto& t : transcripts()) {
        Driver base(t, SIZE_MAX, Fault::none);
        const std::size_t queries = base.run().queries;
        REQUIRE(queries > 0);
        for (std::size_t k = 0; k < queries; ++k)
            for (Fault f : {Fault::temporary, Fault::nxdomain, Fault::garbage, Fault::wrong_type,
                            Fault::deadline}) {
                Driver d(t, k, f);
                auto r = d.run();
                ++runs;
                std::size_t deferred = 0;
                auto problems = check_run(t, r, d.engine(), f, &deferred);
                INFO(describe(t, k, f, r));
                for (const auto& p : problems)
                    UNSCOPED_INFO(p);
                CHECK(problems.empty());
                if (!r.faulted_name)
                    continue; // query k belonged to an aborted message and was withdrawn
                // Every query here is one the verdict needs (one DKIM signature, valid chains,
                // SPF and DMARC on with temperror = defer): a temporary failure defers exactly
                // the message whose lookup failed, a permanent one defers nothing.
                if (f == Fault::temporary || f == Fault::deadline) {
                    CHECK(deferred == 1);
                    continue;
                }
                CHECK(deferred == 0);
                // A sealer's key that does not exist or does not parse fails the chain
                // (RFC 8617 §5.2: the AMS or AS cannot be verified): arc=fail, sealed cv=fail.
                auto fields = unfolded(t, r);
                if (r.faulted_name->find("._domainkey.") != std::string::npos &&
                    r.faulted_name->find(".example.org") == std::string::npos) {
                    CHECK(fields.find("arc=fail") != std::string::npos);
                    CHECK(fields.find("cv=fail") != std::string::npos);
                }
                // The author's DKIM key likewise: the signature does not pass (RFC 6376 §6.1.2).
                if (r.faulted_name->find("._domainkey.example.org") != std::string::npos)
                    CHECK(fields.find("dkim=pass") == std::string::npos);
            }
    }
    CHECK(runs > 100);
}
