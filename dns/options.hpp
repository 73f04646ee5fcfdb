// SPDX-License-Identifier: ISC
// The resolver settings ([dns] in filter-arc.toml), free of Asio and c-ares: the configuration
// names them without pulling the resolver's headers into every reader of the settings.
#pragma once

#include "dns/cache.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace arcf::dns {

struct AresOptions {
    /// "ip[:port][,ip[:port]...]" ("[::1]:53" for IPv6); empty means the system resolver
    /// configuration (/etc/resolv.conf).
    std::string servers;
    /// First try's timeout; c-ares doubles it on each further round over the servers.
    std::chrono::milliseconds timeout{2000};
    /// Rounds over the server list before giving up with a timeout.
    int tries = 2;
    /// EDNS0 UDP payload size advertised (RFC 6891 §6.2.5); 0 turns EDNS0 off (512-octet UDP).
    std::uint16_t edns_udp_size = 1232;
    /// When true, SERVFAIL/REFUSED/NOTIMP from one server moves on to the next one; when every
    /// server failed, the query is a temporary failure (c-ares 1.18 calls it "connection
    /// refused", 1.34 names the last RCODE). When false (default), the first such answer ends
    /// the query and its RCODE is reported.
    bool servfail_failover = false;
};

struct ResolverOptions {
    AresOptions ares;           ///< servers ("" = /etc/resolv.conf), timeout, tries, EDNS0 size
    bool cache = true;          ///< put a CachingResolver in front of c-ares
    CacheOptions cache_options; ///< max_entries is the cache size
};

} // namespace arcf::dns
