// SPDX-License-Identifier: ISC
// DMARC record parsing (RFC 7489 §6.3, §6.4, §6.6.3 step 6; RFC 9091 §4.2).
#include "dmarc/record.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace arcf::dmarc {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim_wsp(std::string_view s) {
    while (!s.empty() && is_wsp(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back()))
        s.remove_suffix(1);
    return s;
}

// For notes: control and 8-bit bytes shown as '?', long values cut.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
        auto b = static_cast<unsigned char>(c);
        out += (b >= 0x20 && b < 0x7f) ? c : '?';
    }
    if (s.size() > 64)
        out += "...";
    return out;
}

// §6.4 dmarc-request: "none" / "quarantine" / "reject" (ABNF strings: any case). An out
// parameter: g++ 12 sees a std::optional<enum> here as maybe-uninitialized.
bool parse_policy(std::string_view v, Policy& out) {
    std::string l = text::to_lower(v);
    if (l == "none")
        out = Policy::none;
    else if (l == "quarantine")
        out = Policy::quarantine;
    else if (l == "reject")
        out = Policy::reject;
    else
        return false;
    return true;
}

// §6.4 dmarc-adkim / dmarc-aspf: "r" / "s".
std::optional<Alignment> alignment_of(std::string_view v) {
    if (v == "r" || v == "R")
        return Alignment::relaxed;
    if (v == "s" || v == "S")
        return Alignment::strict;
    return std::nullopt;
}

// §6.4 dmarc-percent: 1*3DIGIT, §6.3: 0..100.
std::optional<int> percent_of(std::string_view v) {
    if (v.empty() || v.size() > 3 || !std::all_of(v.begin(), v.end(), is_digit))
        return std::nullopt;
    int n = 0;
    for (char c : v)
        n = n * 10 + (c - '0');
    if (n > 100)
        return std::nullopt;
    return n;
}

// rua=/ruf=: a comma-separated list (§6.4 dmarc-auri) with at least one usable URI.
bool has_report_uri(std::string_view list) {
    while (true) {
        auto comma = list.find(',');
        if (is_report_uri(trim_wsp(list.substr(0, comma))))
            return true;
        if (comma == std::string_view::npos)
            return false;
        list.remove_prefix(comma + 1);
    }
}

struct Spec {
    std::string name; // lower case
    std::string_view value;
};

// Splits "a=b; c=d;" leniently: empty specs (";;") are skipped, a spec without '=' or with an
// invalid name is noted and ignored (§6.3: syntax errors are discarded).
std::vector<Spec> split_specs(std::string_view txt, std::vector<std::string>& notes) {
    std::vector<Spec> out;
    while (true) {
        auto semi = txt.find(';');
        std::string_view spec = trim_wsp(txt.substr(0, semi));
        if (!spec.empty()) {
            auto eq = spec.find('=');
            std::string_view name =
                eq == std::string_view::npos ? spec : trim_wsp(spec.substr(0, eq));
            bool valid_name = !name.empty() && is_alpha(name[0]) &&
                              std::all_of(name.begin(), name.end(), [](char c) {
                                  return is_alpha(c) || is_digit(c) || c == '_';
                              });
            if (eq == std::string_view::npos || !valid_name)
                notes.push_back("ignored \"" + printable(spec) + "\": not a tag=value");
            else
                out.push_back(Spec{text::to_lower(name), trim_wsp(spec.substr(eq + 1))});
        }
        if (semi == std::string_view::npos)
            break;
        txt.remove_prefix(semi + 1);
    }
    return out;
}

tl::unexpected<Error> record_error(Errc code, std::string detail) {
    return tl::unexpected<Error>(Error{code, std::move(detail)});
}

} // namespace

bool is_report_uri(std::string_view uri) {
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":" and a
    // non-empty remainder without WSP.
    auto colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size())
        return false;
    if (!is_alpha(uri[0]))
        return false;
    for (char c : uri.substr(0, colon))
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            return false;
    for (char c : uri.substr(colon + 1)) {
        auto b = static_cast<unsigned char>(c);
        if (b <= 0x20 || b == 0x7f)
            return false;
    }
    return true;
}

