// SPDX-License-Identifier: ISC
// RFC5322.From domain extraction (RFC 7489 §6.6.1; RFC 5322 §3.2, §3.4, §4.4; RFC 6532 for
// UTF-8 in atoms and quoted strings).
#include "dmarc/from_domain.hpp"

#include <algorithm>
#include <cstdlib>
#include <idn2.h>
#include <memory>

#include "text/ascii.hpp"

namespace arcf::dmarc {

namespace {

enum class Tok { atom, quoted, literal, special };

struct Token {
    Tok kind = Tok::atom;
    std::string_view text; ///< atom text, quoted content (still escaped), literal or one special
    bool is(char c) const { return kind == Tok::special && text.size() == 1 && text[0] == c; }
};

tl::unexpected<Error> from_error(Errc code, std::string detail) {
    return tl::unexpected<Error>(Error{code, std::move(detail), {}});
}

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 5322 §3.2.3 atext, plus 8-bit bytes (RFC 6532 §3.2 UTF8-non-ascii).
bool is_atext(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && !is_ws(c)) || u == 0x7f;
}

// Splits a field value into tokens. CFWS is dropped (comments nest, §3.2.2); quoted strings
// (§3.2.4) and domain literals (§3.4.1) stay single tokens. Controls other than folding
// whitespace are refused anywhere: they have no business in a From field.
Parsed<std::vector<Token>> tokenize(std::string_view v) {
    std::vector<Token> out;
    out.reserve(16); // a display name and an address, without growing (issue 21)
    std::size_t i = 0;
    while (i < v.size()) {
        char c = v[i];
        if (is_control(c))
            return from_error(Errc::syntax, "control character");
        if (is_ws(c)) {
            ++i;
        } else if (c == '(') {
            std::size_t depth = 0;
            for (; i < v.size(); ++i) {
                if (v[i] == '\\') { // quoted-pair
                    if (++i >= v.size())
                        break;
                } else if (v[i] == '(') {
                    ++depth;
                } else if (v[i] == ')' && --depth == 0) {
                    break;
                }
                if (is_control(v[i]))
                    return from_error(Errc::syntax, "control character");
            }
            if (i >= v.size())
                return from_error(Errc::syntax, "unterminated comment");
            ++i;
        } else if (c == '"') {
            std::size_t start = ++i;
            for (; i < v.size() && v[i] != '"'; ++i) {
                if (v[i] == '\\')
                    ++i; // quoted-pair
                if (i < v.size() && is_control(v[i]))
                    return from_error(Errc::syntax, "control character");
            }
            if (i >= v.size())
                return from_error(Errc::syntax, "unterminated quoted string");
            out.push_back(Token{Tok::quoted, v.substr(start, i - start)});
            ++i;
        } else if (c == '[') {
            std::size_t start = i;
            for (; i < v.size() && v[i] != ']'; ++i) {
                if (v[i] == '[' && i != start)
                    return from_error(Errc::syntax, "'[' inside a domain literal");
                if (v[i] == '\\')
                    ++i;
                if (i < v.size() && is_control(v[i]))
                    return from_error(Errc::syntax, "control character");
            }
            if (i >= v.size())
                return from_error(Errc::syntax, "unterminated domain literal");
            out.push_back(Token{Tok::literal, v.substr(start, i + 1 - start)});
            ++i;
        } else if (is_atext(c)) {
            std::size_t start = i;
            while (i < v.size() && is_atext(v[i]))
                ++i;
            out.push_back(Token{Tok::atom, v.substr(start, i - start)});
        } else if (std::string_view("<>@,;:.").find(c) != std::string_view::npos) {
            out.push_back(Token{Tok::special, v.substr(i, 1)});
            ++i;
        } else {
            // ')' without '(', ']' without '[', '\' outside quotes.
            return from_error(Errc::syntax, std::string("unexpected '") + c + "'");
        }
    }
    return out;
}

using Span = std::vector<Token>;

// A display name (§3.2.5 phrase, with obs-phrase's "." of §4.1): words and dots only. This is
// what refuses an '@', '<' or ':' outside the angle brackets, as in "a@x.example <b@y.example>",
// where mail readers disagree about which address they show.
bool is_phrase(const Span& s) {
    return std::all_of(s.begin(), s.end(), [](const Token& t) {
        return t.kind == Tok::atom || t.kind == Tok::quoted || t.is('.');
    });
}

// A DNS name in A-labels: §6.6.1 converts U-labels; LDH (and '_') labels of 1..63 octets,
// at most 253 in all.
Parsed<std::string> dns_name(std::string name) {
    bool ascii = std::all_of(name.begin(), name.end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (!ascii) {
        char* out = nullptr;
        int rc = idn2_to_ascii_8z(name.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
        if (rc != IDN2_OK || out == nullptr)
            return from_error(Errc::no_domain,
                              std::string("not a valid IDN: ") + idn2_strerror(rc));
        name = out;
    }
    name = text::to_lower(text::without_root_dot(name));
    if (name.empty() || name.size() > 253)
        return from_error(Errc::no_domain, "bad domain length");
    if (!text::is_dns_name(name))
        return from_error(Errc::no_domain, "bad domain label");
    // ASCII by now, so is_domain_name() is the LDH-and-'_' rule.
    if (!text::is_domain_name(name))
        return from_error(Errc::no_domain, "not a domain name");
    return name;
}

// addr-spec = local-part "@" domain (§3.4.1), with obs-local-part and obs-domain (§4.4): the
// domain is what follows the only '@' outside quotes.
Parsed<std::string> addr_spec_domain(const Span& s) {
    std::size_t at = s.size();
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i].is('@')) {
            if (at != s.size())
                return from_error(Errc::syntax, "two '@' in one address");
            at = i;
        } else if (s[i].kind == Tok::special && !s[i].is('.')) {
            return from_error(Errc::syntax, "unexpected '" + std::string(s[i].text) + "'");
        }
    }
    if (at == s.size())
        return from_error(Errc::no_domain, "address without '@'");
    Span local(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(at));
    if (local.empty() || !is_phrase(local))
        return from_error(Errc::syntax, "bad local-part");
    Span dom(s.begin() + static_cast<std::ptrdiff_t>(at) + 1, s.end());
    if (dom.size() == 1 && dom[0].kind == Tok::literal)
        return from_error(Errc::no_domain, "address literal instead of a domain");
    // dot-atom: atom *("." atom), one trailing dot tolerated (the root).
    std::string name;
    bool want_atom = true;
    for (const auto& t : dom) {
        if (want_atom && t.kind == Tok::atom) {
            name.append(t.text);
        } else if (!want_atom && t.is('.')) {
            name.push_back('.');
        } else {
            return from_error(Errc::no_domain, "bad domain");
        }
        want_atom = !want_atom;
    }
    if (dom.empty())
        return from_error(Errc::no_domain, "empty domain");
    return dns_name(std::move(name));
}

