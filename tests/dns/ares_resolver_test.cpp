// SPDX-License-Identifier: ISC
// dns/ares_resolver against a loopback authoritative responder: the fault matrix (RFC 1035 §4.1.1
// RCODEs, lost and malformed datagrams, RFC 7766 §5 TCP fallback after TC=1, RFC 6891 EDNS0).
#include "dns/ares_resolver.hpp"
#include "tests/catch.hpp"
#include "tests/dns/responder.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using arcf::dns::AresOptions;
using arcf::dns::AresResolver;
using arcf::dns::RecordType;
using arcf::dns::Status;
using arcf::dns::TxtAnswer;
using arcf::dns::test::key_record;
using arcf::dns::test::LoopbackResponder;
using arcf::dns::test::run_for;
using arcf::dns::test::run_until;
using namespace std::chrono_literals;

namespace {

/// A 4096-bit RSA key record: 550-octet SubjectPublicKeyInfo, 736 base64 characters.
const std::string big_key = key_record(754);

std::string zone_text() {
    return "$ORIGIN example.test.\n"
           "sel._domainkey 600 IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkq\"\n"
           "multi 300 TXT \"first\" \" record\"\n"
           "multi 120 TXT \"second record\"\n"
           "split 300 TXT ( \"v=DKIM1;\" \" k=rsa;\" \" p=\" \"AAAA\" \"BBBB\" \"CCCC\" \"DDDD\"\n"
           "                \"EEEE\" \"FFFF\" \"GGGG\" \"HHHH\" \"IIII\" \"JJJJ\" \"KKKK\" )\n"
           "big 300 TXT \"" +
           big_key +
           "\"\n"
           "host 300 A 127.0.0.1\n"
           "slow 300 TXT \"slow answer\"\n"
           "fast 300 TXT \"fast answer\"\n"
           "bigtc 300 TXT \"" +
           big_key +
           "\"\n"
           "slowtc 300 TXT \"" +
           big_key +
           "\"\n"
           // SPF's record types (RFC 7208 §5): A, AAAA, MX, PTR, and CNAMEs in front of them.
           "mail 300 A 192.0.2.1\n"
           "mail 200 A 192.0.2.2\n"
           "mail 300 AAAA 2001:db8:0:0:0:0:0:25\n"
           "mx 300 MX 10 mail\n"
           "mx 300 MX 20 backup.example.net.\n"
           "nullmx 300 MX 0 .\n"
           "1.2.0.192.in-addr.arpa. 300 PTR mail.example.test.\n"
           "1.2.0.192.in-addr.arpa. 300 PTR second-name.example.test.\n"
           "www 100 CNAME mail\n"
           "outside 300 CNAME elsewhere.example.net.\n"
           "dangling 300 CNAME nowhere.example.test.\n"
           "typed 300 TXT \"txt works\"\n"
           "typed 300 A 192.0.2.77\n"
           "badmx 300 MX 10 mail\n"
           "loop1 300 CNAME loop2\n"
           "loop2 300 CNAME loop1\n";
}

const std::vector<std::string> faults = {
    "servfail.example.test=servfail",
    "refused.example.test=refused",
    "drop.example.test=drop",
    "bigtc.example.test=truncate",
    "malformed.example.test=malformed",
    "garbage.example.test=garbage",
    "forced-nx.example.test=nxdomain",
    "empty.example.test=empty",
    "slow.example.test=slow:500",
    "cancel.example.test=slow:300",
    "slowtc.example.test=truncate,slow:300",
    "typed.example.test/a=servfail",
    "badmx.example.test/mx=badrdata",
    "badrdata.example.test=badrdata",
};

AresOptions options_for(const LoopbackResponder& r, std::chrono::milliseconds timeout = 250ms) {
    AresOptions o;
    o.servers = r.server();
    o.timeout = timeout;
    o.tries = 1;
    return o;
}

/// Resolves one name and runs the loop until the answer arrives (or 5 s pass).
TxtAnswer resolve(boost::asio::io_context& io,
                  AresResolver& res,
                  const std::string& name,
                  RecordType type = RecordType::txt) {
    std::optional<TxtAnswer> got;
    res.query(type, name, [&got](TxtAnswer a) { got = std::move(a); });
    REQUIRE(run_until(io, 5s, [&] { return got.has_value(); }));
    return *got;
}

struct Env {
    LoopbackResponder dns{zone_text(), faults};
    boost::asio::io_context io;
    std::unique_ptr<AresResolver> res;
    explicit Env(std::chrono::milliseconds timeout = 250ms) {
        res = std::make_unique<AresResolver>(io, options_for(dns, timeout));
    }
    TxtAnswer resolve(const std::string& name, RecordType type = RecordType::txt) {
        return ::resolve(io, *res, name, type);
    }
};

/// A UDP port on 127.0.0.1 with nobody listening (bound, read, released).
std::uint16_t unused_port() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

} // namespace

