// SPDX-License-Identifier: ISC
// The resolver interface the filter and the CLI use: DKIM/ARC key lookups (TXT) and the SPF
// lookups (A, AAAA, MX, TXT, PTR; RFC 7208 §4.4, §5).
#pragma once

#include "dns/answer.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace arcf::dns {

/// Schedules a function to run later on the caller's event loop (for example `asio::post` on an
/// io_context, see dns/lookup.hpp `post_to`). Used by resolvers that have no loop of their own.
using Post = std::function<void(std::function<void()>)>;

/// Starts lookups and delivers each answer exactly once, later, on the caller's event loop;
/// never from inside query(), query_txt() or cancel(). A cancelled query's completion is never
/// called. CNAMEs are followed by the recursive server (and within one response).
class Resolver {
  public:
    using QueryId = std::uint64_t;
    using Completion = std::function<void(Answer)>;

    virtual ~Resolver() = default;
    virtual QueryId query(RecordType type, const std::string& name, Completion done) = 0;
    virtual void cancel(QueryId id) = 0;

    /// query(RecordType::txt, ...): the DKIM/ARC key lookup.
    QueryId query_txt(const std::string& name, Completion done) {
        return query(RecordType::txt, name, std::move(done));
    }
};

} // namespace arcf::dns
