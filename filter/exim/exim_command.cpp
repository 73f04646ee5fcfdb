// SPDX-License-Identifier: ISC
// `filter-arc exim`: Exim transport_filter mode. One message on stdin (LF, no dot-stuffing),
// the sealed message on stdout; nothing ever on stderr (Exim merges it into the message),
// logs to syslog; exit 75 (EX_TEMPFAIL) defers the delivery on a temporary DNS failure.
//
// The same budgets as the smtpd mode (README, limits table): the message is read as a stream
// and kept in a Spool (memory up to [limits] spool-memory, then an unlinked temporary file), so
// memory does not grow with the message. A message over [limits] max-message-bytes, or with a
// line over exim_max_line_bytes, is not verified or sealed: it passes through unchanged except
// for our Authentication-Results (arc=none, with the reason) and the scrubbing of forged
// Authentication-Results and X-ARC-Context fields, which is never skipped (RFC 8601 §5).
#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/exim/exim_context.hpp"
#include "filter/pipeline/log.hpp"
#include "filter/pipeline/message.hpp"
#include "filter/pipeline/spool.hpp"
#include "filter/shell/blocking_dns.hpp"
#include "filter/shell/stats_file.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <iostream>
#include <syslog.h>
#include <unistd.h>

#include "text/ascii.hpp"

