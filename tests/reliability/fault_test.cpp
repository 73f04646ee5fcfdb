// SPDX-License-Identifier: ISC
// Fault injection through the engine: DNS answers after the deadline, out of order, for
// messages or sessions already gone; the temporary directory full or unusable when a message
// spills. In every case each request gets exactly one answer, smtpd only ever sees well-formed
// lines, and a message is either passed on as received (plus our headers) or deferred.
#include "tests/catch.hpp"
#include "tests/reliability/fixtures.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace arcf;
using namespace arcf::reliability;

namespace {

struct Fixture {
    Keys keys;
    std::vector<std::string> one_set = sealed_by(keys.a, plain_message(), keys);
    std::vector<std::string> two_sets = sealed_by(keys.b, one_set, keys);
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

bool has_log(const Driver& d, const std::string& needle) {
    for (const auto& l : d.logs)
        if (l.find(needle) != std::string::npos)
            return true;
    return false;
}

// Sets a resource limit for the life of the object.
class Limit {
  public:
    Limit(int resource, rlim_t soft) : resource_(resource) {
        getrlimit(resource_, &saved_);
        rlimit r = saved_;
        r.rlim_cur = soft;
        setrlimit(resource_, &r);
    }
    ~Limit() { setrlimit(resource_, &saved_); }
    Limit(const Limit&) = delete;
    Limit& operator=(const Limit&) = delete;

