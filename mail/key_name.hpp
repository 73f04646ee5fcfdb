// SPDX-License-Identifier: ISC
// Where a DKIM-style signature's public key is published (RFC 6376 §3.6.2.1).
#pragma once

#include <compare>
#include <string>

namespace arcf::mail {

/// A key location: <selector>._domainkey.<domain> (RFC 6376 §3.6.2.1).
struct KeyName {
    std::string selector;
    std::string domain;
    std::string dns_name() const { return selector + "._domainkey." + domain; }
    auto operator<=>(const KeyName&) const = default;
};

} // namespace arcf::mail
