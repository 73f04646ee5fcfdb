// SPDX-License-Identifier: ISC
// filter-arc.toml: the whole configuration in one file, validated at load time. The settings
// are the table of filter/config/schema.hpp; this header is free of toml++, Asio and c-ares.
#pragma once

#include "dns/options.hpp"
#include "filter/config/log_options.hpp"
#include "filter/pipeline/stats.hpp"
#include "filter/smtpd/engine.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

/// What a configured key is for ([[seal.keys]] state). Rotation keeps two keys of one domain
/// in the configuration: the one that seals, and the next or previous one whose DNS record
/// `testkey` checks (README "Rotating keys").
enum class KeyState {
    active,    ///< seals; exactly one per signing domain
    published, ///< never seals; its record is (or goes) in DNS: the next key, or the old one
};
std::string_view to_string(KeyState s);

/// One signing key as configured.
struct ConfiguredKey {
    std::shared_ptr<const arc::SealKey> key;
    std::string file; ///< the PEM file it was read from
    KeyState state = KeyState::active;
};

struct Config {
    std::string file;
    EngineOptions engine;
    /// Every key, active and published, in file order ([seal]'s one-key form first). The
    /// active ones are also engine.policy.keys, the only keys the pipeline seals with.
    std::vector<ConfiguredKey> seal_keys;
    std::string trusted_sealers_file;
    bool allow_readable_keys = false; ///< seal.allow-readable-keys
    /// Valid but doubtful choices, "file:line: setting: why" (check-config prints them).
    std::vector<std::string> warnings;
    dns::ResolverOptions resolver;
    LogOptions log;
    pipeline::StatsOptions stats; ///< [stats]: the statistics files
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

/// Every key of the configuration, active and published, in file order.
std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c);
/// The configuration entry of `key` (one of all_seal_keys()), or null.
const ConfiguredKey* configured_key(const Config& c, const arc::SealKey* key);

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