// One non-empty element of a mailbox list: name-addr or addr-spec (§3.4).
Parsed<std::string> mailbox_domain(const Span& s) {
    auto open = std::find_if(s.begin(), s.end(), [](const Token& t) { return t.is('<'); });
    if (open == s.end()) {
        if (std::any_of(s.begin(), s.end(), [](const Token& t) { return t.is('>'); }))
            return from_error(Errc::syntax, "'>' without '<'");
        return addr_spec_domain(s);
    }
    auto close = std::find_if(open, s.end(), [](const Token& t) { return t.is('>'); });
    if (close == s.end())
        return from_error(Errc::syntax, "'<' without '>'");
    if (close + 1 != s.end())
        return from_error(Errc::syntax, "text after '>'");
    if (!is_phrase(Span(s.begin(), open)))
        return from_error(Errc::syntax, "display name is not a phrase");
    Span inside(open + 1, close);
    if (std::any_of(inside.begin(), inside.end(), [](const Token& t) { return t.is('<'); }))
        return from_error(Errc::syntax, "nested '<'");
    // obs-angle-addr (§4.4): "<@route1,@route2:addr-spec>"; the route is not the author.
    auto colon =
        std::find_if(inside.rbegin(), inside.rend(), [](const Token& t) { return t.is(':'); });
    if (colon != inside.rend())
        inside.erase(inside.begin(), colon.base());
    return addr_spec_domain(inside);
}

} // namespace

