// SPDX-License-Identifier: ISC
// Direct syslog for the smtpd mode ([log] destination = "syslog"): one datagram per line, written
// by us to the local syslog socket (/dev/log) with a priority per line (severity_of()), so that
// an operator can route deliveries (info) apart from deferrals (warning) and errors (err) -
// smtpd itself records every line of our stderr at mail.err (filter-arc(8) LOGS).
// It never blocks the event loop: the socket is a non-blocking AF_UNIX SOCK_DGRAM; when the
// syslog daemon does not keep up (EAGAIN, ENOBUFS) a line is dropped and counted, and
// "event=log-dropped log_dropped=N" goes out first once a datagram passes again. When the daemon
// restarts (its socket is new: ECONNREFUSED, ENOTCONN, ENOENT) we connect again, at once after
// a send fails and at most once a second while nobody listens.
#pragma once

#include "filter/pipeline/log.hpp"

#include <chrono>
#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

namespace arcf::filter {

/// Who we are in the log.
struct SyslogIdentity {
    unsigned facility = 2;          ///< RFC 5424 §6.2.1 Table 1 (2: mail)
    std::string tag = "filter-arc"; ///< RFC 3164 TAG / RFC 5424 APP-NAME
    bool rfc5424 = false;           ///< else RFC 3164, as syslog(3) writes to /dev/log
    std::string hostname = "-";     ///< RFC 5424 HOSTNAME ("-": unknown)
    long pid = 0;
};

/// One datagram: "<PRI>" (facility * 8 + severity, RFC 5424 §6.2.1, RFC 3164 §4.1.1), then
/// RFC 3164 "Mmm dd hh:mm:ss TAG[PID]: MSG" with `when` in local time (what syslog(3) sends to a
/// local daemon, which adds the host), or RFC 5424 "1 YYYY-MM-DDThh:mm:ssZ HOST APP PID - - MSG"
/// in UTC (§6). `line` is bounded with bound_log_line() first.
std::string syslog_datagram(const SyslogIdentity& id,
                            Severity severity,
                            std::string_view line,
                            std::time_t when);

class SyslogWriter {
  public:
    /// Connects to `socket_path` (a datagram socket); lines are dropped and counted while that
    /// fails. pid and hostname of `id` are filled in when left empty.
    SyslogWriter(SyslogIdentity id, std::string socket_path);
    ~SyslogWriter();
    SyslogWriter(const SyslogWriter&) = delete;
    SyslogWriter& operator=(const SyslogWriter&) = delete;

    /// Sends one line at severity_of(line). Never blocks.
    void write_line(std::string_view line);
    void write_line(Severity severity, std::string_view line);

    bool connected() const { return fd_ >= 0; }
    /// Why the last connect or send failed (errno text), "" after a success.
    const std::string& last_error() const { return last_error_; }
    std::size_t sent_total() const { return sent_total_; }
    std::size_t dropped_total() const { return dropped_total_; }

  private:
    enum class Sent { ok, would_block, gone, failed };
    bool connect_now();
    void close_socket();
    Sent send_once(const std::string& datagram);
    bool send(const std::string& datagram);

    SyslogIdentity id_;
    std::string path_;
    int fd_ = -1;
    std::chrono::steady_clock::time_point next_connect_{};
    std::string last_error_;
    std::size_t dropped_ = 0; ///< since the last log-dropped line
    std::size_t dropped_total_ = 0;
    std::size_t sent_total_ = 0;
};

} // namespace arcf::filter
