// SPDX-License-Identifier: ISC
// The I/O shell of the OpenSMTPD filter mode: stdin/stdout, DNS and timers on one Asio loop.
#pragma once

#include "filter/config/config.hpp"

#include <chrono>
#include <string>

namespace arcf::filter {

/// Start-up safety and reload reporting (README "Reloading and start-up safety").
struct StartupOptions {
    /// What config.engine.config_error (set when the configuration could not be loaded) means
    /// for messages; logged with the problem.
    OnConfigError on_config_error = OnConfigError::defer;
    /// --pidfile: where to write our pid and, next to it, the reload status (empty: nowhere).
    std::string pidfile;
    /// While the configuration cannot be loaded, the problem is logged again this often (an
    /// operator who missed the start-up line sees it in any recent stretch of the log). Not an
    /// option: main() shortens it only for the tests (FILTER_ARC_TEST_DEGRADED_LOG_MS).
    std::chrono::milliseconds degraded_log_interval{std::chrono::seconds(60)};
};

/// Runs until stdin reaches EOF. Returns the process exit status. SIGHUP reloads `path` (when
/// not empty) and its keys as one unit: a bad new configuration is logged and the old one
/// stays in force. When `config.engine.config_error` is set (the file could not be loaded:
/// filter-arc runs on the built-in defaults and defers or passes every message), the problem
/// is logged at start and every 60 s until a reload succeeds.
int run_smtpd_filter(const Config& config,
                     const std::string& path,
                     const StartupOptions& startup = {});

} // namespace arcf::filter
