// SPDX-License-Identifier: ISC
// SPF macro-string parsing and expansion (RFC 7208 §7).
#include "spf/macro.hpp"

#include <algorithm>
#include <cstdio>

#include "text/ascii.hpp"

namespace arcf::spf {

namespace {

bool is_alnum(char c) {
    return text::is_alpha(c) || text::is_digit(c);
}

std::string describe_byte(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(c));
    return buf;
}

// The part between "%{" and "}": macro-letter transformers *delimiter (§7.1).
Parsed<MacroTerm> parse_macro_body(std::string_view body, MacroScope scope) {
    if (body.empty())
        return syntax_error("empty macro \"%{}\" (RFC 7208 §7.1)");
    MacroTerm m;
    char letter = text::to_lower(body[0]);
    m.url_escape = body[0] >= 'A' && body[0] <= 'Z';
    constexpr std::string_view everywhere = "slodiphv";
    constexpr std::string_view exp_only = "crt";
    if (exp_only.find(letter) != std::string_view::npos) {
        if (scope == MacroScope::domain)
            return syntax_error(std::string("macro letter '") + body[0] +
                                "' is allowed only in explanation text (RFC 7208 §7.1)");
    } else if (everywhere.find(letter) == std::string_view::npos || !text::is_alpha(body[0])) {
        return syntax_error(std::string("unknown macro letter '") + body[0] + "' (RFC 7208 §7.1)");
    }
    m.letter = letter;
    std::size_t i = 1;
    bool digits = false;
    unsigned keep = 0;
    while (i < body.size() && text::is_digit(body[i])) {
        digits = true;
        // Saturate: more parts than a name can have means "all" anyway (§7.3).
        keep = std::min(keep * 10 + static_cast<unsigned>(body[i] - '0'), 1000u);
        ++i;
    }
    // §7.3: "If a DIGIT is specified, the value MUST be nonzero."
    if (digits && keep == 0)
        return syntax_error("macro transformer digit 0 (RFC 7208 §7.3)");
    m.keep = keep;
    if (i < body.size() && (body[i] == 'r' || body[i] == 'R')) {
        m.reverse = true;
        ++i;
    }
    constexpr std::string_view delimiters = ".-+,/_=";
    for (; i < body.size(); ++i) {
        if (delimiters.find(body[i]) == std::string_view::npos)
            return syntax_error("invalid character in macro \"%{" + std::string(body) +
                                "}\" (RFC 7208 §7.1)");
        m.delimiters += body[i];
    }
    return m;
}

} // namespace

bool MacroString::uses(char letter) const {
    return std::any_of(tokens.begin(), tokens.end(), [letter](const MacroToken& t) {
        return t.kind == MacroToken::Kind::macro && t.macro.letter == letter;
    });
}

Parsed<MacroString> parse_macro_string(std::string_view text, MacroScope scope) {
    MacroString out;
    out.source = std::string(text);
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) {
            out.tokens.push_back({MacroToken::Kind::literal, std::move(literal), {}});
            literal.clear();
        }
    };
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        if (c == '%') {
            // §7.1: "A '%' character not followed by a '{', '%', '-', or '_' character is a
            // syntax error."
            if (i + 1 >= text.size())
                return syntax_error("'%' at the end of a macro-string (RFC 7208 §7.1)");
            char next = text[i + 1];
            if (next == '%' || next == '_' || next == '-') {
                flush();
                std::string value = next == '%' ? "%" : next == '_' ? " " : "%20";
                out.tokens.push_back({MacroToken::Kind::escape, std::move(value), {}});
                i += 2;
                continue;
            }
            if (next != '{')
                return syntax_error(std::string("'%' followed by '") + next +
                                    "' in a macro-string (RFC 7208 §7.1)");
            std::size_t close = text.find('}', i + 2);
            if (close == std::string_view::npos)
                return syntax_error("unterminated macro \"%{\" (RFC 7208 §7.1)");
            auto term = parse_macro_body(text.substr(i + 2, close - i - 2), scope);
            if (!term)
                return tl::unexpected(term.error());
            flush();
            out.tokens.push_back({MacroToken::Kind::macro, {}, std::move(*term)});
            i = close + 1;
            continue;
        }
        auto byte = static_cast<unsigned char>(c);
        // macro-literal = %x21-24 / %x26-7E; explain-string adds SP (§12). So no controls and
        // no 8-bit bytes anywhere (§3.1: records are US-ASCII; §6.2 for the explanation).
        bool ok =
            (byte >= 0x21 && byte <= 0x7e) || (byte == ' ' && scope == MacroScope::explanation);
        if (!ok)
            return syntax_error("character " + describe_byte(byte) +
                                " not allowed in a macro-string (RFC 7208 §7.1)");
        literal += c;
        ++i;
    }
    flush();
    return out;
}