std::string_view to_string(Errc code) {
    switch (code) {
    case Errc::not_dmarc:
        return "not a DMARC record";
    case Errc::no_policy:
        return "no usable policy";
    case Errc::no_from:
        return "no From field";
    case Errc::multiple_from:
        return "several From fields";
    case Errc::syntax:
        return "From field syntax";
    case Errc::no_address:
        return "no address in From";
    case Errc::no_domain:
        return "no usable domain in From";
    case Errc::multiple_domains:
        return "several domains in From";
    }
    return "unknown";
}

Parsed<std::vector<std::string>> from_domains(std::string_view from_value) {
    auto tokens = tokenize(from_value);
    if (!tokens)
        return tl::unexpected<Error>(tokens.error());
    std::vector<std::string> out;
    Span current;
    bool in_angle = false, in_group = false;
    auto flush = [&]() -> Parsed<bool> {
        if (current.empty())
            return true; // obs-mbox-list: empty elements (§4.4)
        auto d = mailbox_domain(current);
        if (!d)
            return tl::unexpected<Error>(d.error());
        out.push_back(std::move(*d));
        current.clear();
        return true;
    };
    for (const auto& t : *tokens) {
        if (t.is('<')) {
            if (in_angle)
                return from_error(Errc::syntax, "nested '<'");
            in_angle = true;
        } else if (t.is('>')) {
            if (!in_angle)
                return from_error(Errc::syntax, "'>' without '<'");
            in_angle = false;
        } else if (!in_angle && t.is(',')) {
            if (auto ok = flush(); !ok)
                return tl::unexpected<Error>(ok.error());
            continue;
        } else if (!in_angle && t.is(':')) {
            // group = display-name ":" [group-list] ";" (§3.4); From is a mailbox-list, but
            // "undisclosed-recipients:;" and friends occur.
            if (in_group || !is_phrase(current) || current.empty())
                return from_error(Errc::syntax, "unexpected ':'");
            in_group = true;
            current.clear();
            continue;
        } else if (!in_angle && t.is(';')) {
            if (!in_group)
                return from_error(Errc::syntax, "';' outside a group");
            if (auto ok = flush(); !ok)
                return tl::unexpected<Error>(ok.error());
            in_group = false;
            continue;
        }
        current.push_back(t);
    }
    if (in_angle)
        return from_error(Errc::syntax, "'<' without '>'");
    if (in_group)
        return from_error(Errc::syntax, "group without ';'");
    if (auto ok = flush(); !ok)
        return tl::unexpected<Error>(ok.error());
    return out;
}

Parsed<std::string> author_domain(const std::vector<std::string_view>& from_values) {
    if (from_values.empty())
        return from_error(Errc::no_from, "no From field");
    // RFC 5322 §3.6: exactly one From field; RFC 7489 §6.6.1 needs a single one too.
    if (from_values.size() > 1)
        return from_error(Errc::multiple_from, std::to_string(from_values.size()) + " From fields");
    return author_domain(from_values.front());
}

Parsed<std::string> author_domain(std::string_view from_value) {
    auto all = from_domains(from_value);
    if (!all)
        return tl::unexpected<Error>(all.error());
    if (all->empty())
        return from_error(Errc::no_address, "no address in From");
    std::vector<std::string> distinct;
    for (auto& d : *all)
        if (std::find(distinct.begin(), distinct.end(), d) == distinct.end())
            distinct.push_back(d);
    if (distinct.size() == 1)
        return distinct.front();
    // RFC 7489 §6.6.1: a multi-valued From is evaluated per domain by the caller, if at all.
    Error e{Errc::multiple_domains, std::to_string(distinct.size()) + " domains in From",
            std::move(distinct)};
    return tl::unexpected<Error>(std::move(e));
}

} // namespace arcf::dmarc
