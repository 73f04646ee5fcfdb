// SPDX-License-Identifier: ISC
// An in-memory Resolver serving programmed answers (TXT keys in RFC 6376 §3.6.2.2 shape, and the
// A/AAAA/MX/PTR records SPF asks for) for unit tests and `--dns-zone`-style offline runs; no
// sockets, no clock.
#pragma once

#include "dns/resolver.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcf::dns {

/// Answers from a (type, name) -> Answer map (names compared case-insensitively, trailing dot
/// optional), falling back to `fallback` (for example a ZoneFile lookup) and then to NXDOMAIN.
/// Answers go out through `post`; with hold(true) they queue until release().
class StaticResolver final : public Resolver {
  public:
    /// For TXT queries only (other types fall through to NXDOMAIN).
    using Fallback = std::function<Answer(std::string_view name)>;
    /// For every type.
    using TypedFallback = std::function<Answer(RecordType type, std::string_view name)>;

    explicit StaticResolver(Post post, Fallback fallback = {});
    StaticResolver(Post post, TypedFallback fallback);
    ~StaticResolver() override;
    StaticResolver(const StaticResolver&) = delete;
    StaticResolver& operator=(const StaticResolver&) = delete;

    /// The answer to TXT queries for `name`.
    void set(std::string_view name, Answer answer);
    void set(RecordType type, std::string_view name, Answer answer);
    void hold(bool on) { hold_ = on; }
    /// Posts every held answer (in query order) and stops holding.
    void release();

    QueryId query(RecordType type, const std::string& name, Completion done) override;
    void cancel(QueryId id) override;

    /// Queries for `name`, of any type.
    std::size_t queries(std::string_view name) const;
    std::size_t queries(RecordType type, std::string_view name) const;
    std::size_t total_queries() const { return total_; }
    std::size_t outstanding() const { return pending_.size(); }

  private:
    struct Pending {
        Completion done;
        Answer answer;
        bool posted = false;
    };
    using Key = std::pair<RecordType, std::string>;
    void post_answer(QueryId id);

    Post post_;
    TypedFallback fallback_;
    std::shared_ptr<StaticResolver*> alive_;
    std::map<Key, Answer> answers_;
    std::map<std::string, std::size_t, std::less<>> counts_;
    std::map<Key, std::size_t> typed_counts_;
    std::map<QueryId, Pending> pending_;
    QueryId next_id_ = 1;
    std::size_t total_ = 0;
    bool hold_ = false;
};

} // namespace arcf::dns
