// SPDX-License-Identifier: ISC
// RFC 8601 §2.2 authres-payload reader and writer.
#include "mail/auth_results.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "mail/header.hpp"
#include "text/ascii.hpp"

namespace arcf::mail {

namespace {

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A word runs until whitespace, a comment, a quote or one of ; = (RFC 2045 tspecials that
// matter here); '.', '@', '/' stay inside so addresses and domains are one word.
bool is_word_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != ';' && c != '=' && c != '(' && c != ')' && c != '"';
}

class Lexer {
  public:
    explicit Lexer(std::string_view s) : s_(s) {}

    void skip_cfws() {
        while (pos_ < s_.size()) {
            if (is_ws(s_[pos_])) {
                ++pos_;
            } else if (s_[pos_] == '(') {
                skip_comment();
            } else {
                break;
            }
        }
    }
    bool at_end() {
        skip_cfws();
        return pos_ >= s_.size();
    }
    bool peek(char c) {
        skip_cfws();
        return pos_ < s_.size() && s_[pos_] == c;
    }
    bool take(char c) {
        if (!peek(c))
            return false;
        ++pos_;
        return true;
    }
    /// A token or a quoted-string (RFC 2045 value), unquoted.
    std::optional<std::string> value() {
        skip_cfws();
        if (pos_ < s_.size() && s_[pos_] == '"')
            return quoted();
        std::size_t start = pos_;
        while (pos_ < s_.size() && is_word_char(s_[pos_]))
            ++pos_;
        if (pos_ == start)
            return std::nullopt;
        return std::string(s_.substr(start, pos_ - start));
    }
    /// Skips to the next top-level ';' (or the end), honouring comments and quotes.
    void skip_to_semicolon() {
        while (pos_ < s_.size() && s_[pos_] != ';') {
            if (s_[pos_] == '(')
                skip_comment();
            else if (s_[pos_] == '"')
                quoted();
            else
                ++pos_;
        }
    }
    std::size_t pos() const { return pos_; }

  private:
    void skip_comment() {
        int depth = 0;
        while (pos_ < s_.size()) {
            char c = s_[pos_++];
            if (c == '\\') {
                ++pos_;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')') {
                if (--depth == 0)
                    return;
            }
        }
    }
    std::string quoted() {
        std::string out;
        ++pos_; // opening quote
        while (pos_ < s_.size()) {
            char c = s_[pos_++];
            if (c == '"')
                return out;
            if (c == '\\' && pos_ < s_.size())
                c = s_[pos_++];
            out.push_back(c);
        }
        return out;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

std::string collapse_ws(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (is_ws(c)) {
            space = !out.empty();
            continue;
        }
        if (space)
            out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return out;
}

// RFC 2045 §5.1 tspecials, less '/' (the caller handles it in method versions) and '@' and '.'
// (allowed in addresses and domains, RFC 8601 pvalue), as a table: a search of the list for
// every character cost a call per octet of each value we write (issue 21).
constexpr std::array<bool, 256> tspecial_table = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("()<>,;:\\\"[]?="))
        t[c] = true;
    return t;
}();

bool is_token(std::string_view v) {
    if (v.empty())
        return false;
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        // RFC 2045 token: no CTLs, SPACE or tspecials.
        if (u <= 0x20 || u >= 0x7f || tspecial_table[u])
            return false;
    }
    return true;
}

} // namespace

