// SPDX-License-Identifier: ISC
// Unit tests for mail/header.hpp: raw header fields, the line collector and the message splitter.
#include "tests/arc/test_support.hpp"
#include "tests/catch.hpp"
#include "tests/support/xorshift.hpp"

#include <string>
#include <vector>

#include "mail/header.hpp"

using namespace arcf;
using mail::HeaderField;

TEST_CASE("header: field keeps name, value and folding as raw bytes", "[header][rfc5322]") {
    HeaderField f("Subject: Hello\r\n\tWorld  ");
    CHECK(f.raw() == "Subject: Hello\r\n\tWorld  ");
    CHECK(f.name() == "Subject");
    CHECK(f.value() == " Hello\r\n\tWorld  ");
    CHECK_FALSE(f.malformed());
    CHECK(f.is("subject"));
    CHECK_FALSE(f.is("subjec"));
    CHECK_FALSE(f.is("subject2"));
}

TEST_CASE("header: name ends at the colon; obsolete WSP before it is not part of the name",
          "[header][rfc5322]") {
    HeaderField f("To \t: bob@example.com");
    CHECK(f.name() == "To");
    CHECK(f.value() == " bob@example.com");
    CHECK(f.is("to"));
    // A colon inside the value does not move the end of the name.
    HeaderField g("X-Time: 12:30:00");
    CHECK(g.name() == "X-Time");
    CHECK(g.value() == " 12:30:00");
    // An empty value is still a well-formed field.
    HeaderField e("X-Empty:");
    CHECK_FALSE(e.malformed());
    CHECK(e.name() == "X-Empty");
    CHECK(e.value().empty());
}

TEST_CASE("header: a line without a colon is malformed, with empty name and value",
          "[header][rfc5322]") {
    HeaderField f("this line has no colon");
    CHECK(f.malformed());
    CHECK(f.name().empty());
    CHECK(f.value().empty());
    CHECK(f.raw() == "this line has no colon");
    // A colon only on a continuation line does not make the first line a field name.
    HeaderField g("no colon here\r\n but: there");
    CHECK(g.malformed());
    CHECK(g.name().empty());
}

TEST_CASE("header: collector joins continuation lines with CRLF and stops at the empty line",
          "[header][rfc5322]") {
    mail::HeaderCollector hc;
    CHECK(hc.add_line("From: a@example.com"));
    CHECK(hc.add_line("Subject: one"));
    CHECK(hc.add_line("  two"));
    CHECK(hc.add_line("\tthree"));
    CHECK(hc.add_line("To: b@example.com"));
    CHECK_FALSE(hc.add_line("")); // the separator ends the header block
    REQUIRE(hc.fields().size() == 3);
    CHECK(hc.fields()[0].raw() == "From: a@example.com");
    CHECK(hc.fields()[1].raw() == "Subject: one\r\n  two\r\n\tthree");
    CHECK(hc.fields()[2].raw() == "To: b@example.com");
    // Every physical line counted with its CRLF: 19+12+5+6+17 bytes plus 5 CRLFs.
    CHECK(hc.total_bytes() == 19 + 12 + 5 + 6 + 17 + 5 * 2);
}

TEST_CASE("header: collector finish() flushes the pending field exactly once", "[header]") {
    mail::HeaderCollector hc;
    hc.add_line("A: 1");
    CHECK(hc.fields().empty()); // still pending: a continuation could follow
    hc.finish();
    REQUIRE(hc.fields().size() == 1);
    hc.finish();
    CHECK(hc.fields().size() == 1);
}

