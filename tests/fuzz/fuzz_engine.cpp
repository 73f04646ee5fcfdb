// SPDX-License-Identifier: ISC
// Fuzz target: a whole smtpd protocol stream through the filter engine (filter/smtpd/engine.hpp),
// with DNS answers and deadlines interleaved by the input. Lines are protocol lines; lines starting
// with '!' drive the harness:
//   !a<k><s>  answer the k-th outstanding query; s: o(k) t(emporary) n(xdomain) d(nodata) g(arbage)
//   !d<k>     fire the k-th deadline the engine asked for (again if it already fired)
//   !x<k>     deliver an answer for query id k whether or not it is outstanding (stale answers)
//   !r        reconfigure (SIGHUP) with the other option set
// At the end every outstanding query is answered, every deadline fires and every session
// disconnects. Properties: every output line is one smtpd accepts and fits the line limit of the
// protocol its session spoke (filter::max_output_line: 1997 data bytes before 0.7); in every
// session each filter request other than data-line got exactly one filter-result, and each
// end of data (".") exactly one final "." back (unless smtpd dropped the transaction first);
// nothing is left in the engine.
#include "filter/smtpd/engine.hpp"
#include "tests/fuzz/fuzz.hpp"
#include "tests/fuzz/fuzz_keys.hpp"
#include "tests/support/engine_driver.hpp"

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

using namespace arcf;
using arcf::fuzz::check;

namespace {

// An output line's first three fields and the rest ("filter-result|A|B|rest").
std::optional<std::array<std::string_view, 4>> split4(std::string_view l) {
    std::array<std::string_view, 4> f;
    for (std::size_t i = 0; i < 3; ++i) {
        auto bar = l.find('|');
        if (bar == std::string_view::npos)
            return std::nullopt;
        f[i] = l.substr(0, bar);
        l.remove_prefix(bar + 1);
    }
    f[3] = l;
    return f;
}

filter::EngineOptions options(bool alt) {
    filter::EngineOptions o;
    auto key = fuzz::seal_key();
    o.policy.keys[key->domain] = key;
    o.policy.default_domain = key->domain;
    o.policy.mode = alt ? filter::Mode::verify : filter::Mode::both;
    o.spool_memory_limit = alt ? 64 : 2048; // spill to disk often
    o.max_message_bytes = alt ? 4096 : 64 * 1024;
    o.max_header_fields = alt ? 10 : 1000;
    o.message_deadline_ms = 1000;
    o.tempfail_reply = alt ? "bad reply" : "451 4.7.0 try again later"; // invalid: replaced
    o.authserv_id = alt ? "" : "mx.fuzz.example";
    return o;
}

bool is_hex(std::string_view s) {
    return !s.empty() && s.size() <= 16 && s.find_first_not_of("0123456789abcdefABCDEF") == s.npos;
}

std::size_t number(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            break;
        n = n * 10 + static_cast<std::size_t>(c - '0');
        if (n > 1000000)
            break;
    }
    return n;
}

dns::TxtAnswer answer_for(char kind, const std::string& name) {
    switch (kind) {
    case 't':
        return dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL");
    case 'n':
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    case 'd':
        return dns::TxtAnswer::failed(dns::Status::nodata, "NODATA");
    case 'g':
        return dns::TxtAnswer::found({"v=DKIM1; k=rsa; p=AAAA", "\x01\xff"});
    default: {
        auto dot = name.find("._domainkey.");
        if (dot == std::string::npos)
            return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
        return fuzz::lookup(mail::KeyName{name.substr(0, dot), name.substr(dot + 12)});
    }
    }
}

struct Run {
    tests::EngineDriver d{options(false)};
    bool alt = false;
    std::size_t answered_before_disconnect = 0; ///< output size once everything was answered
    /// What each session sent, as it stood before the final disconnects.
    std::map<std::string, tests::EngineDriver::SessionInput, std::less<>> per;

    Run() {
        d.on_actions = [this](const filter::Actions& a) {
            for (auto id : a.cancels)
                check(d.outstanding.count(id) == 1, "cancel for a query that is not outstanding");
            for (const auto& q : a.queries) {
                check(d.outstanding.count(q.id) == 0, "query id reused");
                // Key lookups are TXT; the others are SPF's (answered NXDOMAIN by default: none).
                check(q.name.find("._domainkey.") == std::string::npos ||
                          q.type == dns::RecordType::txt,
                      "key query is not TXT");
            }
            for (const auto& dl : a.deadlines)
                check(dl.ms > 0, "zero deadline");
            for (const auto& l : a.logs)
                check(l.find('\n') == std::string::npos, "log line with a newline", l);
        };
    }

