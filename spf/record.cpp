// SPDX-License-Identifier: ISC
// SPF record parsing (RFC 7208 §4.5, §4.6, §5, §6, §12).
#include "spf/record.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace arcf::spf {

namespace {

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) (§12); also scans mechanism names.
bool is_name_char(char c) {
    return text::is_alpha(c) || text::is_digit(c) || c == '-' || c == '_' || c == '.';
}

// For messages: the term with control and 8-bit bytes shown as '?'.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s) {
        auto b = static_cast<unsigned char>(c);
        out += (b >= 0x20 && b < 0x7f) ? c : '?';
    }
    return out;
}

tl::unexpected<SyntaxError> term_error(std::string_view term, const std::string& why) {
    return syntax_error("\"" + printable(term) + "\": " + why);
}

// "/" followed by 1*DIGIT at the end of `s`; `double_slash` when preceded by another "/".
struct Cidr {
    bool found = false;
    bool double_slash = false;
    std::string_view digits;
    std::size_t slash = 0; // index of the (first) slash
};

Cidr trailing_cidr(std::string_view s) {
    Cidr c;
    std::size_t slash = s.rfind('/');
    if (slash == std::string_view::npos || slash + 1 == s.size())
        return c;
    std::string_view digits = s.substr(slash + 1);
    if (!std::all_of(digits.begin(), digits.end(), text::is_digit))
        return c;
    c.found = true;
    c.digits = digits;
    c.double_slash = slash > 0 && s[slash - 1] == '/';
    c.slash = c.double_slash ? slash - 1 : slash;
    return c;
}

// ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), 0-32; ip6: 0*2DIGIT, 0-128 (§12, §5.6).
std::optional<unsigned> cidr_value(std::string_view digits, unsigned max) {
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(), text::is_digit))
        return std::nullopt;
    unsigned v = 0;
    for (char c : digits)
        v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > max)
        return std::nullopt;
    return v;
}

// [ ":" domain-spec ] [ dual-cidr-length ] for a and mx (§5.3, §5.4); the CIDR part is taken
// from the end since a domain-spec may itself contain "/" but cannot end in "/" 1*DIGIT.
Parsed<bool> parse_a_mx(std::string_view term, std::string_view args, Mechanism& m) {
    Cidr six = trailing_cidr(args);
    if (six.found && six.double_slash) {
        auto v = cidr_value(six.digits, 128);
        if (!v)
            return term_error(term, "invalid ip6-cidr-length (RFC 7208 §5.6)");
        m.cidr6 = *v;
        args = args.substr(0, six.slash);
    }
    Cidr four = trailing_cidr(args);
    if (four.found && !four.double_slash) {
        auto v = cidr_value(four.digits, 32);
        if (!v)
            return term_error(term, "invalid ip4-cidr-length (RFC 7208 §5.6)");
        m.cidr4 = *v;
        args = args.substr(0, four.slash);
    }
    if (args.empty())
        return true;
    if (args[0] != ':')
        return term_error(term, "unexpected text after the mechanism name (RFC 7208 §12)");
    auto spec = parse_domain_spec(args.substr(1));
    if (!spec)
        return term_error(term, spec.error().detail);
    m.domain = std::move(*spec);
    return true;
}

// ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]; ip6 likewise (§5.6).
Parsed<bool> parse_ip(std::string_view term, std::string_view args, Mechanism& m) {
    bool six = m.kind == MechanismKind::ip6;
    if (args.empty() || args[0] != ':')
        return term_error(term, "needs \":\" and a network (RFC 7208 §5.6)");
    std::string_view body = args.substr(1);
    std::size_t slash = body.find('/');
    std::string_view net = body.substr(0, slash);
    if (slash != std::string_view::npos) {
        auto v = cidr_value(body.substr(slash + 1), six ? 128 : 32);
        if (!v)
            return term_error(term, "invalid CIDR length (RFC 7208 §5.6)");
        (six ? m.cidr6 : m.cidr4) = *v;
    }
    if (six) {
        auto a = parse_ipv6(net);
        if (!a)
            return term_error(term, "invalid ip6-network (RFC 7208 §5.6, RFC 4291 §2.2)");
        m.network = IpAddress::v6_from(*a);
    } else {
        auto a = parse_ipv4(net);
        if (!a)
            return term_error(term, "invalid ip4-network (RFC 7208 §5.6)");
        m.network = IpAddress::v4_from(*a);
    }
    return true;
}

