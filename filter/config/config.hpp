// SPDX-License-Identifier: ISC
// filter-arc.toml: the whole configuration in one file, validated at load time.
#pragma once

#include "dns/lookup.hpp"
#include "filter/smtpd/engine.hpp"

#include <map>
#include <string>

namespace arcf::filter {

struct Config {
    std::string file;
    EngineOptions engine;
    std::map<std::string, std::string> key_files; ///< signing domain -> key file
    std::string trusted_sealers_file;
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
/// Every signing key of the configuration.
std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c);
/// The effective configuration as TOML, for `check-config`.
std::string describe(const Config& c);

} // namespace arcf::filter