bool is_dmarc_record(std::string_view txt) {
    // §6.4: dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31; §6.3: "It MUST be
    // the first tag in the list" and "The value of this tag MUST match precisely".
    if (txt.empty() || (txt[0] != 'v' && txt[0] != 'V'))
        return false;
    txt.remove_prefix(1);
    while (!txt.empty() && is_wsp(txt.front()))
        txt.remove_prefix(1);
    if (txt.empty() || txt.front() != '=')
        return false;
    txt.remove_prefix(1);
    while (!txt.empty() && is_wsp(txt.front()))
        txt.remove_prefix(1);
    constexpr std::string_view version = "DMARC1";
    if (txt.substr(0, version.size()) != version)
        return false;
    txt.remove_prefix(version.size());
    return txt.empty() || txt.front() == ';' || is_wsp(txt.front());
}

Parsed<Record> parse_record(std::string_view txt) {
    if (!is_dmarc_record(txt))
        return record_error(Errc::not_dmarc, "does not begin with v=DMARC1");
    Record r;
    std::vector<Spec> specs = split_specs(txt, r.notes);
    bool has_p = false, has_sp = false;
    std::string_view p_text, sp_text;
    std::vector<std::string> seen;
    // The first spec is v=DMARC1 (checked above).
    for (std::size_t i = 1; i < specs.size(); ++i) {
        const auto& [name, value] = specs[i];
        if (std::find(seen.begin(), seen.end(), name) != seen.end() || name == "v") {
            r.notes.push_back("ignored repeated " + name + "=");
            continue;
        }
        seen.push_back(name);
        if (name == "p") {
            has_p = true;
            p_text = value;
        } else if (name == "sp") {
            has_sp = true;
            sp_text = value;
        } else if (name == "np") {
            if (Policy np = Policy::none; parse_policy(value, np))
                r.np = np;
            else
                r.notes.push_back("ignored invalid np=" + printable(value));
        } else if (name == "adkim" || name == "aspf") {
            auto a = alignment_of(value);
            if (!a)
                r.notes.push_back("invalid " + name + "=" + printable(value) + ", using r");
            (name == "adkim" ? r.adkim : r.aspf) = a.value_or(Alignment::relaxed);
        } else if (name == "pct") {
            auto pct = percent_of(value);
            if (!pct)
                r.notes.push_back("invalid pct=" + printable(value) + ", using 100");
            r.pct = pct.value_or(100);
        } else if (name == "rua") {
            r.rua = value;
        } else if (name == "ruf") {
            r.ruf = value;
        } else if (name == "fo") {
            r.fo = value;
        } else if (name == "rf") {
            r.rf = value;
        } else if (name == "ri") {
            r.ri = value;
        } else {
            r.notes.push_back("ignored unknown tag " + printable(name) + "="); // §6.3
        }
    }
    // §6.3: "the "v" and "p" tags MUST be present and MUST appear in that order", i.e. p= is
    // the second tag; a record that has it elsewhere is still read (the order is not needed to
    // understand it), with a note.
    if (has_p && !(specs.size() > 1 && specs[1].name == "p"))
        r.notes.push_back("p= is not the second tag");
    Policy p = Policy::none, sp = Policy::none;
    bool p_ok = has_p && parse_policy(p_text, p);
    bool sp_ok = !has_sp || parse_policy(sp_text, sp);
    if (p_ok && sp_ok) {
        r.p = p;
        if (has_sp)
            r.sp = sp;
        return r;
    }
    std::string why = !p_ok ? (has_p ? "invalid p=" + printable(p_text) : std::string("no p="))
                            : "invalid sp=" + printable(sp_text);
    // §6.6.3 step 6: with a syntactically valid reporting URI in rua=, act as if p=none was
    // retrieved; otherwise apply no DMARC processing.
    if (!has_report_uri(r.rua))
        return record_error(Errc::no_policy, why + " and no valid rua=");
    r.p = Policy::none;
    r.sp.reset();
    r.p_assumed = true;
    r.notes.push_back(why + ": treated as p=none (RFC 7489 §6.6.3)");
    return r;
}

} // namespace arcf::dmarc
