// SPDX-License-Identifier: ISC
// DKIM public key records (RFC 6376 §3.6.1), used by ARC (RFC 8617 §4.1.2/§4.1.3).
#pragma once

#include "arc/crypto.hpp"
#include "arc/result.hpp"

#include <string_view>
#include <vector>

namespace arcf::arc {

struct KeyRecord {
    PublicKey key;
    bool testing = false;         ///< t=y
    bool strict_identity = false; ///< t=s
};

/// Parses one TXT record into a usable key. Fails for syntax errors, v= other than DKIM1 (or
/// not first), unknown k=, h= without sha256, s= without "email" or "*", an empty p= (revoked),
/// and keys outside `policy`.
Result<KeyRecord> parse_key_record(std::string_view txt, const KeyPolicy& policy);

/// Parses every record of a TXT answer; the usable keys, in order (RFC 6376 §3.6.2.2 lets a
/// verifier try each record). `first_error` receives the first failure when none is usable.
std::vector<KeyRecord> parse_key_records(const std::vector<std::string>& records,
                                         const KeyPolicy& policy,
                                         Error* first_error);

} // namespace arcf::arc
