// SPDX-License-Identifier: ISC
// Drives the filter engine as the smtpd shell does, with a scriptable DNS and clock, and reads
// its output back per session: the reliability tests (fault injection, invariants, load).
#pragma once

#include "arc/seal.hpp"
#include "filter/smtpd/engine.hpp"
#include "tests/arc/test_keys.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mail/crypto.hpp"

namespace arcf::reliability {

constexpr std::uint64_t now = 1795918548;
inline const std::string TOK = "e43f4b5e888d8c53";
inline const std::string COMMIT = "e43f4b628180a9ae";

/// A session id as smtpd writes them (16 hex digits).
inline std::string session_id(unsigned n) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", 0x63df94b5u + n);
    return buf;
}

inline std::shared_ptr<const arc::SealKey> make_key(const char* pem, const char* domain) {
    return std::make_shared<const arc::SealKey>(
        arc::SealKey{domain, "s1", *mail::PrivateKey::from_pem(pem)});
}

/// Two signing domains: a.example (Ed25519) and b.example (RSA 1024), both published.
struct Keys {
    std::shared_ptr<const arc::SealKey> a = make_key(tests::keys::ed25519_pkcs8, "a.example");
    std::shared_ptr<const arc::SealKey> b = make_key(tests::keys::rsa1024_pkcs8, "b.example");
    dns::TxtAnswer lookup(const std::string& name) const {
        for (const auto& k : {a, b})
            if (name == k->selector + "._domainkey." + k->domain)
                return dns::TxtAnswer::found({std::string("v=DKIM1; k=") +
                                              std::string(arc::to_string(k->key.type())) +
                                              "; p=" + k->key.public_key_base64()});
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    }
};

inline filter::EngineOptions options_with(const std::shared_ptr<const arc::SealKey>& key) {
    filter::EngineOptions o;
    o.policy.keys[key->domain] = key;
    o.policy.default_domain = key->domain;
    o.tempfail_reply = "451 4.7.0 try again later";
    o.authserv_id = "mx.reliability.test";
    // These tests count and answer ARC key lookups; SPF through the engine (its own lookups,
    // deadline and temperror) is covered by tests/filter/pipeline/sender_auth_test.cpp.
    o.auth.spf = false;
    o.auth.dkim = false;
    o.auth.dmarc = false;
    return o;
}

/// What came out for one session.
struct SessionOutput {
    std::vector<std::string> datalines; ///< in order, "." included
    std::vector<std::string> results;   ///< "proceed" or "reject|..."
};

class Driver {
  public:
    explicit Driver(filter::EngineOptions o) : engine(std::move(o)) {
        for (const char* l : {"config|smtpd-version|6.8.0p2", "config|subsystem|smtp-in",
                              "config|admd|mx.example.test", "config|ready"})
            feed(l);
    }

    filter::Engine engine;
    std::map<filter::QueryId, std::string> outstanding; ///< id -> name
    std::vector<filter::MessageId> deadlines;
    std::vector<std::string> logs;
    std::string version = "0.6";
    std::size_t requests = 0;

    void feed(const std::string& line) {
        filter::Actions a;
        engine.on_line(line, now, a);
        take(a);
    }
    void answer(filter::QueryId id, const dns::TxtAnswer& ans) {
        outstanding.erase(id);
        filter::Actions a;
        engine.on_answer(id, ans, a);
        take(a);
    }
    /// Answers every outstanding query from `keys`, oldest first.
    void answer_all(const Keys& keys) {
        while (!outstanding.empty()) {
            auto it = outstanding.begin();
            answer(it->first, keys.lookup(it->second));
        }
    }
    void deadline(filter::MessageId id) {
        filter::Actions a;
        engine.on_deadline(id, a);
        take(a);
    }

    void connect(const std::string& s, const std::string& ip = "192.0.2.7") {
        report(s, "link-connect|client.example|pass|" + ip + ":59658|127.0.0.1:25");
        report(s, "tx-begin|35163a36");
        report(s, "tx-mail|35163a36|ok|<sender@example.org>");
        report(s, "tx-rcpt|35163a36|ok|<rcpt@example.test>");
    }
    void report(const std::string& s, const std::string& rest) {
        auto bar = rest.find('|');
        feed("report|" + version + "|1795918548.1|smtp-in|" + rest.substr(0, bar) + "|" + s +
             (bar == std::string::npos ? "" : rest.substr(bar)));
    }
    /// One message line as smtpd sends it (dot-stuffed here).
    void data(const std::string& s, const std::string& line) {
        std::string stuffed = (!line.empty() && line[0] == '.') ? "." + line : line;
        feed("filter|" + version + "|1795918548.5|smtp-in|data-line|" + s + "|" + TOK + "|" +
             stuffed);
    }
    void end_data(const std::string& s) {
        feed("filter|" + version + "|1795918548.5|smtp-in|data-line|" + s + "|" + TOK + "|.");
    }
    void message(const std::string& s, const std::vector<std::string>& lines) {
        for (const auto& l : lines)
            data(s, l);
        end_data(s);
    }
    void commit(const std::string& s) {
        ++requests;
        feed("filter|" + version + "|1795918548.6|smtp-in|commit|" + s + "|" + COMMIT + "|");
    }
    void disconnect(const std::string& s) { report(s, "link-disconnect"); }

