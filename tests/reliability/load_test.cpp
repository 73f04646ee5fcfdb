// SPDX-License-Identifier: ISC
// Load through the engine: 1,000 concurrent sessions with their data lines interleaved, DNS
// answers arriving in random order in between, a third of the messages spilling to disk. Every
// message comes out as received plus our headers, every commit is answered once, and nothing
// is left behind afterwards.
#include "tests/catch.hpp"
#include "tests/reliability/fixtures.hpp"

#include <algorithm>
#include <chrono>
#include <random>

using namespace arcf;
using namespace arcf::reliability;

TEST_CASE("load: 1,000 concurrent sessions with interleaved data", "[load]") {
    Keys keys;
    auto one_set = sealed_by(keys.a, plain_message(), keys);
    auto two_sets = sealed_by(keys.b, one_set, keys);
    std::vector<std::string> large = plain_message();
    for (int i = 0; i < 300; ++i)
        large.push_back("large body line " + std::to_string(i) + std::string(60, '.'));
    const std::vector<const std::vector<std::string>*> kinds = {&plain_message(), &one_set,
                                                                &two_sets, &large};

    auto o = options_with(keys.a);
    o.spool_memory_limit = 16 * 1024; // the large messages spill
    Driver d(o);
    constexpr unsigned n = 1000;
    std::vector<std::string> ids;
    std::vector<const std::vector<std::string>*> msgs;
    for (unsigned i = 0; i < n; ++i) {
        ids.push_back(session_id(i));
        msgs.push_back(kinds[i % kinds.size()]);
        d.connect(ids.back(), i % 2 ? "192.0.2.7" : "2001:db8::7");
    }
    CHECK(d.engine.sessions() == n);

    auto start = std::chrono::steady_clock::now();
    std::mt19937 rng(20260101);
    std::vector<std::size_t> next(n, 0);
    std::size_t done = 0;
    while (done < n) {
        for (unsigned i = 0; i < n; ++i) {
            auto& lines = *msgs[i];
            if (next[i] > lines.size())
                continue;
            if (next[i] == lines.size()) {
                d.end_data(ids[i]);
                ++done;
            } else {
                d.data(ids[i], lines[next[i]]);
            }
            ++next[i];
            // Now and then, some of the outstanding answers arrive, in random order.
            if (!d.outstanding.empty() && rng() % 7 == 0) {
                auto it = d.outstanding.begin();
                std::advance(it, static_cast<long>(rng() % d.outstanding.size()));
                d.answer(it->first, keys.lookup(it->second));
            }
        }
    }
    while (!d.outstanding.empty()) {
        auto it = d.outstanding.begin();
        std::advance(it, static_cast<long>(rng() % d.outstanding.size()));
        d.answer(it->first, keys.lookup(it->second));
    }
    for (unsigned i = 0; i < n; ++i)
        d.commit(ids[i]);
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    WARN("1,000 interleaved sessions through the engine in " << elapsed << " ms");

    REQUIRE(d.well_formed());
    CHECK(d.results_total() == n);
    // Per-session check on one parse of the output.
    std::map<std::string, SessionOutput> per;
    {
        std::size_t pos = 0;
        while (pos < d.output.size()) {
            auto nl = d.output.find('\n', pos);
            std::string_view line(d.output.data() + pos, nl - pos);
            pos = nl + 1;
            bool dl = line.rfind("filter-dataline|", 0) == 0;
            bool fr = line.rfind("filter-result|", 0) == 0;
            if (!dl && !fr)
                continue;
            auto rest = line.substr(line.find('|') + 1);
            std::string s(rest.substr(0, rest.find('|')));
            rest = rest.substr(rest.find('|') + 1);
            rest = rest.substr(rest.find('|') + 1);
            (dl ? per[s].datalines : per[s].results).emplace_back(rest);
        }
    }
    std::size_t sealed = 0, intact = 0;
    for (unsigned i = 0; i < n; ++i) {
        const auto& out = per[ids[i]];
        std::size_t added = 0;
        if (is_input_plus_added(out.datalines, *msgs[i], &added))
            ++intact;
        if (added > 0 && out.datalines[0].rfind("ARC-Seal:", 0) == 0)
            ++sealed;
        if (out.results != std::vector<std::string>{"proceed"})
            FAIL_CHECK("session " << ids[i] << " was not answered with one proceed");
    }
    CHECK(intact == n);
    CHECK(sealed == n);
    std::size_t spooled = std::count_if(d.logs.begin(), d.logs.end(), [](const std::string& l) {
        return l.find("spooled=disk") != std::string::npos;
    });
    CHECK(spooled == n / 4);
    std::size_t passed = std::count_if(d.logs.begin(), d.logs.end(), [](const std::string& l) {
        return l.find("arc=pass") != std::string::npos;
    });
    CHECK(passed == n / 2);

    for (const auto& s : ids)
        d.disconnect(s);
    CHECK(d.engine.sessions() == 0);
    CHECK(d.engine.pending_queries() == 0);
}
