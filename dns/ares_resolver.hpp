// SPDX-License-Identifier: ISC
// Production resolver: c-ares (1.18 on Debian 12, 1.34 on Debian 13; see ares_resolver.cpp for
// the API each gets) driven by a Boost.Asio io_context on one thread, speaking
// RFC 1035 §4.2 UDP with EDNS0 (RFC 6891) and falling back to TCP on truncation (RFC 7766 §5).
#pragma once

#include "dns/options.hpp"
#include "dns/resolver.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace arcf::dns {

/// A Resolver on c-ares. Every socket c-ares opens is watched with an Asio descriptor and its
/// timeouts with a steady_timer, so nothing blocks the loop. Answers are posted to `io`, never
/// delivered inside query(), cancel() or c-ares itself. c-ares' own query cache (1.23+) is off:
/// dns/cache.hpp is the only cache. Destroying the resolver with queries
/// in flight is safe; their completions are dropped. Must be destroyed before `io`.
class AresResolver final : public Resolver {
  public:
    /// Throws std::runtime_error when c-ares cannot be set up or `servers` does not parse
    /// (startup only).
    AresResolver(boost::asio::io_context& io, const AresOptions& opts);
    ~AresResolver() override;
    AresResolver(const AresResolver&) = delete;
    AresResolver& operator=(const AresResolver&) = delete;

    QueryId query(RecordType type, const std::string& name, Completion done) override;
    void cancel(QueryId id) override;

    /// Queries started and neither answered nor cancelled yet.
    std::size_t pending() const;
    /// Sockets c-ares currently has open (watched by the loop).
    std::size_t open_sockets() const;

    /// The c-ares and Asio state; declared here only so the C callbacks can reach it.
    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

} // namespace arcf::dns
