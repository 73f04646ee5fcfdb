// SPDX-License-Identifier: ISC
// dns/cache and dns/static_resolver: TTL caching (RFC 1035 §3.2.1, RFC 2308 §5), LRU bound,
// shared in-flight lookups and per-caller cancellation, with a manual event queue and clock.
#include "dns/cache.hpp"
#include "dns/static_resolver.hpp"
#include "tests/catch.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using arcf::dns::CacheOptions;
using arcf::dns::CachingResolver;
using arcf::dns::StaticResolver;
using arcf::dns::Status;
using arcf::dns::TxtAnswer;
using namespace std::chrono_literals;

namespace {

/// A single-threaded "event loop": posted functions run only when drain() is called.
struct Loop {
    std::deque<std::function<void()>> q;
    arcf::dns::Post post() {
        return [this](std::function<void()> f) { q.push_back(std::move(f)); };
    }
    std::size_t drain() {
        std::size_t n = 0;
        while (!q.empty()) {
            auto f = std::move(q.front());
            q.pop_front();
            f();
            ++n;
        }
        return n;
    }
};

struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
    CachingResolver::Clock fn() {
        return [this] { return now; };
    }
};

struct Fixture {
    Loop loop;
    FakeClock clock;
    StaticResolver upstream{loop.post()};
    std::unique_ptr<CachingResolver> cache;

    explicit Fixture(CacheOptions opts = {}) {
        cache = std::make_unique<CachingResolver>(upstream, loop.post(), opts, clock.fn());
        upstream.set("sel._domainkey.example.org", TxtAnswer::found({"v=DKIM1; p=K"}, 300));
        upstream.set("gone.example.org", [] {
            auto a = TxtAnswer::failed(Status::nxdomain, "NXDOMAIN");
            a.ttl = 600;
            return a;
        }());
        upstream.set("flaky.example.org", TxtAnswer::failed(Status::temporary, "SERVFAIL"));
    }

    /// Looks `name` up and runs the loop; the answer, or nullopt if none was delivered.
    std::optional<TxtAnswer> lookup(const std::string& name) {
        std::optional<TxtAnswer> out;
        cache->query_txt(name, [&out](TxtAnswer a) { out = std::move(a); });
        loop.drain();
        return out;
    }
};

} // namespace

TEST_CASE("cache: answers are never delivered inside query_txt", "[cache]") {
    Fixture f;
    bool called = false;
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { called = true; });
    CHECK_FALSE(called);
    f.loop.drain();
    CHECK(called);
    called = false;
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { called = true; });
    CHECK_FALSE(called); // a cache hit is posted too
    f.loop.drain();
    CHECK(called);
}

TEST_CASE("cache: a fresh entry is served without asking upstream", "[cache][rfc1035]") {
    Fixture f;
    auto a = f.lookup("sel._domainkey.example.org");
    REQUIRE(a);
    CHECK(a->status == Status::ok);
    f.clock.now += 100s;
    auto b = f.lookup("SEL._DomainKey.Example.ORG."); // RFC 4343: case-insensitive
    REQUIRE(b);
    CHECK(b->records == std::vector<std::string>{"v=DKIM1; p=K"});
    CHECK(b->ttl == 200); // remaining lifetime
    CHECK(f.upstream.queries("sel._domainkey.example.org") == 1);
    CHECK(f.cache->stats().hits == 1);
}

TEST_CASE("cache: an expired entry is fetched again", "[cache][rfc1035]") {
    Fixture f;
    f.lookup("sel._domainkey.example.org");
    f.clock.now += 299s;
    f.lookup("sel._domainkey.example.org");
    CHECK(f.upstream.queries("sel._domainkey.example.org") == 1);
    f.clock.now += 1s;
    f.lookup("sel._domainkey.example.org");
    CHECK(f.upstream.queries("sel._domainkey.example.org") == 2);
}

TEST_CASE("cache: TTLs are clamped to [min_ttl, max_ttl]", "[cache]") {
    CacheOptions opts;
    opts.min_ttl = 30s;
    opts.max_ttl = 3600s;
    Fixture f(opts);
    f.upstream.set("short.example.org", TxtAnswer::found({"s"}, 1));
    f.upstream.set("long.example.org", TxtAnswer::found({"l"}, 7 * 86400));
    f.lookup("short.example.org");
    f.lookup("long.example.org");
    f.clock.now += 29s;
    f.lookup("short.example.org");
    CHECK(f.upstream.queries("short.example.org") == 1);
    f.clock.now += 2s;
    f.lookup("short.example.org");
    CHECK(f.upstream.queries("short.example.org") == 2);
    f.clock.now += 3600s;
    f.lookup("long.example.org");
    CHECK(f.upstream.queries("long.example.org") == 2);
}

