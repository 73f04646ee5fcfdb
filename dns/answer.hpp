// SPDX-License-Identifier: ISC
// DNS TXT answers as plain data (RFC 1035 §3.3.14, RFC 6376 §3.6.2.2): the vocabulary shared by
// the pure core and the resolvers. No dependencies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::dns {

/// How a TXT lookup ended. Only `temporary` may turn into a `temperror` verdict; the others are
/// final answers about the name (RFC 6376 §3.6.2.2, RFC 8617 §5.2).
enum class Status {
    ok,        ///< NOERROR with at least one TXT record
    nxdomain,  ///< the name does not exist (permanent)
    nodata,    ///< the name exists but has no TXT record (permanent)
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

/// One TXT answer: each element of `records` is one TXT RR with its character-strings already
/// joined (never joined across RRs).
struct TxtAnswer {
    Status status = Status::temporary;
    std::vector<std::string> records;
    std::uint32_t ttl = 0; ///< seconds; for negative answers the SOA minimum when known
    std::string detail;    ///< human-readable cause for logs ("SERVFAIL", "timeout", ...)

    static TxtAnswer found(std::vector<std::string> recs, std::uint32_t ttl_s = 0) {
        return TxtAnswer{Status::ok, std::move(recs), ttl_s, {}};
    }
    static TxtAnswer failed(Status s, std::string why) {
        return TxtAnswer{s, {}, 0, std::move(why)};
    }
};

} // namespace arcf::dns
