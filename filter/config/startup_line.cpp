// SPDX-License-Identifier: ISC
#include "filter/config/startup_line.hpp"

#include "filter/pipeline/log.hpp"

namespace arcf::filter {

std::string size_text(std::uint64_t bytes) {
    constexpr std::uint64_t kib = 1024, mib = kib * kib;
    if (bytes != 0 && bytes % mib == 0)
        return std::to_string(bytes / mib) + "MiB";
    if (bytes != 0 && bytes % kib == 0)
        return std::to_string(bytes / kib) + "KiB";
    return std::to_string(bytes);
}

std::string start_key_list(const Config& c, std::size_t budget) {
    const auto& keys = c.engine.policy.keys;
    std::string out;
    std::size_t shown = 0;
    for (const auto& [domain, key] : keys) {
        std::string one = key->domain + "/" + key->selector + "/" +
                          std::string(arc::to_string(key->key.algorithm()));
        if (key->key.type() == mail::KeyType::rsa)
            one += "/" + std::to_string(key->key.bits());
        const std::string rest_mark = ",+" + std::to_string(keys.size() - shown) + " more";
        // The last key needs no room for a mark; any other must leave room for one.
        const bool last = shown + 1 == keys.size();
        const std::size_t need = out.size() + (out.empty() ? 0 : 1) + one.size();
        if (need > budget || (!last && need + rest_mark.size() > budget))
            break;
        if (!out.empty())
            out.push_back(',');
        out += one;
        ++shown;
    }
    if (shown < keys.size())
        out += (out.empty() ? "+" : ",+") + std::to_string(keys.size() - shown) + " more";
    return out;
}

std::string start_summary(const Config& c, std::string_view path) {
    const Policy& p = c.engine.policy;
    // A file without [seal] keys verifies only, whatever `mode` says (filter-arc.toml(5)).
    const std::string_view mode = p.keys.empty() ? "verify" : to_string(p.mode);
    const dns::ResolverOptions& r = c.resolver;
    const EngineOptions& e = c.engine;
    LogLine l;
    l.add("config", path.empty() ? std::string_view("built-in") : path).add("mode", mode);
    if (!p.keys.empty()) {
        l.add("seal_when", to_string(p.seal_when))
            .add("keys", start_key_list(c))
            .add("default_key", p.default_domain);
    }
    l.add("resolvers", r.ares.servers.empty() ? std::string_view("system") : r.ares.servers)
        .add("dns", "timeout:" + std::to_string(r.ares.timeout.count()) +
                        "ms,tries:" + std::to_string(r.ares.tries) +
                        ",cache:" + (r.cache ? std::to_string(r.cache_options.max_entries) : "off"))
        .add("limits",
             "deadline:" + std::to_string(e.message_deadline_ms) + "ms,message:" +
                 size_text(e.max_message_bytes) + ",spool:" + size_text(e.spool_memory_limit) +
                 ",headers:" + std::to_string(e.max_header_fields) + "/" +
                 size_text(e.max_header_bytes) + ",sets:" + std::to_string(e.max_arc_sets) +
                 ",key_ops:" + std::to_string(e.keys.max_key_operations))
        .add("log", c.log.destination == LogOptions::Destination::syslog
                        ? "syslog:" + std::string(facility_name(c.log.facility))
                        : std::string("stderr"));
    return l.str();
}

std::string start_line(const StartFacts& f, std::string_view summary) {
    LogLine l;
    l.add("event", "start")
        .add("version", f.version)
        .add("trigger", f.trigger)
        .add("protocol", f.protocol.empty() ? std::string_view("unknown") : f.protocol)
        .add("smtpd", f.smtpd_version.empty() ? std::string_view("unknown") : f.smtpd_version);
    return bound_log_line(l.str() + " " + std::string(summary));
}

} // namespace arcf::filter
