// SPDX-License-Identifier: ISC
// The inside of a JSON string (RFC 8259 §7) for bytes taken from a message, which need not be
// UTF-8: quotes, backslashes and control bytes escaped, and every byte outside printable ASCII
// written as one \u00XX (the code point of the byte's value), so the output is always valid
// JSON and ASCII, and each byte can be read back. `verify --json` and `verify --explain --json`
// both write their strings with it.
#pragma once

#include <string>
#include <string_view>

namespace arcf::text {

inline std::string json_escape(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
            } else {
                out.push_back(ch);
            }
        }
    }
    return out;
}

} // namespace arcf::text