Parsed<Mechanism>
parse_mechanism(std::string_view term, Qualifier q, std::string_view name, std::string_view args) {
    Mechanism m;
    m.qualifier = q;
    m.text = std::string(term);
    std::string n = text::to_lower(name);
    if (n == "all")
        m.kind = MechanismKind::all;
    else if (n == "include")
        m.kind = MechanismKind::include;
    else if (n == "a")
        m.kind = MechanismKind::a;
    else if (n == "mx")
        m.kind = MechanismKind::mx;
    else if (n == "ptr")
        m.kind = MechanismKind::ptr;
    else if (n == "ip4")
        m.kind = MechanismKind::ip4;
    else if (n == "ip6")
        m.kind = MechanismKind::ip6;
    else if (n == "exists")
        m.kind = MechanismKind::exists;
    else
        return term_error(term, "unknown mechanism (RFC 7208 §4.6.1, §5)");

    switch (m.kind) {
    case MechanismKind::all: // all = "all" (§5.1)
        if (!args.empty())
            return term_error(term, "\"all\" takes no argument (RFC 7208 §5.1)");
        break;
    case MechanismKind::include: // include = "include" ":" domain-spec (§5.2)
    case MechanismKind::exists:  // exists = "exists" ":" domain-spec (§5.7)
    case MechanismKind::ptr: {   // ptr = "ptr" [ ":" domain-spec ] (§5.5)
        bool optional = m.kind == MechanismKind::ptr;
        if (args.empty() && optional)
            break;
        if (args.empty() || args[0] != ':')
            return term_error(term, optional ? "takes no CIDR length (RFC 7208 §5.5)"
                                             : "needs \":\" domain-spec (RFC 7208 §5.2, §5.7)");
        auto spec = parse_domain_spec(args.substr(1));
        if (!spec)
            return term_error(term, spec.error().detail);
        m.domain = std::move(*spec);
        break;
    }
    case MechanismKind::a:
    case MechanismKind::mx: {
        auto ok = parse_a_mx(term, args, m);
        if (!ok)
            return tl::unexpected(ok.error());
        break;
    }
    case MechanismKind::ip4:
    case MechanismKind::ip6: {
        auto ok = parse_ip(term, args, m);
        if (!ok)
            return tl::unexpected(ok.error());
        break;
    }
    }
    return m;
}

Parsed<bool>
parse_modifier(std::string_view term, std::string_view name, std::string_view value, Record& rec) {
    // name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) (§12)
    if (name.empty() || !text::is_alpha(name[0]))
        return term_error(term, "invalid modifier name (RFC 7208 §6, §12)");
    std::string n = text::to_lower(name);
    if (n == "redirect" || n == "exp") {
        auto& slot = n == "redirect" ? rec.redirect : rec.exp;
        // §6: these two "MUST NOT appear in a record more than once each".
        if (slot)
            return term_error(term, "second " + n + "= modifier (RFC 7208 §6)");
        // redirect/exp = name "=" domain-spec (§6.1, §6.2); a known name never falls back to
        // unknown-modifier (the suite's reading, as RFC 7208 errata discussions agree).
        auto spec = parse_domain_spec(value);
        if (!spec)
            return term_error(term, spec.error().detail);
        slot = std::move(*spec);
        return true;
    }
    // unknown-modifier = name "=" macro-string: checked, then ignored (§6).
    auto ms = parse_macro_string(value, MacroScope::modifier);
    if (!ms)
        return term_error(term, ms.error().detail);
    rec.unknown_modifiers.push_back(std::string(name));
    return true;
}

