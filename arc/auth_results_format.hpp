// SPDX-License-Identifier: ISC
// Writing Authentication-Results values for the arc method (RFC 8601 §2.2, RFC 8617 §6).
#pragma once

#include "arc/chain.hpp"

#include <string>
#include <string_view>

namespace arcf::arc {

/// Makes text safe inside an RFC 8601 comment: parentheses become brackets, ';' a comma (a ';'
/// inside a comment breaks some receivers' parsers), backslashes and controls a space.
std::string comment_safe(std::string_view text);

/// "arc=pass (reason) header.oldest-pass=0 smtp.remote-ip=1.2.3.4" — one resinfo.
std::string format_arc_resinfo(const ChainResult& r, std::string_view remote_ip = {});

/// The value of an Authentication-Results header field: "authserv-id; arc=...".
std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip = {});

} // namespace arcf::arc
