// SPDX-License-Identifier: ISC
// The I/O shell of the OpenSMTPD filter mode: stdin/stdout, DNS and timers on one Asio loop.
#pragma once

#include "filter/config.hpp"

namespace arcf::filter {

/// Runs until stdin reaches EOF. Returns the process exit status.
int run_smtpd_filter(const Config& config);

} // namespace arcf::filter