Parsed<bool> parse_term(std::string_view term, Record& rec) {
    std::size_t pos = 0;
    std::optional<Qualifier> q;
    switch (term[0]) {
    case '+':
        q = Qualifier::pass;
        break;
    case '-':
        q = Qualifier::fail;
        break;
    case '~':
        q = Qualifier::softfail;
        break;
    case '?':
        q = Qualifier::neutral;
        break;
    default:
        break;
    }
    if (q)
        pos = 1;
    std::size_t end = pos;
    while (end < term.size() && is_name_char(term[end]))
        ++end;
    std::string_view name = term.substr(pos, end - pos);
    // §4.6.1: a modifier is a name followed immediately by "=" (and carries no qualifier).
    if (end < term.size() && term[end] == '=') {
        if (q)
            return term_error(term, "a modifier takes no qualifier (RFC 7208 §4.6.1)");
        return parse_modifier(term, name, term.substr(end + 1), rec);
    }
    auto m = parse_mechanism(term, q.value_or(Qualifier::pass), name, term.substr(end));
    if (!m)
        return tl::unexpected(m.error());
    rec.mechanisms.push_back(std::move(*m));
    return true;
}

} // namespace

Result result_of(Qualifier q) {
    switch (q) {
    case Qualifier::pass:
        return Result::pass;
    case Qualifier::fail:
        return Result::fail;
    case Qualifier::softfail:
        return Result::softfail;
    case Qualifier::neutral:
        return Result::neutral;
    }
    return Result::neutral;
}

std::string_view to_string(MechanismKind k) {
    switch (k) {
    case MechanismKind::all:
        return "all";
    case MechanismKind::include:
        return "include";
    case MechanismKind::a:
        return "a";
    case MechanismKind::mx:
        return "mx";
    case MechanismKind::ptr:
        return "ptr";
    case MechanismKind::ip4:
        return "ip4";
    case MechanismKind::ip6:
        return "ip6";
    case MechanismKind::exists:
        return "exists";
    }
    return "?";
}

bool Mechanism::queries_dns() const {
    switch (kind) {
    case MechanismKind::include:
    case MechanismKind::a:
    case MechanismKind::mx:
    case MechanismKind::ptr:
    case MechanismKind::exists:
        return true;
    case MechanismKind::all:
    case MechanismKind::ip4:
    case MechanismKind::ip6:
        return false;
    }
    return false;
}

bool Record::has_all() const {
    return std::any_of(mechanisms.begin(), mechanisms.end(),
                       [](const Mechanism& m) { return m.kind == MechanismKind::all; });
}

bool is_spf_record(std::string_view txt) {
    // §4.5: version section "exactly" v=spf1, terminated by SP or the end of the record; the
    // ABNF string is case-insensitive (RFC 5234 §2.3).
    if (txt.size() < 6 || text::to_lower(txt.substr(0, 6)) != "v=spf1")
        return false;
    return txt.size() == 6 || txt[6] == ' ';
}

Parsed<Record> parse_record(std::string_view text) {
    if (!is_spf_record(text))
        return syntax_error("not an SPF record: no \"v=spf1\" version (RFC 7208 §4.5)");
    Record rec;
    // record = version terms *SP; terms = *( 1*SP ( directive / modifier ) ) (§12): only SP
    // separates terms (§4.6.1), so any other byte stays inside a term and fails its grammar.
    std::size_t i = 6;
    while (i < text.size()) {
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        std::size_t end = std::min(text.find(' ', i), text.size());
        auto ok = parse_term(text.substr(i, end - i), rec);
        if (!ok)
            return tl::unexpected(ok.error());
        i = end;
    }
    return rec;
}

} // namespace arcf::spf
