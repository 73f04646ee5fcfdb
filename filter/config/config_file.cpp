// SPDX-License-Identifier: ISC
#include "filter/config/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

namespace arcf::filter {

namespace {

const char* kind(mode_t m) {
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

std::string failure(const std::string& path, const std::string& why) {
    return "cannot read " + path + ": " + why + " (user " + running_user() + ")";
}

} // namespace

std::string running_user() {
    const uid_t uid = ::geteuid();
    // getpwuid_r: the buffer is ours, so no static storage shared with other callers.
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
        found->pw_name != nullptr)
        return found->pw_name;
    return "uid " + std::to_string(uid);
}

bool read_config_file(const std::string& path,
                      std::string& out,
                      std::string& error,
                      struct stat* st_out,
                      std::size_t max_bytes) {
    out.clear();
    Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
    if (f.fd < 0) {
        error = failure(path, std::strerror(errno));
        return false;
    }
    struct stat st {};
    if (fstat(f.fd, &st) != 0) {
        error = failure(path, std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error = failure(path, std::string(kind(st.st_mode)) + ", not a regular file");
        return false;
    }
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
        error = failure(path, std::to_string(st.st_size) + " bytes, over the limit of " +
                                  std::to_string(max_bytes) + " bytes");
        return false;
    }
    if (st_out != nullptr)
        *st_out = st;
    // The file may grow while we read it: never more than max_bytes + 1. The buffer starts at
    // the size fstat() saw (plus room to notice growth) and doubles up to that bound, instead
    // of zero-filling the whole bound (1 MiB for the configuration) at every start.
    const std::size_t bound = max_bytes + 1;
    out.resize(std::min(bound, static_cast<std::size_t>(st.st_size) + 4096));
    std::size_t have = 0;
    while (have < bound) {
        if (have == out.size())
            out.resize(std::min(bound, 2 * out.size()));
        ssize_t n = ::read(f.fd, out.data() + have, out.size() - have);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = failure(path, std::strerror(errno));
            out.clear();
            return false;
        }
        have += static_cast<std::size_t>(n);
    }
    if (have > max_bytes) {
        error = failure(path, "over the limit of " + std::to_string(max_bytes) + " bytes");
        out.clear();
        return false;
    }
    out.resize(have);
    out.shrink_to_fit();
    return true;
}

} // namespace arcf::filter
