// SPDX-License-Identifier: ISC
// `filter-arc check-config`: load a configuration as the filter would, and print it.
#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/config/config_file.hpp"
#include "filter/config/schema.hpp"
#include "filter/pipeline/log.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <iostream>
#include <optional>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace arcf::filter {

namespace {

void check_config_usage(std::ostream& out) {
    out << "usage: filter-arc check-config [-c FILE | --config FILE] [--user NAME] [--print]\n"
           "                               [--schema]\n"
           "Loads FILE as the filter and the Exim mode would (keys, trusted-sealers file and\n"
           "all) and prints the effective configuration as TOML, with notes as comments;\n"
           "warnings (e.g. an Ed25519 sealing key) go to stderr.\n"
           "Without -c: the built-in defaults.\n"
           "  -c, --config FILE  the configuration file (filter-arc.toml(5))\n"
           "  --user NAME        open every file as user NAME, the user the filter runs as\n"
           "                     (needs root). Default when run as root: the user\n"
           "                     /etc/smtpd.conf runs filter-arc as (its `user` option, else\n"
           "                     opensmtpd); root itself when no smtpd.conf runs filter-arc\n"
           "  --print            the effective configuration only, no comments; it loads\n"
           "                     back into the same configuration\n"
           "  --schema           every setting, one per line: table, key, type, default,\n"
           "                     allowed values, description (tab-separated)\n"
           "Exit status: 0 valid, 64 usage error, 78 invalid configuration (the message\n"
           "names the file, the line and the setting).\n"
           "Example: filter-arc check-config -c /etc/filter-arc/filter-arc.toml\n";
}

struct User {
    std::string name;
    uid_t uid;
    gid_t gid;
};

// The user smtpd.conf runs filter-arc as: a `filter NAME proc-exec "...filter-arc..."` line
// names it with `user NAME`, else smtpd uses its own user, opensmtpd on Debian (protocol notes
// §7). Empty when no smtpd.conf runs filter-arc. `from` receives the file.
std::string smtpd_filter_user(std::string& from) {
    for (const char* conf : {"/etc/smtpd.conf", "/etc/smtpd/smtpd.conf"}) {
        std::string text, err;
        if (!read_config_file(conf, text, err))
            continue;
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t nl = text.find('\n', pos);
            std::string line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
            pos = nl == std::string::npos ? text.size() : nl + 1;
            line = line.substr(0, line.find('#'));
            if (line.find("filter") != 0 || line.find("proc-exec") == std::string::npos ||
                line.find("filter-arc") == std::string::npos)
                continue;
            from = conf;
            // Options follow the quoted command: `user NAME`, `group NAME`, `chroot PATH`.
            std::size_t q = line.find('"', line.find("proc-exec"));
            std::size_t end = q == std::string::npos ? std::string::npos : line.find('"', q + 1);
            std::istringstream rest(end == std::string::npos ? std::string()
                                                             : line.substr(end + 1));
            std::string word, user;
            while (rest >> word) {
                if (word == "user" && rest >> user) {
                    if (user.size() >= 2 && user.front() == '"' && user.back() == '"')
                        user = user.substr(1, user.size() - 2);
                    return user;
                }
            }
            return "opensmtpd";
        }
    }
    return {};
}

// Whom to check as: --user NAME; else, as root, the user smtpd.conf runs filter-arc as;
// nullopt: as ourselves (with a note when that is root).
std::optional<User> check_user(const std::optional<std::string>& wanted) {
    std::string name;
    if (wanted) {
        name = *wanted;
    } else {
        if (::geteuid() != 0)
            return std::nullopt;
        std::string from;
        name = smtpd_filter_user(from);
        if (name.empty()) {
            std::cerr << "filter-arc: note: checked as root (no smtpd.conf runs filter-arc); "
                         "--user NAME checks as the user the filter runs as, e.g. "
                         "--user opensmtpd or --user Debian-exim\n";
            return std::nullopt;
        }
        std::cerr << "filter-arc: " << from << " runs filter-arc as user " << name << "\n";
    }
    struct passwd* pw = ::getpwnam(name.c_str());
    if (pw == nullptr)
        throw UsageError{"check-config: --user " + name + ": no such user"};
    if (pw->pw_uid == ::geteuid())
        return std::nullopt;
    if (::geteuid() != 0)
        throw UsageError{"check-config: --user " + name + " needs root (or run it as " + name +
                         ")"};
    return User{name, pw->pw_uid, pw->pw_gid};
}

// Runs `check` in a child that has dropped to `u` (groups, gid, uid: as smtpd starts a
// proc-exec filter), so every file is opened with that user's permissions; its exit status.
template <typename F>
int as_user(const User& u, F check) {
    std::cerr << "filter-arc: checking the files as user " << u.name << " (uid " << u.uid
              << ", gid " << u.gid << ")"
              << (u.name == "opensmtpd" ? ", the user smtpd runs proc-exec filters as" : "")
              << "\n";
    std::cout.flush();
    std::cerr.flush();
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(std::string("check-config: fork: ") + std::strerror(errno));
    if (pid == 0) {
        int rc = exit_software;
        if (::initgroups(u.name.c_str(), u.gid) != 0 || ::setgid(u.gid) != 0 ||
            ::setuid(u.uid) != 0 || ::getuid() != u.uid || ::geteuid() != u.uid) {
            std::cerr << "filter-arc: cannot become user " << u.name << ": " << std::strerror(errno)
                      << "\n";
        } else {
            try {
                rc = check();
            } catch (const ConfigError& e) {
                std::cerr << bound_log_line("filter-arc: " + e.message) << "\n";
                rc = exit_config;
            } catch (const std::exception& e) {
                std::cerr << bound_log_line(std::string("filter-arc: ") + e.what()) << "\n";
                rc = exit_software;
            }
        }
        std::cout.flush();
        std::cerr.flush();
        ::_exit(rc);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return exit_software;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : exit_software;
}

} // namespace

int run_check_config(std::vector<std::string> args) {
    Args a(std::move(args), {"-c", "--config", "--user"}, {"--print", "--schema", "--help", "-h"});
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
    auto check = [&] {
        Config c = file ? load_config(*file) : default_config();
        for (const auto& w : c.warnings)
            std::cerr << bound_log_line("filter-arc: warning: " + w) << "\n";
        std::cout << print_config(c, a.flag("--print") ? PrintStyle::bare : PrintStyle::annotated);
        return exit_ok;
    };
    auto user = check_user(a.value("--user"));
    if (!user)
        return check();
    return as_user(*user, check);
}

} // namespace arcf::filter
