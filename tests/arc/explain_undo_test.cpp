// SPDX-License-Identifier: ISC
// The undo candidates of `verify --explain`: each edit a forwarder makes, reverted exactly, and
// the body prefixes that match a digest found in one pass.
#include "arc/explain_undo.hpp"
#include "tests/catch.hpp"

#include <string>

using namespace arcf::arc::undo;

namespace {
std::string digest_key(std::string_view canonical_body) {
    auto d = arcf::mail::sha256(canonical_body);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}
} // namespace

TEST_CASE("undo: a subject tag comes off after Re:/Fwd:, with the space after it") {
    std::string tag;
    CHECK(strip_subject_tag(HeaderField("Subject: Re: [lunch] Fwd: hi"), tag) ==
          "Subject: Re: Fwd: hi");
    CHECK(tag == "[lunch] ");
    tag.clear();
    CHECK(strip_subject_tag(HeaderField("Subject: hi [lunch]"), tag).empty()); // not at the start
    CHECK(tag.empty());
    CHECK(strip_subject_tag(HeaderField("Subject: [" + std::string(70, 'x') + "] hi"), tag)
              .empty()); // longer than a list tag
}

TEST_CASE("undo: plain spacing and the two unfoldings") {
    CHECK(plain_spacing(HeaderField("To:  a \t b ")) == "To: a b");
    CHECK(plain_spacing(HeaderField("To: a\r\n\t b")) == "To: a\r\n b");
    CHECK(unfolded("Message-ID: <a@\r\n\tb>", false) == "Message-ID: <a@b>");
    CHECK(unfolded("Subject: a\r\n\tb", true) == "Subject: a\tb");
}

TEST_CASE("undo: the longest body prefix whose hash was signed, in one pass") {
    const std::string body = "Hello  world \r\n\r\nbye\r\n-- \r\nlist footer\r\n";
    CHECK(count_lines(body) == 5);
    CHECK(offset_of_line(body, 3) == std::string("Hello  world \r\n\r\nbye\r\n").size());
    // What hop 1 signed: the first three lines, relaxed (RFC 6376 §3.4.4) and simple.
    const std::string relaxed = digest_key("Hello world\r\n\r\nbye\r\n");
    const std::string simple = digest_key("Hello  world \r\n\r\nbye\r\n");
    const std::string nothing = digest_key("unrelated\r\n");
    auto r = match_prefixes(body, Canon::relaxed, {relaxed, nothing}, 1000);
    REQUIRE(r.count(relaxed) == 1);
    CHECK(r[relaxed].lines == 3);
    CHECK(r.count(nothing) == 0);
    auto s = match_prefixes(body, Canon::simple, {simple}, 1000);
    REQUIRE(s.count(simple) == 1);
    CHECK(s[simple].lines == 3);
    // A footer longer than the limit is not looked for.
    CHECK(match_prefixes(body, Canon::simple, {simple}, 5).empty());
}
