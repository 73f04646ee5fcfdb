// SPDX-License-Identifier: ISC
// OpenSMTPD filter shell: executes the Engine's actions; owns no policy.
#include "filter/smtpd_shell.hpp"

#include "dns/lookup.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <queue>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace arcf::filter {

namespace {

namespace asio = boost::asio;

constexpr std::size_t read_chunk = 64 * 1024;
// Output waiting for smtpd beyond which we stop reading, and stop handing lines already read to
// the engine: a burst of completed messages costs at most this much memory (plus one message).
constexpr std::size_t max_pending_output = 4 * 1024 * 1024;
// Output is queued for writing as soon as this much has accumulated.
constexpr std::size_t output_batch = 64 * 1024;

using Clock = asio::steady_timer::clock_type;

// epoll accepts sockets (smtpd's socketpair), pipes and terminals; regular files and
// /dev/null are read and written synchronously instead.
bool is_regular(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return true;
    return !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode) || isatty(fd));
}

void log_line(const std::string& line) {
    std::string l = line + "\n";
    // stderr is a socket smtpd relays to its log, one line per event.
    ssize_t ignored = ::write(2, l.data(), l.size());
    (void)ignored;
}

class Shell {
  public:
    Shell(const Config& cfg, std::string path)
        : path_(std::move(path)), resolver_options_(cfg.resolver), engine_(cfg.engine),
          resolver_(dns::make_resolver(io_, cfg.resolver)), in_(io_), out_(io_),
          signals_(io_, SIGTERM, SIGINT), hup_(io_, SIGHUP) {
        in_regular_ = is_regular(0);
        out_regular_ = is_regular(1);
        if (!in_regular_)
            in_.assign(::dup(0));
        if (!out_regular_)
            out_.assign(::dup(1));
        signals_.async_wait([this](const boost::system::error_code& ec, int) {
            if (!ec)
                stop("signal");
        });
        wait_hup();
    }

    int run() {
        read_more();
        while (!stopped_) {
            try {
                io_.run();
                break;
            } catch (const std::exception& e) {
                // A bug must not take smtpd down with us: log it and keep serving.
                log_line(std::string("event=internal-error reason=\"") + e.what() + "\"");
                io_.restart();
            }
        }
        return 0;
    }

  private:
    void wait_hup() {
        hup_.async_wait([this](const boost::system::error_code& ec, int) {
            if (ec)
                return;
            reload();
            wait_hup();
        });
    }

    // The whole file and every key load first; only a complete, valid configuration replaces
    // the running one. Messages in flight finish with the options they started with.
    void reload() {
        if (path_.empty()) {
            log_line("event=reload status=ignored reason=\"started without -c\"");
            return;
        }
        try {
            Config next = load_config(path_);
            if (next.resolver.ares.servers != resolver_options_.ares.servers ||
                next.resolver.ares.timeout != resolver_options_.ares.timeout ||
                next.resolver.ares.tries != resolver_options_.ares.tries ||
                next.resolver.cache_options.max_entries !=
                    resolver_options_.cache_options.max_entries ||
                next.resolver.cache_options.max_bytes !=
                    resolver_options_.cache_options.max_bytes) {
                auto fresh = dns::make_resolver(io_, next.resolver);
                // Queries in flight still complete through the old resolver.
                retired_.push_back(std::move(resolver_));
                resolver_ = std::move(fresh);
                resolver_options_ = next.resolver;
            }
            engine_.reconfigure(next.engine);
            log_line("event=reload status=ok file=\"" + path_ + "\"");
        } catch (const ConfigError& e) {
            log_line("event=reload status=failed reason=\"" + e.message +
                     "\" (keeping the running configuration)");
        } catch (const std::exception& e) {
            log_line(std::string("event=reload status=failed reason=\"") + e.what() +
                     "\" (keeping the running configuration)");
        }
    }

    void stop(const char* why) {
        if (stopped_)
            return;
        stopped_ = true;
        (void)why;
        io_.stop();
    }

    void read_more() {
        if (reading_ || eof_ || stopped_)
            return;
        if (pending_output_ > max_pending_output)
            return; // smtpd is not reading: wait for the queue to drain
        reading_ = true;
        if (in_regular_) {
            asio::post(io_, [this] {
                char buf[read_chunk];
                ssize_t n = ::read(0, buf, sizeof buf);
                on_read(n > 0 ? boost::system::error_code() : asio::error::eof,
                        n > 0 ? static_cast<std::size_t>(n) : 0, buf);
            });
            return;
        }
        in_.async_read_some(asio::buffer(read_buf_),
                            [this](const boost::system::error_code& ec, std::size_t n) {
                                on_read(ec, n, read_buf_.data());
                            });
    }

    void on_read(const boost::system::error_code& ec, std::size_t n, const char* data) {
        reading_ = false;
        if (n > 0)
            line_buf_.append(data, n);
        if (ec)
            eof_ = true; // EOF: smtpd is going away; flush what we owe and leave
        process_lines();
    }