    /// Everything written so far for session `s` (parsing the whole output, checking each
    /// line is one smtpd accepts).
    SessionOutput output_of(const std::string& s) const {
        SessionOutput o;
        std::string dl = "filter-dataline|" + s + "|" + TOK + "|";
        std::string fr = "filter-result|" + s + "|" + COMMIT + "|";
        std::size_t pos = 0;
        while (pos < output.size()) {
            auto nl = output.find('\n', pos);
            std::string line = output.substr(pos, nl - pos);
            pos = nl + 1;
            if (line.rfind(dl, 0) == 0)
                o.datalines.push_back(line.substr(dl.size()));
            else if (line.rfind(fr, 0) == 0)
                o.results.push_back(line.substr(fr.size()));
        }
        return o;
    }
    /// Every output line is a register, filter-result or filter-dataline line.
    bool well_formed(std::string* bad = nullptr) const {
        std::size_t pos = 0;
        while (pos < output.size()) {
            auto nl = output.find('\n', pos);
            if (nl == std::string::npos) {
                if (bad)
                    *bad = "unterminated last line";
                return false;
            }
            std::string line = output.substr(pos, nl - pos);
            pos = nl + 1;
            if (line.rfind("register|", 0) != 0 && line.rfind("filter-result|", 0) != 0 &&
                line.rfind("filter-dataline|", 0) != 0) {
                if (bad)
                    *bad = line;
                return false;
            }
        }
        return true;
    }
    std::size_t results_total() const {
        std::size_t n = 0, pos = 0;
        while ((pos = output.find("filter-result|", pos)) != std::string::npos) {
            ++n;
            ++pos;
        }
        return n;
    }

    std::string output;

  private:
    void take(filter::Actions& a) {
        for (auto id : a.cancels)
            outstanding.erase(id);
        for (const auto& q : a.queries)
            outstanding[q.id] = q.name;
        for (const auto& d : a.deadlines)
            deadlines.push_back(d.message);
        for (auto& l : a.logs)
            logs.push_back(std::move(l));
        engine.expand_replays(a);
        output += a.output;
    }
};

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

/// Splits the data-lines of one message into the added header block and the rest; true when the
/// rest is exactly `input` (dot-stuffed as sent) followed by ".".
inline bool is_input_plus_added(const std::vector<std::string>& datalines,
                                const std::vector<std::string>& input,
                                std::size_t* added = nullptr) {
    if (datalines.size() < input.size() + 1 || datalines.back() != ".")
        return false;
    std::size_t extra = datalines.size() - input.size() - 1;
    for (std::size_t i = 0; i < input.size(); ++i) {
        std::string want = (!input[i].empty() && input[i][0] == '.') ? "." + input[i] : input[i];
        if (datalines[extra + i] != want)
            return false;
    }
    for (std::size_t i = 0; i < extra; ++i) {
        const auto& l = datalines[i];
        bool cont = !l.empty() && (l[0] == ' ' || l[0] == '\t');
        bool ours = l.rfind("ARC-Seal:", 0) == 0 || l.rfind("ARC-Message-Signature:", 0) == 0 ||
                    l.rfind("ARC-Authentication-Results:", 0) == 0 ||
                    l.rfind("Authentication-Results:", 0) == 0;
        if (!(cont && i > 0) && !ours)
            return false;
    }
    if (added)
        *added = extra;
    return true;
}

/// Lines of a CRLF message text.
inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> v;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find("\r\n", pos);
        if (nl == std::string::npos) {
            v.push_back(text.substr(pos));
            break;
        }
        v.push_back(text.substr(pos, nl - pos));
        pos = nl + 2;
    }
    return v;
}

inline const std::vector<std::string>& plain_message() {
    static const std::vector<std::string> m = {
        "Received: from client.example.org (localhost [127.0.0.1])",
        "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
        "From: Sender <sender@example.org>",
        "To: rcpt@example.test",
        "Subject: reliability",
        "Message-ID: <r1@example.org>",
        "",
        "first body line",
        ".leading dot line",
        "pipe|inside|line",
        "trailing spaces   ",
        "",
    };
    return m;
}

/// `input` sealed once by `key` through an engine: the lines smtpd would store.
inline std::vector<std::string> sealed_by(const std::shared_ptr<const arc::SealKey>& key,
                                          const std::vector<std::string>& input,
                                          const Keys& keys) {
    Driver d(options_with(key));
    auto s = session_id(0);
    d.connect(s);
    d.message(s, input);
    d.answer_all(keys);
    auto out = d.output_of(s).datalines;
    std::vector<std::string> lines;
    for (const auto& l : out) {
        if (l == ".")
            break;
        lines.push_back(!l.empty() && l[0] == '.' ? l.substr(1) : l);
    }
    return lines;
}

} // namespace arcf::reliability
