// SPDX-License-Identifier: ISC
// The one error type of the DMARC core: why a DMARC record or a From field could not be used.
// Verdicts stay values (dmarc/result.hpp); this is only for parse failures.
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace arcf::dmarc {

enum class Errc {
    // The DMARC record (RFC 7489 §6.3, §6.6.3).
    not_dmarc, ///< §6.3 v=: the record does not begin with "v=DMARC1" (it is not ours)
    no_policy, ///< §6.6.3 step 6.2: no valid p= (or an invalid sp=) and no valid rua=
    // The From field (RFC 7489 §6.6.1, RFC 5322 §3.6).
    no_from,          ///< no From field (RFC 5322 §3.6 requires exactly one)
    multiple_from,    ///< several From fields (RFC 5322 §3.6; RFC 7489 §6.6.1)
    syntax,           ///< the value is not an address list (unbalanced <>, quotes, comments...)
    no_address,       ///< a valid value without any address (an empty group)
    no_domain,        ///< an address without a usable domain (none, an address literal, a bad name)
    multiple_domains, ///< addresses with different domains (§6.6.1 multi-valued From)
};

struct Error {
    Errc code = Errc::syntax;
    std::string detail;
    /// multiple_domains: the distinct domains in order. RFC 7489 §6.6.1 allows evaluating
    /// each and applying the strictest policy among those that fail.
    std::vector<std::string> domains;
};

template <class T>
using Parsed = tl::expected<T, Error>;

/// A short description of `code` ("no From field", ...).
std::string_view to_string(Errc code);

} // namespace arcf::dmarc