    // Hands the complete lines read so far to the engine. Pauses, keeping the rest, while more
    // than max_pending_output waits for smtpd; write_next() resumes once it has been written.
    void process_lines() {
        Actions acts;
        auto now = static_cast<std::uint64_t>(std::time(nullptr));
        std::size_t start = 0;
        paused_ = false;
        while (true) {
            if (pending_output_ > max_pending_output) {
                paused_ = true;
                break;
            }
            auto nl = line_buf_.find('\n', start);
            if (nl == std::string::npos)
                break;
            engine_.on_line(std::string_view(line_buf_).substr(start, nl - start), now, acts);
            start = nl + 1;
            if (acts.output.size() >= output_batch) {
                apply(acts);
                acts = Actions{};
            }
        }
        line_buf_.erase(0, start);
        apply(acts);
        if (paused_)
            return;
        if (eof_) {
            if (pending_output_ == 0)
                stop("eof");
            return;
        }
        read_more();
    }

    void apply(Actions& acts) {
        for (const auto& l : acts.logs)
            log_line(l);
        for (auto id : acts.cancels) {
            auto it = inflight_.find(id);
            if (it != inflight_.end()) {
                resolver_->cancel(it->second);
                inflight_.erase(it);
            }
        }
        for (auto& q : acts.queries) {
            QueryId id = q.id;
            auto rid = resolver_->query(q.type, q.name, [this, id](dns::Answer a) {
                inflight_.erase(id);
                Actions next;
                engine_.on_answer(id, a, next);
                apply(next);
            });
            inflight_[id] = rid;
        }
        for (const auto& d : acts.deadlines)
            add_deadline(d.message, d.ms);
        if (!acts.output.empty())
            write(std::move(acts.output));
    }

    // Message deadlines wait in a queue under one timer, armed for the earliest: nearly every
    // message finishes long before its deadline, and a timer object each would stay allocated
    // for the whole deadline (30 s by default, tens of thousands of them under load).
    void add_deadline(MessageId mid, std::uint32_t ms) {
        auto at = Clock::now() + std::chrono::milliseconds(ms);
        deadlines_.emplace(at, mid);
        if (at < armed_)
            arm_deadline_timer(at);
    }

    void arm_deadline_timer(Clock::time_point at) {
        armed_ = at;
        deadline_timer_.expires_at(at); // a wait already pending ends with operation_aborted
        deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                fire_deadlines();
        });
    }

    void fire_deadlines() {
        armed_ = Clock::time_point::max();
        const auto now = Clock::now();
        Actions next;
        while (!deadlines_.empty() && deadlines_.top().first <= now) {
            MessageId mid = deadlines_.top().second;
            deadlines_.pop();
            engine_.on_deadline(mid, next); // a message already finished is ignored
        }
        if (!deadlines_.empty())
            arm_deadline_timer(deadlines_.top().first);
        apply(next);
    }

    void write(std::string data) {
        pending_output_ += data.size();
        queue_.push_back(std::move(data));
        if (!writing_)
            write_next();
    }

    void write_next() {
        if (queue_.empty()) {
            writing_ = false;
            if (paused_)
                process_lines();
            else if (eof_)
                stop("eof");
            else
                read_more();
            return;
        }
        writing_ = true;
        if (out_regular_) {
            const std::string& d = queue_.front();
            std::size_t off = 0;
            while (off < d.size()) {
                ssize_t n = ::write(1, d.data() + off, d.size() - off);
                if (n <= 0) {
                    stop("write error");
                    return;
                }
                off += static_cast<std::size_t>(n);
            }
            pending_output_ -= d.size();
            queue_.pop_front();
            asio::post(io_, [this] { write_next(); });
            return;
        }
        asio::async_write(out_, asio::buffer(queue_.front()),
                          [this](const boost::system::error_code& ec, std::size_t) {
                              if (ec) {
                                  stop("write error"); // smtpd is gone
                                  return;
                              }
                              pending_output_ -= queue_.front().size();
                              queue_.pop_front();
                              write_next();
                          });
    }

    std::string path_;
    dns::ResolverOptions resolver_options_;
    asio::io_context io_;
    Engine engine_;
    std::unique_ptr<dns::Resolver> resolver_;
    asio::posix::stream_descriptor in_;
    asio::posix::stream_descriptor out_;
    asio::signal_set signals_;
    asio::signal_set hup_;
    std::vector<std::unique_ptr<dns::Resolver>> retired_;
    std::array<char, read_chunk> read_buf_{};
    std::string line_buf_;
    std::deque<std::string> queue_;
    std::size_t pending_output_ = 0;
    std::map<QueryId, dns::Resolver::QueryId> inflight_;
    using Deadline = std::pair<Clock::time_point, MessageId>;
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    asio::steady_timer deadline_timer_{io_};
    Clock::time_point armed_ = Clock::time_point::max(); ///< when deadline_timer_ fires
    bool in_regular_ = false, out_regular_ = false;
    bool reading_ = false, writing_ = false, eof_ = false, stopped_ = false;
    bool paused_ = false; ///< complete lines wait in line_buf_ until the output drains
};

} // namespace

int run_smtpd_filter(const Config& config, const std::string& path) {
    std::signal(SIGPIPE, SIG_IGN);
    Shell shell(config, path);
    return shell.run();
}

} // namespace arcf::filter
