// SPDX-License-Identifier: ISC
#include "filter/shell/stats_file.hpp"

#include "filter/config/config_file.hpp"
#include "filter/pipeline/log.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace arcf::filter {

namespace {

std::string errno_text(int e) {
    return std::strerror(e);
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Closes a descriptor at scope end.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

std::uint64_t now_seconds() {
    return static_cast<std::uint64_t>(std::time(nullptr));
}

} // namespace

bool write_file_atomic(const std::string& path, std::string_view data, std::string& error) {
    std::string tmp = path + ".XXXXXX";
    std::vector<char> name(tmp.begin(), tmp.end());
    name.push_back('\0');
    Fd f{::mkstemp(name.data())};
    if (f.fd < 0) {
        error =
            path + ": cannot create a temporary file in " + dir_of(path) + ": " + errno_text(errno);
        return false;
    }
    const std::string tmp_path(name.data());
    auto fail = [&](const char* step) {
        error = path + ": " + step + " " + tmp_path + ": " + errno_text(errno);
        ::unlink(tmp_path.c_str());
        return false;
    };
    if (::fchmod(f.fd, 0644) != 0)
        return fail("cannot chmod");
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(f.fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail("cannot write");
        off += static_cast<std::size_t>(n);
    }
    // The data reaches the disk before the name does: after a crash the file is the old one
    // or the new one, never empty. The directory is not synced: a rename lost in a crash
    // leaves the old, complete file, and counters a moment old are no loss. (Each fsync costs
    // about 9 ms on the test VM; Exim mode pays one per delivery: README "Statistics".)
    if (::fsync(f.fd) != 0)
        return fail("cannot fsync");
    if (::rename(tmp_path.c_str(), path.c_str()) != 0)
        return fail("cannot rename");
    return true;
}

bool write_stats(const pipeline::StatsOptions& opts,
                 const pipeline::Stats& stats,
                 const pipeline::StatsMeta& meta,
                 std::string& error) {
    bool ok = true;
    std::string e;
    if (!opts.state_file.empty() &&
        !write_file_atomic(opts.state_file, pipeline::to_json(stats, meta), e)) {
        ok = false;
        error = e;
    }
    if (!opts.prometheus_file.empty() &&
        !write_file_atomic(opts.prometheus_file, pipeline::to_prometheus(stats, meta), e)) {
        error = ok ? e : error + "; " + e;
        ok = false;
    }
    return ok;
}

std::optional<pipeline::StatsFile> read_stats(const std::string& path, std::string& error) {
    std::string text;
    // read_config_file sizes its buffer by the cap (zeroed: 4 MiB, measurable per Exim
    // delivery), so the cap is the file's size plus room to grow while it is read.
    std::size_t cap = max_stats_file_bytes;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size >= 0)
        cap = std::min(cap, static_cast<std::size_t>(st.st_size) + 64 * 1024);
    if (!read_config_file(path, text, error, nullptr, cap))
        return std::nullopt;
    std::string why;
    auto f = pipeline::parse_stats_json(text, why);
    if (!f)
        error = path + ": " + why;
    return f;
}

bool merge_stats(const pipeline::StatsOptions& opts,
                 const pipeline::Stats& stats,
                 std::uint64_t now,
                 std::string& error) {
    if (opts.state_file.empty()) {
        // Nothing to merge into: the Prometheus file alone would count one delivery.
        return true;
    }
    const std::string lock_path = opts.state_file + ".lock";
    Fd lock{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
    if (lock.fd < 0) {
        error = lock_path + ": cannot open: " + errno_text(errno);
        return false;
    }
    // The lock file, not the state file: rename replaces the state file's inode, and a lock
    // on the old inode would not exclude the next writer.
    while (::flock(lock.fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            error = lock_path + ": cannot lock: " + errno_text(errno);
            return false;
        }
    }
    pipeline::StatsFile total;
    total.meta = {"exim", now, now};
    std::string note;
    struct stat st {};
    if (::stat(opts.state_file.c_str(), &st) == 0) {
        std::string why;
        if (auto f = read_stats(opts.state_file, why)) {
            total = std::move(*f);
        } else {
            const std::string bad = opts.state_file + ".bad";
            ::rename(opts.state_file.c_str(), bad.c_str());
            note = why + " (kept as " + bad + ", counting starts anew)";
        }
    } else if (errno != ENOENT) {
        error = opts.state_file + ": cannot stat: " + errno_text(errno);
        return false;
    }
    total.stats.merge(stats);
    total.meta.mode = "exim";
    total.meta.written = now;
    if (total.meta.started == 0)
        total.meta.started = now;
    const bool ok = write_stats(opts, total.stats, total.meta, error);
    if (!note.empty())
        error = error.empty() ? note : note + "; " + error;
    return ok; // the lock goes with the descriptor
}

StatsWriter::StatsWriter(boost::asio::io_context& io,
                         pipeline::StatsOptions opts,
                         Source source,
                         Log log)
    : opts_(std::move(opts)), source_(std::move(source)), log_(std::move(log)),
      started_(now_seconds()), timer_(io), usr1_(io, SIGUSR1) {
    arm();
    wait_signal();
}

void StatsWriter::configure(pipeline::StatsOptions opts) {
    opts_ = std::move(opts);
    arm();
}

void StatsWriter::arm() {
    timer_.cancel();
    if (opts_.interval == 0 || (opts_.state_file.empty() && opts_.prometheus_file.empty()))
        return;
    timer_.expires_after(std::chrono::seconds(opts_.interval));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return; // cancelled: configure() armed it anew
        write_now("interval");
        arm();
    });
}

void StatsWriter::wait_signal() {
    usr1_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        write_now("SIGUSR1");
        wait_signal();
    });
}

void StatsWriter::write_now(std::string_view why) {
    if (opts_.state_file.empty() && opts_.prometheus_file.empty())
        return;
    std::string error;
    pipeline::StatsMeta meta{"smtpd", started_, now_seconds()};
    if (write_stats(opts_, source_(), meta, error)) {
        if (!last_error_.empty())
            log_("event=stats status=ok file=" + quote_log(opts_.state_file));
        else if (why == "SIGUSR1")
            log_("event=stats status=written file=" + quote_log(opts_.state_file));
        last_error_.clear();
        return;
    }
    if (error != last_error_)
        log_("event=stats status=failed on=" + log_value(why) + " reason=" + quote_log(error));
    last_error_ = error;
}

} // namespace arcf::filter
