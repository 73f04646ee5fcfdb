// SPDX-License-Identifier: ISC
// The raw lines of one message, exactly as received, kept for replay: in memory up to a
// threshold, then in an unlinked temporary file so many large messages cannot exhaust memory.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

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

  private:
    bool spill();

    std::size_t limit_;
    std::string memory_; // lines separated by '\n'
    std::FILE* file_ = nullptr;
    std::size_t bytes_ = 0;
    std::size_t lines_ = 0;
    std::size_t longest_ = 0;
    bool failed_ = false;
};

} // namespace arcf::filter
