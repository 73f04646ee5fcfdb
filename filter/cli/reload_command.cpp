// SPDX-License-Identifier: ISC
// `filter-arc reload`: SIGHUP to the running smtpd filter, found through its pidfile, and the
// result of the reload from the status file it rewrites (filter/shell/pidfile.hpp).
#include "filter/cli/cli.hpp"
#include "filter/shell/pidfile.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace arcf::filter {

namespace {

constexpr const char* default_pidfile = "/run/filter-arc/filter-arc.pid";
inline constexpr int exit_unavailable = 69; // sysexits(3) EX_UNAVAILABLE
inline constexpr int exit_noperm = 77;      // sysexits(3) EX_NOPERM

void reload_usage(std::ostream& out) {
    out << "usage: filter-arc reload [--pidfile FILE] [--timeout SECONDS]\n"
           "Sends SIGHUP to the filter-arc that holds FILE (it runs with --pidfile FILE in\n"
           "smtpd.conf's proc-exec line), waits for it to reload, and prints the result.\n"
           "  --pidfile FILE     default "
        << default_pidfile
        << "\n"
           "  --timeout SECONDS  how long to wait for the result (default 5)\n"
           "Exit status: 0 reloaded, 1 the new configuration was refused (the filter keeps\n"
           "the running one, or stays degraded: see the message), 64 usage error, 69 no\n"
           "running filter-arc holds FILE, 75 no result within the timeout, 77 not allowed\n"
           "to signal it.\n"
           "Example: filter-arc reload --pidfile /run/filter-arc/filter-arc.pid\n";
}

// The status file's line ("" when there is none yet).
std::string read_status(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return {};
    struct stat st {};
    std::string out;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[8192];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0)
            out.assign(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

long long reloads_of(const std::string& line) {
    std::string v = status_value(line, "reloads");
    if (v.empty())
        return -1;
    try {
        return std::stoll(v);
    } catch (const std::exception&) {
        return -1;
    }
}

} // namespace

int run_reload(std::vector<std::string> args) {
    Args a(std::move(args), {"--pidfile", "--timeout"}, {"--help", "-h"});
    if (a.flag("--help") || a.flag("-h")) {
        reload_usage(std::cout);
        return exit_ok;
    }
    if (!a.positional().empty())
        throw UsageError{"reload: unexpected argument '" + a.positional()[0] + "'"};
    const std::string pidfile = a.value("--pidfile").value_or(default_pidfile);
    std::uint64_t timeout_s = 5;
    if (auto t = a.value("--timeout"))
        timeout_s = parse_unsigned("--timeout", *t);

    LiveFilter f = live_filter(pidfile);
    if (!f.error.empty()) {
        std::cerr << "filter-arc reload: " << f.error << "\n";
        return exit_unavailable;
    }
    const std::string status_file = status_path(pidfile);
    const long long before = reloads_of(read_status(status_file));
    if (::kill(f.pid, SIGHUP) != 0) {
        int err = errno;
        std::cerr << "filter-arc reload: cannot signal pid " << f.pid << ": " << std::strerror(err)
                  << "\n";
        return err == EPERM ? exit_noperm : exit_unavailable;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (true) {
        std::string line = read_status(status_file);
        if (reloads_of(line) > before) {
            const std::string status = status_value(line, "status");
            std::cout << "filter-arc reload: pid " << f.pid << ": " << line << "\n";
            return status == "ok" ? exit_ok : 1;
        }
        if (std::chrono::steady_clock::now() >= until)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::cerr << "filter-arc reload: sent SIGHUP to pid " << f.pid << ", but " << status_file
              << " did not report a reload within " << timeout_s
              << " s (see the mail log for event=reload)\n";
    return exit_tempfail;
}

} // namespace arcf::filter