TEST_CASE("ares: one TXT record, TTL from the zone", "[ares][loopback]") {
    Env e;
    auto a = e.resolve("sel._domainkey.example.test");
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"v=DKIM1; k=rsa; p=MIIBIjANBgkq"});
    CHECK(a.ttl == 600);
    CHECK(e.dns.counts("sel._domainkey.example.test").udp == 1);
    CHECK(e.res->pending() == 0);
}

TEST_CASE("ares: several TXT records stay separate", "[ares][loopback][rfc6376]") {
    Env e;
    auto a = e.resolve("multi.example.test");
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"first record", "second record"});
    CHECK(a.ttl == 120);
}

TEST_CASE("ares: a key split over many strings is joined", "[ares][loopback][rfc6376]") {
    Env e;
    auto a = e.resolve("split.example.test");
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{
                           "v=DKIM1; k=rsa; p=AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKK"});
}

TEST_CASE("ares: c-ares keeps no cache of its own; every query reaches the server",
          "[ares][loopback][cache]") {
    // c-ares >= 1.31 caches answers by default (up to an hour); dns/cache.cpp must be the only
    // cache, so that its budget, TTL limits and SIGHUP flush decide. Positive answers (TTL 600
    // and 300) and an RFC 2308 negative one (SOA MINIMUM 300) alike.
    Env e;
    for (int round = 1; round <= 3; ++round) {
        CHECK(e.resolve("sel._domainkey.example.test").status == Status::ok);
        CHECK(e.resolve("mail.example.test", RecordType::a).status == Status::ok);
        CHECK(e.resolve("missing.example.test").status == Status::nxdomain);
        CHECK(e.dns.counts("sel._domainkey.example.test").total == round);
        CHECK(e.dns.counts("mail.example.test").total == round);
        CHECK(e.dns.counts("missing.example.test").total == round);
    }
}

TEST_CASE("ares: SERVFAIL is temporary", "[ares][loopback][fault]") {
    Env e;
    auto a = e.resolve("servfail.example.test");
    CHECK(a.status == Status::temporary);
    CHECK(a.detail == "SERVFAIL");
    CHECK(e.dns.counts("servfail.example.test").total == 1);

    // With failover on, c-ares retries (here: the only server, `tries` times). What it then
    // reports differs by version (1.18: ECONNREFUSED, "connection refused"; 1.34: the RCODE,
    // "SERVFAIL"); the classification does not: temporary (RFC 8617 §5.2), with a cause.
    auto o = options_for(e.dns);
    o.tries = 2;
    o.servfail_failover = true;
    AresResolver failover(e.io, o);
    auto b = resolve(e.io, failover, "servfail.example.test");
    CHECK(b.status == Status::temporary);
    CHECK_FALSE(b.detail.empty());
    CHECK(e.dns.counts("servfail.example.test").total == 3);
}

TEST_CASE("ares: REFUSED is temporary", "[ares][loopback][fault]") {
    Env e;
    auto a = e.resolve("refused.example.test");
    CHECK(a.status == Status::temporary);
    CHECK(a.detail == "REFUSED");
}

TEST_CASE("ares: no answer at all times out as temporary", "[ares][loopback][fault]") {
    AresOptions o;
    o.timeout = 150ms;
    o.tries = 2; // 150 ms, then 300 ms (c-ares doubles per round)
    LoopbackResponder dns(zone_text(), faults);
    o.servers = dns.server();
    boost::asio::io_context io;
    AresResolver res(io, o);
    auto t0 = std::chrono::steady_clock::now();
    auto a = resolve(io, res, "drop.example.test");
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(a.status == Status::temporary);
    CHECK(a.detail == "timeout");
    CHECK(dns.counts("drop.example.test").udp == 2);
    CHECK(took >= 400ms);
    CHECK(took < 2s);
}

