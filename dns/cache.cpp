// SPDX-License-Identifier: ISC
// TTL-bounded DNS answer cache (RFC 1035 §3.2.1 TTL, RFC 2308 §5 negative caching) with LRU
// eviction and shared in-flight lookups.
#include "dns/cache.hpp"

#include <algorithm>
#include <utility>

#include "text/ascii.hpp"

namespace arcf::dns {
namespace {

/// Cache key: the record type, then the name. DNS names compare case-insensitively (RFC 4343)
/// and the root dot is optional.
std::string cache_key(RecordType type, std::string_view name) {
    std::string key(to_string(type));
    key += ' ';
    key += text::to_lower(text::without_trailing_dots(name));
    return key;
}

} // namespace

CachingResolver::CachingResolver(Resolver& upstream, Post post, CacheOptions opts, Clock clock)
    : upstream_(upstream), post_(std::move(post)), opts_(opts), clock_(std::move(clock)),
      alive_(std::make_shared<CachingResolver*>(this)) {
    if (!clock_)
        clock_ = [] { return std::chrono::steady_clock::now(); };
    if (opts_.max_ttl < opts_.min_ttl)
        opts_.max_ttl = opts_.min_ttl;
}

CachingResolver::CachingResolver(std::unique_ptr<Resolver> upstream,
                                 Post post,
                                 CacheOptions opts,
                                 Clock clock)
    : owned_(std::move(upstream)), upstream_(*owned_), post_(std::move(post)), opts_(opts),
      clock_(std::move(clock)), alive_(std::make_shared<CachingResolver*>(this)) {
    if (!clock_)
        clock_ = [] { return std::chrono::steady_clock::now(); };
    if (opts_.max_ttl < opts_.min_ttl)
        opts_.max_ttl = opts_.min_ttl;
}

CachingResolver::~CachingResolver() {
    alive_.reset(); // posted deliveries and late upstream answers become no-ops
    for (auto& [key, flight] : flights_)
        upstream_.cancel(flight.upstream_id);
}

Resolver::QueryId
CachingResolver::query(RecordType type, const std::string& name, Completion done) {
    QueryId id = next_id_++;
    std::string key = cache_key(type, name);
    auto now = clock_();

    if (auto it = entries_.find(key); it != entries_.end()) {
        if (now < it->second.expires) {
            ++stats_.hits;
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            Answer a = it->second.answer;
            // Report the remaining lifetime, as a recursive resolver's cache would.
            auto left = std::chrono::ceil<std::chrono::seconds>(it->second.expires - now);
            a.ttl = static_cast<std::uint32_t>(left.count());
            waiters_.emplace(id, Waiter{std::move(done), key, false});
            schedule(id, std::move(a));
            return id;
        }
        erase(it);
    }

    waiters_.emplace(id, Waiter{std::move(done), key, true});
    if (auto f = flights_.find(key); f != flights_.end()) {
        ++stats_.joined;
        f->second.waiters.insert(id);
        return id;
    }

    ++stats_.upstream;
    flights_[key].waiters.insert(id);
    std::weak_ptr<CachingResolver*> weak = alive_;
    QueryId up = upstream_.query(type, name, [weak, key](Answer a) {
        if (auto self = weak.lock())
            (*self)->on_upstream(key, std::move(a));
    });
    // The Resolver contract forbids inline completion, so the flight is still there.
    if (auto f = flights_.find(key); f != flights_.end())
        f->second.upstream_id = up;
    return id;
}

void CachingResolver::cancel(QueryId id) {
    auto w = waiters_.find(id);
    if (w == waiters_.end())
        return;
    if (w->second.in_flight) {
        if (auto f = flights_.find(w->second.key); f != flights_.end()) {
            f->second.waiters.erase(id);
            if (f->second.waiters.empty()) {
                // Nobody is waiting any more: stop the upstream lookup too.
                upstream_.cancel(f->second.upstream_id);
                flights_.erase(f);
            }
        }
    }
    waiters_.erase(w);
}

void CachingResolver::clear() {
    entries_.clear();
    lru_.clear();
    bytes_ = 0;
}

std::size_t CachingResolver::entry_bytes(const std::string& key, const Answer& answer) {
    // Allowances for node, bucket and string headers (64-bit libstdc++ sizes, rounded up).
    constexpr std::size_t per_entry = 256, per_record = 48;
    std::size_t n = per_entry + 2 * key.size() + answer.detail.size();
    for (const auto& r : answer.records)
        n += per_record + r.size();
    return n;
}

void CachingResolver::erase(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
}

void CachingResolver::on_upstream(const std::string& key, Answer answer) {
    auto f = flights_.find(key);
    if (f == flights_.end())
        return;
    Flight flight = std::move(f->second);
    flights_.erase(f);
    store(key, answer);
    for (QueryId id : flight.waiters) {
        if (auto w = waiters_.find(id); w != waiters_.end()) {
            w->second.in_flight = false;
            schedule(id, answer);
        }
    }
}

void CachingResolver::store(const std::string& key, const Answer& answer) {
    if (opts_.max_entries == 0 || opts_.max_bytes == 0)
        return;
    std::chrono::seconds ttl{answer.ttl};
    if (answer.status == Status::temporary) {
        // A temporary failure says nothing about the name (RFC 2308 §7.1 allows at most a
        // short hold-down); by default it is not cached at all.
        if (opts_.temporary_ttl.count() <= 0)
            return;
        ttl = opts_.temporary_ttl;
    } else {
        ttl = std::clamp(ttl, opts_.min_ttl, opts_.max_ttl);
    }
    auto expires = clock_() + ttl;
    // Bounded in bytes too: an answer too large for one entry is not kept (the caller still
    // gets it), and older entries make room for a new one, least recently used first.
    const std::size_t cost = entry_bytes(key, answer);
    if (auto it = entries_.find(key); it != entries_.end())
        erase(it); // replaced below, counted afresh
    if (cost > opts_.max_entry_bytes || cost > opts_.max_bytes) {
        ++stats_.too_large;
        return;
    }
    lru_.push_front(key);
    entries_.emplace(key, Entry{answer, expires, lru_.begin(), cost});
    bytes_ += cost;
    while (entries_.size() > opts_.max_entries || bytes_ > opts_.max_bytes) {
        erase(entries_.find(lru_.back()));
        ++stats_.evictions;
    }
}

void CachingResolver::schedule(QueryId id, Answer answer) {
    std::weak_ptr<CachingResolver*> weak = alive_;
    post_([weak, id, a = std::move(answer)]() mutable {
        if (auto self = weak.lock())
            (*self)->deliver(id, std::move(a));
    });
}

void CachingResolver::deliver(QueryId id, Answer answer) {
    auto w = waiters_.find(id);
    if (w == waiters_.end())
        return; // cancelled after the answer was scheduled
    Completion done = std::move(w->second.done);
    waiters_.erase(w);
    done(std::move(answer));
}

} // namespace arcf::dns
