// SPDX-License-Identifier: ISC
// The message spool: memory, then an unlinked temporary file, lines back in order.
#include "filter/pipeline/spool.hpp"
#include "tests/catch.hpp"

#include <memory>
#include <string>
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

TEST_CASE("spool: all spools share one memory budget; beyond it a message goes to disk",
          "[spool]") {
    const std::size_t saved = Spool::total_memory_limit();
    const std::size_t base = Spool::total_memory();
    // Room for 64 KB plus the new buffer of the last enlargement (the old one is counted too).
    Spool::set_total_memory_limit(base + 128 * 1024);
    const std::string line(1000, 'a');
    {
        Spool first(1 << 20); // its own threshold is far away
        for (int i = 0; i < 40; ++i)
            REQUIRE(first.append(line));
        CHECK_FALSE(first.spilled());
        CHECK(Spool::total_memory() > base + 40 * 1000);
        CHECK(Spool::total_memory() <= base + 128 * 1024);

        // The second message finds the budget nearly used: it spills once it needs room.
        Spool second(1 << 20);
        for (int i = 0; i < 40; ++i)
            REQUIRE(second.append(line));
        CHECK(second.spilled());
        CHECK(Spool::total_memory() <= base + 128 * 1024);
        std::vector<std::string> out;
        REQUIRE(second.replay([&](std::string_view l) { out.emplace_back(l); }));
        CHECK(out == std::vector<std::string>(40, line));

        // The first one keeps growing in memory until the budget stops it too.
        for (int i = 0; i < 40; ++i)
            REQUIRE(first.append(line));
        CHECK(first.spilled());
        out.clear();
        REQUIRE(first.replay([&](std::string_view l) { out.emplace_back(l); }));
        CHECK(out == std::vector<std::string>(80, line));
    }
    CHECK(Spool::total_memory() == base); // what the spools held is given back
    Spool::set_total_memory_limit(saved);
}

TEST_CASE("spool: a spool never holds more memory than its threshold needs", "[spool]") {
    const std::size_t base = Spool::total_memory();
    {
        Spool s(100 * 1000);
        for (int i = 0; i < 99; ++i)
            REQUIRE(s.append(std::string(999, 'b')));
        CHECK_FALSE(s.spilled());
        // 99,000 bytes stored; doubling would have reserved 131,072 or more.
        CHECK(Spool::total_memory() - base <= 100 * 1000);
    }
    CHECK(Spool::total_memory() == base);
}

TEST_CASE("spool: the shared budget bounds the peak, the old buffer counted while one grows",
          "[spool]") {
    // Issue 21: a spool enlarging its buffer holds the old and the new one while it copies; the
    // budget must hold then too, or it is exceeded by up to the largest buffer.
    const std::size_t saved = Spool::total_memory_limit();
    const std::size_t base = Spool::total_memory();
    Spool::set_total_memory_limit(base + 64 * 1024);
    Spool::reset_peak_total_memory();
    const std::string line(1000, 'c');
    {
        std::vector<std::unique_ptr<Spool>> spools;
        for (int k = 0; k < 3; ++k) {
            spools.push_back(std::make_unique<Spool>(1 << 20));
            for (int i = 0; i < 100; ++i)
                REQUIRE(spools.back()->append(line));
            CHECK(spools.back()->spilled()); // 100 KB never fit in a 64 KiB budget
        }
        CHECK(Spool::peak_total_memory() > base + 16 * 1000); // it did use memory first
        CHECK(Spool::peak_total_memory() <= base + 64 * 1024);
        for (const auto& s : spools) {
            std::size_t n = 0;
            REQUIRE(s->replay([&](std::string_view l) { n += l == line ? 1 : 0; }));
            CHECK(n == 100);
        }
    }
    CHECK(Spool::total_memory() == base);
    Spool::set_total_memory_limit(saved);
}
