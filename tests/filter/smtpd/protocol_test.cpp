// SPDX-License-Identifier: ISC
// The smtpd filter protocol codec: what smtpd 0.4/0.5/0.6/0.7 send decodes to typed events with
// the per-version field orders resolved, malformed lines to typed errors, and the replies come
// out in each version's layout within its line limit.
#include "filter/smtpd/protocol.hpp"
#include "filter/smtpd/reply.hpp"
#include "tests/catch.hpp"
#include "tests/support/xorshift.hpp"

#include <deque>
#include <string>
#include <variant>

using namespace arcf::filter;

namespace {

constexpr Version v04{0, 4}, v05{0, 5}, v06{0, 6}, v07{0, 7};
constexpr const char* sid = "63df94b518cddfac";
constexpr const char* tok = "e43f4b5e888d8c53";

std::string report(std::string_view ver, std::string_view event, std::string_view params) {
    return "report|" + std::string(ver) + "|1795918548.573326|smtp-in|" + std::string(event) + "|" +
           sid + (params.empty() ? "" : "|") + std::string(params);
}

// The decoded views point into the line: every line a test decodes is kept to the end.
Event dec(std::string line) {
    static std::deque<std::string> kept;
    kept.push_back(std::move(line));
    return decode(std::string_view(kept.back()));
}

template <class T>
T as(const Event& e) {
    REQUIRE(std::holds_alternative<T>(e));
    return std::get<T>(e);
}

DecodeError error_of(const Event& e) {
    return as<Malformed>(e).error;
}

} // namespace

TEST_CASE("codec: the handshake's config lines", "[protocol]") {
    CHECK(as<ConfigAdmd>(dec("config|admd|mx.example.test")).admd == "mx.example.test");
    CHECK(std::holds_alternative<ConfigReady>(dec("config|ready")));
    const auto& o = as<ConfigOther>(dec("config|smtpd-version|6.8.0p2"));
    CHECK(o.key == "smtpd-version");
    CHECK(o.value == "6.8.0p2");
    CHECK(as<ConfigOther>(dec("config|protocol|0.7")).value == "0.7");
    CHECK(error_of(dec("config||x")) == DecodeError::empty_config_key);
}

TEST_CASE("codec: data-line and commit requests carry session, token and version", "[protocol]") {
    const std::pair<const char*, Version> versions[] = {
        {"0.4", v04}, {"0.5", v05}, {"0.6", v06}, {"0.7", v07}};
    for (auto [text, v] : versions) {
        const std::string line = "filter|" + std::string(text) +
                                 "|1795918548.574043|smtp-in|data-line|" + sid + "|" + tok +
                                 "|pipe|inside|line";
        const auto& d = as<DataLine>(dec(line));
        CHECK(d.s.id == sid);
        CHECK(d.s.version == v);
        CHECK(d.token == tok);
        CHECK(d.line == "pipe|inside|line"); // only the last field may hold '|'
    }
    const std::string dot =
        std::string("filter|0.6|1.0|smtp-in|data-line|") + sid + "|" + tok + "|.";
    CHECK(as<DataLine>(dec(dot)).line == ".");
    const std::string empty =
        std::string("filter|0.6|1.0|smtp-in|data-line|") + sid + "|" + tok + "|";
    CHECK(as<DataLine>(dec(empty)).line.empty());
    const auto& c =
        as<Commit>(dec(std::string("filter|0.7|1.0|smtp-in|commit|") + sid + "|e43f4b628180a9ae|"));
    CHECK(c.s.id == sid);
    CHECK(c.s.version == v07);
    CHECK(c.token == "e43f4b628180a9ae");
    const auto& o =
        as<OtherFilter>(dec(std::string("filter|0.6|1.0|smtp-in|quit|") + sid + "|" + tok + "|"));
    CHECK(o.phase == "quit");
    CHECK(o.token == tok);
}

