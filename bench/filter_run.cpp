// SPDX-License-Identifier: ISC
// fork/exec, two non-blocking pipes and poll(2); the child is stopped by its PID only.
#include "bench/filter_run.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/measure.hpp"
#include "bench/stream.hpp"

namespace arcf::bench {

namespace {

void set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

// The session of a "filter-dataline|SESSION|TOKEN|." line (the end of a returned message);
// empty for any other line.
std::string_view finished_session(std::string_view line) {
    constexpr std::string_view prefix = "filter-dataline|";
    if (line.size() < prefix.size() + 4 || line.substr(0, prefix.size()) != prefix ||
        line.substr(line.size() - 2) != "|.")
        return {};
    std::string_view rest = line.substr(prefix.size());
    auto bar = rest.find('|');
    if (bar == std::string_view::npos || rest.find('|', bar + 1) != rest.size() - 2)
        return {};
    return rest.substr(0, bar);
}

// The high-water mark of the process's resident set (VmHWM). Not ru_maxrss: on Linux that also
// counts the memory of the forking parent before exec.
long peak_rss_kb(pid_t pid) {
    std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (f == nullptr)
        return 0;
    char line[256];
    long kb = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::strncmp(line, "VmHWM:", 6) == 0)
            kb = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    return kb;
}

} // namespace

FilterRun run_filter(const FilterJob& job) {
    FilterRun r;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    int err = open(job.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::vector<char*> argv;
    for (const auto& a : job.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    double start = wall_seconds();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (err >= 0)
            dup2(err, 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (err >= 0)
        close(err);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        r.error = std::string("fork: ") + std::strerror(errno);
        return r;
    }
    set_nonblocking(in[1]);
    set_nonblocking(out[0]);

    // What waits to be written: the job's transactions are written from where they are (a
    // copy of each would only add the driver's memory traffic to the filter's core); closings
    // and produced chunks are owned here.
    struct Piece {
        std::string owned;
        std::string_view view;
        std::string_view bytes() const { return owned.empty() ? view : std::string_view(owned); }
    };
    std::deque<Piece> pending;
    std::size_t offset = 0; // into pending.front()
    pending.push_back(Piece{job.initial, {}});
    std::size_t next = 0, open_tx = 0;
    auto top_up = [&] {
        while (next < job.transactions.size() && open_tx < job.window) {
            pending.push_back(Piece{{}, job.transactions[next++]});
            ++open_tx;
        }
    };
    top_up();
    bool producing = static_cast<bool>(job.produce);
    auto produce = [&] {
        // The next piece of a streamed transaction once the filter has taken the previous one.
        if (!producing || !pending.empty())
            return;
        std::string chunk;
        producing = job.produce(chunk);
        if (!chunk.empty())
            pending.push_back(Piece{std::move(chunk), {}});
    };
    produce();
    std::string carry;
    std::vector<char> buf(1 << 20);
    int in_fd = in[1];
    bool eof = false;
    double last_progress = wall_seconds();
    double last_sample = 0;
    while (!eof) {
        produce();
        if (in_fd >= 0 && pending.empty() && !producing && r.completed >= job.expected &&
            next == job.transactions.size()) {
            r.peak_rss_kb = std::max(r.peak_rss_kb, peak_rss_kb(pid));
            close(in_fd); // everything answered: smtpd goes away
            in_fd = -1;
        }
        // Only once the child has answered: before its exec, /proc shows the forked copy of
        // this process.
        if (r.output_bytes > 0 && wall_seconds() - last_sample > 0.01) {
            r.peak_rss_kb = std::max(r.peak_rss_kb, peak_rss_kb(pid));
            last_sample = wall_seconds();
        }
        pollfd fds[2] = {{out[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
        nfds_t n = (in_fd >= 0 && !pending.empty()) ? 2 : 1;
        if (poll(fds, n, 1000) < 0 && errno != EINTR)
            break;
        if (n == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            while (!pending.empty()) {
                const std::string_view d = pending.front().bytes();
                ssize_t w = write(in_fd, d.data() + offset, d.size() - offset);
                if (w < 0) {
                    if (errno == EAGAIN)
                        break;
                    r.error = std::string("write to filter: ") + std::strerror(errno);
                    pending.clear();
                    close(in_fd);
                    in_fd = -1;
                    break;
                }
                offset += static_cast<std::size_t>(w);
                last_progress = wall_seconds(); // the filter is taking input
                if (offset == d.size()) {
                    pending.pop_front();
                    offset = 0;
                }
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(out[0], buf.data(), buf.size());
            if (got == 0) {
                eof = true;
            } else if (got > 0) {
                last_progress = wall_seconds();
                r.output_bytes += static_cast<std::size_t>(got);
                carry.append(buf.data(), static_cast<std::size_t>(got));
                std::size_t pos = 0;
                while (true) {
                    auto nl = carry.find('\n', pos);
                    if (nl == std::string::npos)
                        break;
                    std::string_view line(carry.data() + pos, nl - pos);
                    if (!job.seal_marker.empty() && line.find(job.seal_marker) != line.npos)
                        ++r.sealed;
                    auto s = finished_session(line);
                    if (!s.empty()) {
                        ++r.completed;
                        pending.push_back(Piece{closing(s), {}});
                        if (open_tx > 0)
                            --open_tx;
                        top_up();
                    }
                    pos = nl + 1;
                }
                carry.erase(0, pos);
            }
        }
        if (wall_seconds() - last_progress > job.timeout_seconds) {
            r.error = "no progress for " + std::to_string(job.timeout_seconds) + " s";
            kill(pid, SIGKILL);
            break;
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    close(out[0]);
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    r.wall_seconds = wall_seconds() - start;
    r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    if (r.error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        r.error = "filter-arc exited with status " + std::to_string(status);
    if (r.error.empty() && r.completed != job.expected)
        r.error = std::to_string(r.completed) + " of " + std::to_string(job.expected) +
                  " messages came back";
    r.ok = r.error.empty();
    return r;
}

} // namespace arcf::bench