TEST_CASE("header: for_each_line splits at LF, drops one CR, reports the final terminator",
          "[header]") {
    std::vector<std::string> lines;
    auto collect = [&](std::string_view l) { lines.emplace_back(l); };
    CHECK(mail::for_each_line("a\r\nb\nc\r\n", collect));
    CHECK(lines == std::vector<std::string>{"a", "b", "c"});
    lines.clear();
    CHECK_FALSE(mail::for_each_line("a\r\nlast", collect));
    CHECK(lines == std::vector<std::string>{"a", "last"});
    lines.clear();
    // Only the CR right before LF is a line ending; other CRs are data.
    CHECK(mail::for_each_line("x\ry\r\r\n", collect));
    CHECK(lines == std::vector<std::string>{"x\ry\r"});
    lines.clear();
    CHECK(mail::for_each_line("", collect));
    CHECK(lines.empty());
    CHECK(mail::for_each_line("\r\n\n", collect));
    CHECK(lines == std::vector<std::string>{"", ""});
}

TEST_CASE("header: split_message keeps field order, raw bytes and the body as given",
          "[header][rfc5322]") {
    const std::string msg = "Received: from a\r\n\tby b\r\nFrom: x@example.com\r\n"
                            "Received: from c\r\nSubject:  Hi \r\n\r\nBody line\r\n\r\nEnd\r\n";
    auto s = mail::split_message(msg);
    CHECK(s.has_separator);
    REQUIRE(s.headers.size() == 4);
    CHECK(s.headers[0].raw() == "Received: from a\r\n\tby b");
    CHECK(s.headers[1].raw() == "From: x@example.com");
    CHECK(s.headers[2].raw() == "Received: from c");
    CHECK(s.headers[3].raw() == "Subject:  Hi ");
    CHECK(s.body == "Body line\r\n\r\nEnd\r\n");
    // The body is a view into the message, not a copy.
    CHECK(s.body.data() == msg.data() + msg.find("Body line"));
}

TEST_CASE("header: split_message accepts bare LF and yields the same fields as CRLF",
          "[header][rfc5322]") {
    const std::string lf = "From: x@example.com\nSubject: a\n b\n\nline 1\nline 2\n";
    auto a = mail::split_message(lf);
    auto b = mail::split_message(tests::crlf(lf));
    CHECK(a.has_separator);
    REQUIRE(a.headers.size() == 2);
    REQUIRE(b.headers.size() == 2);
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(a.headers[i].raw() == b.headers[i].raw());
    // Folding is normalised to CRLF inside the raw field.
    CHECK(a.headers[1].raw() == "Subject: a\r\n b");
    CHECK(a.body == "line 1\nline 2\n");
    // Mixed line endings in one message.
    auto m = mail::split_message("A: 1\r\nB: 2\n\r\nbody");
    REQUIRE(m.headers.size() == 2);
    CHECK(m.headers[1].raw() == "B: 2");
    CHECK(m.has_separator);
    CHECK(m.body == "body");
}

TEST_CASE("header: split_message without a separator line has no body", "[header]") {
    auto s = mail::split_message("From: x@example.com\r\nSubject: s\r\n");
    CHECK_FALSE(s.has_separator);
    REQUIRE(s.headers.size() == 2);
    CHECK(s.headers[1].raw() == "Subject: s");
    CHECK(s.body.empty());
    // No line ending at all.
    auto t = mail::split_message("Subject: only");
    CHECK_FALSE(t.has_separator);
    REQUIRE(t.headers.size() == 1);
    CHECK(t.headers[0].raw() == "Subject: only");
    CHECK(t.body.empty());
}

TEST_CASE("header: split_message with a separator but an empty body", "[header]") {
    auto s = mail::split_message("From: x@example.com\r\n\r\n");
    CHECK(s.has_separator);
    CHECK(s.headers.size() == 1);
    CHECK(s.body.empty());
}

TEST_CASE("header: empty message and message starting with the separator", "[header]") {
    auto e = mail::split_message("");
    CHECK(e.headers.empty());
    CHECK_FALSE(e.has_separator);
    CHECK(e.body.empty());
    auto s = mail::split_message("\r\nFrom: not a header\r\n");
    CHECK(s.headers.empty());
    CHECK(s.has_separator);
    CHECK(s.body == "From: not a header\r\n");
}

