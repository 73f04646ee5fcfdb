// SPDX-License-Identifier: ISC
// RFC 1035 §5.1 master-file reader, restricted to what key and SPF publication needs: TXT, A,
// AAAA (RFC 3596 §2.4), MX and PTR records.
#include "dns/zone_file.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "text/ascii.hpp"

namespace arcf::dns {
namespace {

struct Token {
    std::string text;
    bool quoted = false;
};

// Splits one logical entry (parentheses already joined) into tokens; quoted strings keep their
// content with RFC 1035 §5.1 escapes resolved.
bool tokenize(std::string_view line, std::vector<Token>& out, std::string& err) {
    std::size_t i = 0;
    while (i < line.size()) {
        char c = line[i];
        if (c == ' ' || c == '\t' || c == '(' || c == ')') {
            ++i;
            continue;
        }
        if (c == ';')
            break;
        Token t;
        if (c == '"') {
            t.quoted = true;
            ++i;
            bool closed = false;
            while (i < line.size()) {
                char d = line[i];
                if (d == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                if (d == '\\' && i + 1 < line.size()) {
                    if (i + 3 < line.size() &&
                        std::isdigit(static_cast<unsigned char>(line[i + 1])) &&
                        std::isdigit(static_cast<unsigned char>(line[i + 2])) &&
                        std::isdigit(static_cast<unsigned char>(line[i + 3]))) {
                        int v = (line[i + 1] - '0') * 100 + (line[i + 2] - '0') * 10 +
                                (line[i + 3] - '0');
                        if (v > 255) {
                            err = "bad \\DDD escape";
                            return false;
                        }
                        t.text.push_back(static_cast<char>(v));
                        i += 4;
                    } else {
                        t.text.push_back(line[i + 1]);
                        i += 2;
                    }
                    continue;
                }
                t.text.push_back(d);
                ++i;
            }
            if (!closed) {
                err = "unterminated quoted string";
                return false;
            }
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '(' &&
                   line[i] != ')' && line[i] != ';') {
                t.text.push_back(line[i]);
                ++i;
            }
        }
        out.push_back(std::move(t));
    }
    return true;
}

bool is_number(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    return true;
}

bool is_class(std::string_view s) {
    auto l = text::to_lower(s);
    return l == "in" || l == "ch" || l == "hs" || l == "cs";
}

/// A domain name as written in the file, made absolute (RFC 1035 §5.1): "@" is the origin, a name
/// without a final dot is relative to it. Lower case, no final dot; "" is the root.
std::string absolute(std::string_view name, const std::string& origin) {
    if (name == "@")
        return origin;
    if (!name.empty() && name.back() == '.')
        return text::to_lower(text::without_trailing_dots(name));
    std::string out = text::to_lower(name);
    if (!origin.empty())
        out += "." + origin;
    return out;
}

/// An address in its canonical text (dotted quad, RFC 5952 for IPv6), or "" when it is not one.
std::string canonical_address(int family, const std::string& text) {
    unsigned char buf[16] = {};
    char out[INET6_ADDRSTRLEN] = {};
    if (inet_pton(family, text.c_str(), buf) != 1 ||
        inet_ntop(family, buf, out, sizeof out) == nullptr)
        return {};
    return out;
}

} // namespace

bool ZoneFile::parse(std::string_view text, std::string& error) {
    std::string origin;
    std::string last_owner;
    std::size_t lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        // Collect one logical entry: physical lines joined while parentheses are open.
        std::string entry;
        int depth = 0;
        bool in_quote = false;
        std::size_t first_line = lineno + 1;
        do {
            std::size_t nl = text.find('\n', pos);
            std::string_view phys =
                text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            pos = nl == std::string_view::npos ? text.size() : nl + 1;
            ++lineno;
            if (!phys.empty() && phys.back() == '\r')
                phys.remove_suffix(1);
            std::size_t cut = phys.size();
            for (std::size_t i = 0; i < phys.size(); ++i) {
                char c = phys[i];
                if (in_quote) {
                    if (c == '\\')
                        ++i;
                    else if (c == '"')
                        in_quote = false;
                    continue;
                }
                if (c == ';') {
                    cut = i; // comment to end of line (RFC 1035 §5.1)
                    break;
                }
                if (c == '"')
                    in_quote = true;
                else if (c == '(')
                    ++depth;
                else if (c == ')')
                    --depth;
            }
            if (!entry.empty())
                entry.push_back(' ');
            entry.append(phys.substr(0, cut));
        } while (depth > 0 && pos < text.size());
        if (depth != 0) {
            error = "line " + std::to_string(first_line) + ": unbalanced parentheses";
            return false;
        }
        bool starts_blank = !entry.empty() && (entry[0] == ' ' || entry[0] == '\t');
        std::vector<Token> toks;
        std::string err;
        if (!tokenize(entry, toks, err)) {
            error = "line " + std::to_string(first_line) + ": " + err;
            return false;
        }
        if (toks.empty())
            continue;
        if (!toks[0].quoted && toks[0].text == "$ORIGIN") {
            if (toks.size() < 2) {
                error = "line " + std::to_string(first_line) + ": $ORIGIN needs a name";
                return false;
            }
            origin = text::to_lower(text::without_trailing_dots(toks[1].text));
            continue;
        }
        if (!toks[0].quoted && (toks[0].text == "$TTL" || toks[0].text == "$INCLUDE"))
            continue;
        std::size_t k = 0;
        std::string owner;
        if (starts_blank) {
            if (last_owner.empty()) {
                error = "line " + std::to_string(first_line) + ": no owner name";
                return false;
            }
            owner = last_owner;
        } else {
            owner = absolute(toks[0].text, origin);
            ++k;
            last_owner = owner;
        }
        // [ttl] [class] or [class] [ttl], then the type.
        for (int n = 0; n < 2 && k < toks.size(); ++n)
            if (!toks[k].quoted && (is_number(toks[k].text) || is_class(toks[k].text)))
                ++k;
        if (k >= toks.size()) {
            error = "line " + std::to_string(first_line) + ": missing record type";
            return false;
        }
        owners_[owner] = true;
        std::string type = text::to_lower(toks[k].text);
        auto bad = [&](std::string_view what) {
            error = "line " + std::to_string(first_line) + ": bad " + std::string(what) + " record";
            return false;
        };
        if (type == "txt") {
            std::string joined;
            for (std::size_t j = k + 1; j < toks.size(); ++j)
                joined += toks[j].text; // RFC 6376 §3.6.2.2: strings of one RR are concatenated
            records_[Key{RecordType::txt, owner}].push_back(std::move(joined));
        } else if (type == "a" || type == "aaaa") {
            bool v6 = type == "aaaa";
            if (toks.size() != k + 2 || toks[k + 1].quoted)
                return bad(v6 ? "AAAA" : "A");
            std::string addr = canonical_address(v6 ? AF_INET6 : AF_INET, toks[k + 1].text);
            if (addr.empty())
                return bad(v6 ? "AAAA" : "A");
            records_[Key{v6 ? RecordType::aaaa : RecordType::a, owner}].push_back(std::move(addr));
        } else if (type == "mx") {
            // RFC 1035 §3.3.9: PREFERENCE (16 bits) EXCHANGE; "." is a null MX (RFC 7505).
            if (toks.size() != k + 3 || toks[k + 1].quoted || toks[k + 2].quoted)
                return bad("MX");
            const std::string& pref = toks[k + 1].text;
            unsigned value = 0;
            auto [end, ec] = std::from_chars(pref.data(), pref.data() + pref.size(), value);
            if (ec != std::errc() || end != pref.data() + pref.size() || value > 65535)
                return bad("MX");
            records_[Key{RecordType::mx, owner}].push_back(std::to_string(value) + " " +
                                                           absolute(toks[k + 2].text, origin));
        } else if (type == "ptr") {
            if (toks.size() != k + 2 || toks[k + 1].quoted)
                return bad("PTR");
            records_[Key{RecordType::ptr, owner}].push_back(absolute(toks[k + 1].text, origin));
        }
        // Other types only make the owner exist (NODATA for the types above).
    }
    return true;
}

Answer ZoneFile::lookup(std::string_view name) const {
    return lookup(RecordType::txt, name);
}

Answer ZoneFile::lookup(RecordType type, std::string_view name) const {
    std::string key = text::to_lower(text::without_trailing_dots(name));
    if (auto it = records_.find(Key{type, key}); it != records_.end())
        return Answer::found(it->second, 300);
    if (owners_.count(key) != 0)
        return Answer::failed(Status::nodata, "no " + std::string(to_string(type)) + " record");
    return Answer::failed(Status::nxdomain, "NXDOMAIN");
}

std::size_t ZoneFile::size() const {
    std::size_t n = 0;
    for (const auto& [key, recs] : records_)
        n += key.first == RecordType::txt ? 1 : 0;
    return n;
}

} // namespace arcf::dns
