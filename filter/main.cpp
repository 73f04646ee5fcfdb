// SPDX-License-Identifier: ISC
// filter-arc entry point: dispatches to the subcommands.
#include "filter/cli.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

void usage(std::ostream& out) {
    out << "usage: filter-arc verify [options] [FILE|-]   verify a message's ARC chain\n"
           "       filter-arc seal --domain D --selector S --key FILE [options] [FILE|-]\n"
           "                                               verify, then add an ARC set\n"
           "       filter-arc --help | --version\n"
           "Run 'filter-arc COMMAND --help' for a command's options.\n";
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.empty() || args[0] == "--help" || args[0] == "-h") {
            usage(args.empty() ? std::cerr : std::cout);
            return args.empty() ? arcf::filter::exit_usage : 0;
        }
        if (args[0] == "--version") {
            std::cout << "filter-arc " << FILTER_ARC_VERSION << "\n";
            return 0;
        }
        std::string cmd = args[0];
        args.erase(args.begin());
        if (cmd == "verify")
            return arcf::filter::run_verify(std::move(args));
        if (cmd == "seal")
            return arcf::filter::run_seal(std::move(args));
        std::cerr << "filter-arc: unknown command '" << cmd << "'\n";
        usage(std::cerr);
        return arcf::filter::exit_usage;
    } catch (const arcf::filter::UsageError& e) {
        std::cerr << "filter-arc: " << e.message << "\n";
        return arcf::filter::exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "filter-arc: " << e.what() << "\n";
        return arcf::filter::exit_software;
    }
}
