// SPDX-License-Identifier: ISC
// Fuzz target: header fields and the message splitter (mail/header.hpp), with header and body
// canonicalization (mail/canon.hpp) of whatever they produce.
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/canon.hpp"
#include "mail/header.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    auto split = mail::split_message(text);

    // The body is a suffix of the input.
    check(split.body.size() <= text.size() &&
              text.substr(text.size() - split.body.size()) == split.body,
          "split_message: body is not a suffix of the message");

    // The streaming collector (what the filter uses) agrees with split_message.
    mail::HeaderCollector hc;
    bool in_headers = true;
    std::size_t body_lines = 0;
    bool ended_lf = mail::for_each_line(text, [&](std::string_view line) {
        check(line.find('\n') == std::string_view::npos, "for_each_line: LF inside a line");
        if (in_headers) {
            in_headers = hc.add_line(line);
        } else {
            ++body_lines;
        }
    });
    hc.finish();
    check(ended_lf == (text.empty() || text.back() == '\n'), "for_each_line: wrong LF result");
    check(hc.fields().size() == split.headers.size(), "collector and split_message disagree");
    check(split.has_separator == !in_headers, "separator detection disagrees");

    for (std::size_t i = 0; i < split.headers.size(); ++i) {
        const auto& h = split.headers[i];
        check(h.raw() == hc.fields()[i].raw(), "collector and split_message: different field");
        check(!h.raw().empty(), "empty header field");
        if (!h.malformed()) {
            check(h.name().find(':') == std::string_view::npos, "field name contains ':'");
            check(h.name().size() < h.raw().size(), "field name longer than the field");
            check(h.is(text::to_lower(h.name())), "is() does not match the field's own name");
        } else {
            check(h.name().empty() && h.value().empty(), "malformed field with a name or value");
        }
        for (auto c : {mail::Canon::simple, mail::Canon::relaxed}) {
            std::string canon;
            mail::append_canon_header(canon, c, h.raw());
            check(canon.size() >= 2 && canon.substr(canon.size() - 2) == "\r\n",
                  "canonical header does not end in CRLF");
            if (c == mail::Canon::relaxed) {
                std::string again;
                mail::append_canon_header(again, c, canon.substr(0, canon.size() - 2));
                check(again == canon, "relaxed header canonicalization is not idempotent", canon);
            }
        }
        std::string stripped = mail::strip_b_value(h.raw());
        check(stripped.size() <= h.raw().size(), "strip_b_value made the field longer");
    }

    // Body canonicalization, streamed line by line as the filter does, with and without l=.
    mail::BodyHasher simple(mail::Canon::simple), relaxed(mail::Canon::relaxed),
        limited(mail::Canon::relaxed, size % 97);
    mail::for_each_line(split.body, [&](std::string_view line) {
        simple.add_line(line);
        relaxed.add_line(line);
        limited.add_line(line);
    });
    simple.finish();
    relaxed.finish();
    limited.finish();
    check(relaxed.canonical_length() <= simple.canonical_length() + 2,
          "relaxed body longer than simple");
    (void)body_lines;
    return 0;
}
