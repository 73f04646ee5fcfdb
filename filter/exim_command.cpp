// SPDX-License-Identifier: ISC
// `filter-arc exim`: Exim transport_filter mode. One message on stdin (LF, no dot-stuffing),
// the sealed message on stdout; nothing ever on stderr (Exim merges it into the message),
// logs to syslog; exit 75 (EX_TEMPFAIL) defers the delivery on a temporary DNS failure.
#include "filter/cli.hpp"
#include "filter/config.hpp"
#include "filter/message_job.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <ctime>
#include <iostream>
#include <syslog.h>
#include <unistd.h>

namespace arcf::filter {

namespace {

constexpr std::string_view context_header = "x-arc-context";

struct Context {
    std::string ip, helo, from, auth, rcpt;
    std::string problem;
};

// "from=a@b.example; helo=client.example; auth=user; rcpt=x@y.example; ip=192.0.2.1" (the Exim
// configuration in etc/exim4 adds it with headers_add: tainted values are fine in a header,
// not as arguments). The client controls from=, helo= and the local part of rcpt=, and may put
// "; ip=..." inside them; Exim writes the keys in this order with ip= last, so the LAST
// occurrence of each key is Exim's own. ip= must also be an IP address.
Context parse_context(std::string_view value) {
    Context c;
    std::size_t pos = 0;
    auto trim = [](std::string_view v) {
        while (!v.empty() &&
               (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n'))
            v.remove_prefix(1);
        while (!v.empty() &&
               (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
            v.remove_suffix(1);
        return v;
    };
    while (pos < value.size()) {
        auto semi = value.find(';', pos);
        std::string_view item =
            trim(value.substr(pos, semi == std::string_view::npos ? semi : semi - pos));
        auto eq = item.find('=');
        if (eq != std::string_view::npos) {
            std::string key = arc::to_lower(trim(item.substr(0, eq)));
            std::string val(trim(item.substr(eq + 1)));
            if (key == "ip")
                c.ip = val;
            else if (key == "helo")
                c.helo = val;
            else if (key == "from")
                c.from = val;
            else if (key == "auth")
                c.auth = val;
            else if (key == "rcpt")
                c.rcpt = val;
        }
        if (semi == std::string_view::npos)
            break;
        pos = semi + 1;
    }
    unsigned char buf[16];
    if (!c.ip.empty() && inet_pton(AF_INET, c.ip.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, c.ip.c_str(), buf) != 1) {
        c.problem = "ip= is not an IP address: " + c.ip;
        c.ip.clear();
    }
    return c;
}

void log_to_syslog(int prio, const std::string& line) {
    syslog(prio, "%s", line.c_str());
}

} // namespace

int run_exim(std::vector<std::string> argv) {
    openlog("filter-arc", LOG_PID, LOG_MAIL);
    try {
        Args args(std::move(argv), {"-c", "--config"}, {"--help"});
        if (args.flag("--help")) {
            std::cout << "usage: filter-arc exim [-c FILE]   (Exim transport_filter)\n";
            return exit_ok;
        }
        auto file = args.value("-c") ? args.value("-c") : args.value("--config");
        Config cfg = file ? load_config(*file) : default_config();

        std::string message, err;
        if (!read_input("-", message, err)) {
            log_to_syslog(LOG_ERR, "exim: cannot read the message: " + err);
            return exit_tempfail;
        }
        // Find the header block and our private context header (the last one wins: Exim's
        // headers_add appends, so a copy forged by the sender sits above it). Every copy is
        // removed from the output.
        std::vector<std::pair<std::size_t, std::size_t>> cuts; // [begin, end) byte ranges
        Context ctx;
        std::size_t pos = 0;
        while (pos < message.size()) {
            auto nl = message.find('\n', pos);
            std::size_t end = nl == std::string::npos ? message.size() : nl + 1;
            std::string_view line(message.data() + pos, end - pos);
            if (line == "\n" || line == "\r\n")
                break;
            auto colon = line.find(':');
            if (colon != std::string_view::npos &&
                arc::iequals(line.substr(0, colon), context_header)) {
                std::size_t fend = end;
                while (fend < message.size() && (message[fend] == ' ' || message[fend] == '\t')) {
                    auto n2 = message.find('\n', fend);
                    fend = n2 == std::string::npos ? message.size() : n2 + 1;
                }
                ctx = parse_context(
                    std::string_view(message).substr(pos + colon + 1, fend - pos - colon - 1));
                cuts.emplace_back(pos, fend);
                pos = fend;
                continue;
            }
            pos = end;
        }
        std::string body_out;
        body_out.reserve(message.size());
        std::size_t from = 0;
        for (const auto& [b, e] : cuts) {
            body_out.append(message, from, b - from);
            from = e;
        }
        body_out.append(message, from, std::string::npos);

        const EngineOptions& eo = cfg.engine;
        JobOptions jo;
        const std::string authserv_id =
            eo.authserv_id.empty() ? default_authserv_id() : eo.authserv_id;
        jo.authserv_id = authserv_id;
        jo.trusted_authserv_ids = eo.trusted_authserv_ids;
        jo.seal = eo.seal;
        jo.verify.keys = eo.keys;
        jo.verify.now = static_cast<std::uint64_t>(std::time(nullptr));
        jo.verify.oldest_pass = eo.oldest_pass;
        jo.verify.max_sets = eo.max_arc_sets;
        jo.remote_ip = ctx.ip;
        jo.write_ar = eo.policy.mode != Mode::seal;
        jo.scrub_forged = eo.scrub_forged;
        jo.max_header_fields = eo.max_header_fields;
        jo.max_header_bytes = eo.max_header_bytes;
        MessageJob job(std::move(jo));
        // Sender authentication from what Exim told us in X-ARC-Context (client, HELO, MAIL
        // FROM, AUTH): the same SPF, DKIM and DMARC as in the OpenSMTPD mode.
        const auto started = std::chrono::steady_clock::now();
        SenderAuth auth(eo.auth, SenderContext{ctx.ip, ctx.helo, ctx.from, ctx.auth, authserv_id,
                                               static_cast<std::int64_t>(std::time(nullptr))});
        job.set_sender_auth(&auth);
        // Each line with its byte range, so removed fields can be cut from the output exactly.
        std::vector<std::pair<std::size_t, std::size_t>> line_ranges;
        std::vector<arc::KeyName> names;
        for (std::size_t p = 0; p < body_out.size();) {
            auto nl = body_out.find('\n', p);
            std::size_t end = nl == std::string::npos ? body_out.size() : nl + 1;
            std::size_t stop = nl == std::string::npos ? end : nl;
            if (nl != std::string::npos && stop > p && body_out[stop - 1] == '\r')
                --stop; // only before LF, as arc::for_each_line reads it back
            line_ranges.emplace_back(p, end);
            auto n = job.add_line(std::string_view(body_out).substr(p, stop - p));
            names.insert(names.end(), n.begin(), n.end());
            p = end;
        }
        auto n = job.end_of_data();
        names.insert(names.end(), n.begin(), n.end());
        auth.end_of_data();
        {
            // The ARC keys and the first sender-authentication lookups in one round, then the
            // lookups answers lead to (SPF includes, the DMARC organizational domain), all
            // within the message deadline; what is missing then is temporary.
            KeySourceOptions ks;
            if (!cfg.resolver.ares.servers.empty())
                ks.dns_server = cfg.resolver.ares.servers;
            ks.timeout_ms = eo.message_deadline_ms;
            auto source = make_record_source(ks);
            std::vector<dns::Question> qs;
            for (const auto& k : names)
                qs.emplace_back(dns::RecordType::txt, k.dns_name());
            auto pending = auth.take_queries();
            bool first = true;
            while (first || !pending.empty()) {
                auto used = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started);
                if (used.count() >= static_cast<long long>(eo.message_deadline_ms)) {
                    auth.on_deadline();
                    break;
                }
                for (const auto& q : pending)
                    qs.emplace_back(q.type, q.name);
                auto answers = qs.empty() ? std::vector<dns::Answer>{} : source(qs);
                if (first)
                    for (std::size_t i = 0; i < names.size() && i < answers.size(); ++i)
                        job.provide_key(names[i], answers[i]);
                std::size_t base = first ? names.size() : 0;
                for (std::size_t i = 0; i < pending.size() && base + i < answers.size(); ++i)
                    auth.on_answer(pending[i].id, answers[base + i]);
                first = false;
                qs.clear();
                pending = auth.take_queries();
            }
        }
        auth.conclude();
        if (!ctx.problem.empty())
            log_to_syslog(LOG_WARNING, "exim: X-ARC-Context: " + ctx.problem);
        Envelope env{ctx.ip, ctx.auth, ctx.from, {}};
        if (!ctx.rcpt.empty())
            env.rcpts.push_back(ctx.rcpt);
        std::shared_ptr<const arc::SealKey> key;
        if (wants_seal(eo.policy, env))
            key = choose_key(eo.policy, env, job.header_from());
        const bool auth_defer = auth.temperror() && eo.auth.temperror == TempErrorAction::defer;
        JobResult r = job.complete(key, auth_defer ? nullptr : &auth);
        if (auth_defer)
            r.tempfail = true;
        std::string log = "mode=exim ip=" + (ctx.ip.empty() ? std::string("-") : ctx.ip) +
                          " arc=" + std::string(arc::to_string(r.chain.status)) +
                          " sets=" + std::to_string(r.chain.sets) + " reason=\"" + r.chain.reason +
                          "\" sealed=" + (r.sealed ? "yes" : "no") + " seal=\"" + r.seal_note +
                          "\"";
        if (r.forged_removed > 0)
            log += " forged_ar_removed=" + std::to_string(r.forged_removed);
        if (r.written.total() > 0) // values too long for a header line (issue 15 class 2)
            log += " omitted_values=" + std::to_string(r.written.values_omitted) +
                   " omitted_results=" + std::to_string(r.written.results_omitted);
        for (const auto& [k, v] : auth.log_fields()) {
            std::string shown = v;
            std::replace(shown.begin(), shown.end(), '"', '\'');
            log += " " + k + "=\"" + shown + "\"";
        }
        if (r.tempfail) {
            log_to_syslog(LOG_WARNING, log + " action=defer");
            return exit_tempfail; // Exim defers and retries later
        }
        log_to_syslog(LOG_INFO, log + " action=deliver");
        // Added header lines use the message's own line ending (Exim: LF).
        bool crlf = !line_ranges.empty() && line_ranges[0].second >= 2 &&
                    body_out[line_ranges[0].second - 2] == '\r';
        std::string out;
        for (const auto& l : r.added_lines)
            out += l + (crlf ? "\r\n" : "\n");
        for (std::size_t i = 0; i < line_ranges.size(); ++i)
            if (!job.line_removed(i))
                out.append(body_out, line_ranges[i].first,
                           line_ranges[i].second - line_ranges[i].first);
        std::size_t off = 0;
        while (off < out.size()) {
            ssize_t w = ::write(1, out.data() + off, out.size() - off);
            if (w <= 0) {
                log_to_syslog(LOG_ERR, "exim: write to stdout failed");
                return exit_tempfail;
            }
            off += static_cast<std::size_t>(w);
        }
        return exit_ok;
    } catch (const UsageError& e) {
        log_to_syslog(LOG_ERR, "exim: " + e.message);
        return exit_tempfail;
    } catch (const ConfigError& e) {
        log_to_syslog(LOG_ERR, "exim: " + e.message);
        return exit_tempfail;
    } catch (const std::exception& e) {
        log_to_syslog(LOG_ERR, std::string("exim: ") + e.what());
        return exit_tempfail;
    }
}

} // namespace arcf::filter