TEST_CASE("codec: link reports", "[protocol]") {
    const auto& c = as<LinkConnect>(
        dec(report("0.6", "link-connect", "localhost|pass|127.0.0.1:59658|127.0.0.1:10025")));
    CHECK(c.s.id == sid);
    CHECK(c.s.version == v06);
    CHECK(c.rdns == "localhost");
    CHECK(c.fcrdns == "pass");
    CHECK(c.src == "127.0.0.1:59658");
    CHECK(c.dest == "127.0.0.1:10025");
    CHECK(c.client_ip == "127.0.0.1");
    CHECK(as<LinkConnect>(dec(report("0.7", "link-connect", "h|fail|[2001:db8::1]:25|[::1]:25")))
              .client_ip == "2001:db8::1");
    CHECK(as<LinkConnect>(
              dec(report("0.6", "link-connect", "localhost|pass|unix:/var/run/smtpd.sock|unix:x")))
              .client_ip.empty());
    const auto& i =
        as<LinkIdentify>(dec(report("0.6", "link-identify", "EHLO|client.example.org")));
    CHECK(i.method == "EHLO");
    CHECK(i.helo == "client.example.org");
    const auto& d = as<LinkDisconnect>(dec(report("0.6", "link-disconnect", "")));
    CHECK(d.s.id == sid);
}

TEST_CASE("codec: link-auth is username|result before 0.7, result|username from 0.7",
          "[protocol][version]") {
    for (auto ver : {"0.4", "0.5", "0.6"}) {
        const auto& a = as<LinkAuth>(dec(report(ver, "link-auth", "alice|pass")));
        CHECK(a.pass);
        CHECK(a.user == "alice");
        // The user name is the field that may contain '|': the result is after the last one.
        const auto& b = as<LinkAuth>(dec(report(ver, "link-auth", "odd|name|pass")));
        CHECK(b.pass);
        CHECK(b.user == "odd|name");
        CHECK_FALSE(as<LinkAuth>(dec(report(ver, "link-auth", "alice|fail"))).pass);
    }
    const auto& a = as<LinkAuth>(dec(report("0.7", "link-auth", "pass|alice")));
    CHECK(a.pass);
    CHECK(a.user == "alice");
    CHECK(a.result == "pass");
    const auto& b = as<LinkAuth>(dec(report("0.7", "link-auth", "pass|odd|name")));
    CHECK(b.user == "odd|name");
    CHECK_FALSE(as<LinkAuth>(dec(report("0.7", "link-auth", "error|alice"))).pass);
    // The 0.6 layout read as 0.7 would be a failed login for the user "pass": not a pass.
    CHECK_FALSE(as<LinkAuth>(dec(report("0.7", "link-auth", "alice|pass"))).pass);
}

TEST_CASE("codec: tx-mail/tx-rcpt are msgid|address|result before 0.6, msgid|result|address "
          "from 0.6",
          "[protocol][version]") {
    for (auto ver : {"0.4", "0.5"}) {
        const auto& m = as<TxMail>(dec(report(ver, "tx-mail", "35163a36|sender@example.org|ok")));
        CHECK(m.msgid == "35163a36");
        CHECK(m.ok);
        CHECK(m.address == "sender@example.org");
        const auto& r = as<TxRcpt>(dec(report(ver, "tx-rcpt", "35163a36|a|b@example.test|ok")));
        CHECK(r.ok);
        CHECK(r.address == "a|b@example.test");
        CHECK_FALSE(as<TxRcpt>(dec(report(ver, "tx-rcpt", "35163a36|x@y|permfail"))).ok);
    }
    for (auto ver : {"0.6", "0.7"}) {
        const auto& m = as<TxMail>(dec(report(ver, "tx-mail", "35163a36|ok|sender@example.org")));
        CHECK(m.msgid == "35163a36");
        CHECK(m.ok);
        CHECK(m.result == "ok");
        CHECK(m.address == "sender@example.org");
        const auto& r = as<TxRcpt>(dec(report(ver, "tx-rcpt", "35163a36|ok|a|b@example.test")));
        CHECK(r.ok);
        CHECK(r.address == "a|b@example.test");
        CHECK_FALSE(as<TxMail>(dec(report(ver, "tx-mail", "35163a36|tempfail|x@y"))).ok);
        // An empty reverse path (bounces) is an empty address, not a missing field.
        const auto& bounce = as<TxMail>(dec(report(ver, "tx-mail", "35163a36|ok|")));
        CHECK(bounce.ok);
        CHECK(bounce.address.empty());
    }
}