TEST_CASE("cache: negative answers are cached, temporary failures are not", "[cache][rfc2308]") {
    Fixture f;
    CHECK(f.lookup("gone.example.org")->status == Status::nxdomain);
    f.clock.now += 500s;
    CHECK(f.lookup("gone.example.org")->status == Status::nxdomain);
    CHECK(f.upstream.queries("gone.example.org") == 1);
    f.clock.now += 101s;
    f.lookup("gone.example.org");
    CHECK(f.upstream.queries("gone.example.org") == 2);

    CHECK(f.lookup("flaky.example.org")->status == Status::temporary);
    CHECK(f.lookup("flaky.example.org")->detail == "SERVFAIL");
    CHECK(f.upstream.queries("flaky.example.org") == 2);
}

TEST_CASE("cache: temporary failures can be held down briefly", "[cache][rfc2308]") {
    CacheOptions opts;
    opts.temporary_ttl = 5s;
    Fixture f(opts);
    f.lookup("flaky.example.org");
    f.clock.now += 4s;
    f.lookup("flaky.example.org");
    CHECK(f.upstream.queries("flaky.example.org") == 1);
    f.clock.now += 1s;
    f.lookup("flaky.example.org");
    CHECK(f.upstream.queries("flaky.example.org") == 2);
}

TEST_CASE("cache: concurrent lookups share one upstream query", "[cache]") {
    Fixture f;
    f.upstream.hold(true);
    std::vector<std::optional<TxtAnswer>> got(5);
    for (auto& g : got)
        f.cache->query_txt("sel._domainkey.example.org", [&g](TxtAnswer a) { g = std::move(a); });
    f.loop.drain();
    for (auto& g : got)
        CHECK_FALSE(g);
    CHECK(f.upstream.queries("sel._domainkey.example.org") == 1);
    CHECK(f.cache->stats().joined == 4);
    f.upstream.release();
    f.loop.drain();
    for (auto& g : got) {
        REQUIRE(g);
        CHECK(g->status == Status::ok);
    }
}

TEST_CASE("cache: cancel() affects only that caller", "[cache]") {
    Fixture f;
    f.upstream.hold(true);
    int a = 0, b = 0, c = 0;
    auto ida = f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { ++a; });
    auto idb = f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { ++b; });
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { ++c; });
    f.cache->cancel(idb);
    f.cache->cancel(idb); // twice is harmless
    f.upstream.release();
    f.loop.drain();
    CHECK(a == 1);
    CHECK(b == 0);
    CHECK(c == 1);

    // Cancelling after the answer was scheduled still suppresses it.
    int d = 0;
    auto idd = f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { ++d; });
    f.cache->cancel(idd);
    f.loop.drain();
    CHECK(d == 0);
    (void)ida;
}

TEST_CASE("cache: when every caller cancels, the upstream query is cancelled", "[cache]") {
    Fixture f;
    f.upstream.hold(true);
    auto x = f.cache->query_txt("gone.example.org", [](TxtAnswer) { FAIL("cancelled"); });
    auto y = f.cache->query_txt("gone.example.org", [](TxtAnswer) { FAIL("cancelled"); });
    CHECK(f.upstream.outstanding() == 1);
    f.cache->cancel(x);
    CHECK(f.upstream.outstanding() == 1);
    f.cache->cancel(y);
    CHECK(f.upstream.outstanding() == 0);
    f.upstream.release();
    f.loop.drain();
    CHECK(f.cache->size() == 0);
    // A new lookup starts a new upstream query.
    f.upstream.hold(false);
    CHECK(f.lookup("gone.example.org")->status == Status::nxdomain);
    CHECK(f.upstream.queries("gone.example.org") == 2);
}

TEST_CASE("cache: the least recently used entry is evicted", "[cache]") {
    CacheOptions opts;
    opts.max_entries = 2;
    Fixture f(opts);
    f.upstream.set("a.example", TxtAnswer::found({"a"}, 300));
    f.upstream.set("b.example", TxtAnswer::found({"b"}, 300));
    f.upstream.set("c.example", TxtAnswer::found({"c"}, 300));
    f.lookup("a.example");
    f.lookup("b.example");
    f.lookup("a.example"); // a is now the most recent
    f.lookup("c.example"); // evicts b
    CHECK(f.cache->size() == 2);
    CHECK(f.cache->stats().evictions == 1);
    f.lookup("a.example");
    f.lookup("b.example");
    CHECK(f.upstream.queries("a.example") == 1);
    CHECK(f.upstream.queries("b.example") == 2);
}

