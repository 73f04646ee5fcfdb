// SPDX-License-Identifier: ISC
#include "filter/shell/syslog_writer.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace arcf::filter {

namespace {

constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string two(int v) {
    return std::string(1, static_cast<char>('0' + v / 10 % 10)) + static_cast<char>('0' + v % 10);
}

} // namespace

std::string syslog_datagram(const SyslogIdentity& id,
                            Severity severity,
                            std::string_view line,
                            std::time_t when) {
    // RFC 5424 §6.2.1: PRI = facility * 8 + severity (RFC 3164 §4.1.1 the same).
    std::string out = "<" + std::to_string(id.facility * 8 + static_cast<unsigned>(severity)) + ">";
    std::tm t{};
    if (id.rfc5424) {
        // RFC 5424 §6: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD.
        gmtime_r(&when, &t);
        out += "1 " + std::to_string(t.tm_year + 1900) + "-" + two(t.tm_mon + 1) + "-" +
               two(t.tm_mday) + "T" + two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec) +
               "Z " + (id.hostname.empty() ? "-" : id.hostname) + " " + id.tag + " " +
               std::to_string(id.pid) + " - - ";
    } else {
        // RFC 3164 §4.1.2: "Mmm dd hh:mm:ss", the day padded with a space; local time.
        localtime_r(&when, &t);
        out += std::string(months[t.tm_mon % 12]) + " " +
               (t.tm_mday < 10 ? " " + std::to_string(t.tm_mday) : std::to_string(t.tm_mday)) +
               " " + two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec) + " " + id.tag +
               "[" + std::to_string(id.pid) + "]: ";
    }
    out += bound_log_line(line);
    return out;
}

SyslogWriter::SyslogWriter(SyslogIdentity id, std::string socket_path)
    : id_(std::move(id)), path_(std::move(socket_path)) {
    if (id_.pid == 0)
        id_.pid = static_cast<long>(::getpid());
    if (id_.hostname.empty() || id_.hostname == "-") {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0')
            id_.hostname = host;
    }
    connect_now();
}

SyslogWriter::~SyslogWriter() {
    close_socket();
}

void SyslogWriter::close_socket() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

bool SyslogWriter::connect_now() {
    close_socket();
    next_connect_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
        last_error_ = "socket path too long";
        return false;
    }
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        last_error_ = std::strerror(errno);
        return false;
    }
    // A datagram connect only names the peer: it does not wait.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        last_error_ = std::strerror(errno);
        ::close(fd);
        return false;
    }
    fd_ = fd;
    last_error_.clear();
    return true;
}

SyslogWriter::Sent SyslogWriter::send_once(const std::string& datagram) {
    while (true) {
        const ssize_t n =
            ::send(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return Sent::ok;
        if (errno == EINTR)
            continue;
        last_error_ = std::strerror(errno);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return Sent::would_block;
        if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT || errno == EPIPE ||
            errno == ECONNRESET || errno == EDESTADDRREQ)
            return Sent::gone;
        return Sent::failed; // EMSGSIZE and the like: this datagram only
    }
}

// One datagram, reconnecting once when the daemon's socket went away (a syslogd restart).
bool SyslogWriter::send(const std::string& datagram) {
    if (fd_ < 0 && (std::chrono::steady_clock::now() < next_connect_ || !connect_now()))
        return false;
    Sent r = send_once(datagram);
    if (r == Sent::gone && connect_now())
        r = send_once(datagram);
    else if (r == Sent::gone)
        close_socket();
    return r == Sent::ok;
}

void SyslogWriter::write_line(std::string_view line) {
    write_line(severity_of(line), line);
}

void SyslogWriter::write_line(Severity severity, std::string_view line) {
    const std::time_t now = std::time(nullptr);
    if (dropped_ > 0) {
        // Before any new line: how many were lost (as the stderr writer does).
        const std::string note = "event=log-dropped log_dropped=" + std::to_string(dropped_);
        if (!send(syslog_datagram(id_, severity_of(note), note, now))) {
            ++dropped_;
            ++dropped_total_;
            return;
        }
        ++sent_total_;
        dropped_ = 0;
    }
    if (send(syslog_datagram(id_, severity, line, now))) {
        ++sent_total_;
        return;
    }
    ++dropped_;
    ++dropped_total_;
}

} // namespace arcf::filter
