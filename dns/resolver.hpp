// SPDX-License-Identifier: ISC
// The resolver interface the filter and the CLI use for DKIM/ARC key lookups.
#pragma once

#include "dns/answer.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace arcf::dns {

/// Schedules a function to run later on the caller's event loop (for example `asio::post` on an
/// io_context, see dns/lookup.hpp `post_to`). Used by resolvers that have no loop of their own.
using Post = std::function<void(std::function<void()>)>;

/// Starts TXT lookups and delivers each answer exactly once, later, on the caller's event loop;
/// never from inside query_txt() or cancel(). A cancelled query's completion is never called.
class Resolver {
  public:
    using QueryId = std::uint64_t;
    using Completion = std::function<void(TxtAnswer)>;

    virtual ~Resolver() = default;
    virtual QueryId query_txt(const std::string& name, Completion done) = 0;
    virtual void cancel(QueryId id) = 0;
};

} // namespace arcf::dns
