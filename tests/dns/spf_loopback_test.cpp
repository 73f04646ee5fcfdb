// SPDX-License-Identifier: ISC
// check_host() (RFC 7208 §4) answered by the c-ares resolver from a loopback authoritative
// server, the evaluator's queries sent as they are: every record type SPF uses on the wire.
#include "dns/ares_resolver.hpp"
#include "spf/evaluator.hpp"
#include "tests/catch.hpp"
#include "tests/dns/responder.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>

using arcf::dns::AresOptions;
using arcf::dns::AresResolver;
using arcf::dns::test::LoopbackResponder;
using arcf::dns::test::run_until;
using namespace arcf;
using namespace std::chrono_literals;

namespace {

const char* const zone = "$ORIGIN spf.test.\n"
                         "@        TXT \"v=spf1 mx a:relay.spf.test ptr -all\"\n"
                         "@        MX 10 mx1\n"
                         "mx1      A 192.0.2.10\n"
                         "mx1      AAAA 2001:db8::10\n"
                         "relay    A 192.0.2.20\n"
                         "ptrhost  A 198.51.100.7\n"
                         "7.100.51.198.in-addr.arpa. PTR ptrhost.spf.test.\n"
                         "inc      TXT \"v=spf1 include:broken.spf.test ~all\"\n"
                         "broken   TXT \"v=spf1 -all\"\n"
                         "soft     TXT \"v=spf1 ~all\"\n";

struct Run {
    LoopbackResponder dns{zone, {"broken.spf.test=servfail"}};
    boost::asio::io_context io;
    AresResolver res{io, [this] {
                         AresOptions o;
                         o.servers = dns.server();
                         o.timeout = 300ms;
                         o.tries = 1;
                         return o;
                     }()};

    /// Runs one evaluation to its verdict, sending every query through the adapter.
    spf::Verdict check(const std::string& ip, const std::string& mail_from) {
        spf::Evaluator ev(
            spf::mail_from_identity(*spf::IpAddress::parse(ip), mail_from, "client.test", "mx", 0));
        std::optional<spf::Verdict> verdict;
        std::map<spf::QueryId, dns::Resolver::QueryId> inflight;
        std::function<void()> pump = [&] {
            while (!verdict) {
                auto step = ev.step();
                if (auto* q = std::get_if<spf::Query>(&step)) {
                    auto id = q->id;
                    inflight[id] = res.query(q->type, q->name, [&, id](dns::Answer a) {
                        inflight.erase(id);
                        ev.answer(id, std::move(a));
                        pump();
                    });
                    continue;
                }
                if (auto* v = std::get_if<spf::Verdict>(&step)) {
                    verdict = *v;
                    for (auto& [sid, rid] : inflight)
                        res.cancel(rid);
                }
                break;
            }
        };
        pump();
        REQUIRE(run_until(io, 5s, [&] { return verdict.has_value(); }));
        return *verdict;
    }
};

} // namespace

TEST_CASE("spf over loopback DNS: mx, a, ptr and -all", "[spf][loopback]") {
    Run r;
    CHECK(r.check("192.0.2.10", "user@spf.test").result == spf::Result::pass);   // mx (A)
    CHECK(r.check("2001:db8::10", "user@spf.test").result == spf::Result::pass); // mx (AAAA)
    auto a = r.check("192.0.2.20", "user@spf.test");
    CHECK(a.result == spf::Result::pass);
    CHECK(a.mechanism == "a:relay.spf.test");
    auto ptr = r.check("198.51.100.7", "user@spf.test"); // PTR, then A of the name (§5.5)
    CHECK(ptr.result == spf::Result::pass);
    CHECK(ptr.mechanism == "ptr");
    auto fail = r.check("203.0.113.1", "user@spf.test");
    CHECK(fail.result == spf::Result::fail);
    CHECK(fail.mechanism == "-all");
    CHECK(r.check("203.0.113.1", "user@soft.spf.test").result == spf::Result::softfail);
    CHECK(r.dns.counts("7.100.51.198.in-addr.arpa").total == 1);
}

TEST_CASE("spf over loopback DNS: none, and temperror from a SERVFAIL", "[spf][loopback]") {
    Run r;
    CHECK(r.check("192.0.2.1", "user@nowhere.spf.test").result == spf::Result::none);
    CHECK(r.check("192.0.2.1", "user@relay.spf.test").result == spf::Result::none); // no TXT
    // RFC 7208 §5.2: an include whose lookup fails temporarily is a temperror.
    CHECK(r.check("192.0.2.1", "user@inc.spf.test").result == spf::Result::temperror);
}
