// SPDX-License-Identifier: ISC
// TOML configuration reader (toml++ is confined to this file).
#include "filter/config.hpp"

#include "arc/arc_headers.hpp"
#include "filter/cli.hpp"
#include "filter/protocol.hpp"

#include <toml++/toml.h>

#include <set>
#include <sstream>
#include <sys/stat.h>

namespace arcf::filter {

namespace {

std::string where(const Config& c, const toml::node& n, std::string_view key) {
    auto src = n.source();
    std::ostringstream os;
    os << c.file;
    if (src.begin)
        os << ":" << src.begin.line;
    os << ": " << key;
    return os.str();
}

void check_keys(const Config& c,
                const toml::table& t,
                std::string_view section,
                std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : t) {
        bool ok = false;
        for (auto a : allowed)
            ok = ok || k.str() == a;
        if (!ok) {
            std::string full = section.empty() ? std::string(k.str())
                                               : std::string(section) + "." + std::string(k.str());
            throw ConfigError{where(c, v, full) + ": unknown setting"};
        }
    }
}

template <class T>
T get(
    const Config& c, const toml::table& t, std::string_view section, std::string_view key, T def) {
    const toml::node* n = t.get(key);
    std::string full =
        section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
    if (n == nullptr)
        return def;
    if constexpr (std::is_same_v<T, std::string>) {
        if (auto v = n->value<std::string>())
            return *v;
        throw ConfigError{where(c, *n, full) + ": must be a string"};
    } else if constexpr (std::is_same_v<T, bool>) {
        if (auto v = n->value<bool>())
            return *v;
        throw ConfigError{where(c, *n, full) + ": must be true or false"};
    } else {
        auto v = n->value<std::int64_t>();
        if (!v || *v < 0)
            throw ConfigError{where(c, *n, full) + ": must be a non-negative integer"};
        return static_cast<T>(*v);
    }
}

std::vector<std::string> get_list(const Config& c,
                                  const toml::table& t,
                                  std::string_view section,
                                  std::string_view key,
                                  std::vector<std::string> def) {
    const toml::node* n = t.get(key);
    if (n == nullptr)
        return def;
    std::string full = std::string(section) + (section.empty() ? "" : ".") + std::string(key);
    const toml::array* arr = n->as_array();
    if (arr == nullptr)
        throw ConfigError{where(c, *n, full) + ": must be a list of strings"};
    std::vector<std::string> out;
    for (const auto& e : *arr) {
        auto v = e.value<std::string>();
        if (!v)
            throw ConfigError{where(c, e, full) + ": must be a list of strings"};
        out.push_back(*v);
    }
    return out;
}

const toml::table* section(const Config& c, const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (n == nullptr)
        return nullptr;
    if (const auto* t = n->as_table())
        return t;
    throw ConfigError{where(c, *n, name) + ": must be a table [" + std::string(name) + "]"};
}

} // namespace

Config default_config() {
    Config c;
    c.file = "(defaults)";
    return c;
}