TEST_CASE("codec: transaction begin and end", "[protocol]") {
    CHECK(as<TxBegin>(dec(report("0.6", "tx-begin", "35163a36"))).msgid == "35163a36");
    CHECK(as<TxReset>(dec(report("0.6", "tx-reset", "35163a36"))).msgid == "35163a36");
    // Cleanup is never refused: a tx-reset without its msgid ends whatever transaction is open.
    CHECK(as<TxReset>(dec(report("0.6", "tx-reset", ""))).msgid.empty());
    CHECK(as<TxRollback>(dec(report("0.7", "tx-rollback", "a1180010"))).msgid == "a1180010");
    // Reports we never registered, and other subsystems, are typed as nothing to do.
    CHECK(as<OtherReport>(dec(report("0.6", "tx-commit", "35163a36|2665"))).event == "tx-commit");
    CHECK(std::holds_alternative<OtherReport>(
        dec(std::string("report|0.6|1.0|smtp-out|tx-mail|") + sid + "|x")));
}

TEST_CASE("codec: session ids and tokens are 1-16 hex digits, each byte checked",
          "[protocol][malformed]") {
    // is_hex_id against the definition, for every byte value in every position of a session id
    // and of a token: sixteen digits (checked all at once) and fifteen (a byte at a time).
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        if (c == '|' || c == '\n')
            continue; // field and line separators, not id characters
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        for (std::size_t pos = 0; pos < 31; ++pos) {
            std::string id = pos < 16 ? std::string(sid) : std::string(sid).substr(1);
            id[pos % 16] = c;
            const Event s = dec("filter|0.6|1.0|smtp-in|commit|" + id + "|" + tok + "|");
            const Event t =
                dec(std::string("filter|0.6|1.0|smtp-in|commit|") + sid + "|" + id + "|");
            if (hex) {
                CHECK(as<Commit>(s).s.id == id);
                CHECK(as<Commit>(t).token == id);
            } else {
                CHECK(error_of(s) == DecodeError::bad_session);
                CHECK(error_of(t) == DecodeError::bad_token);
            }
        }
    }
    // Lengths: 1 and 16 digits are ids, none and 17 are not.
    CHECK(as<Commit>(dec(std::string("filter|0.6|1.0|smtp-in|commit|a|") + tok + "|")).s.id == "a");
    CHECK(error_of(dec(std::string("filter|0.6|1.0|smtp-in|commit||") + tok + "|")) ==
          DecodeError::bad_session);
    CHECK(error_of(dec(std::string("filter|0.6|1.0|smtp-in|commit|") + sid + "0|" + tok + "|")) ==
          DecodeError::bad_session);
}

