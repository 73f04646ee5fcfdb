// SPDX-License-Identifier: ISC
// smtpd filter-protocol lines (shared notes, opensmtpd-filter-protocol.md).
#include "bench/stream.hpp"

#include <cstdio>

namespace arcf::bench {

namespace {

constexpr std::string_view version = "0.7";
constexpr std::string_view token = "e43f4b5e888d8c53";
constexpr std::string_view commit_token = "e43f4b628180a9ae";

void report(std::string& out,
            std::string_view event,
            std::string_view session,
            std::string_view params) {
    out.append("report|").append(version).append("|1715677950.100000|smtp-in|");
    out.append(event).append("|").append(session);
    if (!params.empty())
        out.append("|").append(params);
    out.push_back('\n');
}

void data_line(std::string& out, std::string_view session, std::string_view line) {
    out.append("filter|").append(version).append("|1715677950.200000|smtp-in|data-line|");
    out.append(session).append("|").append(token).append("|");
    if (!line.empty() && line[0] == '.')
        out.push_back('.'); // RFC 5321 §4.5.2 dot-stuffing, as smtpd passes it on
    out.append(line).push_back('\n');
}

void end_of_data(std::string& out, std::string_view session) {
    out.append("filter|").append(version).append("|1715677950.200000|smtp-in|data-line|");
    out.append(session).append("|").append(token).append("|.\n");
}

void opening(std::string& out, std::string_view session) {
    report(out, "link-connect", session, "client.example.org|pass|192.0.2.7:59658|127.0.0.1:25");
    report(out, "tx-begin", session, "35163a36");
    report(out, "tx-mail", session, "35163a36|ok|<bob@example.org>");
    report(out, "tx-rcpt", session, "35163a36|ok|<alice@example.net>");
}

} // namespace

std::function<bool(std::string&)> streamed_transaction(std::string session,
                                                       std::vector<std::string> header,
                                                       std::string body_line,
                                                       std::size_t body_lines) {
    std::size_t stage = 0, sent = 0;
    return [=](std::string& out) mutable {
        if (stage == 0) {
            opening(out, session);
            for (const auto& h : header)
                data_line(out, session, h);
            data_line(out, session, "");
            stage = 1;
            return true;
        }
        if (stage == 1) {
            while (sent < body_lines && out.size() < (1u << 20)) {
                data_line(out, session, body_line);
                ++sent;
            }
            if (sent == body_lines)
                stage = 2;
            return true;
        }
        if (stage == 2) {
            end_of_data(out, session);
            stage = 3;
            return true;
        }
        return false;
    };
}

std::string handshake() {
    return "config|smtpd-version|7.4.0\nconfig|protocol|0.7\nconfig|smtp-session-timeout|300\n"
           "config|subsystem|smtp-in\nconfig|admd|mx.bench.test\nconfig|ready\n";
}

std::string session_id(std::size_t n) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016zx", n + 0x63df94b500000000u);
    return buf;
}

std::string transaction(std::string_view session, const Lines& lines) {
    std::string out;
    std::size_t bytes = 0;
    for (const auto& l : lines)
        bytes += l.size() + 80;
    out.reserve(bytes + 600);
    opening(out, session);
    for (const auto& l : lines)
        data_line(out, session, l);
    end_of_data(out, session);
    return out;
}

std::string interleaved(const std::vector<std::string>& sessions, const Lines& lines) {
    std::string out;
    for (const auto& s : sessions)
        opening(out, s);
    for (const auto& l : lines)
        for (const auto& s : sessions)
            data_line(out, s, l);
    for (const auto& s : sessions)
        end_of_data(out, s);
    return out;
}

std::string closing(std::string_view session) {
    std::string out;
    out.append("filter|").append(version).append("|1715677950.300000|smtp-in|commit|");
    out.append(session).append("|").append(commit_token).append("|\n");
    report(out, "link-disconnect", session, "");
    return out;
}

} // namespace arcf::bench
