// SPDX-License-Identifier: ISC
// OpenSMTPD filter shell: executes the Engine's actions; owns no policy.
#include "filter/shell/smtpd_shell.hpp"

#include "dns/lookup.hpp"
#include "filter/config/startup_line.hpp"
#include "filter/pipeline/log.hpp"
#include "filter/shell/log_writer.hpp"
#include "filter/shell/pidfile.hpp"
#include "filter/shell/resolver_set.hpp"
#include "filter/shell/stats_file.hpp"
#include "filter/shell/syslog_writer.hpp"

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
// Output is queued for writing as soon as this much has accumulated; a message's replay is
// pulled from the engine in chunks of this size as stdout drains (issue 15, class 6a).
constexpr std::size_t output_batch = 64 * 1024;
// One write takes at most this many queued items and bytes (writev's limit is 1024 buffers).
constexpr std::size_t max_gather_items = 64;
constexpr std::size_t max_gather_bytes = 4 * output_batch;
// Handlers run in one turn of the loop before its output is written: a steady stream of
// ready events (input that is always there) cannot hold a small answer back for long.
constexpr std::size_t max_turn_handlers = 64;

using Clock = asio::steady_timer::clock_type;

// epoll accepts sockets (smtpd's socketpair), pipes and terminals; regular files and
// /dev/null are read and written synchronously instead.
bool is_regular(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return true;
    return !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode) || isatty(fd));
}

class Shell {
  public:
    Shell(const Config& cfg, std::string path, const StartupOptions& startup)
        : path_(std::move(path)), on_config_error_(startup.on_config_error),
          config_error_(cfg.engine.config_error), resolver_options_(cfg.resolver),
          stats_options_(cfg.stats), engine_(cfg.engine),
          resolvers_(dns::make_resolver(io_, cfg.resolver), dns::post_to(io_)), in_(io_), out_(io_),
          signals_(io_, SIGTERM, SIGINT), hup_(io_, SIGHUP), log_(2), log_fd_(io_) {
        if (log_.nonblocking())
            log_fd_.assign(::dup(2));
        use_log_options(cfg);
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
        start_safety(startup);
    }

    int run() {
        read_more();
        while (!stopped_) {
            try {
                turn_loop();
                break;
            } catch (const std::exception& e) {
                // A bug (or std::bad_alloc) must not take smtpd down with us, nor leave the
                // loop deaf: log it, then resume reading and writing where they stopped
                // (issue 15, class 5). The engine defers the message it concerned itself.
                log_line("event=internal-error reason=" + quote_log(e.what()));
                io_.restart();
                resume();
            }
        }
        log_.drain(1000); // what smtpd has not read yet, if it reads within a second
        return 0;
    }

  private:
    // The event loop, one turn at a time: wait for an event, run it and up to max_turn_handlers
    // more that are ready (DNS answers from the cache, the next read, ...), then write what they
    // produced. Output and log lines of a whole turn leave in one write each instead of one
    // per message: every write is a system call and, on smtpd's side, a wake-up.
    void turn_loop() {
        while (!stopped_) {
            flush();
            if (io_.run_one() == 0)
                return; // stopped, or nothing left to wait for
            for (std::size_t n = 0; n < max_turn_handlers && !stopped_ && io_.poll_one() > 0; ++n) {
            }
        }
    }

    // The end of a turn: start writing queued output unless a write is under way, and hand
    // the turn's log lines to stderr.
    void flush() {
        if (!writing_ && !queue_.empty())
            write_next(); // the log lines first
        flush_log();
    }

    // Log lines queued so far go out before anything that makes them observable as done: an
    // answer on stdout (smtpd, and whoever watches it, then finds the message's line in the
    // log) or the status file `filter-arc reload` waits for.
    void flush_log() {
        if (syslog_ || log_.pending() == 0)
            return;
        log_.flush();
        wait_log_writable();
    }

    // stderr is a socket smtpd relays to its log, one line per event. The line is bounded and
    // queued, and written at the end of the turn (or sooner when much is queued); a reader
    // that does not keep up never blocks the loop (filter/shell/log_writer.hpp).
    // With [log] destination = "syslog" the lines go there instead, a priority each
    // (filter/shell/syslog_writer.hpp).
    void log_line(const std::string& line) {
        if (syslog_) {
            syslog_->write_line(line);
            return;
        }
        log_.add_line(line);
    }

    // [log] and the start-up line's summary of a configuration now in force. A syslog socket
    // that cannot be reached is said once on stderr, which smtpd records whatever happens.
    void use_log_options(const Config& c) {
        start_summary_ = start_summary(c, path_);
        syslog_.reset();
        if (c.log.destination != LogOptions::Destination::syslog)
            return;
        syslog_ = std::make_unique<SyslogWriter>(
            SyslogIdentity{c.log.facility, c.log.tag, c.log.rfc5424, {}, 0}, c.log.socket);
        if (!syslog_->connected()) {
            log_.write_line("event=log-error destination=syslog socket=" + log_value(c.log.socket) +
                            " reason=" + quote_log(syslog_->last_error()) +
                            " (retrying every second)");
            wait_log_writable();
        }
    }

