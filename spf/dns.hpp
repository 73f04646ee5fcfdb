// SPDX-License-Identifier: ISC
// The DNS vocabulary of the SPF evaluator: the queries it asks for and the answers it is fed,
// as plain strings. Resolvers adapt to this; the evaluator never does I/O.
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

/// The record types RFC 7208 needs (§4.4 TXT, §5.3/5.4 A/AAAA/MX, §5.5 PTR).
enum class QueryType { a, aaaa, mx, txt, ptr };

constexpr std::string_view to_string(QueryType t) {
    switch (t) {
    case QueryType::a:
        return "A";
    case QueryType::aaaa:
        return "AAAA";
    case QueryType::mx:
        return "MX";
    case QueryType::txt:
        return "TXT";
    case QueryType::ptr:
        return "PTR";
    }
    return "?";
}

using QueryId = std::uint64_t;

/// One lookup the evaluator needs. `name` carries no trailing dot; CNAMEs are the resolver's
/// business (a resolver follows them as for any other query).
struct Query {
    QueryId id = 0;
    QueryType type = QueryType::txt;
    std::string name;
};

/// One answer. `records` holds one string per RR of the asked type:
///   A     dotted IPv4 ("192.0.2.1")
///   AAAA  IPv6 text ("2001:db8::1")
///   MX    "preference exchange" ("10 mx.example.com"; exchange "." or empty for a null MX)
///   TXT   the RR's character-strings joined with nothing between them (RFC 7208 §3.3)
///   PTR   the target name (a trailing dot is allowed)
/// An `ok` answer with no records is read as `nodata`.
struct Answer {
    Status status = Status::temporary;
    std::vector<std::string> records;
    std::string detail; ///< human-readable cause for logs ("SERVFAIL", "timeout", ...)

    static Answer found(std::vector<std::string> recs) {
        return Answer{Status::ok, std::move(recs), {}};
    }
    static Answer failed(Status s, std::string why) { return Answer{s, {}, std::move(why)}; }
};

} // namespace arcf::spf
