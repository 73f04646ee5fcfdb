// SPDX-License-Identifier: ISC
// RFC 8601 Authentication-Results writer for the ARC verdict.
#include "arc/auth_results_format.hpp"

namespace arcf::arc {

std::string
format_arc_resinfo(const ChainResult& r, std::string_view remote_ip, WriteStats* stats) {
    ResInfo arc;
    arc.method = "arc";
    arc.result = std::string(to_string(r.status));
    arc.comment = r.reason; // bounded by format_resinfo()
    // RFC 8617 §6: header.oldest-pass and smtp.remote-ip are the registered properties.
    if (r.status == ChainStatus::pass && r.oldest_pass)
        arc.properties.push_back(
            AuthProperty{"header", "oldest-pass", std::to_string(*r.oldest_pass)});
    // An address as smtpd or Exim reports it is written as is (IPv6 too, as receivers expect);
    // anything else is quoted and bounded like every value we write.
    const bool address =
        remote_ip.size() <= 64 &&
        remote_ip.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
    if (!remote_ip.empty() && !address)
        arc.properties.push_back(AuthProperty{"smtp", "remote-ip", std::string(remote_ip)});
    std::string out = format_resinfo(arc, stats);
    if (!remote_ip.empty() && address)
        out += " smtp.remote-ip=" + std::string(remote_ip);
    return out;
}

std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip,
                                          WriteStats* stats) {
    return std::string(authserv_id) + "; " + format_arc_resinfo(r, remote_ip, stats);
}

} // namespace arcf::arc
