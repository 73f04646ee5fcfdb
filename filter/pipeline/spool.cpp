// SPDX-License-Identifier: ISC
// Message spool: memory first, an unlinked tmpfile(3) beyond the threshold.
#include "filter/pipeline/spool.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

namespace arcf::filter {

namespace {
// Bytes of memory (string capacity) held by all spools, and the budget for them.
std::atomic<std::size_t> resident{0};
std::atomic<std::size_t> budget{16 * 1024 * 1024};
std::atomic<std::size_t> peak{0}; // the most `resident` has been

void add_resident(std::size_t n) {
    const std::size_t now = resident.fetch_add(n, std::memory_order_relaxed) + n;
    std::size_t seen = peak.load(std::memory_order_relaxed);
    while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
}
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
std::size_t Spool::peak_total_memory() {
    return peak.load(std::memory_order_relaxed);
}
void Spool::reset_peak_total_memory() {
    peak.store(resident.load(std::memory_order_relaxed), std::memory_order_relaxed);
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
        add_resident(now - counted_);
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
            // Doubling from 4 KiB (a typical message in one or two steps, not ten), but never
            // beyond this message's threshold (it spills there anyway).
            constexpr std::size_t first = 4096;
            grow_to = std::max(need, std::min(std::max(2 * memory_.capacity(), first), limit_));
        }
        // Over this message's threshold, or growing would take all spools together over
        // their budget. While the lines are copied the old buffer and the new one both exist:
        // the new one counts in full, so the budget bounds the peak too, not only what stays.
        const bool over_budget = grow_to > 0 && resident.load(std::memory_order_relaxed) + grow_to >
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
        const std::size_t old = counted_;
        add_resident(grown.capacity()); // both buffers exist until the old one is freed
        grown.append(memory_);
        memory_.swap(grown);
        std::string().swap(grown);
        resident.fetch_sub(old, std::memory_order_relaxed);
        counted_ = memory_.capacity();
    }
    memory_.append(line);
    memory_.push_back('\n');
    return true;
}

bool Spool::replay(const std::function<void(std::string_view)>& fn) const {
    SpoolReader r(*this);
    std::string_view line;
    while (true) {
        switch (r.next(line)) {
        case SpoolReader::Status::line:
            fn(line);
            break;
        case SpoolReader::Status::end:
            return true;
        case SpoolReader::Status::error:
            return false;
        }
    }
}

SpoolReader::Status SpoolReader::next_from_file(std::string_view& line) {
    if (spool_.failed_ || spool_.file_ == nullptr)
        return Status::error;
    std::FILE* f = spool_.file_;
    if (!started_) {
        started_ = true;
        if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0)
            return Status::error;
        buf_.resize(64 * 1024);
    }
    partial_.clear();
    while (true) {
        if (begin_ < end_) {
            const char* from = buf_.data() + begin_;
            const void* nl = std::memchr(from, '\n', end_ - begin_);
            if (nl != nullptr) {
                std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nl) - from);
                begin_ += n + 1;
                if (partial_.empty()) {
                    line = std::string_view(from, n);
                } else {
                    partial_.append(from, n);
                    line = partial_;
                }
                return Status::line;
            }
            partial_.append(from, end_ - begin_); // a line that crosses the buffer
        }
        begin_ = end_ = 0;
        if (eof_)
            return partial_.empty() ? Status::end : Status::error; // every line ends in '\n'
        std::size_t n = std::fread(buf_.data(), 1, buf_.size(), f);
        if (n == 0) {
            if (std::ferror(f) != 0)
                return Status::error;
            eof_ = true;
        }
        end_ = n;
    }
}

} // namespace arcf::filter