  private:
    int resource_;
    rlimit saved_{};
};

std::vector<std::string> big_message(std::size_t lines) {
    std::vector<std::string> m = {"From: a@example.org", "Subject: big", ""};
    for (std::size_t i = 0; i < lines; ++i)
        m.push_back("line " + std::to_string(i) + " " + std::string(70, 'x'));
    return m;
}

} // namespace

TEST_CASE("faults: a DNS answer after the deadline changes nothing", "[faults][dns]") {
    auto& f = fixture();
    Driver d(options_with(f.keys.a));
    auto s = session_id(1);
    d.connect(s);
    d.message(s, f.one_set);
    REQUIRE(d.outstanding.size() == 1);
    REQUIRE(d.deadlines.size() == 1);
    auto late = *d.outstanding.begin();
    CHECK(d.output_of(s).datalines.empty()); // held until the keys or the deadline

    d.deadline(d.deadlines[0]);
    auto out = d.output_of(s);
    CHECK(is_input_plus_added(out.datalines, f.one_set)); // released unchanged, nothing added
    CHECK(out.datalines.size() == f.one_set.size() + 1);
    CHECK(has_log(d, "deadline=hit"));
    CHECK(d.engine.pending_queries() == 0);

    std::size_t before = d.output.size();
    filter::Actions a;
    d.engine.on_answer(late.first, f.keys.lookup(late.second), a); // the answer arrives late
    CHECK((a.output.empty() && a.replays.empty()));
    CHECK(a.queries.empty());
    CHECK(d.output.size() == before);
    d.deadline(d.deadlines[0]); // and the timer fires again
    CHECK(d.output.size() == before);

    d.commit(s);
    REQUIRE(d.output_of(s).results.size() == 1);
    CHECK(d.output_of(s).results[0] == "reject|451 4.7.0 try again later");
    d.disconnect(s);
    CHECK(d.engine.sessions() == 0);
    CHECK(d.well_formed());
}

TEST_CASE("faults: answers out of order across sessions and keys", "[faults][dns]") {
    auto& f = fixture();
    Driver d(options_with(f.keys.a));
    std::vector<std::string> ss = {session_id(1), session_id(2), session_id(3)};
    for (const auto& s : ss)
        d.connect(s);
    // Interleaved data: each message needs both keys (two sets by two domains).
    for (std::size_t i = 0; i < f.two_sets.size(); ++i)
        for (const auto& s : ss)
            d.data(s, f.two_sets[i]);
    for (const auto& s : ss)
        d.end_data(s);
    REQUIRE(d.outstanding.size() == 6);
    // Newest query first, the b.example keys before the a.example ones.
    std::vector<std::pair<filter::QueryId, std::string>> order(d.outstanding.rbegin(),
                                                               d.outstanding.rend());
    std::stable_partition(order.begin(), order.end(), [](const auto& q) {
        return q.second.find("b.example") != std::string::npos;
    });
    for (const auto& [id, name] : order) {
        d.answer(id, f.keys.lookup(name));
        // A duplicate of the same answer is ignored.
        filter::Actions a;
        d.engine.on_answer(id, f.keys.lookup(name), a);
        CHECK((a.output.empty() && a.replays.empty()));
    }
    for (const auto& s : ss) {
        auto out = d.output_of(s);
        std::size_t added = 0;
        REQUIRE(is_input_plus_added(out.datalines, f.two_sets, &added));
        CHECK(out.datalines[0].rfind("ARC-Seal: i=3;", 0) == 0);
        CHECK(out.datalines[0].find("cv=pass") != std::string::npos);
        d.commit(s);
        CHECK(d.output_of(s).results == std::vector<std::string>{"proceed"});
    }
    CHECK(d.well_formed());
    CHECK(d.results_total() == d.requests);
}

TEST_CASE("faults: answers and deadlines for sessions and messages already gone", "[faults][dns]") {
    auto& f = fixture();
    Driver d(options_with(f.keys.a));
    auto s1 = session_id(1), s2 = session_id(2);
    d.connect(s1);
    d.connect(s2);
    d.message(s1, f.two_sets);
    d.message(s2, f.one_set);
    REQUIRE(d.outstanding.size() == 3);
    auto stale = d.outstanding;
    auto deadlines = d.deadlines;

    // s1 disconnects while its lookups are in flight: they are cancelled.
    d.disconnect(s1);
    // s2 rolls its transaction back and sends another message.
    d.report(s2, "tx-rollback|35163a36");
    CHECK(d.engine.pending_queries() == 0);
    d.report(s2, "tx-begin|35163a37");
    d.message(s2, plain_message()); // no chain: completes at once
    auto out2 = d.output_of(s2);
    REQUIRE(is_input_plus_added(out2.datalines, plain_message()));

    std::size_t before = d.output.size();
    for (const auto& [id, name] : stale) {
        filter::Actions a;
        d.engine.on_answer(id, f.keys.lookup(name), a);
        CHECK((a.output.empty() && a.replays.empty()));
        CHECK(a.queries.empty());
    }
    for (auto m : deadlines)
        d.deadline(m);
    d.deadline(12345); // never issued
    CHECK(d.output.size() == before);

    d.commit(s2);
    CHECK(d.output_of(s2).results == std::vector<std::string>{"proceed"});
    // A commit for the vanished session still gets its answer.
    d.commit(s1);
    CHECK(d.output_of(s1).results == std::vector<std::string>{"proceed"});
    d.disconnect(s1);
    d.disconnect(s2);
    CHECK(d.engine.sessions() == 0);
    CHECK(d.engine.pending_queries() == 0);
    CHECK(d.well_formed());
    CHECK(d.results_total() == d.requests);
}

TEST_CASE("faults: a temporary failure for one key defers only that message", "[faults][dns]") {
    auto& f = fixture();
    Driver d(options_with(f.keys.a));
    auto s1 = session_id(1), s2 = session_id(2);
    d.connect(s1);
    d.connect(s2);
    d.message(s1, f.two_sets);
    auto first = d.outstanding; // s1's lookups
    d.message(s2, f.two_sets);
    while (!d.outstanding.empty()) {
        auto [id, name] = *d.outstanding.begin();
        d.answer(id, first.count(id) != 0 && name.find("b.example") != std::string::npos
                         ? dns::TxtAnswer::failed(dns::Status::temporary, "SERVFAIL")
                         : f.keys.lookup(name));
    }
    d.commit(s1);
    d.commit(s2);
    auto o1 = d.output_of(s1), o2 = d.output_of(s2);
    CHECK(o1.results == std::vector<std::string>{"reject|451 4.7.0 try again later"});
    CHECK(o1.datalines.size() == f.two_sets.size() + 1); // as received, nothing added
    CHECK(is_input_plus_added(o1.datalines, f.two_sets));
    CHECK(o2.results == std::vector<std::string>{"proceed"});
    CHECK(is_input_plus_added(o2.datalines, f.two_sets));
    CHECK(o2.datalines.size() > f.two_sets.size() + 1);
}

TEST_CASE("faults: the temporary directory full when a message spills", "[faults][spool]") {
    auto o = options_with(fixture().keys.a);
    o.spool_memory_limit = 2048;
    Driver d(o);
    auto s1 = session_id(1), s2 = session_id(2);
    d.connect(s1);
    d.connect(s2);
    auto big = big_message(2000); // ~160 kB: spills
    {
        // Files may not grow beyond 16 kB: the spill file hits "disk full" (EFBIG) part way.
        auto old = std::signal(SIGXFSZ, SIG_IGN);
        Limit fsize(RLIMIT_FSIZE, 16 * 1024);
        d.message(s1, big);
        std::signal(SIGXFSZ, old);
    }
    d.commit(s1);
    auto o1 = d.output_of(s1);
    CHECK(o1.results == std::vector<std::string>{"reject|451 4.7.0 try again later"});
    REQUIRE(!o1.datalines.empty());
    CHECK(o1.datalines.back() == ".");
    CHECK(has_log(d, "action=defer"));

    // The next message, with room again, goes through whole.
    d.message(s2, big);
    d.commit(s2);
    auto o2 = d.output_of(s2);
    CHECK(o2.results == std::vector<std::string>{"proceed"});
    CHECK(is_input_plus_added(o2.datalines, big));
    CHECK(d.well_formed());
}

TEST_CASE("faults: no temporary file can be made when a message spills", "[faults][spool]") {
    auto o = options_with(fixture().keys.a);
    o.spool_memory_limit = 2048;
    Driver d(o);
    auto s1 = session_id(1);
    d.connect(s1);
    auto big = big_message(500);
    {
        // No descriptor left: tmpfile() fails, as with an unwritable or missing /tmp.
        int probe = ::open("/dev/null", O_RDONLY);
        REQUIRE(probe >= 0);
        ::close(probe);
        Limit nofile(RLIMIT_NOFILE, static_cast<rlim_t>(probe));
        d.message(s1, big);
    }
    d.commit(s1);
    auto o1 = d.output_of(s1);
    CHECK(o1.results == std::vector<std::string>{"reject|451 4.7.0 try again later"});
    CHECK(has_log(d, "cannot spool"));
    d.disconnect(s1);
    CHECK(d.engine.sessions() == 0);
    CHECK(d.well_formed());
}
