// SPDX-License-Identifier: ISC
// filter-arc entry point: the OpenSMTPD filter by default, or one of the tools.
#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/log.hpp"
#include "filter/shell/smtpd_shell.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

void usage(std::ostream& out) {
    out << "usage: filter-arc [-c FILE]                  OpenSMTPD filter (protocol on "
           "stdin/stdout)\n"
           "       filter-arc check-config [-c FILE] [--print] [--schema]\n"
           "                                             validate and print the configuration\n"
           "       filter-arc exim [-c FILE]             Exim transport filter (stdin to stdout)\n"
           "       filter-arc keygen --domain D --selector S [--type rsa|ed25519] [--bits N] "
           "[--out FILE]\n"
           "       filter-arc testkey -c FILE            check published keys against the "
           "configured ones\n"
           "       filter-arc verify [options] [FILE|-]  verify a message's ARC chain\n"
           "       filter-arc seal --domain D --selector S --key FILE [options] [FILE|-]\n"
           "                                             verify, then add an ARC set\n"
           "       filter-arc stats [-c FILE] [STATE-FILE]  the counters as a table\n"
           "       filter-arc sealers [-c FILE] [--suggest] [STATE-FILE]\n"
           "                                             ARC sealers seen; trusted-sealers "
           "candidates\n"
           "       filter-arc --help | --version\n"
           "Run 'filter-arc COMMAND --help' for a command's options.\n";
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
        if (cmd == "stats")
            return arcf::filter::run_stats(std::move(args));
        if (cmd == "sealers")
            return arcf::filter::run_sealers(std::move(args));
        if (cmd == "check-config")
            return arcf::filter::run_check_config(std::move(args));
        std::cerr << "filter-arc: unknown command '" << cmd << "'\n";
        usage(std::cerr);
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
