// SPDX-License-Identifier: ISC
// The replay of one message to smtpd: our added header lines, the spooled lines minus the forged
// fields we take out, and the final ".", produced as protocol lines in bounded chunks as stdout
// drains. It owns the message's spool, so peak memory is the spool budget plus one chunk,
// whatever the message's size or shape (issue 15, class 6a).
#pragma once

#include "filter/pipeline/spool.hpp"
#include "filter/smtpd/protocol.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

class Replay {
  public:
    /// `spool` null: only `added` and the final "." (a message whose body is not handed back).
    /// `fault` (tests only) is called before each chunk and may throw.
    Replay(std::uint64_t message,
           Responder responder,
           std::vector<std::string> added,
           std::unique_ptr<Spool> spool,
           std::vector<bool> removed,
           std::function<void(std::string_view)> fault = {});
    ~Replay();
    Replay(const Replay&) = delete;
    Replay& operator=(const Replay&) = delete;

    /// Appends whole protocol lines to `out` until it holds at least `chunk` bytes or the replay
    /// is done (a line is at most max_output_line()). Returns false once the final "." is
    /// written. On an exception `out` is left as it was before the line being written (only
    /// whole lines): call abort() then.
    bool next(std::string& out, std::size_t chunk);
    /// Ends the message early after a failure: appends the final "." unless it was written.
    void abort(std::string& out);
    /// A read error of the spool happened: the message must be deferred, not committed.
    bool failed() const { return failed_; }
    bool done() const { return stage_ == Stage::done; }
    std::uint64_t message() const { return message_; }
    /// About how many bytes remain to be written (for back-pressure accounting).
    std::size_t size_hint() const { return size_hint_; }

  private:
    enum class Stage { added, body, dot, done };
    std::uint64_t message_;
    Responder responder_;
    std::vector<std::string> added_;
    std::unique_ptr<Spool> spool_;
    std::unique_ptr<SpoolReader> reader_;
    std::vector<bool> removed_;
    std::function<void(std::string_view)> fault_;
    Stage stage_ = Stage::added;
    std::size_t index_ = 0; ///< next added line, then next spooled line
    std::size_t size_hint_ = 0;
    bool failed_ = false;
};

} // namespace arcf::filter
