// SPDX-License-Identifier: ISC
// The RFC5322.From domain (RFC 7489 §6.6.1, §3.1): address parsing after RFC 5322 §3.4 (with
// the obsolete forms of §4.4 that still occur: routes, empty list elements, groups).
#pragma once

#include "dmarc/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace arcf::dmarc {

/// Why no single author domain could be determined. RFC 7489 §6.6.1 leaves such messages
/// "outside the scope of this document"; we have the caller report them as dmarc=permerror,
/// the RFC 7489 §11.2 result for "a permanent error ... during DMARC evaluation": the message
/// itself makes evaluation impossible, and retrying cannot change that. Reporting "none" would
/// tell downstream filters that the domain publishes no policy, which is not known — and a
/// From field that does not parse is exactly what a spoofer sends to hide a domain from DMARC
/// while mail readers still show it (§15.4 "Display Name Attacks"), so local policy may want
/// to treat permerror harshly.
// The failures are dmarc::Error values (dmarc/error.hpp), codes no_from .. multiple_domains.

/// The domains of every address in one From field value (the text after "From:", folded or
/// not), in order: lower case, without a trailing dot, U-labels converted to A-labels (§6.6.1:
/// "If the domain is a U-label, the domain name MUST be converted to an A-label"). An address
/// inside a group counts like any other.
Parsed<std::vector<std::string>> from_domains(std::string_view from_value);

/// The author domain of a message from the values of all its From fields (usually one).
/// Several addresses are accepted when they share one domain.
Parsed<std::string> author_domain(const std::vector<std::string_view>& from_values);

/// The same for a message known to have exactly one From field.
Parsed<std::string> author_domain(std::string_view from_value);

} // namespace arcf::dmarc
