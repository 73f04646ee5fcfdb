// SPDX-License-Identifier: ISC
// The DNS vocabulary of the SPF evaluator: the queries it asks for, in the resolvers' own record
// types, and their answers (dns/answer.hpp). The evaluator never does I/O.
#pragma once

#include "dns/answer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcf::spf {

/// How a lookup ended (shared with the DKIM/ARC resolvers). For SPF: `nxdomain` is RCODE 3,
/// `nodata` is RCODE 0 with no answer of the asked type (together "void", RFC 7208 §4.6.4),
/// `temporary` is any other RCODE or a timeout (RFC 7208 §2.6.6, §5 "temperror").
using Status = arcf::dns::Status;

/// The record types RFC 7208 needs (§4.4 TXT, §5.3/5.4 A/AAAA/MX, §5.5 PTR): the resolvers'
/// own, so a query goes to a resolver and its answer comes back without translation.
using QueryType = arcf::dns::RecordType;
using arcf::dns::to_string;

using QueryId = std::uint64_t;

/// One lookup the evaluator needs. `name` carries no trailing dot; CNAMEs are the resolver's
/// business (a resolver follows them as for any other query).
struct Query {
    QueryId id = 0;
    QueryType type = QueryType::txt;
    std::string name;
};

/// One answer, as every resolver gives it (dns/answer.hpp: one text form per record type; an
/// `ok` answer with no records is read as `nodata`). The TTL is the cache's business.
using Answer = arcf::dns::Answer;

} // namespace arcf::spf