Config load_config(const std::string& path) {
    Config c = default_config();
    c.file = path;
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path << ":" << e.source().begin.line << ": " << e.description();
        throw ConfigError{os.str()};
    }
    check_keys(c, root, "",
               {"authserv-id", "trusted-authserv-ids", "seal", "dns", "limits", "smtpd"});
    auto& e = c.engine;
    e.authserv_id = get<std::string>(c, root, "", "authserv-id", "");
    e.trusted_authserv_ids = get_list(c, root, "", "trusted-authserv-ids", {});

    if (const auto* s = section(c, root, "seal")) {
        check_keys(c, *s, "seal",
                   {"domain", "selector", "key", "headers", "oversign", "canonicalization"});
        std::string domain = get<std::string>(c, *s, "seal", "domain", "");
        std::string selector = get<std::string>(c, *s, "seal", "selector", "");
        c.seal_key_file = get<std::string>(c, *s, "seal", "key", "");
        if (domain.empty() || selector.empty() || c.seal_key_file.empty())
            throw ConfigError{path + ": [seal] needs domain, selector and key"};
        if (!arc::is_valid_domain(domain) || !arc::is_valid_domain(selector))
            throw ConfigError{where(c, *s->get("domain"), "seal.domain") + ": not a domain name"};
        e.seal.signed_headers = get_list(c, *s, "seal", "headers", arc::default_signed_headers());
        e.seal.oversign = get<bool>(c, *s, "seal", "oversign", false);
        std::string canon = get<std::string>(c, *s, "seal", "canonicalization", "relaxed/relaxed");
        auto slash = canon.find('/');
        auto parse = [&](std::string_view v) {
            if (v == "relaxed")
                return arc::Canon::relaxed;
            if (v == "simple")
                return arc::Canon::simple;
            throw ConfigError{where(c, *s->get("canonicalization"), "seal.canonicalization") +
                              ": relaxed or simple, e.g. \"relaxed/relaxed\""};
        };
        e.seal.header_canon = parse(canon.substr(0, slash));
        e.seal.body_canon = parse(slash == std::string::npos ? "simple" : canon.substr(slash + 1));
        struct stat st {};
        if (stat(c.seal_key_file.c_str(), &st) != 0)
            throw ConfigError{where(c, *s->get("key"), "seal.key") + ": cannot read " +
                              c.seal_key_file};
        std::string pem, err;
        if (!read_input(c.seal_key_file, pem, err))
            throw ConfigError{where(c, *s->get("key"), "seal.key") + ": " + err};
        auto key = arc::PrivateKey::from_pem(pem);
        if (!key)
            throw ConfigError{where(c, *s->get("key"), "seal.key") + ": " + key.error().detail};
        e.seal_key = std::make_shared<const arc::SealKey>(arc::SealKey{domain, selector, *key});
    }
    if (const auto* d = section(c, root, "dns")) {
        check_keys(c, *d, "dns",
                   {"servers", "timeout-ms", "tries", "message-deadline-ms", "cache-entries"});
        auto servers = get_list(c, *d, "dns", "servers", {});
        std::string csv;
        for (const auto& sv : servers)
            csv += (csv.empty() ? "" : ",") + sv;
        c.resolver.ares.servers = csv;
        c.resolver.ares.timeout =
            std::chrono::milliseconds(get<unsigned>(c, *d, "dns", "timeout-ms", 2000));
        c.resolver.ares.tries = static_cast<int>(get<unsigned>(c, *d, "dns", "tries", 2));
        e.message_deadline_ms =
            get<std::uint32_t>(c, *d, "dns", "message-deadline-ms", e.message_deadline_ms);
        c.resolver.cache_options.max_entries =
            get<std::size_t>(c, *d, "dns", "cache-entries", 10000);
    }
    if (const auto* l = section(c, root, "limits")) {
        check_keys(c, *l, "limits", {"min-rsa-bits", "max-rsa-bits", "spool-memory-bytes"});
        e.keys.min_rsa_bits = get<unsigned>(c, *l, "limits", "min-rsa-bits", e.keys.min_rsa_bits);
        e.keys.max_rsa_bits = get<unsigned>(c, *l, "limits", "max-rsa-bits", e.keys.max_rsa_bits);
        e.spool_memory_limit =
            get<std::size_t>(c, *l, "limits", "spool-memory-bytes", e.spool_memory_limit);
        if (e.keys.min_rsa_bits > e.keys.max_rsa_bits)
            throw ConfigError{path + ": limits.min-rsa-bits is above limits.max-rsa-bits"};
    }
    if (const auto* m = section(c, root, "smtpd")) {
        check_keys(c, *m, "smtpd", {"tempfail-reply"});
        e.tempfail_reply = get<std::string>(c, *m, "smtpd", "tempfail-reply", e.tempfail_reply);
        if (!is_valid_reject_reply(e.tempfail_reply) || e.tempfail_reply[0] != '4')
            throw ConfigError{where(c, *m->get("tempfail-reply"), "smtpd.tempfail-reply") +
                              ": must be a 4xx SMTP reply such as \"451 4.7.0 try again later\""};
    }
    return c;
}

std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c) {
    std::vector<std::shared_ptr<const arc::SealKey>> out;
    if (c.engine.seal_key)
        out.push_back(c.engine.seal_key);
    return out;
}

std::string describe(const Config& c) {
    const auto& e = c.engine;
    std::ostringstream os;
    os << "# effective configuration of " << c.file << "\n";
    os << "authserv-id = \"" << (e.authserv_id.empty() ? "(smtpd admd)" : e.authserv_id) << "\"\n";
    os << "trusted-authserv-ids = [";
    for (std::size_t i = 0; i < e.trusted_authserv_ids.size(); ++i)
        os << (i ? ", " : "") << '"' << e.trusted_authserv_ids[i] << '"';
    os << "]\n";
    if (e.seal_key) {
        os << "[seal]\ndomain = \"" << e.seal_key->domain << "\"\nselector = \""
           << e.seal_key->selector << "\"\nkey = \"" << c.seal_key_file << "\"  # "
           << arc::to_string(e.seal_key->key.type()) << " " << e.seal_key->key.bits() << " bits\n";
    } else {
        os << "# [seal] absent: verify only\n";
    }
    os << "[dns]\nservers = \""
       << (c.resolver.ares.servers.empty() ? "(/etc/resolv.conf)" : c.resolver.ares.servers)
       << "\"\ntimeout-ms = " << c.resolver.ares.timeout.count()
       << "\ntries = " << c.resolver.ares.tries
       << "\nmessage-deadline-ms = " << e.message_deadline_ms << "\n";
    os << "[limits]\nmin-rsa-bits = " << e.keys.min_rsa_bits
       << "\nmax-rsa-bits = " << e.keys.max_rsa_bits
       << "\nspool-memory-bytes = " << e.spool_memory_limit << "\n";
    os << "[smtpd]\ntempfail-reply = \"" << e.tempfail_reply << "\"\n";
    return os.str();
}

} // namespace arcf::filter
