// SPDX-License-Identifier: ISC
// A caching decorator for Resolver: answers kept for their DNS TTL (RFC 1035 §3.2.1, RFC 2308 §5
// for negative answers), bounded by LRU eviction, with concurrent lookups of one name shared.
#pragma once

#include "dns/resolver.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

namespace arcf::dns {

struct CacheOptions {
    std::size_t max_entries = 10000; ///< LRU bound; 0 disables storing answers
    /// LRU bound on the bytes the entries hold (entry_bytes(): names, records, bookkeeping);
    /// 0 disables storing answers. Issue 15 class 6: 100 selectors x 60 KB TXT per message
    /// must not grow the process without bound.
    std::size_t max_bytes = 8 * 1024 * 1024;
    /// An answer costing more than this is used but not stored (a DKIM key record is under
    /// 1 KB; a 64 KB answer is an attacker's, and would evict hundreds of real ones).
    std::size_t max_entry_bytes = 16 * 1024;
    std::chrono::seconds min_ttl{30};        ///< floor for positive and negative TTLs
    std::chrono::seconds max_ttl{24 * 3600}; ///< ceiling for positive and negative TTLs
    std::chrono::seconds temporary_ttl{0};   ///< how long temporary failures stay; 0 = never
};

/// Caches Answers from an upstream Resolver, keyed by record type and name. Lookups of a
/// (type, name) that is already being resolved join that upstream query; every caller still gets
/// its own completion, delivered through `post`, never from inside query() or cancel().
/// Single-threaded: all calls and all completions happen on one event loop.
class CachingResolver final : public Resolver {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    struct Stats {
        std::size_t hits = 0;      ///< answered from the cache
        std::size_t joined = 0;    ///< attached to an upstream query already in flight
        std::size_t upstream = 0;  ///< upstream queries started
        std::size_t evictions = 0; ///< entries dropped by the LRU bounds (entries or bytes)
        std::size_t too_large = 0; ///< answers not stored: over max_entry_bytes
    };

    /// What one stored answer counts against max_bytes: its key twice (map and LRU list),
    /// every record and the detail text, plus a fixed allowance per entry and per record for
    /// the containers' own memory.
    static std::size_t entry_bytes(const std::string& key, const Answer& answer);

    /// `upstream` must outlive this object. An empty `clock` means steady_clock::now.
    CachingResolver(Resolver& upstream, Post post, CacheOptions opts = {}, Clock clock = {});
    /// Takes ownership of `upstream`.
    CachingResolver(std::unique_ptr<Resolver> upstream,
                    Post post,
                    CacheOptions opts = {},
                    Clock clock = {});
    ~CachingResolver() override;
    CachingResolver(const CachingResolver&) = delete;
    CachingResolver& operator=(const CachingResolver&) = delete;

    QueryId query(RecordType type, const std::string& name, Completion done) override;
    void cancel(QueryId id) override;

    std::size_t size() const { return entries_.size(); }
    /// The sum of entry_bytes() over the stored answers (at most max_bytes).
    std::size_t bytes() const { return bytes_; }
    const Stats& stats() const { return stats_; }
    void clear();

  private:
    struct Entry {
        Answer answer;
        std::chrono::steady_clock::time_point expires;
        std::list<std::string>::iterator lru;
        std::size_t bytes = 0; ///< entry_bytes() when stored
    };
    struct Flight {
        QueryId upstream_id = 0;
        std::set<QueryId> waiters; // ordered: callers are answered first come, first served
    };
    struct Waiter {
        Completion done;
        std::string key;
        bool in_flight = false;
    };

    void on_upstream(const std::string& key, Answer answer);
    void store(const std::string& key, const Answer& answer);
    void schedule(QueryId id, Answer answer);
    void deliver(QueryId id, Answer answer);
    void erase(std::unordered_map<std::string, Entry>::iterator it);

    std::unique_ptr<Resolver> owned_; // declared first: destroyed last
    Resolver& upstream_;
    Post post_;
    CacheOptions opts_;
    Clock clock_;
    std::shared_ptr<CachingResolver*> alive_; // posted work holds a weak_ptr to this
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_; // front = most recently used
    std::map<std::string, Flight> flights_;
    std::unordered_map<QueryId, Waiter> waiters_;
    QueryId next_id_ = 1;
    std::size_t bytes_ = 0;
    Stats stats_;
};

} // namespace arcf::dns
