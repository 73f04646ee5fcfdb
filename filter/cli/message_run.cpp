// SPDX-License-Identifier: ISC
#include "filter/cli/message_run.hpp"

#include "dmarc/org_domain.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/log.hpp"

#include <chrono>

#include "mail/header.hpp"
#include "text/ascii.hpp"

namespace arcf::filter {

pipeline::Settings tool_settings(std::string authserv_id) {
    Config c = default_config();
    pipeline::Settings s = message_settings(c.engine, std::move(authserv_id));
    // As load_config completes a file's settings: DKIM uses the key policy, DMARC the
    // Public Suffix List (RFC 7489 §3.2).
    s.auth.keys = s.keys;
    if (s.auth.dmarc)
        s.auth.psl = std::make_shared<const dmarc::OrgDomain>(dmarc::OrgDomain::system());
    return s;
}

pipeline::Settings file_settings(const std::string& file, KeySourceOptions& ks) {
    Config c = load_config(file);
    if (!ks.zone_file && !ks.dns_server && !c.resolver.ares.servers.empty())
        ks.dns_server = c.resolver.ares.servers;
    const std::string id =
        c.engine.authserv_id.empty() ? default_authserv_id() : c.engine.authserv_id;
    return message_settings(c.engine, id);
}

std::string added_authentication_results(const pipeline::Outcome& o) {
    static constexpr std::string_view name = "Authentication-Results:";
    std::string out;
    bool in_field = false;
    for (const auto& l : o.added_lines) {
        const bool continuation = !l.empty() && (l[0] == ' ' || l[0] == '\t');
        if (!continuation) {
            if (in_field)
                break;
            in_field = l.size() >= name.size() && text::iequals(l.substr(0, name.size()), name);
            if (in_field) {
                std::string_view v = std::string_view(l).substr(name.size());
                while (!v.empty() && v.front() == ' ')
                    v.remove_prefix(1);
                out.append(v);
            }
            continue;
        }
        if (in_field) { // unfolded (RFC 5322 §2.2.3), each fold's white space as one space
            std::string_view v(l);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
                v.remove_prefix(1);
            out.append(" ").append(v);
        }
    }
    return out;
}

pipeline::Outcome run_message(std::shared_ptr<const pipeline::Settings> settings,
                              std::string_view message,
                              const pipeline::Lookup& lookup,
                              unsigned timeout_ms,
                              std::uint64_t now) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    pipeline::Message m(std::move(settings), pipeline::Envelope{}, now);
    mail::for_each_line(message, [&](std::string_view line) { m.add_line(line); });
    m.end_of_data();
    pipeline::resolve_blocking(m, lookup, deadline);
    return m.finish();
}

std::string delivered_text(std::string_view message, const pipeline::Outcome& o) {
    const auto first_lf = message.find('\n');
    const bool crlf =
        first_lf != std::string_view::npos && first_lf > 0 && message[first_lf - 1] == '\r';
    std::string out;
    for (const auto& l : o.added_lines)
        out.append(l).append(crlf ? "\r\n" : "\n");
    std::size_t index = 0;
    for (std::size_t pos = 0; pos < message.size(); ++index) {
        auto nl = message.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? message.size() : nl + 1;
        if (!(index < o.removed_lines.size() && o.removed_lines[index]))
            out.append(message.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

std::string tool_log_line(std::string_view mode, const pipeline::Outcome& o) {
    LogLine log;
    log.add("mode", mode);
    for (const auto& [k, v] : o.log)
        log.add(k, v);
    log.add("action", to_string(o.disposition));
    return bound_log_line(log.str());
}

} // namespace arcf::filter
