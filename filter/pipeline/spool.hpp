// SPDX-License-Identifier: ISC
// The raw lines of one message, exactly as received, kept for replay: in memory up to a
// threshold, then in an unlinked temporary file so many large messages cannot exhaust memory.
// The threshold is per message, and all spools of the process share one memory budget on top:
// a message that would take the total over it goes to disk, however small it is. The budget
// bounds the peak: while a buffer is enlarged its old and new copies count together.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

class Spool {
  public:
    explicit Spool(std::size_t memory_limit);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    /// Stores one line (without EOL). Returns false when spilling to disk failed; the spool is
    /// then unusable and the message must be deferred.
    bool append(std::string_view line);
    /// Calls `fn` for every stored line, in order. Returns false on a read error.
    bool replay(const std::function<void(std::string_view)>& fn) const;

    std::size_t bytes() const { return bytes_; }
    std::size_t lines() const { return lines_; }
    std::size_t longest_line() const { return longest_; }
    bool spilled() const { return file_ != nullptr; }
    bool failed() const { return failed_; }

    /// The memory budget shared by every spool of the process (default 16 MiB), and what
    /// they hold in memory now.
    static void set_total_memory_limit(std::size_t bytes);
    static std::size_t total_memory_limit();
    static std::size_t total_memory();
    /// The most they held at once (a buffer being enlarged counts with its old one), since
    /// the start or reset_peak_total_memory().
    static std::size_t peak_total_memory();
    static void reset_peak_total_memory();

  private:
    friend class SpoolReader;
    bool spill();
    void account(); ///< brings the shared total up to date with memory_'s capacity

    std::size_t limit_;
    std::string memory_;      // lines separated by '\n'
    std::size_t counted_ = 0; ///< memory_'s capacity as counted in the shared total
    std::FILE* file_ = nullptr;
    std::size_t bytes_ = 0;
    std::size_t lines_ = 0;
    std::size_t longest_ = 0;
    bool failed_ = false;
};

/// Reads a complete spool's lines back one at a time, in order (no append() meanwhile): the
/// replay of a message pulls them as stdout drains. Holds one 64 KiB read buffer and, for a line
/// that crosses it, that line.
class SpoolReader {
  public:
    explicit SpoolReader(const Spool& spool) : spool_(spool) {}
    enum class Status { line, end, error };
    /// The next line (valid until the next call), the end, or a read error.
    Status next(std::string_view& line) {
        // In memory (nearly every message): found in place, inline (once per line replayed).
        if (spool_.file_ == nullptr && !spool_.failed_) {
            const std::string& m = spool_.memory_;
            if (pos_ >= m.size())
                return Status::end;
            const std::size_t nl = m.find('\n', pos_);
            line = std::string_view(m).substr(pos_, nl - pos_);
            pos_ = nl + 1;
            return Status::line;
        }
        return next_from_file(line);
    }

  private:
    Status next_from_file(std::string_view& line); ///< or the spool's failure
    const Spool& spool_;
    std::size_t pos_ = 0; ///< in memory: offset of the next line
    bool started_ = false;
    bool eof_ = false;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0; ///< unread bytes of buf_
    std::string partial_;
};

} // namespace arcf::filter