Result<AuthResults> parse_authentication_results(std::string_view value) {
    AuthResults ar;
    Lexer lx(value);
    if (!lx.peek(';')) {
        auto id = lx.value();
        if (!id)
            return fail(Errc::syntax, "no authserv-id");
        ar.authserv_id = text::to_lower(*id);
        // Optional authres-version: digits right after the authserv-id.
        if (!lx.at_end() && !lx.peek(';')) {
            auto v = lx.value();
            if (v && v->find_first_not_of("0123456789") == std::string::npos)
                ar.version = *v;
        }
    }
    while (!lx.at_end()) {
        if (!lx.take(';')) {
            lx.skip_to_semicolon();
            continue;
        }
        std::size_t start = lx.pos();
        if (lx.at_end())
            break;
        auto method = lx.value();
        if (!method || !lx.take('=')) {
            lx.skip_to_semicolon(); // "none" or garbage: no result here
            continue;
        }
        auto result = lx.value();
        if (!result) {
            lx.skip_to_semicolon();
            continue;
        }
        ResInfo r;
        std::string m = text::to_lower(*method);
        if (auto slash = m.find('/'); slash != std::string::npos) {
            r.method_version = m.substr(slash + 1);
            m.resize(slash);
        }
        r.method = m;
        r.result = text::to_lower(*result);
        while (!lx.at_end() && !lx.peek(';')) {
            auto word = lx.value();
            if (!word) {
                lx.skip_to_semicolon();
                break;
            }
            if (!lx.take('='))
                continue; // a stray word: ignore it
            auto v = lx.value();
            if (!v)
                v = std::string();
            std::string w = text::to_lower(*word);
            if (w == "reason") {
                r.reason = *v;
            } else if (auto dot = w.find('.'); dot != std::string::npos && dot > 0) {
                r.properties.push_back(AuthProperty{w.substr(0, dot), w.substr(dot + 1), *v});
            }
        }
        r.raw = collapse_ws(value.substr(start, lx.pos() - start));
        ar.results.push_back(std::move(r));
    }
    return ar;
}

std::string format_value(std::string_view v) {
    if (is_token(v))
        return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            continue; // never CR, LF or other controls
        if (c == '"' || c == '\\')
            out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string comment_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '(')
            out.push_back('[');
        else if (c == ')')
            out.push_back(']');
        else if (c == ';')
            out.push_back(',');
        else if (c == '\\' || u < 0x20 || u == 0x7f)
            out.push_back(' ');
        else
            out.push_back(c);
    }
    return out;
}

namespace {

// Cuts `text` to at most `max` octets ending in "...", never inside a UTF-8 sequence.
std::string cut(std::string text, std::size_t max) {
    if (text.size() <= max)
        return text;
    std::size_t keep = max > 3 ? max - 3 : 0;
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
        --keep; // text[keep] continues a sequence: cut before its lead octet
    text.resize(keep);
    return text + "...";
}

bool short_token(std::string_view v) {
    return v.size() <= WriteBudget::max_name && is_token(v);
}

} // namespace

std::string bounded_comment(std::string_view text, std::size_t max, WriteStats* stats) {
    std::string out = comment_safe(text);
    if (out.size() > max && stats)
        ++stats->values_omitted;
    return cut(std::move(out), max);
}

std::string format_resinfo(const ResInfo& r, WriteStats* stats) {
    WriteStats local;
    // Appended piece by piece, without temporaries: this runs several times for each message
    // (our Authentication-Results, the AAR, the results' raw text).
    std::string out;
    out.reserve(128);
    out += short_token(r.method) ? std::string_view(r.method) : std::string_view("x-invalid");
    if (!r.method_version.empty() && short_token(r.method_version)) {
        out += '/';
        out += r.method_version;
    }
    out += '=';
    out += short_token(r.result) ? std::string_view(r.result) : std::string_view("neutral");
    if (!r.comment.empty()) {
        out += " (";
        out += bounded_comment(r.comment, WriteBudget::max_reason, &local);
        out += ')';
    }
    if (r.reason) {
        // A reason is prose (RFC 8601 §2.7): shortened, marked, rather than left out.
        std::string reason = *r.reason;
        if (reason.size() > WriteBudget::max_reason) {
            ++local.values_omitted;
            reason = cut(std::move(reason), WriteBudget::max_reason);
        }
        out += " reason=";
        out += format_value(reason);
    }
    // Room kept for the note below, so the whole resinfo stays within max_resinfo.
    constexpr std::size_t note_room = 40;
    std::size_t omitted = 0;
    for (const auto& p : r.properties) {
        if (!is_token(p.ptype) || !is_token(p.property))
            continue; // not a property at all (never written, as before)
        const bool address_shape =
            p.value.size() <= 64 &&
            p.value.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
        const bool as_is = p.address && address_shape;
        std::string quoted = as_is ? std::string() : format_value(p.value);
        const std::string& v = as_is ? p.value : quoted;
        // " ptype.property=value"
        const std::size_t word_size = 3 + p.ptype.size() + p.property.size() + v.size();
        if (p.ptype.size() > WriteBudget::max_name || p.property.size() > WriteBudget::max_name ||
            v.size() > WriteBudget::max_value ||
            out.size() + word_size + note_room > WriteBudget::max_resinfo) {
            ++omitted;
            continue;
        }
        out += ' ';
        out += p.ptype;
        out += '.';
        out += p.property;
        out += '=';
        out += v;
    }
    if (omitted > 0) {
        out += " (";
        out += std::to_string(omitted);
        out += omitted == 1 ? " property" : " properties";
        out += " omitted: too long)";
        local.values_omitted += omitted;
    }
    if (stats)
        stats->add(local);
    return out;
}

