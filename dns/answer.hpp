// SPDX-License-Identifier: ISC
// DNS answers as plain data (RFC 1035 §3.3, §3.4; RFC 3596 §2; RFC 6376 §3.6.2.2): the record
// types the filter asks for, and the vocabulary shared by the pure core and the resolvers.
// No dependencies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcf::dns {

/// How a lookup ended. Only `temporary` may turn into a `temperror` verdict; the others are
/// final answers about the name (RFC 6376 §3.6.2.2, RFC 7208 §2.6.6, RFC 8617 §5.2).
enum class Status {
    ok,        ///< NOERROR with at least one record of the asked type
    nxdomain,  ///< the name does not exist (permanent)
    nodata,    ///< the name exists but has no record of the asked type (permanent)
    temporary, ///< SERVFAIL, REFUSED, timeout, unreachable server, malformed answer
};

constexpr std::string_view to_string(Status s) {
    switch (s) {
    case Status::ok:
        return "ok";
    case Status::nxdomain:
        return "nxdomain";
    case Status::nodata:
        return "nodata";
    case Status::temporary:
        return "temporary";
    }
    return "unknown";
}

/// The record types the filter asks for: TXT for DKIM/ARC keys and SPF/DMARC policies, the
/// others for SPF mechanisms (RFC 7208 §5.3–§5.5).
enum class RecordType { a, aaaa, mx, txt, ptr };

constexpr std::string_view to_string(RecordType t) {
    switch (t) {
    case RecordType::a:
        return "A";
    case RecordType::aaaa:
        return "AAAA";
    case RecordType::mx:
        return "MX";
    case RecordType::txt:
        return "TXT";
    case RecordType::ptr:
        return "PTR";
    }
    return "?";
}

/// The TYPE value on the wire (RFC 1035 §3.2.2, RFC 3596 §2.1).
constexpr std::uint16_t wire_type(RecordType t) {
    switch (t) {
    case RecordType::a:
        return 1;
    case RecordType::aaaa:
        return 28;
    case RecordType::mx:
        return 15;
    case RecordType::txt:
        return 16;
    case RecordType::ptr:
        return 12;
    }
    return 0;
}

/// One answer. Each element of `records` is one RR of the asked type, in this text form:
///   A     dotted IPv4 ("192.0.2.1")
///   AAAA  IPv6 text, RFC 5952 ("2001:db8::1")
///   MX    "preference exchange" ("10 mx.example.com"; exchange empty for a null MX, RFC 7505)
///   TXT   the RR's character-strings joined with nothing between them (never across RRs)
///   PTR   the target name
/// Names carry no trailing dot.
struct Answer {
    Status status = Status::temporary;
    std::vector<std::string> records;
    std::uint32_t ttl = 0; ///< seconds; for negative answers the SOA minimum when known
    std::string detail;    ///< human-readable cause for logs ("SERVFAIL", "timeout", ...)

    static Answer found(std::vector<std::string> recs, std::uint32_t ttl_s = 0) {
        return Answer{Status::ok, std::move(recs), ttl_s, {}};
    }
    static Answer failed(Status s, std::string why) { return Answer{s, {}, 0, std::move(why)}; }
};

/// The name under which DKIM/ARC key code knows an answer (always to a TXT query).
using TxtAnswer = Answer;

/// One question: a record type and a name.
using Question = std::pair<RecordType, std::string>;

} // namespace arcf::dns
