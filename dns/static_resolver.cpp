// SPDX-License-Identifier: ISC
// In-memory resolver for tests and offline runs (TXT answers shaped as RFC 6376 §3.6.2.2 keys,
// and the other record types in dns::Answer's text forms).
#include "dns/static_resolver.hpp"

#include <memory>
#include <utility>

#include "text/ascii.hpp"

namespace arcf::dns {
namespace {

std::string normalise(std::string_view name) {
    return text::to_lower(text::without_trailing_dots(name));
}

} // namespace

StaticResolver::StaticResolver(Post post, Fallback fallback)
    : post_(std::move(post)), alive_(std::make_shared<StaticResolver*>(this)) {
    if (fallback)
        fallback_ = [txt = std::move(fallback)](RecordType type, std::string_view name) {
            return type == RecordType::txt ? txt(name)
                                           : Answer::failed(Status::nxdomain, "NXDOMAIN");
        };
}

StaticResolver::StaticResolver(Post post, TypedFallback fallback)
    : post_(std::move(post)), fallback_(std::move(fallback)),
      alive_(std::make_shared<StaticResolver*>(this)) {}

StaticResolver::~StaticResolver() = default;

void StaticResolver::set(std::string_view name, Answer answer) {
    set(RecordType::txt, name, std::move(answer));
}

void StaticResolver::set(RecordType type, std::string_view name, Answer answer) {
    answers_[Key{type, normalise(name)}] = std::move(answer);
}

Resolver::QueryId StaticResolver::query(RecordType type, const std::string& name, Completion done) {
    QueryId id = next_id_++;
    Key key{type, normalise(name)};
    ++counts_[key.second];
    ++typed_counts_[key];
    ++total_;
    Answer a;
    if (auto it = answers_.find(key); it != answers_.end())
        a = it->second;
    else if (fallback_)
        a = fallback_(type, key.second);
    else
        a = Answer::failed(Status::nxdomain, "NXDOMAIN");
    pending_.emplace(id, Pending{std::move(done), std::move(a), false});
    if (!hold_)
        post_answer(id);
    return id;
}

void StaticResolver::cancel(QueryId id) {
    pending_.erase(id);
}

void StaticResolver::release() {
    hold_ = false;
    for (auto& [id, p] : pending_)
        if (!p.posted)
            post_answer(id);
}

std::size_t StaticResolver::queries(std::string_view name) const {
    auto it = counts_.find(normalise(name));
    return it == counts_.end() ? 0 : it->second;
}

std::size_t StaticResolver::queries(RecordType type, std::string_view name) const {
    auto it = typed_counts_.find(Key{type, normalise(name)});
    return it == typed_counts_.end() ? 0 : it->second;
}

void StaticResolver::post_answer(QueryId id) {
    pending_.at(id).posted = true;
    std::weak_ptr<StaticResolver*> weak = alive_;
    post_([weak, id] {
        auto self = weak.lock();
        if (!self)
            return;
        auto& pending = (*self)->pending_;
        auto it = pending.find(id);
        if (it == pending.end())
            return; // cancelled
        Pending p = std::move(it->second);
        pending.erase(it);
        p.done(std::move(p.answer));
    });
}

} // namespace arcf::dns