std::vector<std::string> format_results(const std::vector<ResInfo>& results, WriteStats* stats) {
    std::vector<std::string> out;
    std::vector<std::pair<std::string, std::size_t>> per_method;
    std::size_t total = 0, omitted = 0;
    constexpr std::size_t note_room = 48; // "(N results omitted: over budget)"
    for (const auto& r : results) {
        auto it = std::find_if(per_method.begin(), per_method.end(),
                               [&](const auto& m) { return m.first == r.method; });
        if (it == per_method.end())
            it = per_method.insert(per_method.end(), {r.method, 0});
        WriteStats local;
        std::string text = format_resinfo(r, &local);
        if (it->second >= WriteBudget::max_per_method ||
            total + text.size() + 2 + note_room > WriteBudget::max_results) {
            ++omitted;
            continue;
        }
        ++it->second;
        total += text.size() + 2;
        out.push_back(std::move(text));
        if (stats)
            stats->add(local);
    }
    if (omitted > 0 && !out.empty())
        out.back() += " (" + std::to_string(omitted) + (omitted == 1 ? " result" : " results") +
                      " omitted: over budget)";
    if (stats)
        stats->results_omitted += omitted;
    return out;
}

namespace {

constexpr std::size_t fold_width = 78;

// Where the word starting at `pos` ends: at the next space outside a comment or a quoted-string.
// Our comments have no nesting and no escapes (comment_safe()); a quoted-string's backslash
// escapes stay inside it (format_value()).
std::size_t word_end(std::string_view value, std::size_t pos) {
    bool quoted = false;
    bool comment = false;
    for (std::size_t i = pos; i < value.size(); ++i) {
        char c = value[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
        } else if (comment) {
            comment = c != ')';
        } else if (c == '"') {
            quoted = true;
        } else if (c == '(') {
            comment = true;
        } else if (c == ' ') {
            return i;
        }
    }
    return value.size();
}

} // namespace

std::string fold_results_field(std::string_view name, std::string_view value) {
    std::string out = std::string(name) + ":";
    std::size_t line_len = out.size();
    bool first = true;
    for (std::size_t pos = 0; pos < value.size();) {
        std::size_t end = word_end(value, pos);
        std::string_view word = value.substr(pos, end - pos);
        pos = end + 1;
        if (word.empty())
            continue; // a run of spaces is one fold point
        // A word goes on a new line when it would pass column 78, unless it is the field's
        // first word (a fold before it would leave an empty first line).
        if (line_len + 1 + word.size() > fold_width && !first) {
            out += "\r\n\t";
            line_len = 1;
        } else {
            out += ' ';
            ++line_len;
        }
        out += word;
        line_len += word.size();
        first = false;
    }
    return out;
}

} // namespace arcf::mail
