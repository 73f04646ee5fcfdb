// SPDX-License-Identifier: ISC
// The SPF evaluator's queries straight through a dns::Resolver (here a StaticResolver over a
// zone file): the same record types and answers (RFC 7208 §4.4, §5).
#include "dns/static_resolver.hpp"
#include "dns/zone_file.hpp"
#include "spf/evaluator.hpp"
#include "tests/catch.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <type_traits>

using namespace arcf;

// The evaluator speaks the resolvers' vocabulary: no adapter between them.
static_assert(std::is_same_v<spf::QueryType, dns::RecordType>);
static_assert(std::is_same_v<spf::Answer, dns::Answer>);

TEST_CASE("spf: a whole evaluation through a resolver serving a zone file", "[spf]") {
    dns::ZoneFile zone;
    std::string err;
    REQUIRE(zone.parse("$ORIGIN example.org.\n"
                       "@      TXT \"v=spf1 include:_spf.example.org -all\"\n"
                       "_spf   TXT \"v=spf1 mx:example.org ptr:example.org ~all\"\n"
                       "@      MX 10 mx1\n"
                       "mx1    A 192.0.2.10\n"
                       "host   A 198.51.100.20\n"
                       "20.100.51.198.in-addr.arpa. PTR host.example.org.\n",
                       err));
    std::deque<std::function<void()>> loop;
    dns::StaticResolver res(
        [&loop](std::function<void()> f) { loop.push_back(std::move(f)); },
        [&zone](dns::RecordType type, std::string_view name) { return zone.lookup(type, name); });
    auto check = [&](const std::string& ip) {
        spf::Evaluator ev(spf::mail_from_identity(*spf::IpAddress::parse(ip), "u@example.org",
                                                  "helo.example", "mx.example.test", 0));
        std::optional<spf::Verdict> verdict;
        std::function<void()> pump = [&] {
            while (!verdict) {
                auto step = ev.step();
                if (auto* q = std::get_if<spf::Query>(&step)) {
                    auto id = q->id;
                    res.query(q->type, q->name, [&, id](dns::Answer a) {
                        ev.answer(id, std::move(a));
                        pump();
                    });
                    continue;
                }
                if (auto* v = std::get_if<spf::Verdict>(&step))
                    verdict = *v;
                break;
            }
        };
        pump();
        while (!loop.empty()) {
            auto f = std::move(loop.front());
            loop.pop_front();
            f();
        }
        REQUIRE(verdict);
        return verdict->result;
    };
    CHECK(check("192.0.2.10") == spf::Result::pass);    // include: -> mx -> A
    CHECK(check("198.51.100.20") == spf::Result::pass); // include: -> ptr -> PTR, A
    CHECK(check("203.0.113.5") == spf::Result::fail);   // ~all inside include: no match; -all
    CHECK(res.queries(dns::RecordType::ptr, "20.100.51.198.in-addr.arpa") == 1);
    CHECK(res.queries(dns::RecordType::mx, "example.org") == 3);
}
