// SPDX-License-Identifier: ISC
#include "filter/shell/pidfile.hpp"

#include "filter/config/config_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arcf::filter {

namespace {

std::string failure(const std::string& path, int err) {
    return path + ": " + std::strerror(err) + " (user " + running_user() + ")";
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

// A small file read whole; false when it cannot be opened (or is not a regular file).
bool read_small(const std::string& path, std::string& out, int& err) {
    // O_NONBLOCK: a FIFO planted at the path must not stop us.
    Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
    if (f.fd < 0) {
        err = errno;
        return false;
    }
    struct stat st {};
    if (fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = EINVAL;
        return false;
    }
    char buf[4096];
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
        err = errno;
        return false;
    }
    out.assign(buf, static_cast<std::size_t>(n));
    return true;
}

} // namespace

std::string status_path(const std::string& pidfile) {
    constexpr std::string_view suffix = ".pid";
    if (pidfile.size() > suffix.size() &&
        pidfile.compare(pidfile.size() - suffix.size(), suffix.size(), suffix) == 0)
        return pidfile.substr(0, pidfile.size() - suffix.size()) + ".status";
    return pidfile + ".status";
}

PidFile::~PidFile() {
    if (fd_ < 0)
        return;
    // Unlinked while still locked: a filter-arc starting now either locked the old inode
    // (it failed: busy) or creates a new file.
    ::unlink(status_path(path_).c_str());
    ::unlink(path_.c_str());
    ::close(fd_);
}

std::string PidFile::open(const std::string& path) {
    // O_NOFOLLOW: the directory is writable by the filter's user; a symbolic link planted
    // there must not make us truncate another file.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0)
        return failure(path, errno);
    Fd guard{fd};
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return failure(path, errno);
    if (!S_ISREG(st.st_mode))
        return path + ": not a regular file";
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK) {
            std::string text, owner;
            int e = 0;
            if (read_small(path, text, e))
                owner = text.substr(0, text.find('\n'));
            return path + ": locked by " + (owner.empty() ? "another process" : "pid " + owner) +
                   " (another filter-arc with the same --pidfile)";
        }
        return failure(path, err);
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        return failure(path, errno);
    guard.fd = -1;
    fd_ = fd;
    path_ = path;
    return {};
}

std::string PidFile::write_status(std::string_view line) const {
    if (fd_ < 0)
        return "no pidfile";
    const std::string dst = status_path(path_);
    const std::string tmp = dst + ".tmp";
    ::unlink(tmp.c_str());
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                0644)};
    if (f.fd < 0)
        return failure(tmp, errno);
    std::string text(line);
    text += '\n';
    if (::write(f.fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return failure(tmp, errno);
    if (::rename(tmp.c_str(), dst.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return failure(dst, err);
    }
    return {};
}

LiveFilter live_filter(const std::string& pidfile) {
    LiveFilter out;
    Fd f{::open(pidfile.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)};
    if (f.fd < 0) {
        out.error =
            errno == ENOENT
                ? pidfile + ": no such file: is filter-arc running with --pidfile " + pidfile + "?"
                : failure(pidfile, errno);
        return out;
    }
    struct stat st {};
    if (fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        out.error = pidfile + ": not a regular file";
        return out;
    }
    // A lock we can take is a lock nobody holds: the filter that wrote the file is gone.
    if (::flock(f.fd, LOCK_SH | LOCK_NB) == 0) {
        out.error = pidfile + ": stale (no running filter-arc holds it)";
        return out;
    }
    char buf[32] = {};
    ssize_t n = ::pread(f.fd, buf, sizeof buf - 1, 0);
    long pid = 0;
    if (n <= 0 || std::sscanf(buf, "%ld", &pid) != 1 || pid <= 1) {
        out.error = pidfile + ": no pid in it";
        return out;
    }
    std::string cmdline;
    int err = 0;
    const std::string proc = "/proc/" + std::to_string(pid) + "/cmdline";
    if (!read_small(proc, cmdline, err)) {
        out.error = "pid " + std::to_string(pid) + " from " + pidfile + " is not running";
        return out;
    }
    std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
    std::string base =
        argv0.substr(argv0.rfind('/') == std::string::npos ? 0 : argv0.rfind('/') + 1);
    if (base.find("filter-arc") == std::string::npos) {
        out.error = "pid " + std::to_string(pid) + " from " + pidfile + " is " +
                    (argv0.empty() ? "not filter-arc" : argv0 + ", not filter-arc");
        return out;
    }
    out.pid = static_cast<pid_t>(pid);
    return out;
}

std::string status_value(std::string_view line, std::string_view key) {
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos)
            return {};
        std::string_view k = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 1;
        if (j < line.size() && line[j] == '"') {
            for (++j; j < line.size() && line[j] != '"'; ++j) {
                if (line[j] == '\\' && j + 1 < line.size())
                    ++j;
                value += line[j];
            }
            ++j;
        } else {
            while (j < line.size() && line[j] != ' ' && line[j] != '\n')
                value += line[j++];
        }
        if (k == key)
            return value;
        i = j;
    }
    return {};
}

} // namespace arcf::filter
