// SPDX-License-Identifier: ISC
// What the schema's setters (filter/config/schema.cpp) fill while a file loads: the Config
// itself, plus the settings that are only checked or resolved once the whole file is read
// (key files, default-domain, the trusted-sealers file), with where each was written.
#pragma once

#include "filter/config/config.hpp"

#include <string>
#include <vector>

namespace arcf::filter {

/// One signing key as written: [seal] domain/selector/key, or one [[seal.keys]] table.
struct KeyEntry {
    std::string domain, selector, file, algorithm;
    KeyState state = KeyState::active; ///< the one-key form of [seal] is always active
    std::string where;                 ///< "file:line: seal" or "file:line: seal.keys" (the table)
    std::string file_where;            ///< where `key` was set
    std::string algorithm_where;       ///< where `algorithm` was set
};

struct ConfigBuilder {
    explicit ConfigBuilder(Config& c) : config(c) {}
    Config& config;
    std::string where;          ///< "file:line: name" of the setting being applied
    KeyEntry seal_key;          ///< [seal] domain/selector/key (all empty: not used)
    std::vector<KeyEntry> keys; ///< [[seal.keys]], in file order
    std::string default_domain;
    std::string default_domain_where; ///< empty: not set
    std::string when_where;
    std::string sealers_where;
};

} // namespace arcf::filter
