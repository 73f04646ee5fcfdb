// SPDX-License-Identifier: ISC
// Trust boundary and sealing policy: networks, domains, key choice.
#include "filter/pipeline/policy.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

using namespace arcf;
using namespace arcf::filter;

TEST_CASE("policy: networks in CIDR notation, IPv4, IPv6 and mapped", "[policy]") {
    auto lo = Network::parse("127.0.0.0/8");
    REQUIRE(lo);
    CHECK(lo->contains("127.0.0.1"));
    CHECK(lo->contains("127.255.1.2"));
    CHECK_FALSE(lo->contains("128.0.0.1"));
    CHECK(lo->contains("::ffff:127.0.0.1"));
    auto v6 = Network::parse("2001:db8::/32");
    REQUIRE(v6);
    CHECK(v6->contains("2001:db8:1::5"));
    CHECK(v6->contains("[2001:db8::1]"));
    CHECK_FALSE(v6->contains("2001:db9::1"));
    CHECK_FALSE(v6->contains("127.0.0.1"));
    auto odd = Network::parse("192.0.2.128/25");
    REQUIRE(odd);
    CHECK(odd->contains("192.0.2.200"));
    CHECK_FALSE(odd->contains("192.0.2.100"));
    CHECK(Network::parse("::1")->contains("::1"));
    CHECK_FALSE(Network::parse("10.0.0.0/33"));
    CHECK_FALSE(Network::parse("not-an-ip"));
    CHECK_FALSE(Network::parse("10.0.0.0/"));
    CHECK_FALSE(lo->contains(""));
}

TEST_CASE("policy: domains of envelope addresses", "[policy]") {
    CHECK(domain_of("User@Example.ORG") == "example.org");
    CHECK(domain_of("") == "");
}

// Issue 15 class 7: key choice and DMARC read the From field with one parser (RFC 5322 §3.4
// through dmarc::author_domain), so a display name that looks like an address never picks the
// key.
TEST_CASE("policy: header-from key choice uses the RFC 5322 From parser", "[policy][issue15]") {
    auto lists = std::make_shared<arc::SealKey>(
        arc::SealKey{"lists.example", "s", tests::make_ed25519_key()});
    auto evil = std::make_shared<arc::SealKey>(
        arc::SealKey{"evil.example", "s", tests::make_ed25519_key()});
    auto fallback = std::make_shared<arc::SealKey>(
        arc::SealKey{"default.example", "s", tests::make_ed25519_key()});
    Policy p;
    p.domain_source = DomainSource::header_from;
    p.keys = {{"lists.example", lists}, {"default.example", fallback}};
    p.default_domain = "default.example";
    Envelope e{"192.0.2.1", "", "", {"x@rcpt.example"}};
    // The address is attacker@evil.example; the quoted display name is not an address.
    CHECK(choose_key(p, e, " \"Lists <x@lists.example>\" <attacker@evil.example>") == fallback);
    p.keys["evil.example"] = evil;
    CHECK(choose_key(p, e, " \"Lists <x@lists.example>\" <attacker@evil.example>") == evil);
    CHECK(choose_key(p, e, " \"Doe, J@ne\" <jane@Lists.Example>") == lists);
    CHECK(choose_key(p, e, " jane@lists.example (Jane <a@evil.example>)") == lists);
    // No single author domain (RFC 7489 §6.6.1): no key from the header, the default one.
    CHECK(choose_key(p, e, " a@lists.example, b@evil.example") == fallback);
    CHECK(choose_key(p, e, " \"unterminated <a@lists.example>") == fallback);
}

TEST_CASE("policy: key choice by source, parent domains, default", "[policy]") {
    auto k1 =
        std::make_shared<arc::SealKey>(arc::SealKey{"one.example", "s", tests::make_ed25519_key()});
    auto k2 =
        std::make_shared<arc::SealKey>(arc::SealKey{"two.example", "s", tests::make_ed25519_key()});
    Policy p;
    p.keys = {{"one.example", k1}, {"two.example", k2}};
    p.default_domain = "one.example";
    Envelope e{"192.0.2.1", "", "bounce@mail.two.example", {"x@one.example", "y@two.example"}};
    CHECK(choose_key(p, e, "") == k1); // fixed: the default
    p.domain_source = DomainSource::envelope_from;
    CHECK(choose_key(p, e, "") == k2); // parent domain of mail.two.example
    p.domain_source = DomainSource::header_from;
    CHECK(choose_key(p, e, " <a@two.example>") == k2);
    CHECK(choose_key(p, e, " <a@three.example>") == k1); // falls back to the default
    p.domain_source = DomainSource::recipient;
    CHECK(choose_key(p, e, "") == k1);
    p.default_domain = "missing.example";
    e.rcpts = {"x@none.example"};
    CHECK(choose_key(p, e, "") == nullptr);
}

TEST_CASE("policy: trusted clients and wants_seal", "[policy]") {
    Policy p;
    p.keys["one.example"] =
        std::make_shared<arc::SealKey>(arc::SealKey{"one.example", "s", tests::make_ed25519_key()});
    p.trusted_networks = {*Network::parse("127.0.0.0/8")};
    Envelope outside{"198.51.100.1", "", "", {"a@b.example"}};
    Envelope local{"127.0.0.1", "", "", {"a@b.example"}};
    Envelope authed{"198.51.100.1", "user", "", {"a@b.example"}};
    CHECK(wants_seal(p, outside));
    p.seal_when = SealWhen::trusted;
    CHECK_FALSE(wants_seal(p, outside));
    CHECK(wants_seal(p, local));
    CHECK(wants_seal(p, authed));
    p.trust_authenticated = false;
    CHECK_FALSE(wants_seal(p, authed));
    p.mode = Mode::verify;
    CHECK_FALSE(wants_seal(p, local));
}
