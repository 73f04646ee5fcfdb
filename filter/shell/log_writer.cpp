// SPDX-License-Identifier: ISC
#include "filter/shell/log_writer.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arcf::filter {

LogWriter::LogWriter(int fd, std::size_t buffer_limit, std::size_t line_limit)
    : fd_(fd), buffer_limit_(buffer_limit), line_limit_(line_limit) {
    struct stat st {};
    if (fstat(fd_, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        saved_flags_ = fcntl(fd_, F_GETFL);
        if (saved_flags_ != -1 && fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK) == 0)
            nonblocking_ = true;
    }
}

LogWriter::~LogWriter() {
    if (nonblocking_)
        fcntl(fd_, F_SETFL, saved_flags_);
}

void LogWriter::enqueue(std::string_view line) {
    // The line and its '\n'.
    if (broken_ || pending() + line.size() + 1 > buffer_limit_) {
        ++dropped_;
        ++dropped_total_;
        return;
    }
    if (off_ > 0 && off_ >= buf_.size() / 2) {
        buf_.erase(0, off_);
        off_ = 0;
    }
    buf_.append(line).push_back('\n');
}

void LogWriter::write_line(std::string_view line) {
    // Lines already waiting go first, and the count of dropped ones before any new line.
    flush();
    enqueue(bound_log_line(line, line_limit_));
    flush();
}

void LogWriter::add_line(std::string_view line) {
    enqueue(bound_log_line(line, line_limit_));
    if (pending() >= log_batch_bytes)
        flush();
}

bool LogWriter::flush() {
    while (true) {
        while (off_ < buf_.size()) {
            ssize_t n = ::write(fd_, buf_.data() + off_, buf_.size() - off_);
            if (n > 0) {
                off_ += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return false;
            // EPIPE and the like: nobody will ever read this; stop keeping lines.
            broken_ = true;
            buf_.clear();
            off_ = 0;
            return true;
        }
        buf_.clear();
        off_ = 0;
        if (dropped_ == 0 || broken_)
            return true;
        // The buffer drained after lines were dropped: say so once, then go on.
        std::string note = "event=log-dropped log_dropped=" + std::to_string(dropped_) + "\n";
        dropped_ = 0;
        buf_ = note;
    }
}

void LogWriter::drain(int ms) {
    while (!flush() && ms > 0) {
        pollfd p{fd_, POLLOUT, 0};
        const int step = ms < 50 ? ms : 50;
        if (::poll(&p, 1, step) < 0 && errno != EINTR)
            return;
        ms -= step;
    }
}

} // namespace arcf::filter
