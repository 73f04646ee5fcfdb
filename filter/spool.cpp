// SPDX-License-Identifier: ISC
// Message spool: memory first, an unlinked tmpfile(3) beyond the threshold.
#include "filter/spool.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

namespace arcf::filter {

namespace {
// Bytes of memory (string capacity) held by all spools, and the budget for them.
std::atomic<std::size_t> resident{0};
std::atomic<std::size_t> budget{16 * 1024 * 1024};
} // namespace

void Spool::set_total_memory_limit(std::size_t bytes) {
    budget.store(bytes, std::memory_order_relaxed);
}
std::size_t Spool::total_memory_limit() {
    return budget.load(std::memory_order_relaxed);
}
std::size_t Spool::total_memory() {
    return resident.load(std::memory_order_relaxed);
}

Spool::Spool(std::size_t memory_limit) : limit_(memory_limit) {}

Spool::~Spool() {
    if (file_ != nullptr)
        std::fclose(file_);
    resident.fetch_sub(counted_, std::memory_order_relaxed);
}

void Spool::account() {
    const std::size_t now = memory_.capacity();
    if (now >= counted_)
        resident.fetch_add(now - counted_, std::memory_order_relaxed);
    else
        resident.fetch_sub(counted_ - now, std::memory_order_relaxed);
    counted_ = now;
}

bool Spool::spill() {
    file_ = std::tmpfile(); // unlinked at creation: nothing is left behind on a crash
    if (file_ == nullptr)
        return false;
    if (!memory_.empty() && std::fwrite(memory_.data(), 1, memory_.size(), file_) != memory_.size())
        return false;
    std::string().swap(memory_);
    account();
    return true;
}

bool Spool::append(std::string_view line) {
    if (failed_)
        return false;
    ++lines_;
    bytes_ += line.size() + 1;
    if (line.size() > longest_)
        longest_ = line.size();
    std::size_t grow_to = 0; // the capacity memory_ needs for this line, 0 when it has room
    if (file_ == nullptr) {
        const std::size_t need = memory_.size() + line.size() + 1;
        if (need > memory_.capacity()) {
            // Doubling, but never beyond this message's threshold (it spills there anyway).
            grow_to = std::max(need, std::min(2 * memory_.capacity(), limit_));
        }
        // Over this message's threshold, or growing would take all spools together over
        // their budget.
        const bool over_budget =
            grow_to > 0 && resident.load(std::memory_order_relaxed) + (grow_to - counted_) >
                               budget.load(std::memory_order_relaxed);
        if ((bytes_ > limit_ || over_budget) && !spill()) {
            failed_ = true;
            return false;
        }
    }
    if (file_ != nullptr) {
        if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
            std::fputc('\n', file_) == EOF) {
            failed_ = true;
            return false;
        }
        return true;
    }
    if (grow_to > 0) {
        // A new buffer of exactly that size (reserve() on the old one could double it).
        std::string grown;
        grown.reserve(grow_to);
        grown.append(memory_);
        memory_.swap(grown);
        account();
    }
    memory_.append(line);
    memory_.push_back('\n');
    return true;
}

bool Spool::replay(const std::function<void(std::string_view)>& fn) const {
    if (failed_)
        return false;
    if (file_ == nullptr) {
        std::size_t pos = 0;
        while (pos < memory_.size()) {
            auto nl = memory_.find('\n', pos);
            fn(std::string_view(memory_).substr(pos, nl - pos));
            pos = nl + 1;
        }
        return true;
    }
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
        return false;
    std::vector<char> buf(64 * 1024);
    std::string partial;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), file_)) > 0) {
        std::string_view chunk(buf.data(), n);
        std::size_t pos = 0;
        while (true) {
            auto nl = chunk.find('\n', pos);
            if (nl == std::string_view::npos) {
                partial.append(chunk.substr(pos));
                break;
            }
            if (partial.empty()) {
                fn(chunk.substr(pos, nl - pos));
            } else {
                partial.append(chunk.substr(pos, nl - pos));
                fn(partial);
                partial.clear();
            }
            pos = nl + 1;
        }
    }
    bool ok = std::ferror(file_) == 0;
    std::fseek(file_, 0, SEEK_END);
    return ok;
}

} // namespace arcf::filter