TEST_CASE("header: malformed lines stay in place as their own fields", "[header][rfc5322]") {
    auto s =
        mail::split_message("From: x@example.com\r\ngarbage line\r\nTo: y@example.com\r\n\r\n");
    REQUIRE(s.headers.size() == 3);
    CHECK_FALSE(s.headers[0].malformed());
    CHECK(s.headers[1].malformed());
    CHECK(s.headers[1].raw() == "garbage line");
    CHECK(s.headers[2].is("to"));
}

TEST_CASE("header: a continuation line at the very start is not glued to anything",
          "[header][rfc5322]") {
    auto s = mail::split_message(" folded: start\r\nFrom: x@example.com\r\n\r\nbody\r\n");
    REQUIRE(s.headers.size() == 2);
    CHECK(s.headers[0].raw() == " folded: start");
    // Its name is not a valid field name, so it never matches a real header.
    CHECK_FALSE(s.headers[0].is("folded"));
    CHECK(s.headers[1].raw() == "From: x@example.com");
    CHECK(s.headers[1].is("from"));
    CHECK(s.body == "body\r\n");
}

// Issue 15 class 7: RFC 5322 §2.2/§2.3, CR and LF only as CRLF. A reader that takes a bare CR
// for a line break sees these fields; the filter scrubs by that reading.
TEST_CASE("header: fields seen when a bare CR breaks lines", "[header][issue15]") {
    auto names = [](const std::vector<mail::HeaderField>& v) {
        std::vector<std::string> out;
        for (const auto& f : v)
            out.emplace_back(f.raw());
        return out;
    };
    CHECK(names(mail::fields_with_bare_cr_breaks("X-Foo: a\r\n\tb")) ==
          std::vector<std::string>{"X-Foo: a\r\n\tb"});
    CHECK(
        names(mail::fields_with_bare_cr_breaks("X-Foo: a\rAuthentication-Results: x; arc=pass")) ==
        std::vector<std::string>{"X-Foo: a", "Authentication-Results: x; arc=pass"});
    CHECK(names(mail::fields_with_bare_cr_breaks("X-Foo: a\r\n\tb\rA-R: x\r\n\tmore\r\r\tend\r")) ==
          std::vector<std::string>{"X-Foo: a\r\n\tb", "A-R: x\r\n\tmore\r\n\tend"});
    CHECK(mail::fields_with_bare_cr_breaks("X-Foo: a\rAuthentication-Results: x")[1].is(
        "authentication-results"));
    CHECK(mail::has_bare_cr("a\rb"));
    CHECK(mail::has_bare_cr("a\r"));
    CHECK_FALSE(mail::has_bare_cr("a\r\n\tb"));
    CHECK_FALSE(mail::has_bare_cr(""));
}

namespace {

// The fields of `split` as (raw, name, value, malformed) text, to compare two splits.
std::vector<std::string> described(const mail::SplitMessage& split) {
    std::vector<std::string> out;
    for (const auto& f : split.headers)
        out.push_back(std::string(f.raw()) + "|" + std::string(f.name()) + "|" +
                      std::string(f.value()) + "|" + (f.malformed() ? "m" : "-"));
    out.push_back(std::string("body=") + std::string(split.body) +
                  (split.has_separator ? "|sep" : "|nosep"));
    return out;
}

} // namespace

