// SPDX-License-Identifier: ISC
// The DKIM-Signature header field (RFC 6376 §3.5), parsed into a typed value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/result.hpp"

namespace arcf::dkim {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;

inline constexpr std::string_view dkim_signature_name = "dkim-signature";

struct DkimSignature {
    Algorithm algorithm = Algorithm::rsa_sha256;
    std::string signature;      ///< decoded b=
    std::string signature_text; ///< b= as written, FWS removed (for header.b, RFC 6008)
    std::string body_hash;      ///< decoded bh= (32 bytes)
    Canon header_canon = Canon::simple;
    Canon body_canon = Canon::simple;
    std::string domain;                       ///< d=, lower case
    std::string selector;                     ///< s=
    std::vector<std::string> signed_headers;  ///< h=, lower-cased, in order; includes "from"
    std::string identity;                     ///< i= as written, or "@" + d= when absent
    std::string identity_domain;              ///< the domain of i=, lower case
    std::optional<std::uint64_t> body_length; ///< l=
    std::optional<std::uint64_t> timestamp;   ///< t=
    std::optional<std::uint64_t> expiration;  ///< x=

    /// The i= domain is a proper subdomain of d= (matters for key records with t=s).
    bool subdomain_identity() const { return identity_domain != domain; }
};

/// Parses the value of a DKIM-Signature field (RFC 6376 §3.5, §6.1.1): v=1, a=, b=, bh=, d=,
/// h= and s= are required; h= must name From (§5.4); i= must be in d= or a subdomain of it;
/// q= must offer dns/txt; x= must be later than t=. c= defaults to simple/simple. z= and
/// unknown tags are ignored (§3.2). rsa-sha1 is refused (RFC 8301 §3.1). Expiry against the
/// clock is the verifier's business (dkim/verifier.hpp).
Result<DkimSignature> parse_dkim_signature(std::string_view value);

/// Best-effort identification of a signature that did not parse: the raw d=, s=, i=, a= and
/// b= values (FWS removed from b=), empty where absent or when the tag-list itself is broken.
struct DkimSignatureIds {
    std::string domain, selector, identity, algorithm, signature_text;
};
DkimSignatureIds peek_dkim_ids(std::string_view value);

} // namespace arcf::dkim