    void line(std::string_view l) {
        if (!l.empty() && l[0] == '!') {
            std::string_view arg = l.substr(std::min<std::size_t>(2, l.size()));
            char cmd = l.size() > 1 ? l[1] : ' ';
            if (cmd == 'a' && !d.outstanding.empty()) {
                auto it = d.outstanding.begin();
                std::advance(it, static_cast<long>(number(arg) % d.outstanding.size()));
                auto id = it->first;
                std::string name = it->second;
                std::size_t digits = 0;
                while (digits < arg.size() && arg[digits] >= '0' && arg[digits] <= '9')
                    ++digits;
                d.answer(id, answer_for(digits < arg.size() ? arg[digits] : 'o', name));
            } else if (cmd == 'd' && !d.deadlines.empty()) {
                d.deadline(d.deadlines[number(arg) % d.deadlines.size()]);
            } else if (cmd == 'x') {
                // Delivered whether or not it is outstanding (stale answers); the driver's
                // bookkeeping is left as it was, as the shell's would be.
                filter::Actions a;
                d.engine.on_answer(number(arg), answer_for('o', "s._domainkey.x.example"), a);
                d.absorb(a);
            } else if (cmd == 'r') {
                alt = !alt;
                d.engine.reconfigure(options(alt));
            }
            return;
        }
        // What the harness expects is read (by the driver) through the same decoder the engine
        // uses: a malformed line is no request and no session.
        d.feed(std::string(l));
    }

    void finish() {
        while (!d.outstanding.empty()) {
            auto it = d.outstanding.begin();
            d.answer(it->first, answer_for('o', it->second));
        }
        for (std::size_t i = 0; i < d.deadlines.size(); ++i)
            d.deadline(d.deadlines[i]);
        answered_before_disconnect = d.output.size();
        per = d.inputs;
        for (const auto& [s, in] : per)
            d.feed("report|0.6|0|smtp-in|link-disconnect|" + s);
        check(d.engine.sessions() == 0, "sessions left after every disconnect");
        check(d.engine.pending_queries() == 0, "queries left after every disconnect");
        check(d.problems.empty(), "driver bookkeeping",
              d.problems.empty() ? std::string() : d.problems.front());
    }
};

void check_output(const Run& run) {
    const std::string& out = run.d.output;
    const std::size_t requests = run.d.requests;
    check(out.empty() || out.back() == '\n', "output does not end with a newline");
    std::size_t results = 0;
    std::size_t pos = 0;
    std::map<std::string, std::size_t, std::less<>> results_of, dots_of;
    std::set<std::string, std::less<>> lax; ///< sessions whose lines cannot be attributed
    while (pos < out.size()) {
        auto nl = out.find('\n', pos);
        std::string_view l = std::string_view(out).substr(pos, nl - pos);
        const bool settled = pos < run.answered_before_disconnect;
        pos = nl + 1;
        check(l.size() <= filter::output_line, "output line over the 0.7 limit", l.substr(0, 80));
        if (l.rfind("register|", 0) == 0)
            continue;
        bool result = l.rfind("filter-result|", 0) == 0;
        bool dataline = l.rfind("filter-dataline|", 0) == 0;
        check(result || dataline, "unknown output line", l);
        auto f = split4(l);
        check(f.has_value(), "output line with too few fields", l);
        check(is_hex((*f)[1]) && is_hex((*f)[2]), "output line without session and token", l);
        // Protocol 0.4 put the token first in responses: which field is the session is then
        // ambiguous when a token is also some session's id; such lines are not counted.
        auto first = run.per.find((*f)[1]), second = run.per.find((*f)[2]);
        const bool ambiguous = first != run.per.end() && second != run.per.end() &&
                               (first->second.ancient || second->second.ancient);
        std::string_view session = first != run.per.end() ? (*f)[1] : (*f)[2];
        if (ambiguous) {
            lax.insert(std::string((*f)[1]));
            lax.insert(std::string((*f)[2]));
        }
        auto ps = run.per.find(session);
        check(ps != run.per.end(), "output for a session that never spoke", l);
        if (ps->second.ancient)
            lax.insert(std::string(session));
        if (!ps->second.modern)
            check(l.size() <= filter::legacy_output_line, "output line over the 0.6 limit",
                  l.substr(0, 80));
        if (dataline && (*f)[3] == "." && settled)
            ++dots_of[std::string(session)];
        if (result) {
            ++results_of[std::string(session)];
            ++results;
            std::string_view rest = (*f)[3];
            check(rest == "proceed" || (rest.rfind("reject|", 0) == 0 &&
                                        filter::is_valid_reject_reply(rest.substr(7))),
                  "filter-result smtpd would refuse", l);
        }
    }
    check(results == requests, "filter requests and filter-results do not match one to one");
    for (const auto& [session, ps] : run.per) {
        if (lax.count(session) != 0 || ps.ancient)
            continue;
        check(results_of[session] == ps.requests, "a session's requests and results differ",
              session);
        // Each end of data gets one "." back, never two; one may be missing only when smtpd
        // dropped the transaction (then nobody waits for it).
        check(dots_of[session] <= ps.dots, "more final dots than ends of data", session);
        check(ps.dropped || dots_of[session] == ps.dots, "an end of data got no final dot",
              session);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    Run run;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        run.line(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
        if (nl == std::string_view::npos)
            break;
        pos = nl + 1;
    }
    run.finish();
    check_output(run);
    return 0;
}
