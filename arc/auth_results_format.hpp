// SPDX-License-Identifier: ISC
// Our arc= result (RFC 8617 §6, RFC 8601 §2.2), for the Authentication-Results and the AAR.
#pragma once

#include "arc/chain.hpp"

#include <string>
#include <string_view>

#include "mail/auth_results.hpp"

namespace arcf::arc {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

/// Where our arc= result goes. The Authentication-Results states the chain's reason as a comment
/// and an IPv6 client address unquoted, as receivers expect; the AAR (sealed, read by later
/// hops) states neither the comment nor an unquoted address.
enum class ArcResultFor { aar, authentication_results };

/// Our own arc= result (RFC 8617 §6): "arc=pass (reason) header.oldest-pass=0
/// smtp.remote-ip=1.2.3.4", written by format_resinfo() within its budgets (the comment is
/// at most 256 octets). `raw` holds that text without stats.
ResInfo arc_resinfo(const ChainResult& chain,
                    std::string_view remote_ip = {},
                    ArcResultFor where = ArcResultFor::aar);

/// The value of an Authentication-Results header field: "authserv-id; arc=...".
std::string format_authentication_results(std::string_view authserv_id,
                                          const ChainResult& r,
                                          std::string_view remote_ip = {},
                                          WriteStats* stats = nullptr);

} // namespace arcf::arc