TEST_CASE("ares: a truncated UDP answer is retried over TCP", "[ares][loopback][fault][rfc7766]") {
    Env e;
    auto a = e.resolve("bigtc.example.test");
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 1);
    CHECK(a.records[0] == big_key);
    CHECK(a.records[0].size() > 512);
    auto c = e.dns.counts("bigtc.example.test");
    CHECK(c.udp == 1);
    CHECK(c.tcp == 1);
}

TEST_CASE("ares: EDNS0 carries a 4096-bit key over UDP; without it TCP takes over",
          "[ares][loopback][rfc6891]") {
    {
        Env e;
        auto a = e.resolve("big.example.test");
        REQUIRE(a.status == Status::ok);
        CHECK(a.records == std::vector<std::string>{big_key});
        CHECK(e.dns.counts("big.example.test").tcp == 0);
    }
    {
        LoopbackResponder dns(zone_text(), faults);
        auto o = options_for(dns);
        o.edns_udp_size = 0; // 512-octet UDP: the responder must set TC
        boost::asio::io_context io;
        AresResolver res(io, o);
        auto a = resolve(io, res, "big.example.test");
        REQUIRE(a.status == Status::ok);
        CHECK(a.records == std::vector<std::string>{big_key});
        auto c = dns.counts("big.example.test");
        CHECK(c.udp == 1);
        CHECK(c.tcp == 1);
    }
}

TEST_CASE("ares: a malformed answer is temporary", "[ares][loopback][fault]") {
    Env e;
    auto a = e.resolve("malformed.example.test");
    CHECK(a.status == Status::temporary);
    CHECK(a.detail.rfind("malformed answer", 0) == 0);
}

TEST_CASE("ares: garbage with the right ID is a temporary failure", "[ares][loopback][fault]") {
    // c-ares 1.18 ignores the datagram and times out; 1.34 reports it as a bad response. Both
    // are temporary, never an answer.
    Env e;
    auto a = e.resolve("garbage.example.test");
    CHECK(a.status == Status::temporary);
    CHECK(a.records.empty());
    CHECK((a.detail == "timeout" || a.detail.rfind("malformed answer", 0) == 0));
}

TEST_CASE("ares: NXDOMAIN is permanent with the SOA negative TTL", "[ares][loopback][rfc2308]") {
    Env e;
    auto a = e.resolve("missing.example.test");
    CHECK(a.status == Status::nxdomain);
    CHECK(a.ttl == 300); // min(SOA TTL 3600, MINIMUM 300)
    auto b = e.resolve("forced-nx.example.test");
    CHECK(b.status == Status::nxdomain);
}

TEST_CASE("ares: an empty NOERROR answer is nodata", "[ares][loopback][fault]") {
    Env e;
    auto a = e.resolve("empty.example.test");
    CHECK(a.status == Status::nodata);
    auto b = e.resolve("host.example.test"); // owns an A record only
    CHECK(b.status == Status::nodata);
    CHECK(b.ttl == 300);
}

TEST_CASE("ares: an unreachable server is temporary; the next server is tried",
          "[ares][loopback][fault]") {
    boost::asio::io_context io;
    AresOptions o;
    std::string dead = "127.0.0.1:" + std::to_string(unused_port());
    o.servers = dead;
    o.timeout = 200ms;
    o.tries = 1;
    {
        AresResolver res(io, o);
        auto a = resolve(io, res, "anything.example.test");
        CHECK(a.status == Status::temporary);
        CHECK((a.detail == "connection refused" || a.detail == "timeout"));
    }
    LoopbackResponder dns(zone_text(), faults);
    o.servers = dead + "," + dns.server();
    AresResolver res(io, o);
    auto a = resolve(io, res, "sel._domainkey.example.test");
    CHECK(a.status == Status::ok);
}

TEST_CASE("ares: an invalid name is a permanent failure, still posted", "[ares]") {
    boost::asio::io_context io;
    AresOptions o;
    o.servers = "127.0.0.1:9"; // never contacted
    AresResolver res(io, o);
    for (const std::string& name :
         {std::string(70, 'a') + ".example.test", // label > 63 octets
          std::string("a\\.b._domainkey.example.test"), std::string("nul\0.example.test", 17)}) {
        std::optional<TxtAnswer> got;
        res.query_txt(name, [&](TxtAnswer a) { got = a; });
        CHECK_FALSE(got); // not inline
        REQUIRE(run_until(io, 1s, [&] { return got.has_value(); }));
        CHECK(got->status == Status::nxdomain);
        CHECK(got->detail == "invalid domain name");
    }
}

