// SPDX-License-Identifier: ISC
// Recorded OpenSMTPD filter-protocol traffic (protocol 0.7, as smtpd 7.4+ sends it): the
// handshake, whole transactions, transactions interleaved line by line, and the commit that
// smtpd sends once the filter has returned the message.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/corpus.hpp"

namespace arcf::bench {

/// The config lines smtpd sends when the filter starts.
std::string handshake();
/// A 16-hex-digit session id, distinct for each `n`.
std::string session_id(std::size_t n);
/// link-connect .. tx-rcpt, the message as dot-stuffed data-lines, and the final ".".
std::string transaction(std::string_view session, const Lines& lines);
/// The transactions of `sessions` in flight together: every connect first, then the data-lines
/// round-robin one line per session, then each final "." (what many concurrent clients cause).
std::string interleaved(const std::vector<std::string>& sessions, const Lines& lines);
/// One transaction produced as it is sent (a 35 MB message costs the bench no memory): link-connect
/// .. tx-rcpt, the `header` lines, the empty line, `body_line` `body_lines` times, and ".". Each
/// call appends about 1 MiB to `out`; false once everything was produced.
std::function<bool(std::string&)> streamed_transaction(std::string session,
                                                       std::vector<std::string> header,
                                                       std::string body_line,
                                                       std::size_t body_lines);
/// commit and link-disconnect, sent once the filter returned the message of `session`.
std::string closing(std::string_view session);

} // namespace arcf::bench
