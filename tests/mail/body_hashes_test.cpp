// SPDX-License-Identifier: ISC
// Unit tests for mail/body_hashes.hpp: one hasher per distinct (canonicalization, l=, hash) key,
// digests identical to hashing separately, and the per-message budget of hashers.
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"

#include <string>

#include "mail/body_hashes.hpp"
#include "mail/header.hpp"

using namespace arcf;
using arcf::test::Contains;
using mail::BodyHashUse;
using mail::Canon;

namespace {

const std::string body = tests::crlf("Hi Bob,\n"
                                     "  Lunch at  noon?\t \n"
                                     "\n"
                                     "-- \n"
                                     "Alice\n"
                                     "\n"
                                     "\n");

void feed(mail::BodyHashes& set, std::string_view text) {
    mail::for_each_line(text, [&](std::string_view l) { set.add_line(l); });
}

} // namespace

TEST_CASE("body hashes: digests equal separate hashing, for every key", "[body_hashes][rfc6376]") {
    mail::BodyHashes set;
    const auto relaxed = set.request(Canon::relaxed, std::nullopt, BodyHashUse::dkim);
    const auto simple = set.request(Canon::simple, std::nullopt, BodyHashUse::arc_newest);
    const auto relaxed9 = set.request(Canon::relaxed, 9, BodyHashUse::dkim);
    const auto simple0 = set.request(Canon::simple, 0, BodyHashUse::arc_older);
    const auto seal = set.request(Canon::relaxed, std::nullopt, BodyHashUse::seal);
    CHECK(seal == relaxed);
    CHECK(set.keys() == 4);
    feed(set, body);
    CHECK(set.hashers() == 4);
    REQUIRE(set.digest(relaxed) != nullptr);
    REQUIRE(set.digest(simple) != nullptr);
    REQUIRE(set.digest(relaxed9) != nullptr);
    REQUIRE(set.digest(simple0) != nullptr);
    CHECK(*set.digest(relaxed) == tests::hash_body(Canon::relaxed, body));
    CHECK(*set.digest(simple) == tests::hash_body(Canon::simple, body));
    CHECK(*set.digest(relaxed9) == tests::hash_body(Canon::relaxed, body, 9));
    CHECK(*set.digest(simple0) == tests::hash_body(Canon::simple, body, 0));
    // Lengths are the whole canonical body's, as a separate BodyHasher reports them.
    mail::BodyHasher alone(Canon::relaxed, 9);
    mail::for_each_line(body, [&](std::string_view l) { alone.add_line(l); });
    alone.finish();
    CHECK(set.canonical_length(relaxed9) == alone.canonical_length());
    CHECK(set.canonical_length(relaxed) == alone.canonical_length());
    CHECK(set.refused_reason(relaxed).empty());
    // A digest is computed once: asking again gives the same one.
    CHECK(set.digest(relaxed) == set.digest(relaxed));
}

TEST_CASE("body hashes: an empty body under both canonicalizations", "[body_hashes][rfc6376]") {
    mail::BodyHashes set;
    const auto relaxed = set.request(Canon::relaxed, std::nullopt, BodyHashUse::dkim);
    const auto simple = set.request(Canon::simple, std::nullopt, BodyHashUse::dkim);
    // No line at all: digest() starts the set.
    REQUIRE(set.digest(simple) != nullptr);
    CHECK(*set.digest(simple) == tests::hash_body(Canon::simple, ""));
    CHECK(*set.digest(relaxed) == tests::hash_body(Canon::relaxed, ""));
}

TEST_CASE("body hashes: identical keys share one hasher", "[body_hashes]") {
    mail::BodyHashes set;
    const auto a = set.request(Canon::relaxed, std::nullopt, BodyHashUse::arc_newest);
    const auto b = set.request(Canon::relaxed, std::nullopt, BodyHashUse::dkim);
    const auto c = set.request(Canon::relaxed, std::nullopt, BodyHashUse::seal);
    const auto d = set.request(Canon::relaxed, 100, BodyHashUse::dkim); // another l=: its own
    const auto e = set.request(Canon::relaxed, 100, BodyHashUse::arc_older);
    CHECK(a == b);
    CHECK(a == c);
    CHECK(d != a);
    CHECK(d == e);
    CHECK(set.keys() == 2);
    feed(set, body);
    CHECK(set.hashers() == 2);
}