namespace arcf::filter {

namespace {

/// A line longer than this (without its end) makes the message "too large" (limits table:
/// "Exim line bytes"); RFC 5322 §2.1.1 allows 998.
constexpr std::size_t exim_max_line_bytes = 1024 * 1024;
constexpr std::size_t read_chunk = 64 * 1024;

void log_to_syslog(int prio, const std::string& line) {
    // The same bounded, escaped format as the smtpd mode's stderr (filter/pipeline/log.hpp).
    syslog(prio, "%s", bound_log_line(line).c_str());
}

// [log] facility and tag, as the smtpd mode's direct syslog uses them (filter-arc.toml(5)).
// Until the file is read (and when it cannot be) the defaults: mail, "filter-arc".
void use_syslog_identity(const LogOptions& log) {
    static std::string ident; // openlog(3) keeps the pointer
    closelog();
    ident = log.tag;
    openlog(ident.c_str(), LOG_PID, static_cast<int>(log.facility) << 3); // LOG_MAKEPRI's shift
}

// Counts this delivery into the [stats] state file under its lock (filter/shell/stats_file.hpp),
// so the counters mean the same as in smtpd mode; a failure is logged and changes nothing else.
// `o` null: the message was deferred because it could not be read or written.
void count_delivery(const Config& cfg, const pipeline::Outcome* o) {
    pipeline::Stats one;
    if (o != nullptr)
        one.record(*o);
    else
        one.record_failure("io_error");
    std::string error;
    merge_stats(cfg.stats, one, static_cast<std::uint64_t>(std::time(nullptr)), error);
    if (!error.empty())
        log_to_syslog(
            LOG_WARNING,
            LogLine().add("mode", "exim").add("event", "stats").add("reason", error).str());
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// The field name of a header line ("" for a continuation line or no colon).
std::string_view field_name(std::string_view line) {
    if (line.empty() || is_wsp(line[0]))
        return {};
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
        return {};
    auto name = line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    return name;
}

// Buffered blocking writes to stdout (Exim's pipe): Exim mode serves one message per process.
class Output {
  public:
    bool write(std::string_view d) {
        buf_.append(d);
        return buf_.size() < read_chunk || flush();
    }
    bool flush() {
        std::size_t off = 0;
        while (off < buf_.size()) {
            ssize_t w = ::write(1, buf_.data() + off, buf_.size() - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                ok_ = false;
                buf_.clear();
                return false;
            }
            off += static_cast<std::size_t>(w);
        }
        buf_.clear();
        return ok_;
    }
    bool ok() const { return ok_; }

  private:
    std::string buf_;
    bool ok_ = true;
};

// The rest of a message that is too large to verify, as a byte stream: header fields that must
// not reach the next hop are removed, everything else is copied. Past the limits we cannot
// tell our forged Authentication-Results from others without reading the field whole, so every
// Authentication-Results field there is removed (with scrub-forged-results), and every
// X-ARC-Context (Exim's own comes last in the header block).
class PassThrough {
  public:
    PassThrough(bool in_header, bool dropping, bool scrub_ar)
        : in_header_(in_header), dropping_(dropping), scrub_ar_(scrub_ar) {}

    bool feed(std::string_view data, Output& out) {
        while (!data.empty()) {
            if (!in_header_)
                return out.write(data);
            if (mid_line_) {
                auto nl = data.find('\n');
                std::size_t n = nl == std::string_view::npos ? data.size() : nl + 1;
                if (!drop_line_ && !out.write(data.substr(0, n)))
                    return false;
                if (nl != std::string_view::npos)
                    mid_line_ = false;
                data.remove_prefix(n);
                continue;
            }
            auto nl = data.find('\n');
            std::size_t n = nl == std::string_view::npos ? data.size() : nl + 1;
            head_.append(data.substr(0, n));
            data.remove_prefix(n);
            if (nl == std::string_view::npos && head_.size() < exim_max_line_bytes)
                continue; // not enough to decide yet
            if (!decide(nl != std::string_view::npos, out))
                return false;
        }
        return true;
    }

    bool finish(Output& out) {
        if (!head_.empty())
            return decide(true, out);
        return true;
    }

    std::size_t removed() const { return removed_; }

  private:
    bool decide(bool line_complete, Output& out) {
        std::string_view line(head_);
        std::string_view content = line;
        if (!content.empty() && content.back() == '\n')
            content.remove_suffix(1);
        if (!content.empty() && content.back() == '\r')
            content.remove_suffix(1);
        if (content.empty() && line_complete) {
            in_header_ = false; // the empty line ends the header block
            drop_line_ = false;
        } else if (is_wsp(content[0])) {
            drop_line_ = dropping_;
        } else {
            auto name = field_name(content);
            dropping_ = text::iequals(name, exim_context_field) ||
                        (scrub_ar_ && text::iequals(name, "Authentication-Results"));
            if (dropping_)
                ++removed_;
            drop_line_ = dropping_;
        }
        bool ok = drop_line_ || out.write(head_);
        mid_line_ = !line_complete && (head_.empty() || head_.back() != '\n');
        head_.clear();
        return ok;
    }

    bool in_header_;
    bool dropping_;
    bool scrub_ar_;
    bool mid_line_ = false;
    bool drop_line_ = false;
    std::string head_;
    std::size_t removed_ = 0;
};

} // namespace

int run_exim(std::vector<std::string> argv) {
    openlog("filter-arc", LOG_PID, LOG_MAIL);
    try {
        Args args(std::move(argv), {"-c", "--config", "--on-config-error"}, {});
        auto file = args.value("-c") ? args.value("-c") : args.value("--config");
        OnConfigError on_error = OnConfigError::defer;
        if (auto v = args.value("--on-config-error")) {
            auto e = parse_on_config_error(*v);
            if (!e)
                throw UsageError{"--on-config-error: \"" + *v + "\" is not defer or pass"};
            on_error = *e;
        }
        // The same start-up safety as the smtpd mode: a configuration that cannot be loaded
        // defers (exit 75: Exim retries, nothing is lost) or passes the message as the
        // built-in verify-only defaults would; either way the log says why.
        Config cfg = load_config_or_defaults(file.value_or(""), on_error);
        use_syslog_identity(cfg.log);
        if (!cfg.engine.config_error.empty()) {
            log_to_syslog(LOG_ERR, LogLine()
                                       .add("mode", "exim")
                                       .add("event", "config-error")
                                       .add("file", file.value_or("-"))
                                       .add("reason", cfg.engine.config_error)
                                       .add("action", to_string(on_error))
                                       .str());
            if (on_error == OnConfigError::defer)
                return exit_tempfail;
        }
        const EngineOptions& eo = cfg.engine;
        const std::string authserv_id =
            eo.authserv_id.empty() ? default_authserv_id() : eo.authserv_id;
        const auto started = std::chrono::steady_clock::now();

        const auto settings =
            std::make_shared<const pipeline::Settings>(message_settings(eo, authserv_id));
        // The envelope comes with X-ARC-Context, the last header field (set_envelope below).
        pipeline::Message msg(settings, pipeline::Envelope{},
                              static_cast<std::uint64_t>(std::time(nullptr)));
        Spool spool(eo.spool_memory_limit);

        // Our private context header: every copy is removed from the output; the last one is
        // Exim's (headers_add appends; the ACL and headers_remove drop a sender's copies).
        EximContext ctx;
        std::string ctx_value;
        std::string ctx_problem;
        std::size_t ctx_fields = 0;
        bool in_ctx = false;
        bool ctx_done = false;
        auto conclude_context = [&] {
            if (ctx_done)
                return;
            ctx_done = true;
            if (ctx_fields == 0) {
                ctx_problem = "no X-ARC-Context field";
                return;
            }
            auto parsed = parse_exim_context(ctx_value);
            if (parsed.context)
                ctx = std::move(*parsed.context);
            else
                ctx_problem = "X-ARC-Context refused: " + parsed.problem;
        };
        bool envelope_set = false;
        auto start_auth = [&] {
            if (envelope_set)
                return;
            envelope_set = true;
            conclude_context();
            pipeline::Envelope env{ctx.ip, ctx.helo, ctx.from, ctx.auth, {}};
            if (!ctx.rcpt.empty())
                env.rcpts.push_back(ctx.rcpt);
            msg.set_envelope(std::move(env));
        };

        std::size_t total = 0;
        bool last_has_nl = true;
        bool spool_failed = false;
        std::string too_large; // why the message is not processed

        // One input line (raw: a CR before the LF stays), without its LF. False: too large.
        auto take_line = [&](std::string_view raw, bool has_nl) {
            total += raw.size() + (has_nl ? 1 : 0);
            if (total > eo.max_message_bytes) {
                too_large = "message larger than limits.max-message-bytes";
                return false;
            }
            std::string_view line = raw;
            if (has_nl && !line.empty() && line.back() == '\r')
                line.remove_suffix(1); // only before LF, as mail::for_each_line reads it back
            if (!msg.headers_done()) {
                if (in_ctx && !line.empty() && is_wsp(line[0])) {
                    if (ctx_value.size() <= max_exim_context_bytes)
                        ctx_value.append(line);
                    return true;
                }
                in_ctx = false;
                if (text::iequals(field_name(line), exim_context_field)) {
                    in_ctx = true;
                    ++ctx_fields;
                    ctx_value = std::string(
                        line.substr(line.find(':') + 1).substr(0, max_exim_context_bytes + 1));
                    return true;
                }
                if (line.empty())
                    start_auth(); // the header block ends: the context is complete
            }
            if (!spool.append(raw))
                spool_failed = true;
            last_has_nl = has_nl;
            msg.add_line(line);
            return true;
        };

        // Read and split into lines until EOF or the message turns out too large.
        std::string buf;
        std::size_t off = 0;
        bool eof = false;
        while (!eof && too_large.empty()) {
            char chunk[read_chunk];
            ssize_t n = ::read(0, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                log_to_syslog(LOG_ERR, LogLine()
                                           .add("mode", "exim")
                                           .add("event", "read-error")
                                           .add("reason", std::strerror(errno))
                                           .add("action", "defer")
                                           .str());
                return exit_tempfail;
            }
            if (n == 0)
                eof = true;
            buf.erase(0, off);
            off = 0;
            buf.append(chunk, static_cast<std::size_t>(n));
            while (too_large.empty()) {
                auto nl = buf.find('\n', off);
                if (nl == std::string::npos)
                    break;
                if (!take_line(std::string_view(buf).substr(off, nl - off), true))
                    break; // this line starts the pass-through
                off = nl + 1;
            }
            if (too_large.empty() && buf.size() - off > exim_max_line_bytes)
                too_large = "a line longer than " + std::to_string(exim_max_line_bytes) + " bytes";
            if (eof && too_large.empty() && off < buf.size()) {
                if (take_line(std::string_view(buf).substr(off), false))
                    off = buf.size();
            }
        }
        if (spool_failed) {
            log_to_syslog(LOG_ERR,
                          LogLine()
                              .add("mode", "exim")
                              .add("event", "spool-error")
                              .add("reason", "cannot spill the message to a temporary file")
                              .add("action", "defer")
                              .str());
            return exit_tempfail;
        }

        Output out;
        if (!too_large.empty()) {
            // Not verified, not sealed; scrubbing and our Authentication-Results still happen.
            const bool header_open = !msg.headers_done();
            msg.skip_verification(too_large);
            msg.end_of_data();
            if (!header_open)
                conclude_context();
            const pipeline::Outcome o = msg.finish();
            LogLine log;
            log.add("mode", "exim");
            if (!eo.config_error.empty())
                log.add("config_error", eo.config_error);
            for (const auto& [k, v] : o.log)
                log.add(k, v);
            std::string eol = "\n";
            bool first = true;
            std::size_t index = 0;
            const std::vector<std::string>& ar = o.added_lines;
            auto removed = [&](std::size_t i) {
                return i < o.removed_lines.size() && o.removed_lines[i];
            };
            bool ok = true;
            bool replayed = spool.replay([&](std::string_view raw) {
                if (first) {
                    first = false;
                    if (!raw.empty() && raw.back() == '\r')
                        eol = "\r\n";
                    for (const auto& l : ar)
                        ok = ok && out.write(l) && out.write(eol);
                }
                if (!removed(index))
                    ok = ok && out.write(raw) && out.write("\n");
                ++index;
            });
            if (first)
                for (const auto& l : ar)
                    ok = ok && out.write(l) && out.write(eol);
            // A field cut by the limit continues as it began: removed or kept.
            const bool dropping = in_ctx || (index > 0 && removed(index - 1));
            PassThrough rest(header_open, dropping, eo.scrub_forged);
            ok = ok && replayed && rest.feed(std::string_view(buf).substr(off), out);
            while (ok && !eof) {
                char chunk[read_chunk];
                ssize_t n = ::read(0, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    eof = true;
                    ok = n == 0;
                    break;
                }
                ok = rest.feed(std::string_view(chunk, static_cast<std::size_t>(n)), out);
            }
            ok = ok && rest.finish(out) && out.flush();
            log.add("size", static_cast<unsigned long long>(total));
            if (rest.removed() > 0)
                log.add("removed_past_limit", static_cast<unsigned long long>(rest.removed()));
            if (!ctx_problem.empty())
                log.add("context", ctx_problem);
            count_delivery(cfg, ok ? &o : nullptr);
            if (!ok) {
                log_to_syslog(LOG_ERR, log.add("action", "defer")
                                           .add("reason", "cannot read or write the message")
                                           .str());
                return exit_tempfail;
            }
            log_to_syslog(LOG_INFO, log.add("action", "deliver").str());
            return exit_ok;
        }

        start_auth(); // a message without an empty line after its header block
        msg.end_of_data();
        {
            // Every question by id, round after round, within the message deadline; what is
            // missing then is temporary.
            KeySourceOptions ks;
            if (!cfg.resolver.ares.servers.empty())
                ks.dns_server = cfg.resolver.ares.servers;
            ks.timeout_ms = eo.message_deadline_ms;
            pipeline::resolve_blocking(msg, make_record_source(ks),
                                       started + std::chrono::milliseconds(eo.message_deadline_ms));
        }
        pipeline::Outcome r = msg.finish();
        LogLine log;
        log.add("mode", "exim");
        if (!eo.config_error.empty())
            log.add("config_error", eo.config_error);
        for (const auto& [k, v] : r.log)
            log.add(k, v);
        if (!ctx_problem.empty())
            log.add("context", ctx_problem);
        log.add("size", static_cast<unsigned long long>(total));
        if (spool.spilled())
            log.add("spooled", "disk");
        if (r.disposition != pipeline::Disposition::deliver) {
            count_delivery(cfg, &r);
            log_to_syslog(LOG_WARNING, log.add("action", "defer").str());
            return exit_tempfail; // Exim defers and retries later
        }
        // Added header lines use the message's own line ending (Exim: LF).
        std::string eol = "\n";
        bool first = true;
        bool ok = true;
        std::size_t index = 0;
        const std::size_t count = spool.lines();
        auto put_added = [&] {
            for (const auto& l : r.added_lines)
                ok = ok && out.write(l) && out.write(eol);
        };
        bool replayed = spool.replay([&](std::string_view raw) {
            if (first) {
                first = false;
                if (!raw.empty() && raw.back() == '\r' && (count > 1 || last_has_nl))
                    eol = "\r\n";
                put_added();
            }
            if (!(index < r.removed_lines.size() && r.removed_lines[index])) {
                ok = ok && out.write(raw);
                if (index + 1 < count || last_has_nl)
                    ok = ok && out.write("\n");
            }
            ++index;
        });
        if (first)
            put_added();
        const bool written = replayed && ok && out.flush();
        count_delivery(cfg, written ? &r : nullptr);
        if (!written) {
            log_to_syslog(LOG_ERR, log.add("action", "defer")
                                       .add("error", "cannot read back or write the message")
                                       .str());
            return exit_tempfail;
        }
        log_to_syslog(LOG_INFO, log.add("action", "deliver").str());
        return exit_ok;
    } catch (const UsageError& e) {
        log_to_syslog(LOG_ERR, LogLine().add("mode", "exim").add("error", e.message).str());
        return exit_tempfail;
    } catch (const ConfigError& e) {
        log_to_syslog(LOG_ERR, LogLine().add("mode", "exim").add("error", e.message).str());
        return exit_tempfail;
    } catch (const std::exception& e) {
        log_to_syslog(LOG_ERR, LogLine().add("mode", "exim").add("error", e.what()).str());
        return exit_tempfail;
    }
}

} // namespace arcf::filter
