// SPDX-License-Identifier: ISC
// The message spool: memory, then an unlinked temporary file, lines back in order.
#include "filter/spool.hpp"

#include <catch2/catch.hpp>

#include <vector>

using arcf::filter::Spool;

TEST_CASE("spool: lines come back in order from memory and from disk", "[spool]") {
    for (std::size_t limit : {std::size_t{1} << 20, std::size_t{10}}) {
        Spool s(limit);
        std::vector<std::string> in = {"first", "", "..dot", std::string(70000, 'x'), "last"};
        for (const auto& l : in)
            REQUIRE(s.append(l));
        CHECK(s.spilled() == (limit == 10));
        std::vector<std::string> out;
        REQUIRE(s.replay([&](std::string_view l) { out.emplace_back(l); }));
        CHECK(out == in);
        CHECK(s.longest_line() == 70000);
        // Replaying twice gives the same lines (the commit path may need it after a retry).
        out.clear();
        REQUIRE(s.replay([&](std::string_view l) { out.emplace_back(l); }));
        CHECK(out == in);
    }
}
