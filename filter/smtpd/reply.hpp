// SPDX-License-Identifier: ISC
// The OpenSMTPD filter protocol encoder: every line the filter writes to smtpd (the handshake's
// register lines, filter-result and filter-dataline) in the layout of the request's protocol
// version, each within what that version's smtpd reads back. Pure; the decoder is
// filter/smtpd/protocol.hpp.
#pragma once

#include "filter/smtpd/protocol.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace arcf::filter {

/// The longest line (without its '\n') smtpd reads back from a filter speaking `version`, the one
/// place that knows it. Before 0.7 (smtpd 6.8, 7.3) smtpd copies each response into a LINE_MAX
/// (2048) buffer with its NUL, so with 16-hex session and token a data-line carries 1997 bytes and
/// the rest is silently dropped (OpenSMTPD PR #1192). From 0.7 on the whole line must fit the
/// lookup process's 64 KiB read buffer, or smtpd spins and every session hangs: we stay well
/// under it.
std::size_t max_output_line(Version version);
inline constexpr std::size_t legacy_output_line = 2047;
inline constexpr std::size_t output_line = 65000;

/// The handshake answer to config|ready: registers every report event filter/smtpd/protocol.hpp
/// types (only names that exist in every 0.6 and 0.7 smtpd: an unknown one is fatal to smtpd) and
/// the data-line and commit phases, then register|ready.
void append_registration(std::string& out);

/// The responses to one request (session and token) in the layout of protocol `version`: every
/// line it writes fits max_output_line(version).
class Responder {
  public:
    Responder(Version version, std::string_view session, std::string_view token);
    /// The data bytes one filter-dataline can carry.
    std::size_t room() const { return room_; }
    /// True when smtpd itself cuts longer data-lines to room() (before 0.7), so echoing a cut
    /// line hands over what smtpd stores anyway; false when a longer line cannot be written
    /// at all (0.7: it would hang smtpd) and the message must be refused.
    bool smtpd_cuts_long_lines() const { return cuts_; }
    /// Appends "filter-dataline|...|line\n", the line cut to room() (what smtpd before 0.7 keeps
    /// of it anyway; callers refuse messages whose lines do not fit from 0.7 on).
    void dataline(std::string& out, std::string_view line) const {
        // Every line of every message we hand back: inline, one append for the fixed part.
        out.append(dataline_).append(line.substr(0, room_)).push_back('\n');
    }
    void proceed(std::string& out) const;
    /// `reply` must pass is_valid_reject_reply(); it is cut to fit like any line.
    void reject(std::string& out, std::string_view reply) const;

  private:
    std::string prefix_;   ///< "SESSION|TOKEN|" (0.4: "TOKEN|SESSION|")
    std::string dataline_; ///< "filter-dataline|" and prefix_
    std::size_t max_ = 0;
    std::size_t room_ = 0;
    bool cuts_ = false;
};

/// Checks what smtpd's valid_smtp_response() requires: 3 digits, first 4 or 5, then a space,
/// no CR/LF/'|'. A reply that fails this would make smtpd drop the connection.
bool is_valid_reject_reply(std::string_view reply);

} // namespace arcf::filter
