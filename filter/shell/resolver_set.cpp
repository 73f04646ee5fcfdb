// SPDX-License-Identifier: ISC
#include "filter/shell/resolver_set.hpp"

#include <utility>

namespace arcf::filter {

ResolverSet::ResolverSet(std::unique_ptr<dns::Resolver> first, dns::Post post)
    : post_(std::move(post)), alive_(std::make_shared<ResolverSet*>(this)) {
    generations_.push_back(Generation{std::move(first)});
}

ResolverSet::~ResolverSet() {
    alive_.reset();
    // Newest first: nothing is cancelled here, each resolver drops its own pending queries.
    while (!generations_.empty())
        generations_.pop_back();
}

void ResolverSet::query(QueryId id,
                        dns::RecordType type,
                        const std::string& name,
                        dns::Resolver::Completion done) {
    GenerationIt g = std::prev(generations_.end());
    auto rid = g->resolver->query(type, name, [this, id, done = std::move(done)](dns::Answer a) {
        auto it = inflight_.find(id);
        if (it != inflight_.end()) {
            GenerationIt gen = it->second.generation;
            inflight_.erase(it);
            release(gen);
        }
        done(std::move(a));
    });
    inflight_[id] = Inflight{g, rid};
    ++g->queries;
}

void ResolverSet::cancel(QueryId id) {
    auto it = inflight_.find(id);
    if (it == inflight_.end())
        return;
    GenerationIt g = it->second.generation;
    g->resolver->cancel(it->second.resolver_id);
    inflight_.erase(it);
    release(g);
}

void ResolverSet::replace(std::unique_ptr<dns::Resolver> next) {
    GenerationIt old = std::prev(generations_.end());
    generations_.push_back(Generation{std::move(next)});
    free_if_done(old);
}

void ResolverSet::release(GenerationIt g) {
    if (g->queries > 0)
        --g->queries;
    free_if_done(g);
}

// Freed from the loop, not here: release() may run inside the resolver's own completion.
void ResolverSet::free_if_done(GenerationIt g) {
    if (g == std::prev(generations_.end()) || g->queries > 0 || g->free_posted)
        return;
    g->free_posted = true;
    std::weak_ptr<ResolverSet*> weak = alive_;
    post_([weak, g] {
        if (auto self = weak.lock())
            (*self)->generations_.erase(g);
    });
}

} // namespace arcf::filter