TEST_CASE("codec: malformed lines are typed errors, never guessed", "[protocol][malformed]") {
    CHECK(error_of(dec("")) == DecodeError::unknown_kind);
    CHECK(error_of(dec("garbage")) == DecodeError::unknown_kind);
    CHECK(error_of(dec("register|ready")) == DecodeError::unknown_kind);
    CHECK(error_of(dec("report|0.6|1.0")) == DecodeError::missing_fields);
    CHECK(error_of(dec(std::string("filter|0.6|1.0|smtp-in|commit|") + sid)) ==
          DecodeError::missing_fields);
    CHECK(error_of(dec(std::string("filter|0.6|1.0|smtp-in|commit|zz|") + tok + "|")) ==
          DecodeError::bad_session);
    CHECK(error_of(dec(std::string("filter|0.6|1.0|smtp-in|commit|") + sid + "|xyz|")) ==
          DecodeError::bad_token);
    CHECK(error_of(dec("report|0.6|1.0|smtp-in|link-disconnect|0123456789abcdef0")) ==
          DecodeError::bad_session);
    for (auto bad : {"", "0", "0.", ".6", "zero.six", "0.x", "0.99999", "-1.6"})
        CHECK(error_of(dec("filter|" + std::string(bad) + "|1.0|smtp-in|commit|" + sid + "|" + tok +
                           "|")) == DecodeError::bad_version);
    // Every one-digit MAJOR.MINOR, each number in its place.
    for (unsigned major = 0; major < 10; ++major)
        for (unsigned minor = 0; minor < 10; ++minor) {
            const std::string v = std::to_string(major) + "." + std::to_string(minor);
            CHECK(as<Commit>(dec("filter|" + v + "|1.0|smtp-in|commit|" + sid + "|" + tok + "|"))
                      .s.version == (Version{major, minor}));
        }
    // A suffix after MINOR is not ours to refuse: the request is still answered.
    CHECK(as<Commit>(dec(std::string("filter|0.7.1|1.0|smtp-in|commit|") + sid + "|" + tok + "|"))
              .s.version == v07);
    CHECK(as<Commit>(dec(std::string("filter|0.10|1.0|smtp-in|commit|") + sid + "|" + tok + "|"))
              .s.version == (Version{0, 10}));
    // A typed report without the fields its version requires.
    CHECK(error_of(dec(report("0.6", "link-connect", "localhost|pass|127.0.0.1:1"))) ==
          DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.6", "link-identify", "EHLO"))) == DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.7", "link-auth", "pass"))) == DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.6", "link-auth", "alice"))) == DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.6", "tx-mail", "35163a36|ok"))) == DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.5", "tx-rcpt", "35163a36|x@y"))) == DecodeError::missing_fields);
    CHECK(error_of(dec(report("0.6", "tx-begin", ""))) == DecodeError::missing_fields);
    CHECK_FALSE(to_string(DecodeError::bad_token).empty());
}

TEST_CASE("codec: session_of names the session of every session event", "[protocol]") {
    CHECK_FALSE(session_of(dec("config|ready")));
    CHECK_FALSE(session_of(dec("garbage")));
    auto s = session_of(dec(report("0.7", "tx-begin", "35163a36")));
    REQUIRE(s);
    CHECK(s->id == sid);
    CHECK(s->version == v07);
}

TEST_CASE("codec: replies put SESSION|TOKEN from 0.5 on, TOKEN|SESSION in 0.4",
          "[protocol][version]") {
    for (Version v : {v05, v06, v07}) {
        std::string out;
        Responder r(v, "s1", "t1");
        r.proceed(out);
        r.reject(out, "451 4.7.0 later");
        r.dataline(out, "..x|y");
        CHECK(out == "filter-result|s1|t1|proceed\n"
                     "filter-result|s1|t1|reject|451 4.7.0 later\n"
                     "filter-dataline|s1|t1|..x|y\n");
    }
    std::string out;
    Responder r(v04, "s1", "t1");
    r.proceed(out);
    r.reject(out, "550 5.7.1 no");
    r.dataline(out, ".");
    CHECK(out == "filter-result|t1|s1|proceed\n"
                 "filter-result|t1|s1|reject|550 5.7.1 no\n"
                 "filter-dataline|t1|s1|.\n");
}

