// SPDX-License-Identifier: ISC
// dns/lookup and dns/cache over the real c-ares resolver: shared lookups and TTL expiry
// (RFC 1035 §3.2.1), parallel lookups under a deadline (RFC 8617 §5.2 temperror).
#include "dns/lookup.hpp"
#include "tests/catch.hpp"
#include "tests/dns/responder.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using arcf::dns::AresOptions;
using arcf::dns::AresResolver;
using arcf::dns::CacheOptions;
using arcf::dns::CachingResolver;
using arcf::dns::lookup_all;
using arcf::dns::make_resolver;
using arcf::dns::post_to;
using arcf::dns::ResolverOptions;
using arcf::dns::Status;
using arcf::dns::TxtAnswer;
using arcf::dns::test::LoopbackResponder;
using arcf::dns::test::run_for;
using arcf::dns::test::run_until;
using namespace std::chrono_literals;

namespace {

const char* const zone = "$ORIGIN example.test.\n"
                         "sel._domainkey 60 TXT \"v=DKIM1; p=ONE\"\n"
                         "other._domainkey 60 TXT \"v=DKIM1; p=TWO\"\n"
                         "late 60 TXT \"too late\"\n";

const std::vector<std::string> faults = {"late.example.test=slow:2000",
                                         "bad.example.test=servfail"};

AresOptions ares_for(const LoopbackResponder& dns) {
    AresOptions o;
    o.servers = dns.server();
    o.timeout = 3000ms;
    o.tries = 1;
    return o;
}

} // namespace

TEST_CASE("lookup: 1000 lookups of one name cost one query; expiry refetches",
          "[lookup][cache][loopback]") {
    LoopbackResponder dns(zone, faults);
    boost::asio::io_context io;
    auto now = std::chrono::steady_clock::now();
    CachingResolver cache(std::make_unique<AresResolver>(io, ares_for(dns)), post_to(io),
                          CacheOptions{}, [&now] { return now; });

    auto batch = [&](int n) {
        int ok = 0, done = 0;
        for (int i = 0; i < n; ++i)
            cache.query_txt(i % 2 ? "SEL._domainkey.example.test." : "sel._domainkey.example.test",
                            [&](TxtAnswer a) {
                                ++done;
                                if (a.status == Status::ok && a.records[0] == "v=DKIM1; p=ONE")
                                    ++ok;
                            });
        REQUIRE(run_until(io, 5s, [&] { return done == n; }));
        return ok;
    };

    CHECK(batch(1000) == 1000); // all in flight together: one upstream query
    CHECK(dns.counts("sel._domainkey.example.test").total == 1);
    CHECK(batch(1000) == 1000); // all from the cache
    CHECK(dns.counts("sel._domainkey.example.test").total == 1);
    CHECK(cache.stats().upstream == 1);

    now += 61s; // past the record's 60 s TTL
    CHECK(batch(10) == 10);
    CHECK(dns.counts("sel._domainkey.example.test").total == 2);
}

TEST_CASE("lookup: a real 1 s TTL expires with the real clock", "[lookup][cache][loopback]") {
    LoopbackResponder dns("short 1 TXT \"brief\"\n");
    boost::asio::io_context io;
    CacheOptions opts;
    opts.min_ttl = 0s;
    CachingResolver cache(std::make_unique<AresResolver>(io, ares_for(dns)), post_to(io), opts);
    auto once = [&] {
        std::optional<TxtAnswer> got;
        cache.query_txt("short", [&](TxtAnswer a) { got = std::move(a); });
        REQUIRE(run_until(io, 3s, [&] { return got.has_value(); }));
        CHECK(got->records == std::vector<std::string>{"brief"});
    };
    once();
    once();
    CHECK(dns.counts("short").total == 1);
    run_for(io, 1100ms);
    once();
    CHECK(dns.counts("short").total == 2);
}

TEST_CASE("lookup: lookup_all runs in parallel and stops at the deadline", "[lookup][loopback]") {
    LoopbackResponder dns(zone, faults);
    boost::asio::io_context io;
    ResolverOptions opts;
    opts.ares = ares_for(dns);
    auto resolver = make_resolver(io, opts);

    auto t0 = std::chrono::steady_clock::now();
    auto got = lookup_all(io, *resolver,
                          {"sel._domainkey.example.test", "other._domainkey.example.test",
                           "missing.example.test", "bad.example.test", "late.example.test",
                           "sel._domainkey.example.test"},
                          400ms);
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(got.size() == 5);
    CHECK(got["sel._domainkey.example.test"].records == std::vector<std::string>{"v=DKIM1; p=ONE"});
    CHECK(got["other._domainkey.example.test"].status == Status::ok);
    CHECK(got["missing.example.test"].status == Status::nxdomain);
    CHECK(got["bad.example.test"].status == Status::temporary);
    CHECK(got["late.example.test"].status == Status::temporary);
    CHECK(got["late.example.test"].detail == "deadline");
    CHECK(took >= 400ms);
    CHECK(took < 1500ms);
    CHECK(dns.counts("sel._domainkey.example.test").total == 1); // duplicates asked once

    // The cancelled late answer never reaches anyone; the io_context stays usable.
    run_for(io, 50ms);
    auto again = lookup_all(io, *resolver, {"sel._domainkey.example.test"}, 1s);
    CHECK(again["sel._domainkey.example.test"].status == Status::ok);
    CHECK(lookup_all(io, *resolver, {}, 1s).empty());
}

TEST_CASE("lookup: make_resolver without cache, and with a bad server list", "[lookup][loopback]") {
    LoopbackResponder dns(zone, faults);
    boost::asio::io_context io;
    ResolverOptions opts;
    opts.ares = ares_for(dns);
    opts.cache = false;
    auto r = make_resolver(io, opts);
    CHECK(dynamic_cast<AresResolver*>(r.get()) != nullptr);
    auto got = lookup_all(io, *r, {"other._domainkey.example.test"}, 2s);
    CHECK(got["other._domainkey.example.test"].records ==
          std::vector<std::string>{"v=DKIM1; p=TWO"});
    opts.ares.servers = "999.1.1.1";
    CHECK_THROWS_AS(make_resolver(io, opts), std::runtime_error);
}
