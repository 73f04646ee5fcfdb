// SPDX-License-Identifier: ISC
// One body hasher per distinct (canonicalization, l=, hash) key, within a per-message budget.
#include "mail/body_hashes.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace arcf::mail {

struct BodyHashes::Entry {
    Canon canon;
    std::optional<std::uint64_t> limit;
    BodyHashAlgorithm alg;
    BodyHashUse use;   ///< the most important use requested
    bool late = false; ///< first requested after the body began
    std::optional<BodyHasher> hasher;
    std::optional<Digest> digest;

    bool same_key(Canon c, std::optional<std::uint64_t> l, BodyHashAlgorithm a) const {
        return canon == c && limit == l && alg == a;
    }
};

BodyHashes::BodyHashes(std::size_t max_hashers) : max_(max_hashers) {}
BodyHashes::~BodyHashes() = default;
BodyHashes::BodyHashes(BodyHashes&& o) noexcept
    : max_(o.max_), entries_(std::move(o.entries_)), started_(o.started_),
      only_(std::exchange(o.only_, nullptr)) {}
BodyHashes& BodyHashes::operator=(BodyHashes&& o) noexcept {
    max_ = o.max_;
    entries_ = std::move(o.entries_);
    started_ = o.started_;
    only_ = std::exchange(o.only_, nullptr);
    return *this;
}

std::size_t BodyHashes::request(Canon c,
                                std::optional<std::uint64_t> limit,
                                BodyHashUse use,
                                BodyHashAlgorithm alg) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        Entry& e = *entries_[i];
        if (e.same_key(c, limit, alg)) {
            if (!started_)
                e.use = std::min(e.use, use);
            return i;
        }
    }
    auto e = std::make_unique<Entry>();
    e->canon = c;
    e->limit = limit;
    e->alg = alg;
    e->use = use;
    e->late = started_;
    entries_.push_back(std::move(e));
    return entries_.size() - 1;
}

void BodyHashes::start() {
    if (started_)
        return;
    started_ = true;
    // Within the budget, in order of importance, ties in request order (the file comment).
    std::vector<std::size_t> order(entries_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return entries_[a]->use < entries_[b]->use;
    });
    const std::size_t granted = max_ == 0 ? order.size() : std::min(max_, order.size());
    for (std::size_t k = 0; k < granted; ++k) {
        Entry& e = *entries_[order[k]];
        e.hasher.emplace(e.canon, e.limit);
    }
    if (granted == 1)
        only_ = &*entries_[order[0]]->hasher;
}

void BodyHashes::add_line_each(std::string_view line) {
    if (!started_)
        start();
    for (auto& e : entries_)
        if (e->hasher)
            e->hasher->add_line(line);
}

void BodyHashes::add_text(std::string_view text) {
    if (!started_)
        start();
    for (auto& e : entries_)
        if (e->hasher)
            e->hasher->add_text(text);
}

const Digest* BodyHashes::digest(std::size_t handle) {
    if (!started_)
        start();
    if (handle >= entries_.size())
        return nullptr;
    Entry& e = *entries_[handle];
    if (!e.hasher)
        return nullptr;
    if (!e.digest)
        e.digest = e.hasher->finish();
    return &*e.digest;
}

std::uint64_t BodyHashes::canonical_length(std::size_t handle) const {
    if (handle >= entries_.size() || !entries_[handle]->hasher)
        return 0;
    return entries_[handle]->hasher->canonical_length();
}

std::string BodyHashes::refused_reason(std::size_t handle) const {
    if (handle >= entries_.size())
        return "body hash not computed: no such request";
    const Entry& e = *entries_[handle];
    if (e.hasher || !started_)
        return {};
    if (e.late)
        return "body hash not computed: requested after the body began";
    return "body hash not computed: more than " + std::to_string(max_) +
           " distinct body hashes (canonicalization, l=) in this message";
}

std::size_t BodyHashes::hashers() const {
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& e) { return e->hasher.has_value(); }));
}

} // namespace arcf::mail