TEST_CASE("codec: each version's output line limit", "[protocol][version]") {
    CHECK(max_output_line(v04) == legacy_output_line);
    CHECK(max_output_line(v06) == legacy_output_line);
    CHECK(max_output_line(v07) == output_line);
    CHECK(max_output_line(Version{1, 0}) == output_line);
    // 6.8 (0.6) keeps 1997 data bytes of a data-line with 16-hex session and token, and cuts
    // the rest itself: we write what it will store. 0.7 cannot take longer lines at all.
    Responder old(v06, sid, tok), cur(v07, sid, tok);
    CHECK(old.room() == 1997);
    CHECK(old.smtpd_cuts_long_lines());
    CHECK(cur.room() == output_line - 50);
    CHECK_FALSE(cur.smtpd_cuts_long_lines());
    for (const Responder* r : {&old, &cur}) {
        std::string out;
        r->dataline(out, std::string(70000, 'L'));
        CHECK(out.size() - 1 == max_output_line(r == &old ? v06 : v07));
        out.clear();
        r->reject(out, "451 " + std::string(70000, 'x'));
        CHECK(out.size() - 1 == max_output_line(r == &old ? v06 : v07));
    }
}

TEST_CASE("codec: the registration answers config|ready", "[protocol]") {
    std::string out;
    append_registration(out);
    CHECK(out.rfind("register|report|smtp-in|link-connect\n", 0) == 0);
    CHECK(out.find("register|report|smtp-in|link-auth\n") != std::string::npos);
    CHECK(out.find("register|filter|smtp-in|data-line\nregister|filter|smtp-in|commit\n") !=
          std::string::npos);
    CHECK(out.size() >= 15);
    CHECK(out.substr(out.size() - 15) == "register|ready\n");
}

TEST_CASE("codec: reject replies smtpd accepts", "[protocol]") {
    CHECK(is_valid_reject_reply("421 4.7.0 x"));
    CHECK(is_valid_reject_reply("451 text"));
    CHECK_FALSE(is_valid_reject_reply("250 ok"));
    CHECK_FALSE(is_valid_reject_reply("451-multi"));
    CHECK_FALSE(is_valid_reject_reply("45 x"));
    CHECK_FALSE(is_valid_reject_reply("451 a|b"));
}

TEST_CASE("codec: client addresses from link-connect", "[protocol]") {
    CHECK(address_of("127.0.0.1:59658") == "127.0.0.1");
    CHECK(address_of("[2001:db8::1]:25") == "2001:db8::1");
    CHECK(address_of("unix:/var/run/smtpd.sock").empty());
}

