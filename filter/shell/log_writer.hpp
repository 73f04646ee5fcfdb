// SPDX-License-Identifier: ISC
// The log writer of the smtpd mode: stderr is a pipe or socket that smtpd reads when it likes,
// and one process serves every session, so a log write must never block the event loop. Lines
// go into a bounded buffer and out through non-blocking writes; when the buffer is full, whole
// lines are dropped and counted, and "event=log-dropped log_dropped=N" is logged once writing
// works again.
#pragma once

#include "filter/pipeline/log.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace arcf::filter {

/// Bytes of log waiting for the reader beyond which new lines are dropped (limits table).
inline constexpr std::size_t log_buffer_bytes = 256 * 1024;
/// Bytes of log add_line() lets wait for the next flush() before writing by itself.
inline constexpr std::size_t log_batch_bytes = 32 * 1024;

class LogWriter {
  public:
    /// Writes to `fd` (not owned). A pipe or socket is switched to non-blocking mode (and back
    /// in the destructor); anything else (a file, a terminal) is written as it is.
    explicit LogWriter(int fd,
                       std::size_t buffer_limit = log_buffer_bytes,
                       std::size_t line_limit = max_log_line);
    ~LogWriter();
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;

    /// Queues one line (bounded with bound_log_line, newline added) and writes what the fd
    /// takes now. Never blocks on a pipe or socket.
    void write_line(std::string_view line);
    /// Queues one line like write_line but leaves the writing to the next flush() (the smtpd
    /// shell flushes at the end of each turn of its loop, so a turn's lines leave in one
    /// write), unless log_batch_bytes are waiting already.
    void add_line(std::string_view line);
    /// Writes what the fd takes now. True when nothing is left waiting.
    bool flush();
    /// Waits up to `ms` milliseconds for the reader to take what is left (at exit).
    void drain(int ms);

    int fd() const { return fd_; }
    bool nonblocking() const { return nonblocking_; }
    std::size_t pending() const { return buf_.size() - off_; }
    std::size_t dropped_total() const { return dropped_total_; }
    bool broken() const { return broken_; }

  private:
    void enqueue(std::string_view line); ///< `line` without its '\n'

    int fd_;
    std::size_t buffer_limit_;
    std::size_t line_limit_;
    int saved_flags_ = -1;
    bool nonblocking_ = false;
    bool broken_ = false; ///< the reader is gone: lines are counted, not kept
    std::string buf_;
    std::size_t off_ = 0;
    std::size_t dropped_ = 0; ///< since the last log-dropped line
    std::size_t dropped_total_ = 0;
};

} // namespace arcf::filter
