// SPDX-License-Identifier: ISC
// Spawns and stops the loopback DNS responder (tests/tools/dns_responder.py) for the c-ares tests.
#include "tests/dns/responder.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace arcf::dns::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

/// Waits up to `limit` for the child to exit; true if it did (and was reaped).
bool reap(pid_t pid, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace

LoopbackResponder::LoopbackResponder(const std::string& zone,
                                     const std::vector<std::string>& faults,
                                     const std::vector<std::string>& extra_args) {
    try {
        start(zone, faults, extra_args);
        wait_for_port();
    } catch (...) {
        stop();
        throw;
    }
}

void LoopbackResponder::start(const std::string& zone,
                              const std::vector<std::string>& faults,
                              const std::vector<std::string>& extra_args) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "arcf-dns-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    write_file(dir_ + "/zone", zone);

    std::vector<std::string> args = {ARCF_PYTHON3,
                                     ARCF_DNS_RESPONDER,
                                     "--zone",
                                     dir_ + "/zone",
                                     "--port",
                                     "0",
                                     "--port-file",
                                     dir_ + "/port",
                                     "--stats-file",
                                     dir_ + "/stats",
                                     "--watch-stdin",
                                     "--max-lifetime",
                                     "120"};
    for (const auto& f : faults) {
        args.push_back("--fault");
        args.push_back(f);
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    // The child's stdin is a pipe whose write end only this process holds (O_CLOEXEC): when the
    // test binary dies for any reason, the responder sees EOF and exits.
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0); // port goes to a file
    int rc = posix_spawn(&pid_, ARCF_PYTHON3, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    stdin_pipe_ = fds[1];
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    }
}

void LoopbackResponder::wait_for_port() {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (port_ == 0) {
        std::string text = slurp(dir_ + "/port");
        if (!text.empty()) {
            port_ = static_cast<std::uint16_t>(std::stoi(text));
            break;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("dns_responder.py exited during startup");
        }
        if (std::chrono::steady_clock::now() >= end)
            throw std::runtime_error("dns_responder.py did not report its port");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

LoopbackResponder::~LoopbackResponder() {
    stop();
}

void LoopbackResponder::stop() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM); // by PID, never by name
        if (!reap(pid_, std::chrono::seconds(2))) {
            kill(pid_, SIGKILL);
            reap(pid_, std::chrono::seconds(2));
        }
        pid_ = -1;
    }
    if (stdin_pipe_ >= 0)
        close(stdin_pipe_);
    stdin_pipe_ = -1;
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
    }
}

std::string LoopbackResponder::server() const {
    return "127.0.0.1:" + std::to_string(port_);
}

QueryCounts LoopbackResponder::counts(const std::string& name) const {
    std::istringstream in(slurp(dir_ + "/stats"));
    std::string n;
    QueryCounts c;
    while (in >> n >> c.total >> c.udp >> c.tcp)
        if (n == name)
            return c;
    return {};
}

bool run_until(boost::asio::io_context& io,
               std::chrono::milliseconds limit,
               const std::function<bool()>& done) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        auto now = std::chrono::steady_clock::now();
        if (now >= end)
            return false;
        if (io.stopped())
            io.restart();
        io.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(end - now));
    }
    return true;
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds span) {
    run_until(io, span, [] { return false; });
}

std::string key_record(std::size_t n) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s = "v=DKIM1; k=rsa; p=";
    for (std::size_t i = 0; s.size() < n; ++i)
        s.push_back(alphabet[(i * 7 + i / 3) % 64]);
    return s;
}

} // namespace arcf::dns::test