// The one-pass field split against a literal reading of the line (split at every '|'), on lines
// built from real and broken fields, with fields of every length so that the bars fall on both
// sides of each 16-byte step.
namespace {

struct Head {
    std::string what; // "config", "report", "request" or "malformed:<error>"
    std::string id, token, event, rest;
};

Head literal_head(std::string_view line) {
    std::vector<std::string> f(1); // the fields, byte by byte
    for (const char c : line) {
        if (c == '|')
            f.emplace_back();
        else
            f.back() += c;
    }
    auto bad = [](DecodeError e) {
        return Head{"malformed:" + std::string(to_string(e)), "", "", "", ""};
    };
    auto hex = [](std::string_view s) {
        return !s.empty() && s.size() <= 16 &&
               s.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
    };
    if (f.size() < 2)
        return bad(DecodeError::unknown_kind);
    if (f[0] == "config")
        return f[1].empty() ? bad(DecodeError::empty_config_key) : Head{"config", "", "", "", ""};
    if (f[0] != "report" && f[0] != "filter")
        return bad(DecodeError::unknown_kind);
    if (f.size() < 6)
        return bad(DecodeError::missing_fields);
    const std::string_view v = f[1];
    const auto dot = v.find('.');
    const std::string_view major = v.substr(0, dot);
    std::string_view minor = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
    minor = minor.substr(0, minor.find_first_not_of("0123456789"));
    auto digits = [](std::string_view s) {
        return !s.empty() && s.size() <= 4 &&
               s.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (dot == std::string_view::npos || !digits(major) || !digits(minor))
        return bad(DecodeError::bad_version);
    if (f[0] == "report") {
        if (!hex(f[5]))
            return bad(DecodeError::bad_session);
        // Of the events generated below, two of smtp-in's need parameters: tx-begin its msgid,
        // link-connect four fields.
        if (f[3] == "smtp-in" &&
            ((f[4] == "tx-begin" && f.size() < 7) || (f[4] == "link-connect" && f.size() < 10)))
            return bad(DecodeError::missing_fields);
        return Head{"report", std::string(f[5]), "", std::string(f[4]), ""};
    }
    if (f.size() < 8)
        return bad(DecodeError::missing_fields);
    if (!hex(f[5]))
        return bad(DecodeError::bad_session);
    if (!hex(f[6]))
        return bad(DecodeError::bad_token);
    // PARAMS is everything after the seventh bar, bars included.
    std::size_t at = 0;
    for (int i = 0; i < 7; ++i)
        at = line.find('|', at) + 1;
    return Head{"request", std::string(f[5]), std::string(f[6]), std::string(f[4]),
                std::string(line.substr(at))};
}

Head decoded_head(const Event& e) {
    if (const auto* m = std::get_if<Malformed>(&e))
        return Head{"malformed:" + std::string(to_string(m->error)), "", "", "", ""};
    if (std::holds_alternative<ConfigAdmd>(e) || std::holds_alternative<ConfigReady>(e) ||
        std::holds_alternative<ConfigOther>(e))
        return Head{"config", "", "", "", ""};
    if (const auto* d = std::get_if<DataLine>(&e))
        return Head{"request", std::string(d->s.id), std::string(d->token), "data-line",
                    std::string(d->line)};
    if (const auto* c = std::get_if<Commit>(&e))
        return Head{"request", std::string(c->s.id), std::string(c->token), "commit", ""};
    if (const auto* o = std::get_if<OtherFilter>(&e))
        return Head{"request", std::string(o->s.id), std::string(o->token), std::string(o->phase),
                    std::string(o->params)};
    auto s = session_of(e);
    return Head{"report", s ? std::string(s->id) : "?", "", "", ""};
}

} // namespace

TEST_CASE("decode splits fields as a literal split at every bar does") {
    const std::vector<std::string> kinds = {"filter", "report", "config", "", "filterx", "x"};
    const std::vector<std::string> versions = {"0.7", "0.6",     "0.10", "1.2.3", "0.7-rc",
                                               "a.1", "12345.1", "0.",   ".7",    ""};
    const std::vector<std::string> events = {
        "data-line", "commit", "tx-begin", "link-connect", "link-disconnect", "data", ""};
    const std::vector<std::string> ids = {"63df94b518cddfac",  "1",  "",
                                          "0123456789abcdef0", "zz", "ABCdef"};
    arcf::test::Rng rng{20261207};
    std::size_t checked = 0;
    for (int n = 0; n < 20000; ++n) {
        std::string line = kinds[rng.below(kinds.size())];
        const std::size_t fields = rng.below(10);
        for (std::size_t i = 1; i <= fields; ++i) {
            line += '|';
            switch (i) {
            case 1:
                line += versions[rng.below(versions.size())];
                break;
            case 2: // a timestamp of any length moves the later bars across the 16-byte steps
                line += std::string(rng.below(40), '7');
                break;
            case 3:
                line += rng.below(4) == 0 ? "smtp-out" : "smtp-in";
                break;
            case 4:
                line += events[rng.below(events.size())];
                break;
            case 5:
            case 6:
                line += ids[rng.below(ids.size())];
                break;
            default:
                line += std::string(rng.below(30), rng.below(2) ? '|' : 'a');
            }
        }
        const Head want = literal_head(line);
        const Head got = decoded_head(decode(std::string_view(line)));
        INFO(line);
        REQUIRE(got.what == want.what);
        if (want.what == "request" || want.what == "report")
            REQUIRE(got.id == want.id);
        if (want.what == "request") {
            REQUIRE(got.token == want.token);
            REQUIRE(got.event == want.event);
            if (want.event != "commit") // a commit's parameters are not kept
                REQUIRE(got.rest == want.rest);
        }
        ++checked;
    }
    CHECK(checked == 20000);
}
