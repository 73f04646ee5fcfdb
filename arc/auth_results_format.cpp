// SPDX-License-Identifier: ISC
// RFC 8601 Authentication-Results writer for the ARC verdict.
#include "arc/auth_results_format.hpp"

namespace arcf::arc {

ResInfo arc_resinfo(const ChainResult& chain, std::string_view remote_ip, ArcResultFor where) {
    const bool ar = where == ArcResultFor::authentication_results;
    ResInfo r;
    r.method = "arc";
    r.result = std::string(to_string(chain.status));
    if (ar)
        r.comment = chain.reason; // bounded by format_resinfo()
    // RFC 8617 §6: header.oldest-pass and smtp.remote-ip are the registered properties.
    if (chain.status == ChainStatus::pass && chain.oldest_pass)
        r.properties.push_back(
            AuthProperty{"header", "oldest-pass", std::to_string(*chain.oldest_pass)});
    if (!remote_ip.empty()) {
        AuthProperty ip{"smtp", "remote-ip", std::string(remote_ip)};
        // An address as smtpd or Exim reports it is written as is (IPv6 too) in the
        // Authentication-Results; anything else is quoted and bounded like every value we write.
        ip.address = ar;
        r.properties.push_back(std::move(ip));
    }
    r.raw = format_resinfo(r);
    return r;
}

std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip,
                                          WriteStats* stats) {
    return std::string(authserv_id) + "; " +
           format_resinfo(arc_resinfo(r, remote_ip, ArcResultFor::authentication_results), stats);
}

} // namespace arcf::arc
