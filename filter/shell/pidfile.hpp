// SPDX-License-Identifier: ISC
// The running filter's pidfile and reload status file, for `filter-arc reload`.
//
// The filter (smtpd mode, --pidfile PATH) creates PATH, holds an exclusive flock(2) on it for
// its lifetime and writes its pid there; a second filter-arc given the same PATH finds it
// locked and runs without one (it says so in the log). Next to it, status_path(PATH) holds one
// key=value line that the filter rewrites (write + rename, so a reader never sees half a line)
// at start and after every SIGHUP:
//     pid=1234 reloads=2 status=ok|failed|degraded|ignored time=UNIX file=... reason="..."
// `filter-arc reload` reads `reloads=`, sends SIGHUP, and waits for it to grow.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace arcf::filter {

/// PATH with its ".pid" suffix replaced by ".status" (or ".status" appended).
std::string status_path(const std::string& pidfile);

class PidFile {
  public:
    PidFile() = default;
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;
    /// Removes the pidfile and the status file when this process holds the lock.
    ~PidFile();

    /// Creates (or reuses) `path`, locks it and writes our pid. Empty on success, else why not
    /// ("path: errno text (user U)", or "locked by pid N": another filter-arc uses it).
    std::string open(const std::string& path);
    bool held() const { return fd_ >= 0; }
    /// Replaces the status file with `line` (and a newline). Empty on success, else why not.
    std::string write_status(std::string_view line) const;

  private:
    int fd_ = -1;
    std::string path_;
};

/// What `filter-arc reload` knows about the pidfile's owner.
struct LiveFilter {
    pid_t pid = 0;
    std::string error; ///< empty when pid is a live filter-arc that holds the pidfile's lock
};
/// Reads `pidfile`; the pid counts only while some process holds the file's lock (else the
/// file is stale: the filter is gone) and /proc/PID/cmdline names filter-arc (never signal a
/// reused pid).
LiveFilter live_filter(const std::string& pidfile);

/// The value of `key` in a key=value line ("" when absent); values may be quoted.
std::string status_value(std::string_view line, std::string_view key);

} // namespace arcf::filter
