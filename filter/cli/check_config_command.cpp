// SPDX-License-Identifier: ISC
// `filter-arc check-config`: load a configuration as the filter would, and print it.
#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/config/schema.hpp"
#include "filter/pipeline/log.hpp"

#include <iostream>

namespace arcf::filter {

namespace {

void check_config_usage(std::ostream& out) {
    out << "usage: filter-arc check-config [-c FILE | --config FILE] [--print] [--schema]\n"
           "Loads FILE as the filter and the Exim mode would (keys, trusted-sealers file and\n"
           "all) and prints the effective configuration as TOML, with notes as comments;\n"
           "warnings (e.g. an Ed25519 sealing key) go to stderr.\n"
           "Without -c: the built-in defaults.\n"
           "  -c, --config FILE  the configuration file (filter-arc.toml(5))\n"
           "  --print            the effective configuration only, no comments; it loads\n"
           "                     back into the same configuration\n"
           "  --schema           every setting, one per line: table, key, type, default,\n"
           "                     allowed values, description (tab-separated)\n"
           "Exit status: 0 valid, 64 usage error, 78 invalid configuration (the message\n"
           "names the file, the line and the setting).\n"
           "Example: filter-arc check-config -c /etc/filter-arc/filter-arc.toml\n";
}

} // namespace

int run_check_config(std::vector<std::string> args) {
    Args a(std::move(args), {"-c", "--config"}, {"--print", "--schema", "--help", "-h"});
    if (a.flag("--help") || a.flag("-h")) {
        check_config_usage(std::cout);
        return exit_ok;
    }
    if (!a.positional().empty())
        throw UsageError{"check-config: unexpected argument '" + a.positional()[0] + "'"};
    if (a.flag("--schema")) {
        std::cout << schema_dump();
        return exit_ok;
    }
    auto file = a.value("-c") ? a.value("-c") : a.value("--config");
    Config c = file ? load_config(*file) : default_config();
    for (const auto& w : c.warnings)
        std::cerr << bound_log_line("filter-arc: warning: " + w) << "\n";
    std::cout << print_config(c, a.flag("--print") ? PrintStyle::bare : PrintStyle::annotated);
    return exit_ok;
}

} // namespace arcf::filter
