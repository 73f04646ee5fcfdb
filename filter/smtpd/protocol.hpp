// SPDX-License-Identifier: ISC
// The OpenSMTPD filter protocol line codec (smtpd-filters(7); protocol 0.6 on smtpd 6.8, 0.7 on
// 7.4+). Pure: strings in, structured lines out, and the response lines smtpd accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

enum class LineType { config, report, filter };

/// One line from smtpd. Views point into the line passed to parse_line().
struct ProtocolLine {
    LineType type = LineType::config;
    // config|KEY|VALUE
    std::string_view key;
    std::string_view value;
    // report|VER|TIME|SUBSYSTEM|EVENT|SESSION[|PARAMS]
    // filter|VER|TIME|SUBSYSTEM|PHASE|SESSION|TOKEN|PARAMS
    std::string_view version;
    std::string_view subsystem;
    std::string_view event; ///< report event or filter phase
    std::string_view session;
    std::string_view token;  ///< filter requests only
    std::string_view params; ///< the rest, which may itself contain '|'
    bool has_params = false;
};

/// Parses one line (without its '\n'). Returns nullopt for a line that is not a well-formed
/// config, report or filter line; the caller logs and skips it.
std::optional<ProtocolLine> parse_line(std::string_view line);

/// Splits `params` into exactly `n` fields: the first n-1 at '|', the last takes the rest
/// (only the last field may contain '|'). Returns nullopt when there are fewer fields.
std::optional<std::vector<std::string_view>> split_params(std::string_view params, std::size_t n);

/// Compares protocol versions "MAJOR.MINOR" numerically: true when `v` is older than `than`.
bool version_before(std::string_view v, std::string_view than);

/// Response lines (each ends in '\n'). From protocol 0.5 on, SESSION comes before TOKEN.
std::string format_proceed(std::string_view session, std::string_view token);
/// `reply` must be a valid SMTP reply ("451 4.7.1 text"); 421 makes smtpd disconnect.
std::string format_reject(std::string_view session, std::string_view token, std::string_view reply);
std::string
format_dataline(std::string_view session, std::string_view token, std::string_view line);
/// Appends what format_dataline() returns to `out`, without a temporary string (the replay of a
/// message writes one such line per message line).
void append_dataline(std::string& out,
                     std::string_view session,
                     std::string_view token,
                     std::string_view line);

/// The longest line (without its '\n') smtpd reads back from a filter speaking `version`, the one
/// place that knows it. Before 0.7 (smtpd 6.8, 7.3) smtpd copies each response into a LINE_MAX
/// (2048) buffer with its NUL, so with 16-hex session and token a data-line carries 1997 bytes and
/// the rest is silently dropped (OpenSMTPD PR #1192). From 0.7 on the whole line must fit the
/// lookup process's 64 KiB read buffer, or smtpd spins and every session hangs: we stay well
/// under it.
std::size_t max_output_line(std::string_view version);
inline constexpr std::size_t legacy_output_line = 2047;
inline constexpr std::size_t output_line = 65000;

/// The responses to one request (session and token) in the layout of protocol `version`: every
/// line it writes fits max_output_line(version).
class Responder {
  public:
    Responder(std::string_view version, std::string_view session, std::string_view token);
    /// The data bytes one filter-dataline can carry.
    std::size_t room() const { return room_; }
    /// Appends "filter-dataline|...|line\n", the line cut to room() (what smtpd before 0.7 keeps
    /// of it anyway; callers refuse messages whose lines do not fit from 0.7 on).
    void dataline(std::string& out, std::string_view line) const;
    void proceed(std::string& out) const;
    /// `reply` must pass is_valid_reject_reply(); it is cut to fit like any line.
    void reject(std::string& out, std::string_view reply) const;

  private:
    std::string prefix_; ///< "SESSION|TOKEN|" (0.4: "TOKEN|SESSION|")
    std::size_t max_ = 0;
    std::size_t room_ = 0;
};

/// Checks what smtpd's valid_smtp_response() requires: 3 digits, first 4 or 5, then a space,
/// no CR/LF/'|'. A reply that fails this would make smtpd drop the connection.
bool is_valid_reject_reply(std::string_view reply);

/// The address of a link-connect `src` field: "1.2.3.4:25" -> "1.2.3.4", "[::1]:25" -> "::1",
/// "unix:/path" -> "" (local).
std::string address_of(std::string_view src);

} // namespace arcf::filter
