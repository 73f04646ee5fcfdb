// SPDX-License-Identifier: ISC
// RFC 8601 Authentication-Results writer for the ARC verdict.
#include "arc/auth_results_format.hpp"

namespace arcf::arc {

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

std::string format_arc_resinfo(const ChainResult& r, std::string_view remote_ip) {
    std::string out = "arc=";
    out += to_string(r.status);
    if (!r.reason.empty())
        out += " (" + comment_safe(r.reason) + ")";
    // RFC 8617 §6: header.oldest-pass and smtp.remote-ip are the registered properties.
    if (r.status == ChainStatus::pass && r.oldest_pass)
        out += " header.oldest-pass=" + std::to_string(*r.oldest_pass);
    if (!remote_ip.empty())
        out += " smtp.remote-ip=" + std::string(remote_ip);
    return out;
}

std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip) {
    return std::string(authserv_id) + "; " + format_arc_resinfo(r, remote_ip);
}

} // namespace arcf::arc
