// SPDX-License-Identifier: ISC
// smtpd filter protocol codec (see shared notes, opensmtpd-filter-protocol.md §1–§5).
#include "filter/smtpd/protocol.hpp"

#include <charconv>

namespace arcf::filter {

namespace {

// Takes the next field up to '|'; false when there is no '|' left.
bool next_field(std::string_view& rest, std::string_view& field) {
    auto bar = rest.find('|');
    if (bar == std::string_view::npos)
        return false;
    field = rest.substr(0, bar);
    rest.remove_prefix(bar + 1);
    return true;
}

bool is_hex_id(std::string_view s) {
    if (s.empty() || s.size() > 16)
        return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    return true;
}

} // namespace

std::optional<ProtocolLine> parse_line(std::string_view line) {
    ProtocolLine out;
    std::string_view rest = line;
    std::string_view type;
    if (!next_field(rest, type))
        return std::nullopt;
    if (type == "config") {
        out.type = LineType::config;
        auto bar = rest.find('|');
        out.key = rest.substr(0, bar);
        out.value = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
        return out.key.empty() ? std::nullopt : std::optional<ProtocolLine>(out);
    }
    if (type != "report" && type != "filter")
        return std::nullopt;
    out.type = type == "report" ? LineType::report : LineType::filter;
    std::string_view timestamp;
    if (!next_field(rest, out.version) || !next_field(rest, timestamp) ||
        !next_field(rest, out.subsystem) || !next_field(rest, out.event))
        return std::nullopt;
    if (out.type == LineType::report) {
        // link-disconnect has nothing after the session id.
        auto bar = rest.find('|');
        out.session = rest.substr(0, bar);
        if (bar != std::string_view::npos) {
            out.params = rest.substr(bar + 1);
            out.has_params = true;
        }
    } else {
        if (!next_field(rest, out.session))
            return std::nullopt;
        // Protocol 0.4 (smtpd 6.6.0) put the token first in responses only; requests have
        // always been SESSION|TOKEN.
        auto bar = rest.find('|');
        if (bar == std::string_view::npos)
            return std::nullopt; // PARAMS is always present, possibly empty
        out.token = rest.substr(0, bar);
        out.params = rest.substr(bar + 1);
        out.has_params = true;
        if (!is_hex_id(out.token))
            return std::nullopt;
    }
    if (!is_hex_id(out.session))
        return std::nullopt;
    return out;
}

std::optional<std::vector<std::string_view>> split_params(std::string_view params, std::size_t n) {
    std::vector<std::string_view> out;
    if (n == 0)
        return out;
    std::string_view rest = params;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        std::string_view f;
        if (!next_field(rest, f))
            return std::nullopt;
        out.push_back(f);
    }
    out.push_back(rest);
    return out;
}

bool version_before(std::string_view v, std::string_view than) {
    auto parse = [](std::string_view s, int& major, int& minor) {
        auto dot = s.find('.');
        major = minor = 0;
        std::from_chars(s.data(), s.data() + (dot == std::string_view::npos ? s.size() : dot),
                        major);
        if (dot != std::string_view::npos)
            std::from_chars(s.data() + dot + 1, s.data() + s.size(), minor);
    };
    int a1, a2, b1, b2;
    parse(v, a1, a2);
    parse(than, b1, b2);
    return a1 != b1 ? a1 < b1 : a2 < b2;
}

std::string format_proceed(std::string_view session, std::string_view token) {
    std::string out = "filter-result|";
    out.append(session).append("|").append(token).append("|proceed\n");
    return out;
}

std::string
format_reject(std::string_view session, std::string_view token, std::string_view reply) {
    std::string out = "filter-result|";
    out.append(session).append("|").append(token).append("|reject|").append(reply).append("\n");
    return out;
}

std::string
format_dataline(std::string_view session, std::string_view token, std::string_view line) {
    std::string out;
    out.reserve(19 + session.size() + token.size() + line.size());
    append_dataline(out, session, token, line);
    return out;
}

void append_dataline(std::string& out,
                     std::string_view session,
                     std::string_view token,
                     std::string_view line) {
    out.append("filter-dataline|").append(session);
    out.push_back('|');
    out.append(token);
    out.push_back('|');
    out.append(line);
    out.push_back('\n');
}

std::size_t max_output_line(std::string_view version) {
    return version_before(version, "0.7") ? legacy_output_line : output_line;
}

Responder::Responder(std::string_view version, std::string_view session, std::string_view token)
    : max_(max_output_line(version)) {
    // Responses put SESSION before TOKEN from protocol 0.5 on; 0.4 had TOKEN first.
    const bool token_first = version_before(version, "0.5");
    prefix_.append(token_first ? token : session).append("|");
    prefix_.append(token_first ? session : token).append("|");
    const std::size_t used = std::string_view("filter-dataline|").size() + prefix_.size();
    room_ = used < max_ ? max_ - used : 0;
}

void Responder::dataline(std::string& out, std::string_view line) const {
    out.append("filter-dataline|").append(prefix_).append(line.substr(0, room_)).push_back('\n');
}

void Responder::proceed(std::string& out) const {
    out.append("filter-result|").append(prefix_).append("proceed\n");
}

void Responder::reject(std::string& out, std::string_view reply) const {
    const std::size_t used = std::string_view("filter-result|reject|").size() + prefix_.size();
    const std::size_t room = used < max_ ? max_ - used : 0;
    out.append("filter-result|").append(prefix_).append("reject|").append(reply.substr(0, room));
    out.push_back('\n');
}

bool is_valid_reject_reply(std::string_view reply) {
    if (reply.size() < 5)
        return false;
    if (reply[0] != '4' && reply[0] != '5')
        return false;
    if (reply[1] < '0' || reply[1] > '9' || reply[2] < '0' || reply[2] > '9' || reply[3] != ' ')
        return false;
    for (char c : reply)
        if (c == '\r' || c == '\n' || c == '|' || static_cast<unsigned char>(c) < 0x20)
            return false;
    return true;
}

std::string address_of(std::string_view src) {
    if (src.rfind("unix:", 0) == 0)
        return {};
    if (!src.empty() && src.front() == '[') {
        auto close = src.find(']');
        return std::string(src.substr(1, close == std::string_view::npos ? src.npos : close - 1));
    }
    auto colon = src.rfind(':');
    if (colon != std::string_view::npos && src.find(':') == colon)
        return std::string(src.substr(0, colon));
    return std::string(src); // no port, or a bare IPv6 address
}

} // namespace arcf::filter