TEST_CASE("ares: bad server lists are rejected at construction", "[ares]") {
    boost::asio::io_context io;
    AresOptions o;
    o.servers = "not an address";
    CHECK_THROWS_AS(AresResolver(io, o), std::runtime_error);
    AresOptions system; // /etc/resolv.conf (or c-ares' default) is fine without any query
    CHECK_NOTHROW(AresResolver(io, system));
}

TEST_CASE("ares: cancel() suppresses the completion", "[ares][loopback]") {
    Env e(2000ms);
    bool called = false;
    auto id = e.res->query_txt("cancel.example.test", [&](TxtAnswer) { called = true; });
    e.res->cancel(id);
    CHECK(e.res->pending() == 0);
    bool other = false;
    e.res->query_txt("fast.example.test", [&](TxtAnswer) { other = true; });
    REQUIRE(run_until(e.io, 2s, [&] { return other; }));
    // Let the cancelled query's answer arrive (slow:300) and be dropped.
    run_for(e.io, 350ms);
    CHECK(e.dns.counts("cancel.example.test").total == 1);
    CHECK_FALSE(called);
}

TEST_CASE("ares: destruction with queries in flight is safe", "[ares][loopback]") {
    Env e(2000ms);
    int called = 0;
    e.res->query_txt("slow.example.test", [&](TxtAnswer) { ++called; });
    e.res->query_txt("drop.example.test", [&](TxtAnswer) { ++called; });
    e.res->query_txt("slowtc.example.test", [&](TxtAnswer) { ++called; });
    // slowtc's TC answer (after 300 ms) moves it to TCP: both kinds of socket are open now.
    run_until(e.io, 2s, [&] { return e.dns.counts("slowtc.example.test").tcp == 1; });
    CHECK(e.res->open_sockets() == 2);
    e.res.reset();
    run_for(e.io, 400ms); // past the moment every answer would have arrived
    CHECK(called == 0);

    // A completion may destroy the resolver that called it.
    e.res = std::make_unique<AresResolver>(e.io, options_for(e.dns, 2000ms));
    bool done = false;
    e.res->query_txt("fast.example.test", [&](TxtAnswer a) {
        CHECK(a.status == Status::ok);
        e.res.reset();
        done = true;
    });
    e.res->query_txt("cancel.example.test", [&](TxtAnswer) { ++called; }); // slow:300
    REQUIRE(run_until(e.io, 2s, [&] { return done; }));
    run_for(e.io, 350ms);
    CHECK(called == 0);
}

TEST_CASE("ares: nothing blocks the loop while answers are slow", "[ares][loopback]") {
    LoopbackResponder dns(zone_text(), faults);
    auto o = options_for(dns);
    o.timeout = 2000ms;
    boost::asio::io_context io;
    AresResolver res(io, o);

    int ticks = 0;
    bool ticking = true;
    boost::asio::steady_timer ticker(io);
    std::function<void()> tick = [&] {
        ticker.expires_after(10ms);
        ticker.async_wait([&](boost::system::error_code ec) {
            if (ec || !ticking)
                return;
            ++ticks;
            tick();
        });
    };
    tick();

    auto t0 = std::chrono::steady_clock::now();
    int slow_ok = 0;
    std::chrono::steady_clock::duration fast_after{};
    int ticks_at_fast = -1;
    constexpr int n_slow = 50;
    for (int i = 0; i < n_slow; ++i)
        res.query_txt("slow.example.test", [&](TxtAnswer a) {
            if (a.status == Status::ok)
                ++slow_ok;
        });
    bool fast = false;
    res.query_txt("fast.example.test", [&](TxtAnswer a) {
        CHECK(a.status == Status::ok);
        fast = true;
        fast_after = std::chrono::steady_clock::now() - t0;
        ticks_at_fast = ticks;
    });
    REQUIRE(run_until(io, 5s, [&] { return slow_ok == n_slow; }));
    auto total = std::chrono::steady_clock::now() - t0;
    ticking = false;
    ticker.cancel();
    run_for(io, 20ms);

    CHECK(fast);
    CHECK(fast_after < 250ms); // not queued behind the slow answers
    CHECK(slow_ok == n_slow);
    CHECK(total >= 450ms);
    CHECK(ticks >= total / 20ms); // the 10 ms ticker kept running (half rate allowed)
    CHECK(ticks_at_fast < 25);
    CHECK(dns.counts("slow.example.test").udp == n_slow);
}

