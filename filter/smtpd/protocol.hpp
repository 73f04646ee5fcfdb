// SPDX-License-Identifier: ISC
// The OpenSMTPD filter protocol decoder (smtpd-filters(7)): one line from smtpd in, one typed
// event out. Every difference between protocol 0.4, 0.5, 0.6 and 0.7 in what smtpd sends is
// resolved here; the engine sees neither version numbers nor field positions. The replies go
// through filter/smtpd/reply.hpp, which takes the Version carried by each event. Pure.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace arcf::filter {

/// The protocol version of a line: its second field, "MAJOR.MINOR" (smtpd 6.6.0: 0.4, 6.6.2:
/// 0.5, 6.7 to 7.3 (Debian 12's 6.8): 0.6, 7.4 on: 0.7). Only the codec compares versions.
struct Version {
    unsigned major = 0;
    unsigned minor = 6;
    friend auto operator<=>(const Version&, const Version&) = default;
};

/// Which session a report or request is about, and the version it was written in.
struct SessionRef {
    std::string_view id; ///< 1 to 16 hex digits (smtpd writes 16)
    Version version;
};

// config|KEY|VALUE: the handshake, before any session.
struct ConfigAdmd {
    std::string_view admd; ///< smtpd's "admd" setting, else its host name
};
struct ConfigReady {};
struct ConfigOther {
    std::string_view key, value; ///< smtpd-version, protocol, subsystem, ...: nothing to do
};

// report|VER|TIME|smtp-in|EVENT|SESSION[|PARAMS]: one-way, never answered.
struct LinkConnect {
    SessionRef s;
    std::string_view rdns, fcrdns, src, dest;
    std::string_view client_ip; ///< from src: "1.2.3.4", "::1", or empty for a local socket
};
struct LinkDisconnect {
    SessionRef s;
};
struct LinkIdentify {
    SessionRef s;
    std::string_view method; ///< HELO or EHLO
    std::string_view helo;
};
struct LinkAuth {
    SessionRef s;
    bool pass = false;       ///< result "pass" (else fail or error)
    std::string_view result; ///< as sent
    std::string_view user;   ///< may contain '|'
};
struct TxBegin {
    SessionRef s;
    std::string_view msgid;
};
/// tx-mail and tx-rcpt: the address is the raw text between '<' and '>' (may contain '|').
struct TxMail {
    SessionRef s;
    std::string_view msgid;
    bool ok = false;         ///< result "ok" (else permfail or tempfail)
    std::string_view result; ///< as sent
    std::string_view address;
};
struct TxRcpt {
    SessionRef s;
    std::string_view msgid;
    bool ok = false;
    std::string_view result;
    std::string_view address;
};
struct TxReset {
    SessionRef s;
    std::string_view msgid; ///< may be empty
};
struct TxRollback {
    SessionRef s;
    std::string_view msgid;
};
/// A report we did not register for or that another subsystem sent: nothing to do.
struct OtherReport {
    SessionRef s;
    std::string_view event;
};

// filter|VER|TIME|SUBSYSTEM|PHASE|SESSION|TOKEN|PARAMS: each needs exactly one answer, made
// with Responder(s.version, s.id, token).
struct DataLine {
    SessionRef s;
    std::string_view token;
    std::string_view line; ///< still dot-stuffed; "." alone ends the message
};
struct Commit {
    SessionRef s;
    std::string_view token;
};
/// A phase we did not register: answered "proceed" rather than left hanging.
struct OtherFilter {
    SessionRef s;
    std::string_view phase;
    std::string_view token;
    std::string_view params;
};

/// Why a line could not be decoded. smtpd never sends these; the engine logs the line and
/// goes on (a filter that exits takes smtpd down with it).
enum class DecodeError {
    unknown_kind,    ///< not config|, report| or filter|
    missing_fields,  ///< fewer fields than the line's kind or event has
    bad_version,     ///< the version does not start with MAJOR.MINOR
    bad_session,     ///< the session id is not 1 to 16 hex digits
    bad_token,       ///< the token is not 1 to 16 hex digits
    empty_config_key ///< config||...
};
std::string_view to_string(DecodeError e);

struct Malformed {
    DecodeError error = DecodeError::unknown_kind;
    std::string_view line;
};

using Event = std::variant<ConfigAdmd,
                           ConfigReady,
                           ConfigOther,
                           LinkConnect,
                           LinkDisconnect,
                           LinkIdentify,
                           LinkAuth,
                           TxBegin,
                           TxMail,
                           TxRcpt,
                           TxReset,
                           TxRollback,
                           OtherReport,
                           DataLine,
                           Commit,
                           OtherFilter,
                           Malformed>;

/// Decodes one line (without its '\n'). The views in the result point into `line`.
Event decode(std::string_view line);
Event decode(std::string&&) = delete; ///< the views would outlive the line
inline Event decode(const char* line) {
    return decode(std::string_view(line));
}

/// The session an event is about; nullopt for config lines and malformed ones.
std::optional<SessionRef> session_of(const Event& e);

/// The address of a link-connect `src` field: "1.2.3.4:25" -> "1.2.3.4", "[::1]:25" -> "::1",
/// "unix:/path" -> "" (local). A view into `src`.
std::string_view address_of(std::string_view src);

} // namespace arcf::filter
