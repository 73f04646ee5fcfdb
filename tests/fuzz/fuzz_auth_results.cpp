// SPDX-License-Identifier: ISC
// Fuzz target: Authentication-Results parsing and safe re-emission (mail/auth_results.hpp), and
// the arc= writer (arc/auth_results_format.hpp). What we write must read back the same and can
// never carry a line break or an unquoted ';' (no header injection through the AAR).
#include "arc/auth_results_format.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/auth_results.hpp"

using namespace arcf;
using arcf::fuzz::check;

namespace {

bool has_control(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return true;
    return false;
}

std::string without_controls(std::string_view s) {
    std::string out;
    for (char c : s)
        if (!(static_cast<unsigned char>(c) < 0x20 || c == 0x7f))
            out.push_back(c);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    auto ar = mail::parse_authentication_results(text);
    if (ar) {
        for (const auto& r : ar->results) {
            std::string written = mail::format_resinfo(r);
            check(!has_control(written), "format_resinfo wrote a control character", written);
            check(written.size() <= mail::WriteBudget::max_resinfo + 48,
                  "format_resinfo over its budget", written);
            auto back = mail::parse_authentication_results("x.example; " + written);
            check(back.has_value() && back->results.size() == 1,
                  "format_resinfo output does not read back as one result", written);
            const auto& b = back->results[0];
            if (b.method == r.method && b.result == r.result) {
                check(b.reason.has_value() == r.reason.has_value(), "reason lost", written);
                // A reason over the write budget is shortened and marked (issue 15 class 2).
                if (r.reason && r.reason->size() <= mail::WriteBudget::max_reason)
                    check(*b.reason == without_controls(*r.reason), "reason changed", written);
                else if (r.reason)
                    check(b.reason->size() <= mail::WriteBudget::max_reason &&
                              b.reason->size() >= 3 &&
                              b.reason->compare(b.reason->size() - 3, 3, "...") == 0,
                          "long reason not shortened", written);
                check(b.properties.size() <= r.properties.size(), "properties added", written);
            }
        }
    }
    // Any text as a property value: one value, read back without its control characters.
    std::string v = mail::format_value(text);
    check(!has_control(v), "format_value wrote a control character", v);
    auto back = mail::parse_authentication_results("x.example; dkim=pass header.d=" + v);
    check(back.has_value() && back->results.size() == 1, "format_value broke the result", v);
    if (!without_controls(text).empty() && v.size() <= mail::WriteBudget::max_value) {
        check(back->results[0].properties.size() == 1, "format_value value lost", v);
        check(back->results[0].properties[0].value == without_controls(text),
              "format_value does not read back", v);
    }
    // The arc= writer with hostile reason text (reasons quote parts of the message).
    arc::ChainResult cr;
    cr.status = static_cast<arc::ChainStatus>(size % 4);
    cr.reason = std::string(text);
    cr.oldest_pass = static_cast<std::uint32_t>(size % 3);
    std::string field = arc::format_authentication_results("mx.example", cr, "192.0.2.1");
    check(!has_control(field), "Authentication-Results with a control character", field);
    auto parsed = mail::parse_authentication_results(field);
    check(parsed.has_value() && parsed->authserv_id == "mx.example" &&
              parsed->results.size() == 1 && parsed->results[0].method == "arc" &&
              parsed->results[0].result == arc::to_string(cr.status),
          "our Authentication-Results does not read back", field);
    std::string safe = mail::comment_safe(text);
    check(safe.find_first_of("();\\") == std::string::npos && !has_control(safe),
          "comment_safe left a special character", safe);
    return 0;
}