TEST_CASE("header: split_message_view agrees with split_message and views the message",
          "[header][issue21]") {
    // Random header blocks of short and folded fields, malformed lines, WSP-led first lines,
    // bare CRs inside lines and a CR at the very end, with CRLF or (sometimes) bare LF line
    // ends, with or without a separator and a body.
    test::Rng rng{5322};
    const char* const pieces[] = {"From: a@example.com",
                                  "Subject: x",
                                  "X-Long: 0123456789abcdef",
                                  " folded",
                                  "\tfolded tab",
                                  "no colon",
                                  "Bad\r: cr",
                                  "To \t: b@example.com",
                                  ":",
                                  "A:\r",
                                  "  ",
                                  "X: a\rb"};
    int viewed = 0;
    for (int round = 0; round < 4000; ++round) {
        std::string m;
        const bool lf = rng.below(4) == 0;
        const std::size_t lines = rng.below(12);
        for (std::size_t i = 0; i < lines; ++i) {
            m += pieces[rng.below(sizeof pieces / sizeof pieces[0])];
            m += lf && rng.below(3) == 0 ? "\n" : "\r\n";
        }
        switch (rng.below(4)) {
        case 0:
            m += "\r\nbody line\r\n";
            break;
        case 1:
            m += "\nbody\n";
            break;
        case 2:
            if (!m.empty() && rng.below(2) == 0)
                m.pop_back(); // the last line without its LF (a CR left at the very end)
            break;
        default:
            m += "\r\n";
            break;
        }
        INFO("round " << round << ": " << m);
        const auto copied = mail::split_message(m);
        const auto view = mail::split_message_view(m);
        REQUIRE(described(view) == described(copied));
        bool all_views = true;
        for (const auto& f : view.headers) {
            all_views = all_views && f.is_view();
            if (f.is_view()) {
                // A view is a piece of the message itself.
                REQUIRE(f.raw().data() >= m.data());
                REQUIRE(f.raw().data() + f.raw().size() <= m.data() + m.size());
            }
        }
        viewed += all_views && !view.headers.empty();
    }
    CHECK(viewed > 1000);
}

TEST_CASE("header: a bare LF in the header block makes split_message_view copy",
          "[header][issue21]") {
    const std::string m = "Subject: a\n b\r\nFrom: c\r\n\r\nbody";
    const auto view = mail::split_message_view(m);
    REQUIRE(view.headers.size() == 2);
    CHECK(view.headers[0].raw() == "Subject: a\r\n b");
    CHECK_FALSE(view.headers[0].is_view());
    CHECK(view.body == "body");
    // Without it, every field is a view.
    const std::string crlf = "Subject: a\r\n b\r\nFrom: c\r\n\r\nbody";
    const auto all = mail::split_message_view(crlf);
    REQUIRE(all.headers.size() == 2);
    CHECK(all.headers[0].is_view());
    CHECK(all.headers[1].is_view());
    CHECK(all.headers[0].raw() == "Subject: a\r\n b");
}

TEST_CASE("header: copies and moves of owned and viewed fields keep their text",
          "[header][issue21]") {
    // Owned text moves with the field (short texts live inside the std::string, so the view
    // must follow); viewed text stays where it is.
    const std::string text = "X-View: viewed value";
    std::vector<HeaderField> fields;
    for (int i = 0; i < 40; ++i) { // growth moves every element several times
        fields.push_back(i % 2 == 0 ? HeaderField("A: " + std::to_string(i))
                                    : HeaderField::view_of(text));
        fields.push_back(HeaderField("Long-Owned-Field: " + std::string(40, 'x')));
    }
    for (std::size_t i = 0; i < fields.size(); i += 2) {
        const auto k = i / 2;
        if (k % 2 == 0) {
            CHECK(fields[i].raw() == "A: " + std::to_string(k));
            CHECK(fields[i].name() == "A");
            CHECK_FALSE(fields[i].is_view());
        } else {
            CHECK(fields[i].raw().data() == text.data());
            CHECK(fields[i].value() == " viewed value");
        }
    }
    HeaderField a("B: short");
    HeaderField b(a); // copy
    HeaderField c;
    c = a;
    {
        HeaderField gone("B: short");
        HeaderField d(std::move(gone));
        CHECK(d.raw() == "B: short");
        CHECK(gone.raw().empty());
        CHECK(gone.malformed());
    }
    a = HeaderField("C: replaced");
    CHECK(b.raw() == "B: short");
    CHECK(c.raw() == "B: short");
    CHECK(c.name() == "B");
    CHECK(a.raw() == "C: replaced");
    CHECK(b.raw().data() != c.raw().data());
    HeaderField v = HeaderField::view_of(text);
    HeaderField w;
    w = std::move(v);
    CHECK(w.raw().data() == text.data());
    CHECK(w.is_view());
    CHECK(w.name() == "X-View");
}