bool valid_toplabel(std::string_view label) {
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back()))
        return false;
    bool alpha = false, dash = false;
    for (char c : label) {
        if (c == '-')
            dash = true;
        else if (text::is_alpha(c))
            alpha = true;
        else if (!text::is_digit(c))
            return false;
    }
    // ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    return alpha || dash;
}

Parsed<MacroString> parse_domain_spec(std::string_view text) {
    if (text.empty())
        return syntax_error("empty domain-spec (RFC 7208 §7.1)");
    auto ms = parse_macro_string(text, MacroScope::domain);
    if (!ms)
        return ms;
    const MacroToken& last = ms->tokens.back();
    if (last.kind != MacroToken::Kind::literal)
        return ms; // domain-end = macro-expand
    std::string_view tail = last.text;
    tail = text::without_root_dot(tail);
    std::size_t dot = tail.rfind('.');
    // domain-end = "." toplabel [ "." ]; §7.1 notes the check is on the unexpanded text.
    if (dot == std::string_view::npos || !valid_toplabel(tail.substr(dot + 1)))
        return syntax_error("domain-spec \"" + std::string(text) +
                            "\" does not end in \".\" toplabel or a macro (RFC 7208 §7.1)");
    return ms;
}

Parsed<MacroString> parse_explain_string(std::string_view text) {
    return parse_macro_string(text, MacroScope::explanation);
}

std::string url_escape(std::string_view text) {
    constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        // RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
        if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            auto b = static_cast<unsigned char>(c);
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 0xf];
        }
    }
    return out;
}

namespace {

const std::string& value_of(char letter, const MacroValues& v) {
    switch (letter) {
    case 's':
        return v.sender;
    case 'l':
        return v.local_part;
    case 'o':
        return v.sender_domain;
    case 'd':
        return v.domain;
    case 'i':
        return v.ip;
    case 'p':
        return v.ptr;
    case 'v':
        return v.ip_version;
    case 'h':
        return v.helo;
    case 'c':
        return v.client;
    case 'r':
        return v.receiver;
    default:
        return v.timestamp; // 't'; parsing admits no other letter
    }
}

// §7.3: split on the delimiters, optionally reverse, keep the right-hand parts, join with ".".
std::string transform(std::string_view value, const MacroTerm& m) {
    std::string_view delimiters = ".";
    if (!m.delimiters.empty())
        delimiters = m.delimiters;
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
            parts.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    if (m.reverse)
        std::reverse(parts.begin(), parts.end());
    std::size_t first = 0;
    if (m.keep != 0 && m.keep < parts.size())
        first = parts.size() - m.keep;
    std::string out;
    for (std::size_t i = first; i < parts.size(); ++i) {
        if (i > first)
            out += '.';
        out += parts[i];
    }
    return out;
}

} // namespace

std::string expand(const MacroString& ms, const MacroValues& values) {
    std::string out;
    for (const auto& t : ms.tokens) {
        if (t.kind != MacroToken::Kind::macro) {
            out += t.text;
            continue;
        }
        std::string part = transform(value_of(t.macro.letter, values), t.macro);
        out += t.macro.url_escape ? url_escape(part) : part;
    }
    return out;
}

} // namespace arcf::spf
