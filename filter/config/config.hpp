// SPDX-License-Identifier: ISC
// filter-arc.toml: the whole configuration in one file, validated at load time. The settings
// are the table of filter/config/schema.hpp; this header is free of toml++, Asio and c-ares.
#pragma once

#include "dns/options.hpp"
#include "filter/smtpd/engine.hpp"

#include <map>
#include <optional>
#include <string>

namespace arcf::filter {

struct Config {
    std::string file;
    EngineOptions engine;
    std::map<std::string, std::string> key_files; ///< signing domain -> key file
    std::string trusted_sealers_file;
    bool allow_readable_keys = false; ///< seal.allow-readable-keys
    /// Valid but doubtful choices, "file:line: setting: why" (check-config prints them).
    std::vector<std::string> warnings;
    dns::ResolverOptions resolver;
};

/// Thrown only at startup or reload: the message names the file, line and setting.
struct ConfigError {
    std::string message;
};

/// Reads and validates a configuration file; loads the signing key. Unknown keys are errors.
Config load_config(const std::string& path);
/// The built-in defaults (no file): verify only, system resolver, smtpd's admd as authserv-id.
Config default_config();
/// What to do with messages while the configuration cannot be loaded (start-up safety): the
/// filter never exits on a configuration or key mistake, since smtpd exits with it.
enum class OnConfigError {
    defer, ///< every message gets EngineOptions::config_error_reply at commit (Exim: exit 75)
    pass,  ///< messages pass as with the built-in defaults (verify only, no seal)
};
/// "defer" or "pass"; nullopt otherwise.
std::optional<OnConfigError> parse_on_config_error(std::string_view word);
std::string_view to_string(OnConfigError e);

/// What the filter runs on while `path` cannot be loaded: default_config() with
/// engine.config_error = `why` and engine.config_error_defer from `on_error`; with pass, an SPF
/// or DMARC temperror is recorded rather than deferred (the file's resolvers are unknown).
Config degraded_config(const std::string& path, std::string why, OnConfigError on_error);
/// load_config(path) (default_config() for an empty path); when it fails,
/// degraded_config(path, the reason, on_error). Never throws ConfigError.
Config load_config_or_defaults(const std::string& path, OnConfigError on_error);

/// Every signing key of the configuration.
std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c);

enum class PrintStyle {
    annotated, ///< with comments: the file, key sizes, the number of trusted sealers
    bare,      ///< settings only
};
/// The effective configuration as TOML that loads back into the same configuration
/// (`check-config --print`): every setting of the schema, [seal] keys as [[seal.keys]] tables.
std::string print_config(const Config& c, PrintStyle style = PrintStyle::bare);
/// print_config(c, PrintStyle::annotated), what `check-config` prints.
std::string describe(const Config& c);

} // namespace arcf::filter
