// SPDX-License-Identifier: ISC
// [log] of filter-arc.toml: where the smtpd mode writes its lines (stderr, which smtpd records at
// mail.err, or syslog datagrams of our own) and the syslog identity (facility, tag) that the
// Exim mode uses too. Pure: names and numbers only, no syslog.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace arcf::filter {

/// [log]: where the smtpd mode's lines go, and the syslog identity of every mode.
struct LogOptions {
    enum class Destination {
        stderr_stream, ///< smtpd records each line at mail.err (filter-arc(8) LOGS)
        syslog,        ///< datagrams of our own to `socket`, a priority per line
    };
    Destination destination = Destination::stderr_stream;
    /// The syslog facility's code (RFC 5424 §6.2.1 Table 1): 2 is mail, 3 daemon, 16..23
    /// local0..local7.
    unsigned facility = 2;
    std::string tag = "filter-arc"; ///< the APP-NAME (RFC 5424) or TAG (RFC 3164)
    std::string socket = "/dev/log";
    bool rfc5424 = false; ///< the message format: RFC 5424, else RFC 3164 (what syslog(3) writes)
};
std::string_view to_string(LogOptions::Destination d);
/// The facility's name ("mail", "local3"), and the code of a name (nullopt: not one).
std::string_view facility_name(unsigned code);
std::optional<unsigned> facility_code(std::string_view name);

} // namespace arcf::filter
