// SPDX-License-Identifier: ISC
// The command-line tools' driver of the message pipeline (`filter-arc seal`, `verify`): a
// whole message in, the pipeline's Outcome out, DNS through the blocking loop that Exim mode
// uses too. Same settings, same added fields and log fields as the filter.
#pragma once

#include "filter/cli/cli.hpp"
#include "filter/pipeline/message.hpp"
#include "filter/shell/blocking_dns.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace arcf::filter {

/// The settings of a filter whose configuration file sets only `authserv_id`: the tools start
/// from these and change only what their options say.
pipeline::Settings tool_settings(std::string authserv_id);

/// The settings of the filter that configuration file `file` describes (the same
/// message_settings() as smtpd and Exim mode), and its DNS servers into `ks` unless the command
/// line named a server or a zone. Throws ConfigError as load_config does.
pipeline::Settings file_settings(const std::string& file, KeySourceOptions& ks);

/// The Authentication-Results field the filter adds (our authserv-id's, unfolded with each fold
/// as one space, without the field name), or the empty string when the outcome adds none.
std::string added_authentication_results(const pipeline::Outcome& o);

/// Feeds `message` (CRLF or LF; lines split at LF with one CR before it dropped, as
/// mail::for_each_line reads them) to a new Message, answers its questions from `lookup`
/// within `timeout_ms` and returns its outcome.
pipeline::Outcome run_message(std::shared_ptr<const pipeline::Settings> settings,
                              std::string_view message,
                              const pipeline::Lookup& lookup,
                              unsigned timeout_ms,
                              std::uint64_t now);

/// The message as the filter passes it on: the added lines on top in the message's own line
/// ending, then the message byte for byte minus the removed lines.
std::string delivered_text(std::string_view message, const pipeline::Outcome& o);

/// The log line of a tool run ("mode=`mode`" and the pipeline's fields), bounded and escaped
/// as every log line (filter/pipeline/log.hpp).
std::string tool_log_line(std::string_view mode, const pipeline::Outcome& o);

} // namespace arcf::filter
