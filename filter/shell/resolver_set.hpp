// SPDX-License-Identifier: ISC
// The smtpd shell's resolvers: the current one, and those a reload replaced that still have
// queries in flight. Routes every engine query, its answer and its cancel to the resolver that
// issued it, and frees a replaced resolver once its last query is answered or cancelled.
#pragma once

#include "dns/resolver.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>

namespace arcf::filter {

class ResolverSet {
  public:
    /// The engine's query id: unique for the process, whichever resolver answers it.
    using QueryId = std::uint64_t;

    /// `post` schedules work on the shell's loop: a replaced resolver is freed from there,
    /// never from inside one of its own completions.
    ResolverSet(std::unique_ptr<dns::Resolver> first, dns::Post post);
    ~ResolverSet();
    ResolverSet(const ResolverSet&) = delete;
    ResolverSet& operator=(const ResolverSet&) = delete;

    /// Starts `id` on the current resolver; `done` runs once, unless cancel(id) comes first.
    void query(QueryId id,
               dns::RecordType type,
               const std::string& name,
               dns::Resolver::Completion done);
    /// Cancels `id` on the resolver that issued it (each resolver numbers its own queries from
    /// 1, so after a reload the same resolver-side number may exist on two resolvers).
    /// Unknown or already answered ids are ignored.
    void cancel(QueryId id);
    /// New queries go to `next`; queries in flight complete through the resolver that started
    /// them, which is freed after its last one.
    void replace(std::unique_ptr<dns::Resolver> next);

    std::size_t in_flight() const { return inflight_.size(); }
    /// Replaced resolvers not freed yet (their queries are in flight, or the free is posted).
    std::size_t retired() const { return generations_.size() - 1; }

  private:
    struct Generation {
        std::unique_ptr<dns::Resolver> resolver;
        std::size_t queries = 0; ///< in flight through this resolver
        bool free_posted = false;
    };
    using GenerationIt = std::list<Generation>::iterator;
    struct Inflight {
        GenerationIt generation;
        dns::Resolver::QueryId resolver_id;
    };

    void release(GenerationIt g);
    void free_if_done(GenerationIt g);

    std::list<Generation> generations_; ///< back() is the current resolver
    std::map<QueryId, Inflight> inflight_;
    dns::Post post_;
    std::shared_ptr<ResolverSet*> alive_; ///< posted frees after destruction do nothing
};

} // namespace arcf::filter