TEST_CASE("cache: destruction with work in flight delivers nothing", "[cache]") {
    Fixture f;
    f.upstream.hold(true);
    bool called = false;
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { called = true; });
    f.cache.reset(); // cancels its upstream query
    CHECK(f.upstream.outstanding() == 0);
    f.upstream.release();
    f.loop.drain();
    CHECK_FALSE(called);

    // Also with a cache hit already posted.
    f.cache =
        std::make_unique<CachingResolver>(f.upstream, f.loop.post(), CacheOptions{}, f.clock.fn());
    f.lookup("sel._domainkey.example.org");
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) { called = true; });
    f.cache.reset();
    f.loop.drain();
    CHECK_FALSE(called);
}

TEST_CASE("cache: a completion may start new lookups and destroy the cache", "[cache]") {
    Fixture f;
    int second = 0;
    f.cache->query_txt("sel._domainkey.example.org", [&](TxtAnswer) {
        f.cache->query_txt("gone.example.org", [&](TxtAnswer a) {
            CHECK(a.status == Status::nxdomain);
            ++second;
            f.cache.reset();
        });
    });
    f.loop.drain();
    CHECK(second == 1);
    CHECK_FALSE(f.cache);
}

TEST_CASE("static_resolver: programmed answers, fallback, hold and counts", "[static]") {
    Loop loop;
    StaticResolver r(loop.post(), [](std::string_view name) {
        return name == "zone.example" ? TxtAnswer::found({"from zone"})
                                      : TxtAnswer::failed(Status::nxdomain, "NXDOMAIN");
    });
    r.set("Key.Example.", TxtAnswer::found({"k"}));
    std::vector<std::string> seen;
    auto rec = [&](TxtAnswer a) { seen.push_back(a.records.empty() ? "-" : a.records[0]); };
    r.query_txt("key.example", rec);
    r.query_txt("zone.example", rec);
    r.query_txt("none.example", rec);
    CHECK(seen.empty());
    loop.drain();
    CHECK(seen == std::vector<std::string>{"k", "from zone", "-"});
    r.hold(true);
    auto id = r.query_txt("key.example", rec);
    r.query_txt("key.example", rec);
    loop.drain();
    CHECK(seen.size() == 3);
    r.cancel(id);
    r.release();
    loop.drain();
    CHECK(seen.size() == 4);
    CHECK(r.queries("KEY.example") == 3);
    CHECK(r.total_queries() == 5);
}

TEST_CASE("cache: the type is part of the key, each type cached and joined on its own",
          "[cache][spf]") {
    using arcf::dns::Answer;
    using arcf::dns::RecordType;
    Fixture f;
    f.upstream.set(RecordType::a, "mail.example.org", Answer::found({"192.0.2.1"}, 300));
    f.upstream.set(RecordType::mx, "mail.example.org", Answer::found({"10 mx.example.org"}, 300));
    f.upstream.set("mail.example.org", TxtAnswer::found({"v=spf1 -all"}, 300));
    std::vector<std::string> got;
    auto rec = [&got](Answer a) { got.push_back(a.records.empty() ? "-" : a.records[0]); };
    // Two A lookups share one upstream query; MX and TXT of the same name are their own.
    f.cache->query(RecordType::a, "mail.example.org", rec);
    f.cache->query(RecordType::a, "MAIL.example.org.", rec);
    f.cache->query(RecordType::mx, "mail.example.org", rec);
    f.cache->query_txt("mail.example.org", rec);
    f.loop.drain();
    CHECK(got ==
          std::vector<std::string>{"192.0.2.1", "192.0.2.1", "10 mx.example.org", "v=spf1 -all"});
    CHECK(f.cache->stats().upstream == 3);
    CHECK(f.cache->stats().joined == 1);
    CHECK(f.upstream.queries(RecordType::a, "mail.example.org") == 1);
    CHECK(f.upstream.queries("mail.example.org") == 3);
    // From the cache now, per type.
    f.cache->query(RecordType::mx, "mail.example.org", rec);
    f.cache->query(RecordType::aaaa, "mail.example.org", rec); // never asked: upstream, NXDOMAIN
    f.loop.drain();
    CHECK(got.back() == "-");
    CHECK(got[got.size() - 2] == "10 mx.example.org");
    CHECK(f.cache->stats().hits == 1);
    CHECK(f.cache->size() == 4);
}

