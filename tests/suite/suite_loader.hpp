// SPDX-License-Identifier: ISC
// Reads the ValiMail ARC test suite YAML in place (never copied into the repository).
#pragma once

#include "dns/answer.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace arcf::tests {

struct SuiteCase {
    std::string scenario;
    std::string id;
    std::string description;
    std::map<std::string, std::string> fields; ///< every scalar of the test (message, cv, AS...)
};

struct SuiteScenario {
    std::string description;
    std::map<std::string, std::string> txt;    ///< owner -> TXT text (line breaks removed)
    std::map<std::string, std::string> fields; ///< scenario-level scalars (domain, sel, ...)
    std::vector<SuiteCase> cases;              ///< file order; a duplicated id keeps the last
};

std::string suite_dir();
std::vector<SuiteScenario> load_suite(const std::string& file);
/// LF -> CRLF, as the reference harness feeds messages.
std::string to_crlf(const std::string& s);
/// The scenario's DNS: its own txt-records; every other name is NXDOMAIN.
dns::TxtAnswer suite_lookup(const SuiteScenario& sc, const std::string& name);

} // namespace arcf::tests
