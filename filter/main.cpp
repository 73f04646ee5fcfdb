// SPDX-License-Identifier: ISC
// filter-arc entry point: the OpenSMTPD filter by default, or one of the tools.
#include "filter/cli/cli.hpp"
#include "filter/cli/help.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/log.hpp"
#include "filter/shell/smtpd_shell.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

void usage(std::ostream& out) {
    out << arcf::filter::find_help("")->text;
}

/// `filter-arc COMMAND --help` (or -h) anywhere before "--": the command's entry of the help
/// table (filter/cli/help.cpp), whatever else the line holds.
bool wants_help(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--")
            return false;
        if (a == "--help" || a == "-h")
            return true;
    }
    return false;
}

std::string config_path(const std::vector<std::string>& args) {
    arcf::filter::Args a(args, {"-c", "--config"}, {});
    if (!a.positional().empty())
        throw arcf::filter::UsageError{"unexpected argument '" + a.positional()[0] + "'"};
    auto file = a.value("-c") ? a.value("-c") : a.value("--config");
    return file.value_or("");
}

arcf::filter::Config config_at(const std::string& path) {
    return path.empty() ? arcf::filter::default_config() : arcf::filter::load_config(path);
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            usage(std::cout);
            return 0;
        }
        if (!args.empty() && args[0] == "--version") {
            std::cout << "filter-arc " << FILTER_ARC_VERSION << "\n";
            return 0;
        }
        if (args.empty() || args[0].rfind("-", 0) == 0) {
            auto path = config_path(args);
            return arcf::filter::run_smtpd_filter(config_at(path), path);
        }
        std::string cmd = args[0];
        args.erase(args.begin());
        if (const auto* help = arcf::filter::find_help(cmd); help && wants_help(args)) {
            std::cout << help->text;
            return 0;
        }
        if (cmd == "verify")
            return arcf::filter::run_verify(std::move(args));
        if (cmd == "seal")
            return arcf::filter::run_seal(std::move(args));
        if (cmd == "exim")
            return arcf::filter::run_exim(std::move(args));
        if (cmd == "keygen")
            return arcf::filter::run_keygen(std::move(args));
        if (cmd == "testkey")
            return arcf::filter::run_testkey(std::move(args));
        if (cmd == "check-config")
            return arcf::filter::run_check_config(std::move(args));
        std::cerr << "filter-arc: unknown command '" << cmd
                  << "' (filter-arc --help lists the commands)\n";
        return arcf::filter::exit_usage;
    } catch (const arcf::filter::UsageError& e) {
        std::cerr << arcf::filter::bound_log_line("filter-arc: " + e.message) << "\n";
        return arcf::filter::exit_usage;
    } catch (const arcf::filter::ConfigError& e) {
        std::cerr << arcf::filter::bound_log_line("filter-arc: " + e.message) << "\n";
        return arcf::filter::exit_config;
    } catch (const std::exception& e) {
        std::cerr << arcf::filter::bound_log_line(std::string("filter-arc: ") + e.what()) << "\n";
        return arcf::filter::exit_software;
    }
}
