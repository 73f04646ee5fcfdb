// SPDX-License-Identifier: ISC
// DKIM results as RFC 8601 resinfo values (§2.7.1; header.b from RFC 6008).
#pragma once

#include <vector>

#include "dkim/verifier.hpp"
#include "mail/auth_results.hpp"

namespace arcf::dkim {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

/// "dkim=<result> [reason=...] header.d= header.i= header.s= header.a= header.b=": the reason
/// for every result but a plain pass (a pass whose l= left bytes unsigned keeps its reason);
/// empty properties are left out. Write it with format_resinfo().
ResInfo dkim_resinfo(const DkimSignatureResult& r);
/// "dkim=none": the message has no DKIM-Signature (RFC 8601 §2.7.1).
ResInfo dkim_none_resinfo();
/// One resinfo per result, or the single dkim=none one when there are none.
std::vector<ResInfo> dkim_resinfos(const std::vector<DkimSignatureResult>& results);

} // namespace arcf::dkim
