// SPDX-License-Identifier: ISC
// What the reliability tests (fault injection, invariants, load) drive the engine with: two
// published signing keys, engine options, a message, and checks on what smtpd would store. The
// driver itself is tests/support/engine_driver.hpp.
#pragma once

#include "arc/seal.hpp"
#include "filter/smtpd/engine.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/filter/test_keys.hpp"
#include "tests/support/engine_driver.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mail/crypto.hpp"

namespace arcf::reliability {

using tests::engine_commit;
using tests::engine_token;
using tests::session_id;
using tests::stored;
constexpr std::uint64_t now = tests::engine_now;
inline const std::string& TOK = tests::engine_token;
inline const std::string& COMMIT = tests::engine_commit;

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
                return dns::TxtAnswer::found({tests::key_record(k->key)});
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

/// The shared engine driver (tests/support/engine_driver.hpp) after the config lines these
/// tests have always sent (smtpd 6.8, no session timeout).
class Driver : public tests::EngineDriver {
  public:
    explicit Driver(filter::EngineOptions o)
        : EngineDriver(std::move(o), tests::handshake_lines("6.8.0p2", "", false)) {}
    using EngineDriver::answer_all;
    /// Answers every outstanding query from `keys`, oldest first.
    void answer_all(const Keys& keys) {
        EngineDriver::answer_all([&](const Query& q) { return keys.lookup(q.name); });
    }
};
using SessionOutput = Driver::SessionOutput;

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
