// SPDX-License-Identifier: ISC
// Unit tests of dmarc/record: selection by v=DMARC1, tags, defaults for bad optional values,
// the p=none fallback of RFC 7489 §6.6.3 step 6.
#include "dmarc/record.hpp"
#include "tests/catch.hpp"

#include <string>

using namespace arcf::dmarc;

namespace {

Record parse_ok(const std::string& text) {
    auto r = parse_record(text);
    INFO(text << ": " << (r ? std::string() : r.error().detail));
    REQUIRE(r);
    return *r;
}

Errc parse_error(const std::string& text) {
    auto r = parse_record(text);
    INFO(text);
    REQUIRE_FALSE(r);
    return r.error().code;
}

} // namespace

TEST_CASE("dmarc record: selection by v=DMARC1 (RFC 7489 §6.3, §6.6.3 step 2)", "[dmarc][record]") {
    CHECK(is_dmarc_record("v=DMARC1"));
    CHECK(is_dmarc_record("v=DMARC1;p=none"));
    CHECK(is_dmarc_record("v=DMARC1; p=none"));
    CHECK(is_dmarc_record("v = DMARC1 ; p=none"));
    CHECK(is_dmarc_record("V=DMARC1; p=none"));       // tag names are ABNF literals: any case
    CHECK_FALSE(is_dmarc_record("v=dmarc1; p=none")); // the value "MUST match precisely"
    CHECK_FALSE(is_dmarc_record("v=DMARC10; p=none"));
    CHECK_FALSE(is_dmarc_record("v=DMARC2; p=none"));
    CHECK_FALSE(is_dmarc_record(" v=DMARC1; p=none"));
    CHECK_FALSE(is_dmarc_record("p=none; v=DMARC1")); // v= must come first
    CHECK_FALSE(is_dmarc_record("v=spf1 -all"));
    CHECK_FALSE(is_dmarc_record(""));
    CHECK_FALSE(is_dmarc_record("v"));
    CHECK(parse_error("v=spf1 -all") == Errc::not_dmarc);
}

TEST_CASE("dmarc record: a full record", "[dmarc][record]") {
    Record r = parse_ok("v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=s; "
                        "pct=20; rua=mailto:agg@example.com,mailto:b@example.net!10m; "
                        "ruf=mailto:f@example.com; fo=1:d; rf=afrf; ri=3600");
    CHECK(r.p == Policy::reject);
    REQUIRE(r.sp);
    CHECK(*r.sp == Policy::quarantine);
    REQUIRE(r.np);
    CHECK(*r.np == Policy::reject);
    CHECK(r.adkim == Alignment::strict);
    CHECK(r.aspf == Alignment::strict);
    CHECK(r.pct == 20);
    CHECK(r.rua == "mailto:agg@example.com,mailto:b@example.net!10m");
    CHECK(r.ruf == "mailto:f@example.com");
    CHECK(r.fo == "1:d");
    CHECK(r.rf == "afrf");
    CHECK(r.ri == "3600");
    CHECK_FALSE(r.p_assumed);
    CHECK(r.notes.empty());
}

TEST_CASE("dmarc record: defaults", "[dmarc][record]") {
    Record r = parse_ok("v=DMARC1; p=quarantine");
    CHECK(r.p == Policy::quarantine);
    CHECK_FALSE(r.sp);
    CHECK_FALSE(r.np);
    CHECK(r.adkim == Alignment::relaxed);
    CHECK(r.aspf == Alignment::relaxed);
    CHECK(r.pct == 100);
    CHECK(r.rua.empty());
    CHECK(parse_ok("v=DMARC1;p=none;").p == Policy::none);
    CHECK(parse_ok("v=DMARC1 ; P = REJECT ;").p == Policy::reject); // case-insensitive keywords
    CHECK(parse_ok("v=DMARC1;\tp=reject;;").p == Policy::reject);   // empty spec ignored
}

TEST_CASE("dmarc record: bad optional values fall back to defaults (§6.3)", "[dmarc][record]") {
    Record r = parse_ok("v=DMARC1; p=reject; adkim=x; aspf=relaxed; pct=101; foo=bar; np=drop");
    CHECK(r.p == Policy::reject);
    CHECK(r.adkim == Alignment::relaxed);
    CHECK(r.aspf == Alignment::relaxed);
    CHECK(r.pct == 100);
    CHECK_FALSE(r.np);
    CHECK(r.notes.size() == 5);
    CHECK(parse_ok("v=DMARC1; p=reject; pct=0").pct == 0);
    CHECK(parse_ok("v=DMARC1; p=reject; pct=-1").pct == 100);
    CHECK(parse_ok("v=DMARC1; p=reject; pct=1000").pct == 100);
    CHECK(parse_ok("v=DMARC1; p=reject; pct=").pct == 100);
    // A repeated tag: the first one counts.
    Record rep = parse_ok("v=DMARC1; p=reject; p=none; adkim=s; adkim=r");
    CHECK(rep.p == Policy::reject);
    CHECK(rep.adkim == Alignment::strict);
    // Junk between tags is ignored.
    CHECK(parse_ok("v=DMARC1; p=reject; junk; =x; 1a=b").p == Policy::reject);
    // p= out of place is still read.
    Record late = parse_ok("v=DMARC1; rua=mailto:a@example.com; p=reject");
    CHECK(late.p == Policy::reject);
    CHECK_FALSE(late.p_assumed);
}

TEST_CASE("dmarc record: missing or bad p= (§6.6.3 step 6)", "[dmarc][record]") {
    // With a valid rua=: as if p=none.
    Record r = parse_ok("v=DMARC1; rua=mailto:dmarc@example.com");
    CHECK(r.p == Policy::none);
    CHECK(r.p_assumed);
    Record bad_p = parse_ok("v=DMARC1; p=bogus; sp=reject; rua=mailto:dmarc@example.com");
    CHECK(bad_p.p == Policy::none);
    CHECK_FALSE(bad_p.sp);
    CHECK(bad_p.p_assumed);
    Record bad_sp = parse_ok("v=DMARC1; p=reject; sp=bogus; rua=mailto:dmarc@example.com");
    CHECK(bad_sp.p == Policy::none);
    CHECK(bad_sp.p_assumed);
    // rua= with one usable URI among junk still counts.
    CHECK(parse_ok("v=DMARC1; rua=junk, mailto:x@example.com").p_assumed);
    // Without one: no DMARC processing.
    CHECK(parse_error("v=DMARC1") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; sp=reject") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; p=bogus") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; p=reject; sp=bogus") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; p=; rua=") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; rua=dmarc@example.com") == Errc::no_policy);
    CHECK(parse_error("v=DMARC1; rua=mailto:") == Errc::no_policy);
}

TEST_CASE("dmarc record: report URIs (§6.4 dmarc-uri)", "[dmarc][record]") {
    CHECK(is_report_uri("mailto:a@example.com"));
    CHECK(is_report_uri("mailto:a@example.com!10m"));
    CHECK(is_report_uri("https://example.com/report"));
    CHECK_FALSE(is_report_uri("a@example.com"));
    CHECK_FALSE(is_report_uri(":x"));
    CHECK_FALSE(is_report_uri("1ttp:x"));
    CHECK_FALSE(is_report_uri("mailto:"));
    CHECK_FALSE(is_report_uri("mailto:a b"));
    CHECK_FALSE(is_report_uri(""));
}
