// SPDX-License-Identifier: ISC
// Fuzz target: DKIM tag-lists (mail/tag_list.hpp) and base64 (mail/base64.hpp).
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/base64.hpp"
#include "mail/tag_list.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    auto tags = mail::parse_tag_list(text);
    if (tags) {
        // Written back as "name=value;" the list parses to the same tags.
        std::string again;
        for (const auto& t : tags->tags()) {
            check(!t.name.empty(), "empty tag name");
            check(t.name.find_first_of(" \t\r\n=;") == std::string_view::npos, "bad tag name");
            check(t.value.find(';') == std::string_view::npos, "';' inside a tag value");
            check(tags->get(t.name) == t.value, "get() does not find a parsed tag");
            again.append(t.name).append("=").append(t.value).append(";");
        }
        auto re = mail::parse_tag_list(again);
        check(re.has_value(), "re-serialised tag-list does not parse", again);
        check(re->tags().size() == tags->tags().size(), "re-parsed tag count differs", again);
        for (std::size_t i = 0; i < re->tags().size(); ++i)
            check(re->tags()[i].name == tags->tags()[i].name &&
                      re->tags()[i].value == tags->tags()[i].value,
                  "re-parsed tag differs", again);
    }
    std::string stripped = mail::strip_fws(text);
    check(stripped.find_first_of(" \t\r\n") == std::string::npos, "strip_fws left whitespace");

    // base64: whatever decodes re-encodes to the same bytes (modulo FWS and padding form).
    if (auto dec = mail::base64_decode(text)) {
        std::string enc = mail::base64_encode(*dec);
        auto dec2 = mail::base64_decode(enc);
        check(dec2.has_value() && *dec2 == *dec, "base64 round trip failed", enc);
    }
    std::string enc = mail::base64_encode(text);
    auto dec = mail::base64_decode(enc);
    check(dec.has_value() && *dec == text, "base64 encode/decode round trip failed");
    return 0;
}
