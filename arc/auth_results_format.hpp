// SPDX-License-Identifier: ISC
// Writing Authentication-Results values for the arc method (RFC 8601 §2.2, RFC 8617 §6).
#pragma once

#include "arc/chain.hpp"

#include <string>
#include <string_view>

#include "mail/auth_results.hpp"

namespace arcf::arc {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

/// "arc=pass (reason) header.oldest-pass=0 smtp.remote-ip=1.2.3.4" — one resinfo, written by
/// format_resinfo() within its budgets (the reason is a comment of at most 256 octets).
std::string format_arc_resinfo(const ChainResult& r,
                               std::string_view remote_ip = {},
                               WriteStats* stats = nullptr);

/// The value of an Authentication-Results header field: "authserv-id; arc=...".
std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip = {},
                                          WriteStats* stats = nullptr);

} // namespace arcf::arc
