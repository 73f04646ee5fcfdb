// SPDX-License-Identifier: ISC
// The smtpd filter protocol encoder (smtpd-filters(7); OpenSMTPD lka_filter.c).
#include "filter/smtpd/reply.hpp"

namespace arcf::filter {

std::size_t max_output_line(Version version) {
    return version < Version{0, 7} ? legacy_output_line : output_line;
}

void append_registration(std::string& out) {
    for (const char* ev : {"link-connect", "link-disconnect", "link-identify", "link-auth",
                           "tx-begin", "tx-mail", "tx-rcpt", "tx-reset", "tx-rollback"})
        out.append("register|report|smtp-in|").append(ev).push_back('\n');
    out.append("register|filter|smtp-in|data-line\n");
    out.append("register|filter|smtp-in|commit\n");
    out.append("register|ready\n");
}

Responder::Responder(Version version, std::string_view session, std::string_view token)
    : max_(max_output_line(version)), cuts_(version < Version{0, 7}) {
    // Responses put SESSION before TOKEN from protocol 0.5 on; 0.4 had TOKEN first.
    const bool token_first = version < Version{0, 5};
    prefix_.append(token_first ? token : session).append("|");
    prefix_.append(token_first ? session : token).append("|");
    dataline_ = "filter-dataline|" + prefix_;
    room_ = dataline_.size() < max_ ? max_ - dataline_.size() : 0;
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

} // namespace arcf::filter