TEST_CASE("body hashes: the budget keeps the most important keys", "[body_hashes][issue21]") {
    mail::BodyHashes set(2);
    CHECK(set.max_hashers() == 2);
    // Requested least important first: the order of requests does not decide, the use does.
    const auto older = set.request(Canon::simple, 1, BodyHashUse::arc_older);
    const auto dkim1 = set.request(Canon::relaxed, 2, BodyHashUse::dkim);
    const auto dkim2 = set.request(Canon::relaxed, 3, BodyHashUse::dkim);
    const auto newest = set.request(Canon::relaxed, std::nullopt, BodyHashUse::arc_newest);
    CHECK(set.keys() == 4);
    feed(set, body);
    CHECK(set.hashers() == 2);
    REQUIRE(set.digest(newest) != nullptr);
    REQUIRE(set.digest(dkim1) != nullptr); // the first DKIM key: ties in request order
    CHECK(*set.digest(dkim1) == tests::hash_body(Canon::relaxed, body, 2));
    CHECK(set.digest(dkim2) == nullptr);
    CHECK(set.digest(older) == nullptr);
    CHECK_THAT(set.refused_reason(dkim2),
               Contains("more than 2 distinct body hashes (canonicalization, l=)"));
    CHECK(set.canonical_length(older) == 0);
    // A key shared with a more important use is ranked by that use.
    mail::BodyHashes ranked(1);
    const auto low = ranked.request(Canon::simple, std::nullopt, BodyHashUse::arc_older);
    const auto other = ranked.request(Canon::relaxed, std::nullopt, BodyHashUse::dkim);
    CHECK(ranked.request(Canon::simple, std::nullopt, BodyHashUse::seal) == low);
    feed(ranked, body);
    CHECK(ranked.digest(low) != nullptr);
    CHECK(ranked.digest(other) == nullptr);
}

TEST_CASE("body hashes: no limit, and keys first asked for after the body began", "[body_hashes]") {
    mail::BodyHashes unlimited(0);
    for (std::uint64_t l = 0; l < 20; ++l)
        unlimited.request(Canon::relaxed, l, BodyHashUse::dkim);
    feed(unlimited, body);
    CHECK(unlimited.hashers() == 20);

    mail::BodyHashes set;
    const auto early = set.request(Canon::relaxed, std::nullopt, BodyHashUse::dkim);
    set.add_line("first line");
    // The same key is still shared; a new one cannot see the lines already gone.
    CHECK(set.request(Canon::relaxed, std::nullopt, BodyHashUse::seal) == early);
    const auto late = set.request(Canon::simple, std::nullopt, BodyHashUse::arc_newest);
    CHECK(set.digest(early) != nullptr);
    CHECK(set.digest(late) == nullptr);
    CHECK_THAT(set.refused_reason(late), Contains("requested after the body began"));
    CHECK(set.digest(12345) == nullptr);
}

TEST_CASE("body hashes: one hasher or several, lines reach each, also after a move",
          "[body_hashes][rfc6376]") {
    // With one hasher the lines go straight to it; with two, to both; a moved set goes on
    // feeding its hashers, and the one moved from has none.
    std::string text;
    for (int i = 0; i < 300; ++i)
        text += "line " + std::to_string(i) + (i % 7 == 0 ? " \t end  \r\n" : "\r\n");
    text += "\r\n\r\n";
    for (const bool two : {false, true}) {
        mail::BodyHashes set;
        const auto relaxed = set.request(Canon::relaxed, std::nullopt, BodyHashUse::seal);
        const auto simple =
            two ? set.request(Canon::simple, std::nullopt, BodyHashUse::dkim) : relaxed;
        const std::size_t cut = text.find("\r\n", text.size() / 2) + 2;
        feed(set, std::string_view(text).substr(0, cut));
        CHECK(set.hashers() == (two ? 2u : 1u));
        mail::BodyHashes moved(std::move(set));
        feed(moved, std::string_view(text).substr(cut));
        mail::BodyHashes assigned;
        assigned = std::move(moved);
        // Those moved from have no hasher: a line given to them goes nowhere.
        set.add_line("after the move: nowhere");
        moved.add_line("after the move: nowhere");
        CHECK(set.hashers() == 0);
        CHECK(moved.hashers() == 0);
        REQUIRE(assigned.digest(relaxed) != nullptr);
        CHECK(*assigned.digest(relaxed) == tests::hash_body(Canon::relaxed, text));
        if (two) {
            REQUIRE(assigned.digest(simple) != nullptr);
            CHECK(*assigned.digest(simple) == tests::hash_body(Canon::simple, text));
        }
    }
}
