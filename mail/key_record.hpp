// SPDX-License-Identifier: ISC
// DKIM public key records (RFC 6376 §3.6.1), used by ARC (RFC 8617 §4.1.2/§4.1.3).
#pragma once

#include <string_view>
#include <vector>

#include "mail/crypto.hpp"
#include "mail/result.hpp"

namespace arcf::mail {

struct KeyRecord {
    PublicKey key;
    bool testing = false;         ///< t=y
    bool strict_identity = false; ///< t=s
};

/// Parses one TXT record into a usable key. Fails for syntax errors, v= other than DKIM1 (or
/// not first), unknown k=, h= without sha256, s= without "email" or "*", an empty p= (revoked),
/// records longer than policy.max_record_bytes and keys outside `policy` (RSA size, exponent).
Result<KeyRecord> parse_key_record(std::string_view txt, const KeyPolicy& policy);

/// Parses the first policy.max_key_records records of a TXT answer (the rest are ignored); the
/// usable keys, in order (RFC 6376 §3.6.2.2 lets a verifier choose one record or try several).
/// `first_error` receives the first failure when none is usable.
std::vector<KeyRecord> parse_key_records(const std::vector<std::string>& records,
                                         const KeyPolicy& policy,
                                         Error* first_error);

} // namespace arcf::mail
