// SPDX-License-Identifier: ISC
// The table of every filter-arc.toml setting (see schema.hpp). A setting added here is loaded,
// printed by `check-config --print` and checked against filter-arc.toml(5) by the man-page test.
#include "filter/config/schema.hpp"

#include "arc/seal.hpp"
#include "filter/config/builder.hpp"
#include "filter/smtpd/reply.hpp"

#include <array>
#include <limits>

#include "text/ascii.hpp"

namespace arcf::filter {

namespace {

constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t int_max = std::numeric_limits<int>::max();

std::string flag(bool b) {
    return b ? "true" : "false";
}

std::string number(std::uint64_t v) {
    return std::to_string(v);
}

Mode to_mode(std::string_view v) {
    return v == "verify" ? Mode::verify : v == "seal" ? Mode::seal : Mode::both;
}

SealWhen to_when(std::string_view v) {
    return v == "trusted"             ? SealWhen::trusted
           : v == "recipient-domains" ? SealWhen::recipient_domains
                                      : SealWhen::all;
}

DomainSource to_source(std::string_view v) {
    return v == "envelope-from" ? DomainSource::envelope_from
           : v == "header-from" ? DomainSource::header_from
           : v == "recipient"   ? DomainSource::recipient
                                : DomainSource::fixed;
}

mail::Canon to_canon(std::string_view v) {
    if (v == "relaxed")
        return mail::Canon::relaxed;
    if (v == "simple")
        return mail::Canon::simple;
    throw InvalidValue{"relaxed or simple, e.g. \"relaxed/relaxed\""};
}

std::vector<std::string> split_servers(const std::string& csv) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < csv.size()) {
        auto comma = csv.find(',', start);
        if (comma == std::string::npos)
            comma = csv.size();
        out.push_back(csv.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

KeyEntry& current_key(ConfigBuilder& b) {
    return b.keys.back(); // the loader opens the entry before applying its settings
}

using V = const SettingValue&;
using C = const Config&;
using K = const arc::SealKey*;

// clang-format off
const Setting table[] = {
    // ---- top level ----
    {"", "authserv-id", Kind::string, "", "authserv-id of our Authentication-Results (RFC 8601 §2.5); empty: smtpd's admd, Exim: the host name",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.authserv_id = v.text; },
     [](C c, K) { return toml_string(c.engine.authserv_id); }},
    {"", "trusted-authserv-ids", Kind::string_list, "", "other authserv-ids of our ADMD whose results are copied into the AAR",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.trusted_authserv_ids = v.list; },
     [](C c, K) { return toml_list(c.engine.trusted_authserv_ids); }},
    {"", "mode", Kind::choice, "verify|seal|both", "verify (Authentication-Results only), seal (ARC sets only) or both",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.policy.mode = to_mode(v.text); },
     [](C c, K) { return toml_string(to_string(c.engine.policy.mode)); }},
    {"", "trusted-networks", Kind::string_list, "addresses or CIDR networks", "clients that are trusted (seal.when = \"trusted\")",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         auto& nets = b.config.engine.policy.trusted_networks;
         nets.clear();
         for (const auto& text : v.list) {
             auto n = Network::parse(text);
             if (!n)
                 throw InvalidValue{"\"" + text + "\" is not an address or CIDR network"};
             nets.push_back(*n);
         }
     },
     [](C c, K) {
         std::vector<std::string> nets;
         for (const auto& n : c.engine.policy.trusted_networks)
             nets.push_back(n.to_string());
         return toml_list(nets);
     }},
    {"", "trust-authenticated", Kind::boolean, "", "clients that authenticated with SMTP AUTH count as trusted",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.policy.trust_authenticated = v.boolean; },
     [](C c, K) { return flag(c.engine.policy.trust_authenticated); }},
    {"", "trusted-sealers-file", Kind::string, "a file of domain names", "domains whose ARC results we would honour (RFC 8617 §7.2.1), one per line; empty: none",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.config.trusted_sealers_file = v.text;
         b.sealers_where = b.where;
     },
     [](C c, K) { return toml_string(c.trusted_sealers_file); }},
    {"", "scrub-forged-results", Kind::boolean, "", "remove Authentication-Results with our authserv-id that came from the client (RFC 8601 §5)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.scrub_forged = v.boolean; },
     [](C c, K) { return flag(c.engine.scrub_forged); }},
    // ---- [authentication] ----
    {"authentication", "spf", Kind::boolean, "", "check SPF (RFC 7208) for MAIL FROM, or HELO without one",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.auth.spf = v.boolean; },
     [](C c, K) { return flag(c.engine.auth.spf); }},
    {"authentication", "dkim", Kind::boolean, "", "verify every DKIM-Signature (RFC 6376 §6)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.auth.dkim = v.boolean; },
     [](C c, K) { return flag(c.engine.auth.dkim); }},
    {"authentication", "dmarc", Kind::boolean, "", "evaluate DMARC (RFC 7489) with the ARC override (RFC 8617 §7.2.1)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.auth.dmarc = v.boolean; },
     [](C c, K) { return flag(c.engine.auth.dmarc); }},
    {"authentication", "temperror", Kind::choice, "defer|record", "on a DNS temporary error: defer the message, or record temperror",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.config.engine.auth.temperror = v.text == "record" ? TempErrorAction::record : TempErrorAction::defer;
     },
     [](C c, K) { return toml_string(to_string(c.engine.auth.temperror)); }},
    // ---- [seal] ----
    {"seal", "domain", Kind::string, "a domain name", "signing domain (d=) of the one-key form; with selector and key",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.seal_key.domain = v.text; }, nullptr},
    {"seal", "selector", Kind::string, "a domain name label", "selector (s=) of the one-key form; with domain and key",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.seal_key.selector = v.text; }, nullptr},
    {"seal", "key", Kind::string, "a PEM private key file, mode 0600", "private key file of the one-key form; with domain and selector",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.seal_key.file = v.text;
         b.seal_key.file_where = b.where;
     }, nullptr},
    {"seal", "keys", Kind::key_tables, "[[seal.keys]] tables", "one table per key: domain, selector, key, algorithm, state",
     0, 0, {}, nullptr, nullptr},
    {"seal", "when", Kind::choice, "all|trusted|recipient-domains", "which messages get an ARC set",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.config.engine.policy.seal_when = to_when(v.text);
         b.when_where = b.where;
     },
     [](C c, K) { return toml_string(to_string(c.engine.policy.seal_when)); }},
    {"seal", "recipient-domains", Kind::string_list, "domain names", "with when = \"recipient-domains\": seal mail to these domains",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         auto& out = b.config.engine.policy.seal_recipient_domains;
         out.clear();
         for (const auto& d : v.list)
             out.push_back(text::to_lower(d));
     },
     [](C c, K) { return toml_list(c.engine.policy.seal_recipient_domains); }},
    {"seal", "domain-from", Kind::choice, "fixed|envelope-from|header-from|recipient", "which key seals: the default domain's, or the one of this address's domain",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.policy.domain_source = to_source(v.text); },
     [](C c, K) { return toml_string(to_string(c.engine.policy.domain_source)); }},
    {"seal", "default-domain", Kind::string, "a configured signing domain", "the key used when domain-from gives no configured domain; default: the first key",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.default_domain = text::to_lower(v.text);
         b.default_domain_where = b.where;
     },
     [](C c, K) { return toml_string(c.engine.policy.default_domain); }},
    {"seal", "headers", Kind::string_list, "field names", "header fields the ARC-Message-Signature signs (h=)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.seal.signed_headers = v.list; },
     [](C c, K) { return toml_list(c.engine.seal.signed_headers); }},
    {"seal", "oversign", Kind::boolean, "", "sign each present field once more than it occurs, so none can be added",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.engine.seal.oversign = v.boolean; },
     [](C c, K) { return flag(c.engine.seal.oversign); }},
    {"seal", "canonicalization", Kind::string, "header/body, each relaxed or simple", "c= of the ARC-Message-Signature (RFC 6376 §3.4)",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         auto slash = v.text.find('/');
         std::string_view all = v.text;
         b.config.engine.seal.header_canon = to_canon(all.substr(0, slash));
         // RFC 6376 §3.5: a c= without "/" means the body is "simple".
         b.config.engine.seal.body_canon = to_canon(slash == std::string::npos ? "simple" : all.substr(slash + 1));
     },
     [](C c, K) {
         return toml_string(std::string(arc::to_string(c.engine.seal.header_canon)) + "/" +
                            std::string(arc::to_string(c.engine.seal.body_canon)));
     }},
    {"seal", "allow-readable-keys", Kind::boolean, "", "accept key files that group or others can read",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.allow_readable_keys = v.boolean; },
     [](C c, K) { return flag(c.allow_readable_keys); }},
    // ---- [[seal.keys]] ----
    {"seal.keys", "domain", Kind::string, "a domain name", "signing domain (d=)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { current_key(b).domain = v.text; },
     [](C, K k) { return toml_string(k->domain); }},
    {"seal.keys", "selector", Kind::string, "a domain name label", "selector (s=); the key record is at SELECTOR._domainkey.DOMAIN",
     0, 0, {},
     [](ConfigBuilder& b, V v) { current_key(b).selector = v.text; },
     [](C, K k) { return toml_string(k->selector); }},
    {"seal.keys", "key", Kind::string, "a PEM private key file, mode 0600", "private key file",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         current_key(b).file = v.text;
         current_key(b).file_where = b.where;
     },
     [](C c, K k) {
         const ConfiguredKey* ck = configured_key(c, k);
         return toml_string(ck == nullptr ? "" : ck->file);
     }},
    {"seal.keys", "algorithm", Kind::choice, "rsa-sha256|ed25519-sha256", "checked against the key file; default: the key's own",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         current_key(b).algorithm = v.text;
         current_key(b).algorithm_where = b.where;
     },
     [](C, K k) { return toml_string(arc::to_string(k->key.algorithm())); }},
    {"seal.keys", "state", Kind::choice, "active|published", "active: this domain's sealing key (exactly one per domain); published: never seals, testkey checks its record (rotation)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { current_key(b).state = v.text == "published" ? KeyState::published : KeyState::active; },
     [](C c, K k) {
         const ConfiguredKey* ck = configured_key(c, k);
         return toml_string(to_string(ck == nullptr ? KeyState::active : ck->state));
     }},
    // ---- [dns] ----
    {"dns", "servers", Kind::string_list, "ip[:port], [ipv6]:port", "resolvers to ask; empty: /etc/resolv.conf",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         std::string csv;
         for (const auto& s : v.list) {
             if (s.empty() || s.find(',') != std::string::npos)
                 throw InvalidValue{"\"" + s + "\" is not one ip[:port]"};
             csv += (csv.empty() ? "" : ",") + s;
         }
         b.config.resolver.ares.servers = csv;
     },
     [](C c, K) { return toml_list(split_servers(c.resolver.ares.servers)); }},
    {"dns", "timeout-ms", Kind::integer, "milliseconds", "first try's timeout; c-ares doubles it on each further round",
     1, u32_max, {},
     [](ConfigBuilder& b, V v) { b.config.resolver.ares.timeout = std::chrono::milliseconds(v.integer); },
     [](C c, K) { return number(static_cast<std::uint64_t>(c.resolver.ares.timeout.count())); }},
    {"dns", "tries", Kind::integer, "rounds", "rounds over the server list before a timeout",
     1, int_max, {},
     [](ConfigBuilder& b, V v) { b.config.resolver.ares.tries = static_cast<int>(v.integer); },
     [](C c, K) { return number(static_cast<std::uint64_t>(c.resolver.ares.tries)); }},
    {"dns", "message-deadline-ms", Kind::integer, "milliseconds", "from a message's first query: answers missing by then are temporary failures",
     0, u32_max, {},
     [](ConfigBuilder& b, V v) { b.config.engine.message_deadline_ms = static_cast<std::uint32_t>(v.integer); },
     [](C c, K) { return number(c.engine.message_deadline_ms); }},
    {"dns", "cache-entries", Kind::integer, "answers", "cache size in answers; 0 stores none",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.resolver.cache_options.max_entries = v.integer; },
     [](C c, K) { return number(c.resolver.cache_options.max_entries); }},
    {"dns", "cache-bytes", Kind::integer, "bytes", "cache size in bytes; 0 stores none",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.resolver.cache_options.max_bytes = v.integer; },
     [](C c, K) { return number(c.resolver.cache_options.max_bytes); }},
    // ---- [limits] ----
    {"limits", "min-rsa-bits", Kind::integer, "bits", "smaller RSA keys do not verify (RFC 8301 §3.2)",
     0, u32_max, {},
     [](ConfigBuilder& b, V v) { b.config.engine.keys.min_rsa_bits = static_cast<unsigned>(v.integer); },
     [](C c, K) { return number(c.engine.keys.min_rsa_bits); }},
    {"limits", "max-rsa-bits", Kind::integer, "bits", "larger RSA keys do not verify (CPU bound)",
     0, 16384, "OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS",
     [](ConfigBuilder& b, V v) { b.config.engine.keys.max_rsa_bits = static_cast<unsigned>(v.integer); },
     [](C c, K) { return number(c.engine.keys.max_rsa_bits); }},
    {"limits", "max-key-records", Kind::integer, "records", "records of one key answer that are tried",
     1, UINT64_MAX, "RFC 6376 §3.6.2.2",
     [](ConfigBuilder& b, V v) { b.config.engine.keys.max_key_records = v.integer; },
     [](C c, K) { return number(c.engine.keys.max_key_records); }},
    {"limits", "max-key-operations", Kind::integer, "verifications", "public-key operations per message (ARC and DKIM)",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.engine.keys.max_key_operations = v.integer; },
     [](C c, K) { return number(c.engine.keys.max_key_operations); }},
    {"limits", "spool-memory-bytes", Kind::integer, "bytes", "message bytes kept in memory before the spool goes to a file",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.engine.spool_memory_limit = v.integer; },
     [](C c, K) { return number(c.engine.spool_memory_limit); }},
    {"limits", "max-message-bytes", Kind::integer, "bytes", "larger messages pass unverified and unsealed",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.engine.max_message_bytes = v.integer; },
     [](C c, K) { return number(c.engine.max_message_bytes); }},
    {"limits", "max-header-fields", Kind::integer, "fields", "more header fields: not verified, not sealed",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.engine.max_header_fields = v.integer; },
     [](C c, K) { return number(c.engine.max_header_fields); }},
    {"limits", "max-header-bytes", Kind::integer, "bytes", "a larger header block: not verified, not sealed",
     0, UINT64_MAX, {},
     [](ConfigBuilder& b, V v) { b.config.engine.max_header_bytes = v.integer; },
     [](C c, K) { return number(c.engine.max_header_bytes); }},
    {"limits", "max-arc-sets", Kind::integer, "sets", "chains with more ARC sets fail",
     1, 50, "RFC 8617 §4.2.1",
     [](ConfigBuilder& b, V v) { b.config.engine.max_arc_sets = static_cast<std::uint32_t>(v.integer); },
     [](C c, K) { return number(c.engine.max_arc_sets); }},
    // ---- [smtpd] ----
    {"smtpd", "tempfail-reply", Kind::string, "a 4xx SMTP reply", "commit answer when a message is deferred (421 disconnects, 451 keeps the session)",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         if (!is_valid_reject_reply(v.text) || v.text[0] != '4')
             throw InvalidValue{"must be a 4xx SMTP reply such as \"451 4.7.0 try again later\""};
         b.config.engine.tempfail_reply = v.text;
     },
     [](C c, K) { return toml_string(c.engine.tempfail_reply); }},
    // ---- [log] ----
    {"log", "destination", Kind::choice, "stderr|syslog", "smtpd mode: stderr (smtpd records it at mail.err) or syslog datagrams with a priority per line",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         b.config.log.destination = v.text == "syslog" ? LogOptions::Destination::syslog
                                                       : LogOptions::Destination::stderr_stream;
     },
     [](C c, K) { return toml_string(to_string(c.log.destination)); }},
    {"log", "facility", Kind::choice, "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7", "syslog facility (destination = \"syslog\" and the Exim mode)",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.log.facility = facility_code(v.text).value_or(2); },
     [](C c, K) { return toml_string(facility_name(c.log.facility)); }},
    {"log", "tag", Kind::string, "1 to 32 of A-Z a-z 0-9 . _ -", "syslog tag (program name) of our lines",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         bool ok = !v.text.empty() && v.text.size() <= 32; // RFC 3164 §4.1.3: TAG at most 32
         for (char ch : v.text)
             ok = ok && (text::is_alpha(ch) || text::is_digit(ch) || ch == '.' || ch == '_' || ch == '-');
         if (!ok)
             throw InvalidValue{"must be 1 to 32 characters of A-Z a-z 0-9 . _ -"};
         b.config.log.tag = v.text;
     },
     [](C c, K) { return toml_string(c.log.tag); }},
    {"log", "syslog-socket", Kind::string, "an absolute path", "the local syslog socket (a datagram socket) for destination = \"syslog\"",
     0, 0, {},
     [](ConfigBuilder& b, V v) {
         // sockaddr_un's sun_path holds 108 bytes with its NUL on Linux.
         if (v.text.empty() || v.text[0] != '/' || v.text.size() > 107)
             throw InvalidValue{"must be an absolute path of at most 107 bytes"};
         b.config.log.socket = v.text;
     },
     [](C c, K) { return toml_string(c.log.socket); }},
    {"log", "syslog-format", Kind::choice, "rfc3164|rfc5424", "the datagram's format: RFC 3164 (as syslog(3) writes it) or RFC 5424",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.log.rfc5424 = v.text == "rfc5424"; },
     [](C c, K) { return toml_string(c.log.rfc5424 ? "rfc5424" : "rfc3164"); }},
    // ---- [stats] ----
    {"stats", "state-file", Kind::string, "a path", "counters as JSON, rewritten atomically (filter-arc stats, filter-arc sealers); empty: none",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.stats.state_file = v.text; },
     [](C c, K) { return toml_string(c.stats.state_file); }},
    {"stats", "prometheus-file", Kind::string, "a path", "counters in the Prometheus text format (node_exporter textfile collector); empty: none",
     0, 0, {},
     [](ConfigBuilder& b, V v) { b.config.stats.prometheus_file = v.text; },
     [](C c, K) { return toml_string(c.stats.prometheus_file); }},
    {"stats", "interval", Kind::integer, "seconds", "smtpd mode: seconds between writes; 0: only on SIGUSR1 and at exit",
     0, 86400, {},
     [](ConfigBuilder& b, V v) { b.config.stats.interval = static_cast<std::uint32_t>(v.integer); },
     [](C c, K) { return number(c.stats.interval); }},
};
// clang-format on

