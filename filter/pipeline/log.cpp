// SPDX-License-Identifier: ISC
#include "filter/pipeline/log.hpp"

#include <algorithm>

namespace arcf::filter {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool printable(unsigned char u) {
    return u >= 0x20 && u < 0x7f;
}

// A control byte: written as \xHH in a log line (four bytes for one).
bool control(unsigned char u) {
    return u < 0x20 || u == 0x7f;
}

void append_hex(std::string& out, unsigned char u) {
    out += "\\x";
    out.push_back(hex_digits[u >> 4]);
    out.push_back(hex_digits[u & 0xf]);
}

std::string truncated_mark(std::size_t left_out) {
    return "...[truncated " + std::to_string(left_out) + "]";
}

} // namespace

std::string quote_log(std::string_view v, std::size_t limit) {
    const std::size_t kept = v.size() > limit ? limit : v.size();
    std::string out;
    out.reserve(kept + 2);
    out.push_back('"');
    for (std::size_t i = 0; i < kept; ++i) {
        auto u = static_cast<unsigned char>(v[i]);
        if (v[i] == '"' || v[i] == '\\') {
            out.push_back('\\');
            out.push_back(v[i]);
        } else if (!printable(u)) {
            append_hex(out, u);
        } else {
            out.push_back(v[i]);
        }
    }
    if (kept < v.size())
        out += truncated_mark(v.size() - kept);
    out.push_back('"');
    return out;
}

namespace {
// A value written as it is: short, printable, and without what would end or quote it.
bool plain_value(std::string_view v, std::size_t limit) {
    bool plain = !v.empty() && v.size() <= limit;
    for (char c : v)
        plain = plain && printable(static_cast<unsigned char>(c)) && c != ' ' && c != '"' &&
                c != '\\' && c != '=';
    return plain;
}
} // namespace

std::string log_value(std::string_view v, std::size_t limit) {
    return plain_value(v, limit) ? std::string(v) : quote_log(v, limit);
}

std::string bound_log_line(std::string_view line, std::size_t limit) {
    // Nearly every line: within the limit, no control byte. Taken as it is.
    if (line.size() <= limit && std::none_of(line.begin(), line.end(), [](char c) {
            return control(static_cast<unsigned char>(c));
        }))
        return std::string(line);
    std::string out;
    out.reserve(line.size() < limit ? line.size() : limit);
    // Room for the mark in the worst case, so a cut line never grows past the limit.
    const std::size_t mark_room = truncated_mark(line.size()).size();
    const std::size_t room = limit > mark_room ? limit - mark_room : 0;
    std::size_t i = 0;
    for (; i < line.size(); ++i) {
        auto u = static_cast<unsigned char>(line[i]);
        const std::size_t need = control(u) ? 4 : 1;
        // Everything left fits as it is: no mark needed.
        if (out.size() + need > room) {
            // Would the rest fit without a mark? Only if it is the tail and within the limit.
            std::size_t rest = 0;
            for (std::size_t j = i; j < line.size(); ++j) {
                auto w = static_cast<unsigned char>(line[j]);
                rest += control(w) ? 4 : 1;
            }
            if (out.size() + rest <= limit) {
                for (; i < line.size(); ++i) {
                    auto w = static_cast<unsigned char>(line[i]);
                    if (control(w))
                        append_hex(out, w);
                    else
                        out.push_back(line[i]);
                }
                return out;
            }
            out += truncated_mark(line.size() - i);
            return out;
        }
        if (need == 4)
            append_hex(out, u);
        else
            out.push_back(line[i]);
    }
    return out;
}

std::string_view to_string(Severity s) {
    switch (s) {
    case Severity::err:
        return "err";
    case Severity::warning:
        return "warning";
    case Severity::notice:
        return "notice";
    case Severity::info:
        return "info";
    }
    return "info";
}

std::string_view log_field(std::string_view line, std::string_view key) {
    std::size_t i = 0;
    while (i < line.size()) {
        // One token: key=value, the value plain or quoted (a quote ends at an unescaped '"').
        const std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos)
            return {};
        const std::string_view k = line.substr(i, eq - i);
        std::size_t v = eq + 1, end = v;
        if (v < line.size() && line[v] == '"') {
            end = v + 1;
            while (end < line.size() && line[end] != '"')
                end += line[end] == '\\' ? 2 : 1;
            if (k == key)
                return line.substr(v + 1, std::min(end, line.size()) - v - 1);
            ++end;
        } else {
            end = line.find(' ', v);
            if (end == std::string_view::npos)
                end = line.size();
            if (k == key)
                return line.substr(v, end - v);
        }
        i = end < line.size() ? end + 1 : line.size();
        while (i < line.size() && line[i] == ' ')
            ++i;
    }
    return {};
}

Severity severity_of(std::string_view line) {
    const std::string_view event = log_field(line, "event");
    const std::string_view status = log_field(line, "status");
    const std::string_view action = log_field(line, "action");
    if (status == "failed" || status == "degraded" || !log_field(line, "error").empty() ||
        event == "internal-error" || event == "replay-failed" || event == "spool-error" ||
        event == "config-error")
        return Severity::err;
    if (action == "defer" || event == "protocol-error" || event == "log-dropped")
        return Severity::warning;
    if (action == "reject" || event == "start" || event == "reload" || event == "stop")
        return Severity::notice;
    return Severity::info;
}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
    if (!line_.empty())
        line_.push_back(' ');
    line_ += key;
    line_.push_back('=');
    // Appended in place when plain (nearly every value): no string of its own.
    if (value.empty())
        line_ += "\"\"";
    else if (plain_value(value, max_log_value))
        line_ += value;
    else
        line_ += quote_log(value);
    return *this;
}

LogLine& LogLine::add(std::string_view key, unsigned long long value) {
    return add(key, std::string_view(std::to_string(value)));
}

} // namespace arcf::filter
