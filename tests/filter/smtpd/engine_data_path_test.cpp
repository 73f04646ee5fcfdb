// SPDX-License-Identifier: ISC
// The engine's short path for data-lines (Engine::on_line_impl): a line that repeats the bytes
// around the time field of the previous decoded data-line is taken without decode(). Checked
// against the same streams written so that every data-line goes through decode(): the output
// and the log lines must be the same, byte for byte, for regular and hostile streams alike.
#include "filter/smtpd/engine.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

#include <random>
#include <string>
#include <vector>

using namespace arcf;
using filter::Actions;
using filter::Engine;

namespace {

constexpr std::uint64_t now = 1795918548;

// "0.7" and "00.7" are the same version to decode() (MAJOR.MINOR read as numbers) but not the
// same bytes: with every other data-line written the long way, no data-line repeats the bytes
// of the one before it and each goes through decode().
std::string long_version(const std::string& line) {
    return "filter|0" + line.substr(std::string("filter|").size());
}

struct Run {
    std::string output;
    std::vector<std::string> logs;
};

Run run(const std::vector<std::string>& lines, bool force_decode) {
    filter::EngineOptions o;
    // One key for both runs: the same seal, byte for byte.
    static const auto key = std::make_shared<arc::SealKey>(
        arc::SealKey{"forwarder.example", "s1", tests::make_ed25519_key()});
    o.policy.keys[key->domain] = key;
    o.policy.default_domain = key->domain;
    o.policy.seal_when = filter::SealWhen::all;
    o.auth.dkim = o.auth.dmarc = false;
    Engine engine(std::move(o));
    Run r;
    bool flip = false;
    for (const auto& line : lines) {
        Actions a;
        const bool data_line =
            line.rfind("filter|", 0) == 0 && line.find("|data-line|") != line.npos;
        if (force_decode && data_line && (flip = !flip))
            engine.on_line(long_version(line), now, a);
        else
            engine.on_line(line, now, a);
        for (std::size_t i = 0; i < a.queries.size(); ++i)
            engine.on_answer(a.queries[i].id,
                             dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"), a);
        engine.expand_replays(a);
        r.output += a.output;
        for (auto& log : a.logs) {
            // A malformed line is quoted in its log line: as it was given.
            for (auto p = log.find("filter|00."); force_decode && p != log.npos;
                 p = log.find("filter|00.", p))
                log.erase(p + std::string("filter|").size(), 1);
            r.logs.push_back(log);
        }
    }
    return r;
}

void check_same(const std::vector<std::string>& lines) {
    const Run fast = run(lines, false);
    const Run decoded = run(lines, true);
    CHECK(fast.output == decoded.output);
    CHECK(fast.logs == decoded.logs);
    CHECK_FALSE(fast.output.empty());
}

const std::string S1 = "63df94b518cddfac", S2 = "63df94b518cddfad", S3 = "7";

std::string data(const std::string& ver,
                 const std::string& time,
                 const std::string& session,
                 const std::string& token,
                 const std::string& text,
                 const std::string& subsystem = "smtp-in") {
    return "filter|" + ver + "|" + time + "|" + subsystem + "|data-line|" + session + "|" + token +
           "|" + text;
}

std::vector<std::string> opening(const std::string& ver) {
    return {"config|admd|mx.example.test", "config|ready",
            "report|" + ver + "|1.0|smtp-in|link-connect|" + S1 +
                "|c|pass|192.0.2.7:1234|127.0.0.1:25",
            "report|" + ver + "|1.0|smtp-in|link-connect|" + S2 +
                "|d|pass|192.0.2.8:1234|127.0.0.1:25"};
}

} // namespace

TEST_CASE("engine data path: the short path hands over what decode() does",
          "[engine][protocol][datapath]") {
    SECTION("two sessions interleaved, times that change on every line") {
        auto l = opening("0.7");
        const std::vector<std::string> text = {"From: a@example.org",
                                               "To: b@example.net",
                                               "Subject: a | b |",
                                               "",
                                               "..stuffed",
                                               "|",
                                               ""};
        for (std::size_t i = 0; i < text.size(); ++i) {
            l.push_back(
                data("0.7", "1795918548." + std::to_string(100000 + i), S1, "aa01", text[i]));
            l.push_back(data("0.7", std::to_string(i), S2, "BB02", text[i]));
        }
        for (const auto& s : {S1, S2}) {
            l.push_back(data("0.7", "2.0", s, s == S1 ? "aa01" : "BB02", "."));
            l.push_back("filter|0.7|2.1|smtp-in|commit|" + s + "|cc03|");
        }
        check_same(l);
    }
    SECTION("a new token, a new version and an empty time field in one session") {
        auto l = opening("0.6");
        for (const char* t : {"Subject: one", "", "body", "."})
            l.push_back(data("0.6", "1.5", S1, "0a0a", t));
        l.push_back("filter|0.6|1.6|smtp-in|commit|" + S1 + "|0b0b|");
        for (const char* t : {"Subject: two", "", "body"})
            l.push_back(data("0.6", "", S1, "0c0c", t));
        for (const char* t : {"more", "."}) // smtpd does not change its version mid-message,
            l.push_back(data("0.7", "1.7", S1, "0c0c", t)); // a peer out of step may
        l.push_back("filter|0.7|1.8|smtp-in|commit|" + S1 + "|0d0d|");
        // 0.4 puts the token first in its answers: a report in 0.4 between two 0.7 data-lines,
        // then the end in 0.7 (answered in 0.7), then a message that ends in 0.4.
        for (const char* t : {"Subject: three", "", "body"})
            l.push_back(data("0.7", "1.9", S1, "0e0e", t));
        l.push_back("report|0.4|1.9|smtp-in|link-identify|" + S1 + "|EHLO|x");
        l.push_back(data("0.7", "1.9", S1, "0e0e", "."));
        l.push_back("filter|0.7|2.0|smtp-in|commit|" + S1 + "|0f0f|");
        for (const char* t : {"Subject: four", "", "body"})
            l.push_back(data("0.7", "2.1", S1, "1e1e", t));
        l.push_back(data("0.4", "2.1", S1, "1e1e", "."));
        l.push_back("filter|0.4|2.2|smtp-in|commit|" + S1 + "|1f1f|");
        check_same(l);
    }
    SECTION("hostile lines that share the bytes around the time field") {
        auto l = opening("0.7");
        l.push_back(data("0.7", "1.0", S1, "aa01", "Subject: x"));
        l.push_back(data("0.7", "1.0|x", S1, "aa01", "a '|' in the time field"));
        l.push_back(data("0.7", "1.0", S1, "aa01", "another subsystem", "smtp-out"));
        l.push_back(data("0.7", "1.0", S1, "aa01", "next"));
        l.push_back(data("0.7", "1.0", S1, "aa0", "a shorter token"));
        l.push_back(data("0.7", "1.0", S1, "aa01x", "a token that is not hex"));
        l.push_back(data("0.7", "1.0", S1, "aa01", "next"));
        l.push_back(data("0.7", "1.0", S1 + "0", "aa01", "a session id of 17 digits"));
        l.push_back("filter|0.7|1.0|smtp-in|data-line|" + S1 + "|aa01"); // no text field
        l.push_back("filter|0.7|1.0|smtp-in|data-lin|" + S1 + "|aa01|e");
        l.push_back("filter|0.7|1.0");
        l.push_back("filter|0.7|");
        l.push_back("filter|0.7");
        l.push_back(data("0.7", "1.0", S1, "aa01", "last"));
        l.push_back("report|0.7|1.0|smtp-in|link-disconnect|" + S1);
        l.push_back(data("0.7", "1.0", S1, "aa01", "after the disconnect"));
        l.push_back(data("0.7", "1.0", S1, "aa01", "."));
        l.push_back("filter|0.7|1.1|smtp-in|commit|" + S1 + "|cc03|");
        check_same(l);
    }
    SECTION("random streams") {
        std::mt19937 rng(20261207);
        const std::vector<std::string> sessions = {S1, S2, S3};
        const std::vector<std::string> tokens = {"aa01", "AA01", "bb", "0000000000000001"};
        const std::vector<std::string> texts = {"From: a@example.org", "",  ".", "..x",      "a|b",
                                                "Subject: s",          "x", "|", "\t folded"};
        for (int round = 0; round < 40; ++round) {
            auto l = opening(round % 2 ? "0.7" : "0.6");
            for (int i = 0; i < 80; ++i) {
                const std::string& s = sessions[rng() % sessions.size()];
                // 0.4 answers with the token first: a version taken wrongly shows.
                const std::string ver = rng() % 6 == 0 ? "0.4" : rng() % 5 == 0 ? "0.6" : "0.7";
                const std::string time = rng() % 4 == 0 ? "" : std::to_string(rng() % 3) + ".5";
                switch (rng() % 12) {
                case 0:
                    l.push_back("filter|" + ver + "|" + time + "|smtp-in|commit|" + s + "|c0|");
                    break;
                case 1:
                    l.push_back("report|" + ver + "|" + time + "|smtp-in|tx-reset|" + s + "|m");
                    break;
                case 3:
                    l.push_back("report|" + ver + "|" + time + "|smtp-in|tx-begin|" + s + "|m");
                    break;
                case 2:
                    l.push_back(data(ver, time + "|", s, tokens[rng() % tokens.size()], "t"));
                    break;
                default:
                    l.push_back(data(ver, time, s, tokens[rng() % tokens.size()],
                                     texts[rng() % texts.size()]));
                }
            }
            check_same(l);
        }
    }
}