TEST_CASE("ares: A and AAAA records in RFC 5952 text, TTL the minimum", "[ares][loopback][spf]") {
    Env e;
    auto a = e.resolve("mail.example.test", RecordType::a);
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(a.ttl == 200);
    auto v6 = e.resolve("mail.example.test", RecordType::aaaa);
    REQUIRE(v6.status == Status::ok);
    CHECK(v6.records == std::vector<std::string>{"2001:db8::25"});
    CHECK(v6.ttl == 300);
}

TEST_CASE("ares: MX records as \"preference exchange\", a null MX with an empty exchange",
          "[ares][loopback][spf][rfc7505]") {
    Env e;
    auto mx = e.resolve("mx.example.test", RecordType::mx);
    REQUIRE(mx.status == Status::ok);
    CHECK(mx.records == std::vector<std::string>{"10 mail.example.test", "20 backup.example.net"});
    auto null = e.resolve("nullmx.example.test", RecordType::mx);
    REQUIRE(null.status == Status::ok);
    CHECK(null.records == std::vector<std::string>{"0 "});
}

TEST_CASE("ares: every PTR name, in answer order", "[ares][loopback][spf]") {
    Env e;
    auto p = e.resolve("1.2.0.192.in-addr.arpa", RecordType::ptr);
    REQUIRE(p.status == Status::ok);
    CHECK(p.records == std::vector<std::string>{"mail.example.test", "second-name.example.test"});
}

TEST_CASE("ares: CNAME chains inside the answer are followed for every type",
          "[ares][loopback][spf][rfc1034]") {
    Env e;
    auto a = e.resolve("www.example.test", RecordType::a);
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(a.ttl == 100); // the CNAME's
    auto v6 = e.resolve("WWW.example.test.", RecordType::aaaa);
    REQUIRE(v6.status == Status::ok);
    CHECK(v6.records == std::vector<std::string>{"2001:db8::25"});
    // A chain to a name the zone does not have: NXDOMAIN; out of the zone: only the CNAME.
    CHECK(e.resolve("dangling.example.test", RecordType::a).status == Status::nxdomain);
    CHECK(e.resolve("outside.example.test", RecordType::a).status == Status::nodata);
    // A CNAME loop: the server gives up (SERVFAIL), a temporary failure.
    CHECK(e.resolve("loop1.example.test", RecordType::a).status == Status::temporary);
}

TEST_CASE("ares: NXDOMAIN, NODATA and temporary failures are told apart for every type",
          "[ares][loopback][spf]") {
    Env e;
    for (auto type : {RecordType::a, RecordType::aaaa, RecordType::mx, RecordType::ptr}) {
        auto nx = e.resolve("missing.example.test", type);
        CHECK(nx.status == Status::nxdomain);
        CHECK(nx.ttl == 300);
        // "split" owns a TXT record only.
        auto nodata = e.resolve("split.example.test", type);
        CHECK(nodata.status == Status::nodata);
        CHECK(nodata.detail == "no " + std::string(arcf::dns::to_string(type)) + " record");
        CHECK(e.resolve("servfail.example.test", type).status == Status::temporary);
    }
    // A fault for one type only: the A query fails, TXT at the same name still answers.
    auto a = e.resolve("typed.example.test", RecordType::a);
    CHECK(a.status == Status::temporary);
    CHECK(a.detail == "SERVFAIL");
    auto t = e.resolve("typed.example.test");
    REQUIRE(t.status == Status::ok);
    CHECK(t.records == std::vector<std::string>{"txt works"});
    // A well-formed answer whose RDATA c-ares' parsers cannot read is a temporary failure,
    // never an empty success. (c-ares 1.18 rejects the MX RDATA: "malformed answer: MX
    // record"; 1.34 already the whole packet: "malformed answer".)
    auto bad = e.resolve("badmx.example.test", RecordType::mx);
    CHECK(bad.status == Status::temporary);
    CHECK(bad.records.empty());
    CHECK(bad.detail.rfind("malformed answer", 0) == 0);
    CHECK(e.dns.counts("badmx.example.test").total == 1);
    for (auto type : {RecordType::a, RecordType::aaaa, RecordType::ptr}) {
        auto b = e.resolve("badrdata.example.test", type);
        CHECK(b.status == Status::temporary);
        CHECK(b.detail.rfind("malformed answer", 0) == 0);
    }
}