constexpr std::array<std::string_view, 9> table_names = {
    "", "authentication", "seal", "seal.keys", "dns", "limits", "smtpd", "log", "stats"};

} // namespace

std::string_view to_string(Kind k) {
    switch (k) {
    case Kind::boolean:
        return "boolean";
    case Kind::integer:
        return "integer";
    case Kind::string:
        return "string";
    case Kind::choice:
        return "choice";
    case Kind::string_list:
        return "list of strings";
    case Kind::key_tables:
        return "tables";
    }
    return "?";
}

std::string Setting::name() const {
    return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

std::span<const Setting> schema() {
    return table;
}

std::span<const std::string_view> tables() {
    return table_names;
}

const Setting* find_setting(std::string_view t, std::string_view key) {
    for (const auto& s : table)
        if (s.table == t && s.key == key)
            return &s;
    return nullptr;
}

std::vector<std::string_view> tables_with(std::string_view key, std::string_view t) {
    std::vector<std::string_view> out;
    for (const auto& s : table)
        if (s.key == key && s.table != t)
            out.push_back(s.table);
    return out;
}

std::string range_text(const Setting& s) {
    std::string out;
    // An upper bound that is only the width of the field is not worth stating.
    bool upper = s.max < int_max;
    if (s.min > 0 && upper)
        out = std::to_string(s.min) + ".." + std::to_string(s.max);
    else if (s.min > 0)
        out = "at least " + std::to_string(s.min);
    else
        out = "at most " + std::to_string(s.max);
    if (!s.why.empty())
        out += " (" + std::string(s.why) + ")";
    return out;
}

std::string out_of_range_text(const Setting& s, std::uint64_t value) {
    if (value > s.max && s.max >= int_max)
        return "at most " + std::to_string(s.max);
    return range_text(s);
}

std::vector<std::string_view> choices(const Setting& s) {
    std::vector<std::string_view> out;
    std::string_view rest = s.allowed;
    while (!rest.empty()) {
        auto bar = rest.find('|');
        out.push_back(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
    }
    return out;
}

std::string toml_string(std::string_view s) {
    // TOML 1.0 basic strings: '"' and '\' escaped, control characters as \uXXXX.
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (char ch : s) {
        auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string toml_list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? ", " : "") + toml_string(v[i]);
    return out + "]";
}

Config schema_defaults() {
    Config c;
    c.file = "(defaults)";
    for (const char* net : {"127.0.0.0/8", "::1"})
        c.engine.policy.trusted_networks.push_back(*Network::parse(net));
    return c;
}

std::string schema_dump() {
    Config defaults = schema_defaults();
    std::string out;
    for (const auto& s : table) {
        std::string def = s.show && s.table != "seal.keys" ? s.show(defaults, nullptr) : "";
        out += std::string(s.table) + "\t" + std::string(s.key) + "\t" +
               std::string(to_string(s.kind)) + "\t" + def + "\t" +
               (s.kind == Kind::integer && (s.min > 0 || s.max < int_max)
                    ? std::string(s.allowed) + " " + range_text(s)
                    : std::string(s.allowed)) +
               "\t" + std::string(s.doc) + "\n";
    }
    return out;
}

} // namespace arcf::filter
