// SPDX-License-Identifier: ISC
// The I/O shell of the OpenSMTPD filter mode: stdin/stdout, DNS and timers on one Asio loop.
#pragma once

#include "filter/config/config.hpp"

namespace arcf::filter {

/// Runs until stdin reaches EOF. Returns the process exit status. SIGHUP reloads `path` (when
/// not empty) and its keys as one unit: a bad new configuration is logged and the old one
/// stays in force.
int run_smtpd_filter(const Config& config, const std::string& path);

} // namespace arcf::filter
