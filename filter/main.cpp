// SPDX-License-Identifier: ISC
// filter-arc entry point: the OpenSMTPD filter by default, or one of the tools.
#include "filter/cli/cli.hpp"
#include "filter/cli/help.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/log.hpp"
#include "filter/shell/smtpd_shell.hpp"

#include <openssl/crypto.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
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

struct FilterArgs {
    std::string path;
    arcf::filter::StartupOptions startup;
};

FilterArgs filter_args(const std::vector<std::string>& args) {
    arcf::filter::Args a(args, {"-c", "--config", "--on-config-error", "--pidfile"}, {});
    if (!a.positional().empty())
        throw arcf::filter::UsageError{"unexpected argument '" + a.positional()[0] + "'"};
    FilterArgs f;
    auto file = a.value("-c") ? a.value("-c") : a.value("--config");
    f.path = file.value_or("");
    if (auto v = a.value("--on-config-error")) {
        auto e = arcf::filter::parse_on_config_error(*v);
        if (!e)
            throw arcf::filter::UsageError{"--on-config-error: \"" + *v +
                                           "\" is not defer or pass"};
        f.startup.on_config_error = *e;
    }
    f.startup.pidfile = a.value("--pidfile").value_or("");
    return f;
}

// For the tests only, not an option: how often a degraded filter repeats its config-error line
// (StartupOptions::degraded_log_interval), from FILTER_ARC_TEST_DEGRADED_LOG_MS. A value that is
// not a number from 100 to 60000 is ignored.
void test_degraded_log_interval(arcf::filter::StartupOptions& startup) {
    const char* v = std::getenv("FILTER_ARC_TEST_DEGRADED_LOG_MS");
    if (v == nullptr)
        return;
    char* end = nullptr;
    errno = 0;
    const long ms = std::strtol(v, &end, 10);
    if (errno == 0 && end != v && *end == '\0' && ms >= 100 && ms <= 60000)
        startup.degraded_log_interval = std::chrono::milliseconds(ms);
}

// The smtpd filter never exits on a configuration mistake, its command line's included:
// smtpd exits with it (protocol notes §0). It runs on the built-in defaults instead, deferring
// every message (or passing it, --on-config-error pass), and logs why.
int run_filter(const std::vector<std::string>& args) {
    FilterArgs f;
    std::string usage_problem;
    try {
        f = filter_args(args);
    } catch (const arcf::filter::UsageError& e) {
        usage_problem = "command line: " + e.message;
        // What can be read still counts: the config file and the pidfile.
        for (std::size_t i = 0; i + 1 < args.size(); ++i) {
            if (args[i] == "-c" || args[i] == "--config")
                f.path = args[i + 1];
            if (args[i] == "--pidfile")
                f.startup.pidfile = args[i + 1];
        }
    }
    test_degraded_log_interval(f.startup);
    arcf::filter::Config cfg =
        arcf::filter::load_config_or_defaults(f.path, f.startup.on_config_error);
    if (!usage_problem.empty())
        cfg = arcf::filter::degraded_config(f.path, usage_problem,
                                            arcf::filter::OnConfigError::defer);
    return arcf::filter::run_smtpd_filter(cfg, f.path, f.startup);
}

} // namespace

int main(int argc, char** argv) {
    // Before any other use of OpenSSL, which would register its exit handler: the process's
    // memory goes back to the system at exit anyway, and OpenSSL's handler freeing its tables one
    // by one was 5 % of the filter's start-and-stop instructions (issue 21). What OpenSSL holds
    // then stays reachable from its globals, so leak checkers (LeakSanitizer, valgrind's
    // definite leaks) do not count it.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
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
        if (args.empty() || args[0].rfind("-", 0) == 0)
            return run_filter(args);
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
        if (cmd == "stats")
            return arcf::filter::run_stats(std::move(args));
        if (cmd == "sealers")
            return arcf::filter::run_sealers(std::move(args));
        if (cmd == "reload")
            return arcf::filter::run_reload(std::move(args));
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
