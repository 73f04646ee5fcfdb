// SPDX-License-Identifier: ISC
// Why a message got, or did not get, an ARC set (RFC 8617 §5.1): one value, in every mode.
#pragma once

#include <string_view>

namespace arcf::pipeline {

/// Why a message got, or did not get, an ARC set. Logged as "seal=<to_string>".
enum class SealOutcome {
    sealed,
    not_configured,    ///< mode = "verify"
    policy,            ///< client not trusted, or no recipient in the sealed domains
    no_key_for_domain, ///< no configured key for the signing domain
    too_large,         ///< the message is over limits.max-message-bytes
    header_limits,     ///< the header block is over max-header-fields / max-header-bytes
    auth_temperror,    ///< sender authentication temperror, deferred
    chain_temperror,   ///< a key answer was temporary: deferred (RFC 8617 §5.1)
    chain_fail,        ///< the newest seal says cv=fail: the chain has ended (§5.1.2)
    over_limit,        ///< the chain already has 50 sets (RFC 8617 §4.2.1)
    leading_fold,      ///< the message starts with a folded line
    line_cut,          ///< a line is longer than the MTA passes back (smtpd before 7.4)
    line_refused,      ///< a line cannot be passed back at all: the message is refused
    added_too_long,    ///< a line or the whole of what we add would exceed its budget
    seal_error,        ///< the seal could not be made (detail in Outcome::seal_detail)
    internal_error,
};
std::string_view to_string(SealOutcome s);

} // namespace arcf::pipeline
