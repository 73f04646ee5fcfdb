// SPDX-License-Identifier: ISC
// Pure classification of a lookup's outcome: RFC 1035 §4.1 response parsing, RFC 6376 §3.6.2.2
// TXT string joining and RFC 2308 §5 negative TTLs, mapped to dns::Answer (RFC 8617 §5.2,
// RFC 7208 §2.6.6).
#pragma once

#include "dns/answer.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace arcf::dns {

/// What the transport reported about one query before its packet (if any) is looked at. The
/// c-ares status codes map onto this in dns/ares_resolver.cpp so that this file stays pure.
enum class Transport {
    answered,           ///< a response packet arrived (any RCODE)
    timeout,            ///< every try timed out
    servfail,           ///< RCODE 2 without a usable packet
    refused,            ///< RCODE 5 without a usable packet
    formerr,            ///< RCODE 1 without a usable packet
    notimp,             ///< RCODE 4 without a usable packet
    nxdomain,           ///< RCODE 3 without a usable packet
    nodata,             ///< NOERROR, no answer, no usable packet
    connection_refused, ///< no server reachable, or every server failed
    bad_response,       ///< the transport itself found the response malformed
    bad_name,           ///< the name cannot be put in a query (label > 63 octets, ...)
    no_memory,
    cancelled,
    shut_down,
    other,
};

/// Negative answers without an SOA record still get this TTL in seconds. RFC 2308 §5 says such
/// answers SHOULD NOT be cached; a short lifetime keeps a hot name from hammering the resolver.
inline constexpr std::uint32_t negative_ttl_fallback = 60;

/// Upper bound for CNAME hops followed inside one response (RFC 1034 §3.6.2 chains).
inline constexpr int max_cname_hops = 8;

/// Reads one complete DNS response (RFC 1035 §4.1) to a query of `type` for `qname`: NOERROR
/// with records of that type at `qname` (or at the end of its CNAME chain) is `ok` with the TTL
/// the minimum over the RRs used (and the CNAMEs leading to them); NOERROR without them is
/// `nodata`; NXDOMAIN is `nxdomain` (both with the RFC 2308 §5 SOA TTL); any other RCODE, a
/// truncated or malformed message, or one answering another question is `temporary`.
/// For TXT, `records` holds each RR's character-strings joined. For the other types `records`
/// is left empty: their RDATA is decoded by the transport (dns/ares_resolver.cpp hands the same
/// packet to c-ares' parsers), which must turn an `ok` it cannot decode into `temporary`.
/// Never throws except bad_alloc.
Answer parse_response(std::span<const std::uint8_t> msg, std::string_view qname, RecordType type);

/// parse_response(msg, qname, RecordType::txt).
TxtAnswer parse_txt_response(std::span<const std::uint8_t> msg, std::string_view qname);

/// The answer for a query that ended without a usable packet. `detail` overrides the default
/// description when non-empty.
Answer
transport_failure(Transport t, std::string_view detail = {}, RecordType type = RecordType::txt);

/// Combines both: the packet decides when there is one (its RCODE is authoritative), otherwise
/// the transport outcome does.
Answer classify(Transport t,
                std::span<const std::uint8_t> msg,
                std::string_view qname,
                RecordType type = RecordType::txt);

} // namespace arcf::dns
