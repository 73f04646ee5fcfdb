// SPDX-License-Identifier: ISC
// Log lines: one "key=value key=value" line per event, in every mode (smtpd stderr, Exim syslog).
// Values come from attackers (reasons quoting DKIM tags, HELO names, envelope addresses), so each
// value is bounded and escaped here, in one place, and the whole line is bounded again: smtpd
// stops reading a filter's stderr after a line over 64 KiB (shared notes §12), and a quoted value
// can never end early and inject a fake "key=value" pair.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace arcf::filter {

/// The longest value kept in a log line (bytes of the value before escaping); the rest is cut
/// and replaced by "...[truncated N]" (N: bytes left out).
inline constexpr std::size_t max_log_value = 512;
/// The longest log line, without its newline (limits table: "log line bytes").
inline constexpr std::size_t max_log_line = 4096;

/// `v` in double quotes: '"' and '\' backslash-escaped, control characters, DEL and bytes
/// over 0x7e as \xHH; cut after `limit` input bytes with "...[truncated N]".
std::string quote_log(std::string_view v, std::size_t limit = max_log_value);
/// `v` as is when it is one plain word (printable ASCII, no '"', '\', '=' or space; at most
/// `limit` bytes), else quote_log(v). The empty value is "".
std::string log_value(std::string_view v, std::size_t limit = max_log_value);
/// A whole line made safe to write: control characters (a newline would start a fake line)
/// escaped as \xHH, cut to `limit` bytes with "...[truncated N]". A line that is already
/// safe and short comes back unchanged.
std::string bound_log_line(std::string_view line, std::size_t limit = max_log_line);

/// How much a line matters, by the syslog severities of RFC 5424 §6.2.1 (the numbers are
/// theirs). Only the direct syslog writer and the Exim mode use it; smtpd records every line of
/// our stderr at one priority of its own (mail.err, filter-arc(8) LOGS).
enum class Severity { err = 3, warning = 4, notice = 5, info = 6 };
std::string_view to_string(Severity s);

/// The severity of one of our lines, from its own fields, so that every mode agrees:
/// status=failed or status=degraded, error=, and the events internal-error, replay-failed,
/// spool-error and config-error are err; action=defer, event=protocol-error and
/// event=log-dropped are warning; action=reject and the events start, reload and stop are
/// notice; everything else (action=deliver) is info.
Severity severity_of(std::string_view line);

/// The value of `key` in a line of ours ("" when absent; a quoted value without its quotes,
/// escapes left as they are).
std::string_view log_field(std::string_view line, std::string_view key);

/// Builds one line: key=value pairs, values through log_value.
class LogLine {
  public:
    LogLine() = default;
    /// A value from anywhere: quoted and bounded as needed.
    LogLine& add(std::string_view key, std::string_view value);
    /// A number.
    LogLine& add(std::string_view key, unsigned long long value);
    const std::string& str() const { return line_; }

  private:
    std::string line_;
};

} // namespace arcf::filter
