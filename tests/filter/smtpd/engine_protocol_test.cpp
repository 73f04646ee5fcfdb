// SPDX-License-Identifier: ISC
// The engine through each protocol version smtpd may speak (0.4 to 0.7): the same session in
// each version's field order gives the same decisions, the replies come in that version's
// layout, and malformed lines are logged and skipped while the session goes on.
#include "filter/smtpd/engine.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

#include <string>
#include <vector>

using namespace arcf;
using filter::Actions;
using filter::Engine;

namespace {

const std::string S1 = "63df94b518cddfac";
const std::string TOK = "e43f4b5e888d8c53";
const std::string COMMIT = "e43f4b628180a9ae";
constexpr std::uint64_t now = 1795918548;

struct Run {
    std::string output;
    std::vector<std::string> logs;
};

// One session in protocol `ver`: `reports` (EVENT|PARAMS, written as that version lays them
// out), a short message, its commit. Every DNS query is answered NXDOMAIN.
Run session(const std::string& ver,
            const std::vector<std::string>& reports,
            filter::EngineOptions o,
            const std::vector<std::string>& extra_lines = {}) {
    auto key = std::make_shared<arc::SealKey>(
        arc::SealKey{"forwarder.example", "s1", tests::make_ed25519_key()});
    o.policy.keys[key->domain] = key;
    o.policy.default_domain = key->domain;
    o.auth.dkim = o.auth.dmarc = false;
    Engine engine(std::move(o));
    Run run;
    auto take = [&](Actions& a) {
        for (std::size_t i = 0; i < a.queries.size(); ++i)
            engine.on_answer(a.queries[i].id,
                             dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"), a);
        engine.expand_replays(a);
        run.output += a.output;
        run.logs.insert(run.logs.end(), a.logs.begin(), a.logs.end());
    };
    auto feed = [&](const std::string& line) {
        Actions a;
        engine.on_line(line, now, a);
        take(a);
    };
    feed("config|admd|mx.example.test");
    feed("config|ready");
    for (const auto& r : reports) {
        const auto bar = r.find('|');
        feed("report|" + ver + "|1795918548.1|smtp-in|" + r.substr(0, bar) + "|" + S1 +
             (bar == std::string::npos ? "" : r.substr(bar)));
    }
    for (const auto& l : extra_lines)
        feed(l);
    for (const char* l :
         {"From: Sender <sender@example.org>", "To: a@example.test", "Subject: t", "", "body", "."})
        feed("filter|" + ver + "|1795918548.5|smtp-in|data-line|" + S1 + "|" + TOK + "|" + l);
    feed("filter|" + ver + "|1795918548.6|smtp-in|commit|" + S1 + "|" + COMMIT + "|");
    feed("report|" + ver + "|1795918548.7|smtp-in|link-disconnect|" + S1);
    CHECK(engine.sessions() == 0);
    CHECK(engine.pending_queries() == 0);
    return run;
}

bool sealed(const Run& r) {
    return r.output.find("|ARC-Seal: i=1;") != std::string::npos;
}

filter::EngineOptions seal_trusted() {
    filter::EngineOptions o;
    o.policy.seal_when = filter::SealWhen::trusted; // networks none: only authenticated users
    return o;
}

filter::EngineOptions seal_for(const std::string& domain) {
    filter::EngineOptions o;
    o.policy.seal_when = filter::SealWhen::recipient_domains;
    o.policy.seal_recipient_domains = {domain};
    return o;
}

} // namespace

TEST_CASE("engine codec: link-auth in each version's order, a '|' in the user name",
          "[engine][protocol][version]") {
    const std::string connect = "link-connect|c|pass|192.0.2.7:1234|127.0.0.1:25";
    // username|result before 0.7 (the name may hold '|', the result is last) ...
    for (const char* ver : {"0.4", "0.5", "0.6"}) {
        INFO("protocol " << ver);
        CHECK(sealed(session(ver, {connect, "link-auth|list|bot|pass"}, seal_trusted())));
        CHECK(sealed(session(ver, {connect, "link-auth|listbot|pass"}, seal_trusted())));
        CHECK_FALSE(sealed(session(ver, {connect, "link-auth|listbot|fail"}, seal_trusted())));
        // The 0.7 order in a 0.6 line is the user "pass" failing: no seal.
        CHECK_FALSE(sealed(session(ver, {connect, "link-auth|pass|fail"}, seal_trusted())));
    }
    // ... result|username from 0.7.
    CHECK(sealed(session("0.7", {connect, "link-auth|pass|list|bot"}, seal_trusted())));
    CHECK_FALSE(sealed(session("0.7", {connect, "link-auth|fail|listbot"}, seal_trusted())));
    CHECK_FALSE(sealed(session("0.7", {connect}, seal_trusted())));
}

TEST_CASE("engine codec: tx-rcpt in each version's order", "[engine][protocol][version]") {
    const std::string connect = "link-connect|c|pass|192.0.2.7:1234|127.0.0.1:25";
    // msgid|address|result before 0.6: an address with '|' still has its result at the end.
    for (const char* ver : {"0.4", "0.5"}) {
        INFO("protocol " << ver);
        CHECK(
            sealed(session(ver, {connect, "tx-begin|35163a36", "tx-rcpt|35163a36|a|b@gmail.com|ok"},
                           seal_for("gmail.com"))));
        CHECK(sealed(session(ver, {connect, "tx-begin|35163a36", "tx-rcpt|35163a36|b@gmail.com|ok"},
                             seal_for("gmail.com"))));
        CHECK_FALSE(sealed(
            session(ver, {connect, "tx-begin|35163a36", "tx-rcpt|35163a36|b@gmail.com|permfail"},
                    seal_for("gmail.com"))));
    }
    // msgid|result|address from 0.6.
    for (const char* ver : {"0.6", "0.7"}) {
        INFO("protocol " << ver);
        CHECK(
            sealed(session(ver, {connect, "tx-begin|35163a36", "tx-rcpt|35163a36|ok|a|b@gmail.com"},
                           seal_for("gmail.com"))));
        CHECK_FALSE(sealed(
            session(ver, {connect, "tx-begin|35163a36", "tx-rcpt|35163a36|tempfail|b@gmail.com"},
                    seal_for("gmail.com"))));
    }
}

TEST_CASE("engine codec: replies in each version's layout", "[engine][protocol][version]") {
    for (const char* ver : {"0.5", "0.6", "0.7"}) {
        INFO("protocol " << ver);
        const Run r = session(ver, {}, {});
        CHECK(r.output.find("filter-dataline|" + S1 + "|" + TOK + "|From: Sender") !=
              std::string::npos);
        CHECK(r.output.find("filter-dataline|" + S1 + "|" + TOK + "|.\n") != std::string::npos);
        CHECK(r.output.find("filter-result|" + S1 + "|" + COMMIT + "|proceed\n") !=
              std::string::npos);
    }
    // 0.4 (smtpd 6.6.0) put the token first in responses.
    const Run r = session("0.4", {}, {});
    CHECK(r.output.find("filter-dataline|" + TOK + "|" + S1 + "|From: Sender") !=
          std::string::npos);
    CHECK(r.output.find("filter-dataline|" + TOK + "|" + S1 + "|.\n") != std::string::npos);
    CHECK(r.output.find("filter-result|" + COMMIT + "|" + S1 + "|proceed\n") != std::string::npos);
    CHECK(r.output.find("filter-dataline|" + S1) == std::string::npos);
}

TEST_CASE("engine codec: malformed lines are logged and skipped, the session goes on",
          "[engine][protocol][malformed]") {
    const std::vector<std::string> bad = {
        "garbage",
        "report|0.6|1.0|smtp-in|link-auth|" + S1 + "|alice",         // one field short
        "report|0.6|1.0|smtp-in|tx-mail|" + S1 + "|35163a36|ok",     // one field short
        "filter|zero|1.0|smtp-in|commit|" + S1 + "|" + COMMIT + "|", // no version
        "filter|0.6|1.0|smtp-in|commit|" + S1 + "|not-hex|",         // bad token
    };
    const Run r = session("0.6", {"link-connect|c|pass|192.0.2.7:1234|127.0.0.1:25"}, {}, bad);
    std::size_t logged = 0;
    for (const auto& l : r.logs)
        if (l.rfind("event=protocol-error reason=\"malformed line skipped: ", 0) == 0)
            ++logged;
    CHECK(logged == bad.size());
    bool version_logged = false;
    for (const auto& l : r.logs)
        version_logged |= l.find("bad protocol version") != std::string::npos;
    CHECK(version_logged);
    // The message and its commit still get exactly their answers.
    CHECK(r.output.find("filter-dataline|" + S1 + "|" + TOK + "|.\n") != std::string::npos);
    std::size_t results = 0;
    for (auto p = r.output.find("filter-result|"); p != std::string::npos;
         p = r.output.find("filter-result|", p + 1))
        ++results;
    CHECK(results == 1);
}