TEST_CASE("static_resolver: typed answers and a typed fallback", "[static][spf]") {
    using arcf::dns::Answer;
    using arcf::dns::RecordType;
    Loop loop;
    StaticResolver r(loop.post(), [](RecordType type, std::string_view name) {
        if (type == RecordType::ptr && name == "1.2.0.192.in-addr.arpa")
            return Answer::found({"host.example"});
        return Answer::failed(Status::nodata, "no record");
    });
    r.set(RecordType::aaaa, "host.example", Answer::found({"2001:db8::1"}));
    std::vector<std::string> seen;
    auto rec = [&](Answer a) { seen.push_back(a.records.empty() ? "-" : a.records[0]); };
    r.query(RecordType::aaaa, "host.example", rec);
    r.query(RecordType::a, "host.example", rec); // a set AAAA answer says nothing about A
    r.query(RecordType::ptr, "1.2.0.192.in-addr.arpa", rec);
    loop.drain();
    CHECK(seen == std::vector<std::string>{"2001:db8::1", "-", "host.example"});
    CHECK(r.queries(RecordType::aaaa, "HOST.example") == 1);
    CHECK(r.queries("host.example") == 2);

    // The TXT-only fallback answers nothing but TXT.
    StaticResolver t(loop.post(), [](std::string_view) { return TxtAnswer::found({"txt"}); });
    t.query(RecordType::a, "x.example", rec);
    t.query_txt("x.example", rec);
    loop.drain();
    CHECK(seen.at(3) == "-");
    CHECK(seen.at(4) == "txt");
}

TEST_CASE("cache: an answer over max_entry_bytes is delivered but not kept", "[cache][issue15]") {
    // Issue 15 class 6: 100 selectors x 60 KB TXT per message held 585 MiB after 100 messages.
    Fixture f;
    for (int i = 0; i < 100; ++i) {
        const std::string name = "s" + std::to_string(i) + "._domainkey.evil.example";
        f.upstream.set(name, TxtAnswer::found({std::string(60 * 1024, 'p')}, 3600));
        auto a = f.lookup(name);
        REQUIRE(a);
        CHECK(a->records.at(0).size() == 60 * 1024);
    }
    CHECK(f.cache->size() == 0);
    CHECK(f.cache->bytes() == 0);
    CHECK(f.cache->stats().too_large == 100);
    // Asked again: upstream again, never from a cache that would hold 6 MB.
    f.lookup("s0._domainkey.evil.example");
    CHECK(f.upstream.queries("s0._domainkey.evil.example") == 2);
}

TEST_CASE("cache: bounded in bytes, least recently used evicted first", "[cache][issue15]") {
    const TxtAnswer four_k = TxtAnswer::found({std::string(4096, 'k')}, 300);
    const std::size_t cost = CachingResolver::entry_bytes("TXT a.example", four_k);
    CHECK(cost > 4096);
    CacheOptions opts;
    opts.max_bytes = 3 * cost;
    Fixture f(opts);
    for (const char* n : {"a.example", "b.example", "c.example", "d.example"})
        f.upstream.set(n, four_k);
    f.lookup("a.example");
    f.lookup("b.example");
    f.lookup("c.example");
    CHECK(f.cache->size() == 3);
    CHECK(f.cache->bytes() == 3 * cost);
    f.lookup("a.example"); // a is now the most recent
    f.lookup("d.example"); // evicts b, the least recently used
    CHECK(f.cache->size() == 3);
    CHECK(f.cache->bytes() <= opts.max_bytes);
    CHECK(f.cache->stats().evictions == 1);
    f.lookup("a.example");
    f.lookup("c.example");
    f.lookup("d.example");
    CHECK(f.upstream.queries("a.example") == 1);
    CHECK(f.upstream.queries("c.example") == 1);
    CHECK(f.upstream.queries("d.example") == 1);
    f.lookup("b.example");
    CHECK(f.upstream.queries("b.example") == 2);
    // A replaced entry (expired, fetched again) is counted once.
    f.clock.now += 301s;
    f.lookup("a.example");
    CHECK(f.cache->bytes() <= opts.max_bytes);
    f.cache->clear();
    CHECK(f.cache->bytes() == 0);
}

TEST_CASE("cache: many answers under the per-entry cap stay within max_bytes", "[cache][issue15]") {
    Fixture f; // defaults: 8 MiB, 16 KiB per entry, 10000 entries
    for (int i = 0; i < 1000; ++i) {
        const std::string name = "k" + std::to_string(i) + ".example";
        f.upstream.set(name, TxtAnswer::found({std::string(12 * 1024, 'x')}, 3600));
        f.lookup(name);
        REQUIRE(f.cache->bytes() <= CacheOptions{}.max_bytes);
    }
    CHECK(f.cache->size() < 1000);
    CHECK(f.cache->size() > 600);
    CHECK(f.cache->stats().evictions == 1000 - f.cache->size());
}