    // event=start once smtpd's handshake is complete, and after every successful reload
    // (filter/config/startup_line.hpp).
    void log_start(std::string_view trigger) {
        log_line(start_line(
            StartFacts{FILTER_ARC_VERSION, trigger, engine_.protocol(), engine_.smtpd_version()},
            start_summary_));
    }

    void wait_log_writable() {
        if (log_waiting_ || !log_fd_.is_open() || log_.pending() == 0)
            return;
        log_waiting_ = true;
        log_fd_.async_wait(asio::posix::stream_descriptor::wait_write,
                           [this](const boost::system::error_code& ec) {
                               log_waiting_ = false;
                               if (ec)
                                   return;
                               log_.flush();
                               wait_log_writable();
                           });
    }

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
        ++reloads_;
        if (path_.empty()) {
            log_line("event=reload status=ignored reason=\"started without -c\"");
            write_status("ignored", "started without -c");
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
                // Queries in flight still complete (or are cancelled) through the old
                // resolver, which is freed after its last one (filter/shell/resolver_set.hpp).
                resolvers_.replace(dns::make_resolver(io_, next.resolver));
                resolver_options_ = next.resolver;
            }
            engine_.reconfigure(next.engine);
            use_log_options(next);
            stats_.configure(next.stats);
            reload_ok();
            if (engine_.ready())
                log_start("reload");
        } catch (const ConfigError& e) {
            reload_failed(e.message);
        } catch (const std::exception& e) {
            reload_failed(e.what());
        }
    }

    // ---- start-up safety: a configuration that cannot be loaded degrades, never exits ----
    // (smtpd exits when a filter does: protocol notes §0). Degraded means the built-in
    // defaults, with every message deferred or passed (EngineOptions::config_error).

    void start_safety(const StartupOptions& startup) {
        if (!startup.pidfile.empty()) {
            auto err = pidfile_.open(startup.pidfile);
            if (!err.empty())
                log_line("event=pidfile status=failed reason=" + quote_log(err) +
                         " action=continue");
        }
        if (config_error_.empty()) {
            write_status("started", "");
            return;
        }
        degraded_since_ = Clock::now();
        degraded_log_interval_ = startup.degraded_log_interval;
        log_config_error();
        arm_degraded_timer();
        write_status("degraded", config_error_);
    }

    void log_config_error() {
        LogLine l;
        l.add("event", "config-error")
            .add("file", path_.empty() ? "-" : path_)
            .add("reason", config_error_)
            .add("action", to_string(on_config_error_));
        if (degraded_since_ != Clock::time_point{}) {
            auto s =
                std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - degraded_since_);
            if (s.count() > 0)
                l.add("degraded_s", static_cast<unsigned long long>(s.count()));
        }
        log_line(l.str());
    }

    void arm_degraded_timer() {
        degraded_timer_.expires_after(degraded_log_interval_);
        degraded_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || config_error_.empty())
                return;
            log_config_error();
            arm_degraded_timer();
        });
    }

    void reload_ok() {
        const bool recovered = !config_error_.empty();
        config_error_.clear();
        degraded_timer_.cancel();
        log_line("event=reload status=ok file=" + quote_log(path_) +
                 (recovered ? " recovered=yes" : ""));
        write_status("ok", "");
    }

    void reload_failed(const std::string& why) {
        if (config_error_.empty()) {
            log_line("event=reload status=failed reason=" + quote_log(why) +
                     " kept=running-configuration");
            write_status("failed", why);
            return;
        }
        // Still degraded: the messages go on as before, now logged with the newest problem.
        config_error_ = why;
        engine_.reconfigure(degraded_config(path_, why, on_config_error_).engine);
        log_line("event=reload status=failed reason=" + quote_log(why) +
                 " kept=degraded action=" + std::string(to_string(on_config_error_)));
        write_status("failed", why);
    }

    // The status file `filter-arc reload` waits for (filter/shell/pidfile.hpp).
    void write_status(std::string_view status, const std::string& reason) {
        if (!pidfile_.held())
            return;
        flush_log();
        LogLine l;
        l.add("pid", static_cast<unsigned long long>(::getpid()))
            .add("reloads", static_cast<unsigned long long>(reloads_))
            .add("status", status)
            .add("time", static_cast<unsigned long long>(std::time(nullptr)))
            .add("file", path_.empty() ? "-" : path_)
            .add("degraded", config_error_.empty() ? "no" : "yes");
        if (!reason.empty())
            l.add("reason", reason);
        auto err = pidfile_.write_status(l.str());
        if (!err.empty() && !status_error_logged_) {
            status_error_logged_ = true;
            log_line("event=pidfile status=failed reason=" + quote_log(err) + " action=continue");
        }
    }

    // After an exception escaped a handler: whatever was in progress is not anymore.
    void resume() {
        if (stopped_)
            return;
        asio::post(io_, [this] {
            if (!write_in_flight_)
                write_next(); // writes what waits, else reads on (or stops at EOF)
        });
    }

    void stop(const char* why) {
        if (stopped_)
            return;
        stopped_ = true;
        stats_.write_now("stop");
        log_line(std::string("event=stop reason=") + log_value(why));
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
        paused_ = false;
        while (true) {
            if (pending_output_ > max_pending_output) {
                paused_ = true;
                break;
            }
            auto nl = line_buf_.find('\n', line_pos_);
            if (nl == std::string::npos)
                break;
            // Progress is kept before the engine sees the line: after an exception the loop
            // resumes with the next line, never hands the same one over twice.
            const std::size_t start = line_pos_;
            line_pos_ = nl + 1;
            engine_.on_line(std::string_view(line_buf_).substr(start, nl - start), now, acts);
            if (acts.output.size() >= output_batch || !acts.replays.empty()) {
                apply(acts);
                acts = Actions{};
            }
        }
        line_buf_.erase(0, line_pos_);
        line_pos_ = 0;
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
        if (acts.handshake_done)
            log_start("handshake");
        for (const auto& l : acts.logs)
            log_line(l);
        for (auto id : acts.cancels)
            resolvers_.cancel(id);
        for (auto& q : acts.queries) {
            QueryId id = q.id;
            resolvers_.query(id, q.type, q.name, [this, id](dns::Answer a) {
                Actions next;
                engine_.on_answer(id, a, next);
                apply(next);
            });
        }
        for (const auto& d : acts.deadlines)
            add_deadline(d.message, d.ms);
        if (acts.replays.empty()) {
            if (!acts.output.empty())
                write(std::move(acts.output));
            return;
        }
        // Lines before each replay, the replay, and so on: a session's lines stay in order.
        std::size_t from = 0;
        for (auto& p : acts.replays) {
            if (p.at > from)
                write(acts.output.substr(from, p.at - from));
            from = p.at;
            enqueue(std::move(p.replay));
        }
        if (from < acts.output.size())
            write(acts.output.substr(from));
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

    // A chunk of output: text, or a message's replay pulled from the engine as it drains.
    struct Item {
        std::string text;
        std::unique_ptr<Replay> replay;
        std::size_t counted = 0; ///< what this item adds to pending_output_ now
    };

    // Queued output is written at the end of the turn (flush()), or at once when a chunk's
    // worth waits, so a burst never holds more than that back.
    void write(std::string data) {
        pending_output_ += data.size();
        Item it;
        it.counted = data.size();
        it.text = std::move(data);
        queue_.push_back(std::move(it));
        if (!writing_ && pending_output_ >= output_batch)
            write_next();
    }

    // A replay counts its expected size as pending output, so the back-pressure below (stop
    // feeding the engine while max_pending_output waits) holds as when it was one string.
    void enqueue(std::unique_ptr<Replay> r) {
        Item it;
        it.counted = r->size_hint();
        pending_output_ += it.counted;
        it.replay = std::move(r);
        queue_.push_back(std::move(it));
        if (!writing_ && pending_output_ >= output_batch)
            write_next();
    }

    // An item's next bytes into its text: a replay gives one chunk at a time, so memory holds
    // one chunk whatever the message's size. False when the item is used up.
    bool fill(Item& it) {
        if (!it.text.empty())
            return true;
        if (!it.replay)
            return false;
        Actions acts;
        bool more = engine_.pull(*it.replay, it.text, output_batch, acts);
        if (!more) {
            pending_output_ -= it.counted; // the estimate is settled by what was written
            it.counted = 0;
            it.replay.reset();
        }
        pending_output_ += it.text.size();
        it.counted += it.text.size();
        apply(acts); // logs, when the replay failed
        return !it.text.empty();
    }

    // Written bytes of the front item leave the pending count; the item leaves when used up.
    void written_front() {
        Item& it = queue_.front();
        std::size_t n = it.text.size();
        it.text.clear();
        std::size_t take = std::min(n, it.counted);
        pending_output_ -= take;
        it.counted -= take;
        if (it.replay) {
            // What this chunk was worth of the replay's estimate also leaves the count.
            std::size_t hint = it.replay->size_hint();
            if (it.counted > hint) {
                pending_output_ -= it.counted - hint;
                it.counted = hint;
            }
            return;
        }
        pending_output_ -= it.counted;
        queue_.pop_front();
    }

    // Writes the front items together (one writev): whole texts up to max_gather_bytes, and a
    // replay's chunk last, since its next chunk must go before anything queued after it.
    void write_next() {
        writing_ = true; // also while a chunk is pulled: nothing re-enters here meanwhile
        while (!queue_.empty() && !fill(queue_.front())) {
            Item& it = queue_.front();
            pending_output_ -= it.counted;
            queue_.pop_front();
        }
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
        flush_log();
        gather_.clear();
        std::size_t bytes = 0, span = 0;
        // Indexes, not iterators: a failed pull logs through apply(), and a write() then adds
        // to the queue (a deque keeps its elements in place when it grows at the back).
        for (std::size_t i = 0;
             i < queue_.size() && gather_.size() < max_gather_items && bytes < max_gather_bytes;
             ++i) {
            Item& it = queue_[i];
            span = i + 1;
            if (!fill(it))
                continue; // used up: leaves with the items around it
            gather_.emplace_back(it.text.data(), it.text.size());
            bytes += it.text.size();
            if (it.replay)
                break;
        }
        if (out_regular_) {
            for (const auto& b : gather_) {
                const char* d = static_cast<const char*>(b.data());
                std::size_t off = 0;
                while (off < b.size()) {
                    ssize_t n = ::write(1, d + off, b.size() - off);
                    if (n <= 0) {
                        stop("write error");
                        return;
                    }
                    off += static_cast<std::size_t>(n);
                }
            }
            written(span);
            asio::post(io_, [this] { write_next(); });
            return;
        }
        write_in_flight_ = true;
        asio::async_write(out_, gather_,
                          [this, span](const boost::system::error_code& ec, std::size_t) {
                              write_in_flight_ = false;
                              if (ec) {
                                  stop("write error"); // smtpd is gone
                                  return;
                              }
                              written(span);
                              write_next();
                          });
    }

    // The first `span` items were written (the last one may be a replay with more to give).
    void written(std::size_t span) {
        for (std::size_t i = 0; i < span; ++i)
            written_front();
    }

    std::string path_;
    OnConfigError on_config_error_;
    std::string config_error_; ///< why the configuration could not be loaded; empty: healthy
    dns::ResolverOptions resolver_options_;
    pipeline::StatsOptions stats_options_; ///< at start (stats_ takes later ones on reload)
    asio::io_context io_;
    Engine engine_;
    ResolverSet resolvers_;
    asio::posix::stream_descriptor in_;
    asio::posix::stream_descriptor out_;
    asio::signal_set signals_;
    asio::signal_set hup_;
    std::array<char, read_chunk>
        read_buf_; // not zeroed: 16 pages untouched until a read fills them
    std::string line_buf_;
    std::deque<Item> queue_;
    std::vector<asio::const_buffer> gather_; ///< the items of the write under way
    std::size_t pending_output_ = 0;
    using Deadline = std::pair<Clock::time_point, MessageId>;
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    asio::steady_timer deadline_timer_{io_};
    Clock::time_point armed_ = Clock::time_point::max(); ///< when deadline_timer_ fires
    bool in_regular_ = false, out_regular_ = false;
    bool reading_ = false, writing_ = false, eof_ = false, stopped_ = false;
    bool write_in_flight_ = false; ///< an async_write is outstanding
    std::size_t line_pos_ = 0;     ///< lines of line_buf_ before this were handed to the engine
    bool paused_ = false;          ///< complete lines wait in line_buf_ until the output drains
    LogWriter log_;                ///< stderr
    std::unique_ptr<SyslogWriter> syslog_;  ///< [log] destination = "syslog": lines go there
    std::string start_summary_;             ///< the configuration part of event=start
    asio::posix::stream_descriptor log_fd_; ///< a dup of stderr, to wait until it is writable
    bool log_waiting_ = false;
    // Counters to [stats] files every interval, on SIGUSR1 and at stop (stats_file.hpp).
    StatsWriter stats_{io_, stats_options_,
                       [this]() -> const pipeline::Stats& { return engine_.stats(); },
                       [this](const std::string& l) { log_line(l); }};
    // Start-up safety and reload status.
    asio::steady_timer degraded_timer_{io_};
    Clock::time_point degraded_since_{};
    std::chrono::milliseconds degraded_log_interval_{std::chrono::seconds(60)};
    PidFile pidfile_;
    std::uint64_t reloads_ = 0;
    bool status_error_logged_ = false;
};

} // namespace

int run_smtpd_filter(const Config& config, const std::string& path, const StartupOptions& startup) {
    std::signal(SIGPIPE, SIG_IGN);
    Shell shell(config, path, startup);
    return shell.run();
}

} // namespace arcf::filter
