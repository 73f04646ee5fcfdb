// SPDX-License-Identifier: ISC
// Fuzz target: SPF records and macro-strings (spf/record.hpp, spf/macro.hpp; RFC 7208 §4.5, §4.6,
// §7, §12). The input is tried as a record and as a macro-string in every scope. Properties:
//   * a record that parses starts with "v=spf1" (§4.5), in any case;
//   * every mechanism, redirect= and exp= of a parsed record parses alone to the same term
//     (the parse of a term does not depend on its neighbours);
//   * a macro-string written back from its tokens parses to the same tokens and expands to the
//     same text (parse -> write -> parse is the identity);
//   * a domain-spec is a domain-scope macro-string; an expansion of a domain-scope string
//     contains no control or 8-bit byte.
#include "spf/macro.hpp"
#include "spf/record.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

using namespace arcf;
using arcf::fuzz::check;

namespace {

spf::MacroValues values() {
    spf::MacroValues v;
    v.sender = "strong-bad@email.example.com";
    v.local_part = "strong-bad";
    v.sender_domain = "email.example.com";
    v.domain = "email.example.com";
    v.ip = "192.0.2.3";
    v.ptr = "mx.example.org";
    v.ip_version = "in-addr";
    v.helo = "mx.example.org";
    v.client = "192.0.2.3";
    v.receiver = "mx.example.test";
    v.timestamp = "1795918548";
    return v;
}

/// The macro-string as it could have been written (escapes and macros in their §7.1 forms).
std::string write(const spf::MacroString& ms) {
    std::string out;
    for (const auto& t : ms.tokens) {
        switch (t.kind) {
        case spf::MacroToken::Kind::literal:
            out += t.text;
            break;
        case spf::MacroToken::Kind::escape:
            out += t.text == "%" ? "%%" : t.text == " " ? "%_" : "%-";
            break;
        case spf::MacroToken::Kind::macro: {
            const auto& m = t.macro;
            out += "%{";
            out += m.url_escape ? static_cast<char>(m.letter - 'a' + 'A') : m.letter;
            if (m.keep != 0)
                out += std::to_string(m.keep);
            if (m.reverse)
                out += 'r';
            out += m.delimiters + "}";
            break;
        }
        }
    }
    return out;
}

bool same_tokens(const spf::MacroString& a, const spf::MacroString& b) {
    if (a.tokens.size() != b.tokens.size())
        return false;
    for (std::size_t i = 0; i < a.tokens.size(); ++i) {
        const auto& x = a.tokens[i];
        const auto& y = b.tokens[i];
        if (x.kind != y.kind || x.text != y.text)
            return false;
        if (x.kind == spf::MacroToken::Kind::macro &&
            (x.macro.letter != y.macro.letter || x.macro.url_escape != y.macro.url_escape ||
             x.macro.keep != y.macro.keep || x.macro.reverse != y.macro.reverse ||
             x.macro.delimiters != y.macro.delimiters))
            return false;
    }
    return true;
}

void check_macro(std::string_view text, spf::MacroScope scope) {
    auto ms = spf::parse_macro_string(text, scope);
    if (!ms) {
        check(!ms.error().detail.empty(), "macro-string refused without a message");
        return;
    }
    check(ms->source == text, "source is not the input");
    std::string again = write(*ms);
    auto re = spf::parse_macro_string(again, scope);
    check(re.has_value(), "written macro-string does not parse", again);
    check(same_tokens(*ms, *re), "written macro-string parses differently", again);
    static const spf::MacroValues v = values();
    std::string expanded = spf::expand(*ms, v);
    check(expanded == spf::expand(*re, v), "written macro-string expands differently", again);
    if (scope == spf::MacroScope::domain) // a space only from "%_" (§7.1)
        for (char c : expanded)
            check(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f,
                  "domain expansion with a control or 8-bit byte", expanded);
}

bool same_mechanism(const spf::Mechanism& a, const spf::Mechanism& b) {
    return a.qualifier == b.qualifier && a.kind == b.kind && a.network == b.network &&
           a.cidr4 == b.cidr4 && a.cidr6 == b.cidr6 && a.text == b.text &&
           a.domain.has_value() == b.domain.has_value() &&
           (!a.domain ||
            (a.domain->source == b.domain->source && same_tokens(*a.domain, *b.domain)));
}

void check_record(std::string_view text) {
    auto rec = spf::parse_record(text);
    if (!rec) {
        check(!rec.error().detail.empty(), "record refused without a message");
        return;
    }
    check(spf::is_spf_record(text), "a record without v=spf1 parsed");
    check(text.size() >= 6, "record shorter than its version");
    std::string upper = "V=SPF1" + std::string(text.substr(6));
    check(spf::parse_record(upper).has_value(), "the version is case-sensitive");
    for (const auto& m : rec->mechanisms) {
        auto alone = spf::parse_record("v=spf1 " + m.text);
        check(alone.has_value(), "a mechanism does not parse alone", m.text);
        check(alone->mechanisms.size() == 1 && same_mechanism(alone->mechanisms[0], m),
              "a mechanism parses differently alone", m.text);
    }
    for (const auto& [name, spec] :
         {std::pair{"redirect", rec->redirect}, std::pair{"exp", rec->exp}}) {
        if (!spec)
            continue;
        auto alone = spf::parse_record(std::string("v=spf1 ") + name + "=" + spec->source);
        check(alone.has_value(), "a modifier does not parse alone", spec->source);
        const auto& again = std::string_view(name) == "redirect" ? alone->redirect : alone->exp;
        check(again && again->source == spec->source && same_tokens(*again, *spec),
              "a modifier parses differently alone", spec->source);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8192)
        return 0; // records are short (RFC 7208 §3.4); longer input only slows the search
    std::string_view text = fuzz::as_text(data, size);
    check_record(text);
    for (auto scope :
         {spf::MacroScope::domain, spf::MacroScope::explanation, spf::MacroScope::modifier})
        check_macro(text, scope);
    auto spec = spf::parse_domain_spec(text);
    if (spec)
        check(spf::parse_macro_string(text, spf::MacroScope::domain).has_value(),
              "a domain-spec that is no domain macro-string", text);
    // The same text as the value of each term, e.g. "include:<text>".
    for (const char* prefix : {"v=spf1 include:", "v=spf1 -a:", "v=spf1 ip6:", "v=spf1 exp="})
        check_record(prefix + std::string(text));
    return 0;
}
