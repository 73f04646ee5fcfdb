// SPDX-License-Identifier: ISC
// The undo candidates of `verify --explain` (arc/explain_undo.hpp).
#include "arc/explain_undo.hpp"

#include <algorithm>

#include "mail/crypto.hpp"
#include "mail/header.hpp"
#include "text/ascii.hpp"

namespace arcf::arc::undo {

void canon_body_line(Canon c, std::string_view line, std::string& out) {
    out.clear();
    if (c == Canon::simple)
        out.assign(line);
    else
        mail::append_relaxed_body_line(out, line);
}

std::map<std::string, PrefixMatch> match_prefixes(std::string_view body,
                                                  Canon c,
                                                  const std::set<std::string>& wanted,
                                                  std::uint64_t max_footer) {
    std::map<std::string, PrefixMatch> found;
    if (wanted.empty())
        return found;
    Sha256 running;
    std::string pending; // canonical bytes not yet given to SHA-256 (few large updates)
    std::uint64_t emitted = 0, pending_empty = 0;
    std::size_t consumed = 0;
    std::string canon;
    auto check = [&](std::size_t rest) {
        if (rest > max_footer)
            return;
        if (!pending.empty()) {
            running.update(pending);
            pending.clear();
        }
        Digest d =
            emitted == 0 ? sha256(c == Canon::simple ? "\r\n" : "") : running.fork().finish();
        std::string key(reinterpret_cast<const char*>(d.data()), d.size());
        if (wanted.count(key) != 0 && found.count(key) == 0)
            found.emplace(key, PrefixMatch{consumed});
    };
    check(body.size()); // the empty body: everything is new
    for_each_line(body, [&](std::string_view line) {
        ++consumed;
        canon_body_line(c, line, canon);
        if (canon.empty()) {
            ++pending_empty;
            return;
        }
        for (; pending_empty > 0; --pending_empty) {
            pending += "\r\n";
            emitted += 2;
        }
        pending += canon;
        pending += "\r\n";
        emitted += canon.size() + 2;
        // The bytes after this line: the line ends where `line` ends (plus its CR LF or LF).
        std::size_t next = static_cast<std::size_t>(line.data() - body.data()) + line.size();
        if (next < body.size() && body[next] == '\r')
            ++next;
        if (next < body.size()) // the LF
            ++next;
        const std::size_t rest = body.size() - next;
        if (rest <= max_footer)
            check(rest);
        else if (pending.size() >= 65536) {
            running.update(pending);
            pending.clear();
        }
    });
    return found;
}

std::size_t offset_of_line(std::string_view body, std::size_t index) {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < index && pos < body.size(); ++i) {
        auto nl = body.find('\n', pos);
        pos = nl == std::string_view::npos ? body.size() : nl + 1;
    }
    return pos;
}
std::size_t count_lines(std::string_view body) {
    std::size_t n = 0;
    for_each_line(body, [&](std::string_view) { ++n; });
    return n;
}

std::string strip_subject_tag(const HeaderField& f, std::string& tag) {
    const std::string_view raw = f.raw();
    std::size_t start = raw.size() - f.value().size();
    std::size_t p = start;
    for (;;) {
        while (p < raw.size() &&
               (raw[p] == ' ' || raw[p] == '\t' || raw[p] == '\r' || raw[p] == '\n'))
            ++p;
        std::string_view rest = std::string_view(raw).substr(p);
        std::size_t colon = rest.find(':');
        if (colon != std::string_view::npos && colon <= 4 && colon >= 2 &&
            std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(colon),
                        [](char ch) { return text::is_alpha(ch); })) {
            p += colon + 1; // Re: / Fw: / Fwd: / AW: ...
            continue;
        }
        break;
    }
    if (p >= raw.size() || raw[p] != '[')
        return {};
    std::size_t close = raw.find(']', p);
    if (close == std::string::npos || close - p > 64)
        return {};
    std::size_t end = close + 1;
    while (end < raw.size() && (raw[end] == ' ' || raw[end] == '\t'))
        ++end;
    tag = raw.substr(p, end - p);
    std::string out(raw.substr(0, p));
    out.append(raw.substr(end));
    return out;
}

std::string plain_spacing(const HeaderField& f) {
    const std::string_view raw = f.raw();
    if (f.malformed())
        return std::string(raw);
    std::string out(f.name());
    out += ": ";
    std::string_view v = f.value();
    std::size_t i = 0;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t'))
        ++i;
    bool wsp = false;
    for (; i < v.size(); ++i) {
        const char c = v[i];
        if (c == ' ' || c == '\t') {
            wsp = true;
            continue;
        }
        if (wsp && c != '\r')
            out.push_back(' ');
        wsp = false;
        out.push_back(c);
    }
    return out;
}

std::string unfolded(std::string_view raw, bool keep_wsp) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
            ++i;
            if (!keep_wsp)
                while (i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t'))
                    ++i;
            continue;
        }
        out.push_back(raw[i]);
    }
    return out;
}

} // namespace arcf::arc::undo
