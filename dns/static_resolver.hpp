// SPDX-License-Identifier: ISC
// An in-memory Resolver serving programmed TXT answers (RFC 6376 §3.6.2.2 shapes) for unit tests
// and for `--dns-zone`-style offline runs; no sockets, no clock.
#pragma once

#include "dns/resolver.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::dns {

/// Answers from a name -> TxtAnswer map (names compared case-insensitively, trailing dot
/// optional), falling back to `fallback` (for example a ZoneFile lookup) and then to NXDOMAIN.
/// Answers go out through `post`; with hold(true) they queue until release().
class StaticResolver final : public Resolver {
  public:
    using Fallback = std::function<TxtAnswer(std::string_view name)>;

    explicit StaticResolver(Post post, Fallback fallback = {});
    ~StaticResolver() override;
    StaticResolver(const StaticResolver&) = delete;
    StaticResolver& operator=(const StaticResolver&) = delete;

    void set(std::string_view name, TxtAnswer answer);
    void hold(bool on) { hold_ = on; }
    /// Posts every held answer (in query order) and stops holding.
    void release();

    QueryId query_txt(const std::string& name, Completion done) override;
    void cancel(QueryId id) override;

    std::size_t queries(std::string_view name) const;
    std::size_t total_queries() const { return total_; }
    std::size_t outstanding() const { return pending_.size(); }

  private:
    struct Pending {
        Completion done;
        TxtAnswer answer;
        bool posted = false;
    };
    void post_answer(QueryId id);

    Post post_;
    Fallback fallback_;
    std::shared_ptr<StaticResolver*> alive_;
    std::map<std::string, TxtAnswer, std::less<>> answers_;
    std::map<std::string, std::size_t, std::less<>> counts_;
    std::map<QueryId, Pending> pending_;
    QueryId next_id_ = 1;
    std::size_t total_ = 0;
    bool hold_ = false;
};

} // namespace arcf::dns
