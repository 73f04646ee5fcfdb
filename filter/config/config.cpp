// SPDX-License-Identifier: ISC
// TOML configuration reader (toml++ is confined to this file).
#include "filter/config/config.hpp"

#include "arc/arc_headers.hpp"
#include "filter/cli/cli.hpp"
#include "filter/config/config_file.hpp"
#include "filter/smtpd/protocol.hpp"

#include <toml++/toml.h>

#include <set>
#include <sstream>
#include <sys/stat.h>

#include "text/ascii.hpp"

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
    // The same defaults a file that leaves these settings out gets.
    for (const char* net : {"127.0.0.0/8", "::1"})
        c.engine.policy.trusted_networks.push_back(*Network::parse(net));
    return c;
}

namespace {

std::shared_ptr<const arc::SealKey> load_key(const Config& c,
                                             const toml::node& where_node,
                                             std::string_view setting,
                                             const std::string& domain,
                                             const std::string& selector,
                                             const std::string& file,
                                             bool allow_readable) {
    if (!text::is_domain_name(domain) || !text::is_domain_name(selector))
        throw ConfigError{where(c, where_node, setting) +
                          ": domain and selector must be domain names"};
    // Bounded and non-blocking: a FIFO or a device here must not hang a reload.
    struct stat st {};
    std::string pem, err;
    if (!read_config_file(file, pem, err, &st))
        throw ConfigError{where(c, where_node, setting) + ": " + err};
    // A private key others can read is a leaked key (OpenDKIM's RequireSafeKeys, same idea).
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 && !allow_readable)
        throw ConfigError{where(c, where_node, setting) + ": " + file +
                          " is readable by group or others; chmod 600 it or set "
                          "seal.allow-readable-keys = true"};
    auto key = mail::PrivateKey::from_pem(pem);
    if (!key)
        throw ConfigError{where(c, where_node, setting) + ": " + file + ": " + key.error().detail};
    if (key->type() == mail::KeyType::rsa && key->bits() < 1024)
        throw ConfigError{where(c, where_node, setting) +
                          ": RSA keys under 1024 bits do not verify (RFC 8301)"};
    return std::make_shared<const arc::SealKey>(
        arc::SealKey{text::to_lower(domain), selector, *key});
}

template <class E>
E get_enum(const Config& c,
           const toml::table& t,
           std::string_view section,
           std::string_view key,
           E def,
           std::initializer_list<std::pair<std::string_view, E>> values) {
    const toml::node* n = t.get(key);
    if (n == nullptr)
        return def;
    std::string full =
        section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
    auto v = n->value<std::string>();
    std::string choices;
    for (const auto& [name, e] : values) {
        if (v && *v == name)
            return e;
        choices += (choices.empty() ? "" : ", ") + std::string("\"") + std::string(name) + "\"";
    }
    throw ConfigError{where(c, *n, full) + ": must be one of " + choices};
}

} // namespace

Config load_config(const std::string& path) {
    Config c = default_config();
    c.file = path;
    toml::table root;
    std::string toml_text, read_error;
    if (!read_config_file(path, toml_text, read_error))
        throw ConfigError{read_error};
    try {
        root = toml::parse(toml_text, path);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path << ":" << e.source().begin.line << ": " << e.description();
        throw ConfigError{os.str()};
    }
    check_keys(c, root, "",
               {"authserv-id", "trusted-authserv-ids", "mode", "trusted-networks",
                "trust-authenticated", "trusted-sealers-file", "scrub-forged-results",
                "authentication", "seal", "dns", "limits", "smtpd"});
    auto& e = c.engine;
    auto& p = e.policy;
    e.authserv_id = get<std::string>(c, root, "", "authserv-id", "");
    e.trusted_authserv_ids = get_list(c, root, "", "trusted-authserv-ids", {});
    p.mode = get_enum<Mode>(c, root, "", "mode", Mode::both,
                            {{"verify", Mode::verify}, {"seal", Mode::seal}, {"both", Mode::both}});
    p.trusted_networks.clear();
    for (const auto& net : get_list(c, root, "", "trusted-networks", {"127.0.0.0/8", "::1"})) {
        auto n = Network::parse(net);
        if (!n)
            throw ConfigError{where(c, *root.get("trusted-networks"), "trusted-networks") + ": \"" +
                              net + "\" is not an address or CIDR network"};
        p.trusted_networks.push_back(*n);
    }
    p.trust_authenticated = get<bool>(c, root, "", "trust-authenticated", true);
    e.scrub_forged = get<bool>(c, root, "", "scrub-forged-results", true);
    c.trusted_sealers_file = get<std::string>(c, root, "", "trusted-sealers-file", "");
    if (!c.trusted_sealers_file.empty()) {
        std::string text, err;
        if (!read_config_file(c.trusted_sealers_file, text, err))
            throw ConfigError{where(c, *root.get("trusted-sealers-file"), "trusted-sealers-file") +
                              ": " + err};
        std::size_t lineno = 0;
        mail::for_each_line(text, [&](std::string_view line) {
            ++lineno;
            auto hash = line.find('#');
            line = line.substr(0, hash);
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
                line.remove_prefix(1);
            while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
                line.remove_suffix(1);
            if (line.empty())
                return;
            if (!text::is_domain_name(line))
                throw ConfigError{c.trusted_sealers_file + ":" + std::to_string(lineno) + ": \"" +
                                  std::string(line) + "\" is not a domain name"};
            p.trusted_sealers.insert(text::to_lower(line));
        });
    }

    if (const auto* a = section(c, root, "authentication")) {
        check_keys(c, *a, "authentication", {"spf", "dkim", "dmarc", "temperror"});
        e.auth.spf = get<bool>(c, *a, "authentication", "spf", e.auth.spf);
        e.auth.dkim = get<bool>(c, *a, "authentication", "dkim", e.auth.dkim);
        e.auth.dmarc = get<bool>(c, *a, "authentication", "dmarc", e.auth.dmarc);
        e.auth.temperror = get_enum<TempErrorAction>(
            c, *a, "authentication", "temperror", e.auth.temperror,
            {{"defer", TempErrorAction::defer}, {"record", TempErrorAction::record}});
    }
    if (const auto* s = section(c, root, "seal")) {
        check_keys(c, *s, "seal",
                   {"domain", "selector", "key", "keys", "when", "recipient-domains", "domain-from",
                    "default-domain", "headers", "oversign", "canonicalization",
                    "allow-readable-keys"});
        bool readable = get<bool>(c, *s, "seal", "allow-readable-keys", false);
        std::string domain = get<std::string>(c, *s, "seal", "domain", "");
        std::string selector = get<std::string>(c, *s, "seal", "selector", "");
        std::string file = get<std::string>(c, *s, "seal", "key", "");
        if (!domain.empty() || !selector.empty() || !file.empty()) {
            if (domain.empty() || selector.empty() || file.empty())
                throw ConfigError{where(c, *s, "seal") + ": domain, selector and key go together"};
            auto k = load_key(c, *s->get("key"), "seal.key", domain, selector, file, readable);
            p.keys[k->domain] = k;
            c.key_files[k->domain] = file;
            p.default_domain = k->domain;
        }
        if (const toml::node* kn = s->get("keys")) {
            const toml::array* arr = kn->as_array();
            if (arr == nullptr)
                throw ConfigError{where(c, *kn, "seal.keys") + ": must be [[seal.keys]] tables"};
            for (const auto& item : *arr) {
                const toml::table* kt = item.as_table();
                if (kt == nullptr)
                    throw ConfigError{where(c, item, "seal.keys") +
                                      ": must be [[seal.keys]] tables"};
                check_keys(c, *kt, "seal.keys", {"domain", "selector", "key", "algorithm"});
                std::string d = get<std::string>(c, *kt, "seal.keys", "domain", "");
                std::string sel = get<std::string>(c, *kt, "seal.keys", "selector", "");
                std::string f = get<std::string>(c, *kt, "seal.keys", "key", "");
                if (d.empty() || sel.empty() || f.empty())
                    throw ConfigError{where(c, item, "seal.keys") +
                                      ": each key needs domain, selector and key"};
                auto k = load_key(c, *kt->get("key"), "seal.keys.key", d, sel, f, readable);
                if (const toml::node* an = kt->get("algorithm")) {
                    auto alg = an->value<std::string>();
                    if (!alg || (*alg != "rsa-sha256" && *alg != "ed25519-sha256"))
                        throw ConfigError{where(c, *an, "seal.keys.algorithm") +
                                          ": rsa-sha256 or ed25519-sha256"};
                    if (*alg != arc::to_string(k->key.algorithm()))
                        throw ConfigError{where(c, *an, "seal.keys.algorithm") + ": " + f +
                                          " is a " + std::string(arc::to_string(k->key.type())) +
                                          " key"};
                }
                if (p.keys.count(k->domain) != 0)
                    throw ConfigError{where(c, item, "seal.keys") + ": a second key for " +
                                      k->domain};
                p.keys[k->domain] = k;
                c.key_files[k->domain] = f;
                if (p.default_domain.empty())
                    p.default_domain = k->domain;
            }
        }
        if (p.keys.empty())
            throw ConfigError{where(c, *s, "seal") +
                              ": no key (set domain/selector/key or [[seal.keys]])"};
        if (const toml::node* dn = s->get("default-domain")) {
            p.default_domain =
                text::to_lower(get<std::string>(c, *s, "seal", "default-domain", ""));
            if (p.keys.count(p.default_domain) == 0)
                throw ConfigError{where(c, *dn, "seal.default-domain") + ": no key for " +
                                  p.default_domain};
        }
        p.seal_when = get_enum<SealWhen>(c, *s, "seal", "when", SealWhen::all,
                                         {{"all", SealWhen::all},
                                          {"trusted", SealWhen::trusted},
                                          {"recipient-domains", SealWhen::recipient_domains}});
        for (const auto& d : get_list(c, *s, "seal", "recipient-domains", {}))
            p.seal_recipient_domains.push_back(text::to_lower(d));
        if (p.seal_when == SealWhen::recipient_domains && p.seal_recipient_domains.empty())
            throw ConfigError{where(c, *s->get("when"), "seal.when") +
                              ": \"recipient-domains\" needs seal.recipient-domains"};
        p.domain_source = get_enum<DomainSource>(c, *s, "seal", "domain-from", DomainSource::fixed,
                                                 {{"fixed", DomainSource::fixed},
                                                  {"envelope-from", DomainSource::envelope_from},
                                                  {"header-from", DomainSource::header_from},
                                                  {"recipient", DomainSource::recipient}});
        e.seal.signed_headers = get_list(c, *s, "seal", "headers", arc::default_signed_headers());
        e.seal.oversign = get<bool>(c, *s, "seal", "oversign", false);
        std::string canon = get<std::string>(c, *s, "seal", "canonicalization", "relaxed/relaxed");
        auto slash = canon.find('/');
        auto parse = [&](std::string_view v) {
            if (v == "relaxed")
                return mail::Canon::relaxed;
            if (v == "simple")
                return mail::Canon::simple;
            throw ConfigError{where(c, *s->get("canonicalization"), "seal.canonicalization") +
                              ": relaxed or simple, e.g. \"relaxed/relaxed\""};
        };
        e.seal.header_canon = parse(canon.substr(0, slash));
        e.seal.body_canon = parse(slash == std::string::npos ? "simple" : canon.substr(slash + 1));
    } else if (p.mode != Mode::verify) {
        p.mode =
            p.mode == Mode::seal ? Mode::seal : Mode::both; // nothing to seal with: verify only
    }
    if (const auto* d = section(c, root, "dns")) {
        check_keys(c, *d, "dns",
                   {"servers", "timeout-ms", "tries", "message-deadline-ms", "cache-entries",
                    "cache-bytes"});
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
        c.resolver.cache_options.max_bytes =
            get<std::size_t>(c, *d, "dns", "cache-bytes", c.resolver.cache_options.max_bytes);
        if (c.resolver.ares.tries < 1 || c.resolver.ares.timeout.count() < 1)
            throw ConfigError{where(c, *d, "dns") + ": timeout-ms and tries must be at least 1"};
    }
    if (const auto* l = section(c, root, "limits")) {
        check_keys(c, *l, "limits",
                   {"min-rsa-bits", "max-rsa-bits", "spool-memory-bytes", "max-message-bytes",
                    "max-header-fields", "max-header-bytes", "max-arc-sets", "max-key-records",
                    "max-key-operations"});
        e.keys.min_rsa_bits = get<unsigned>(c, *l, "limits", "min-rsa-bits", e.keys.min_rsa_bits);
        e.keys.max_rsa_bits = get<unsigned>(c, *l, "limits", "max-rsa-bits", e.keys.max_rsa_bits);
        e.keys.max_key_records =
            get<std::size_t>(c, *l, "limits", "max-key-records", e.keys.max_key_records);
        e.keys.max_key_operations =
            get<std::size_t>(c, *l, "limits", "max-key-operations", e.keys.max_key_operations);
        if (e.keys.max_rsa_bits > 16384) // OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS)
            throw ConfigError{where(c, *l->get("max-rsa-bits"), "limits.max-rsa-bits") +
                              ": at most 16384"};
        if (e.keys.max_key_records < 1)
            throw ConfigError{where(c, *l->get("max-key-records"), "limits.max-key-records") +
                              ": at least 1 (RFC 6376 §3.6.2.2)"};
        e.spool_memory_limit =
            get<std::size_t>(c, *l, "limits", "spool-memory-bytes", e.spool_memory_limit);
        e.max_message_bytes =
            get<std::size_t>(c, *l, "limits", "max-message-bytes", e.max_message_bytes);
        e.max_header_fields =
            get<std::size_t>(c, *l, "limits", "max-header-fields", e.max_header_fields);
        e.max_header_bytes =
            get<std::size_t>(c, *l, "limits", "max-header-bytes", e.max_header_bytes);
        e.max_arc_sets = get<std::uint32_t>(c, *l, "limits", "max-arc-sets", e.max_arc_sets);
        if (e.keys.min_rsa_bits > e.keys.max_rsa_bits)
            throw ConfigError{path + ": limits.min-rsa-bits is above limits.max-rsa-bits"};
        if (e.max_arc_sets < 1 || e.max_arc_sets > 50)
            throw ConfigError{where(c, *l->get("max-arc-sets"), "limits.max-arc-sets") +
                              ": 1..50 (RFC 8617 §4.2.1)"};
    }
    if (const auto* m = section(c, root, "smtpd")) {
        check_keys(c, *m, "smtpd", {"tempfail-reply"});
        e.tempfail_reply = get<std::string>(c, *m, "smtpd", "tempfail-reply", e.tempfail_reply);
        if (!is_valid_reject_reply(e.tempfail_reply) || e.tempfail_reply[0] != '4')
            throw ConfigError{where(c, *m->get("tempfail-reply"), "smtpd.tempfail-reply") +
                              ": must be a 4xx SMTP reply such as \"451 4.7.0 try again later\""};
    }
    // What sender authentication needs from the rest of the file: the key-size policy for DKIM
    // (RFC 8301), the trusted sealers for the ARC-aware DMARC override (RFC 8617 §7.2.1), and
    // the Public Suffix List for organizational domains (RFC 7489 §3.2), read once per load.
    e.auth.keys = e.keys;
    e.auth.trusted_sealers.assign(p.trusted_sealers.begin(), p.trusted_sealers.end());
    if (e.auth.dmarc)
        e.auth.psl = std::make_shared<const dmarc::OrgDomain>(dmarc::OrgDomain::system());
    return c;
}

std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c) {
    std::vector<std::shared_ptr<const arc::SealKey>> out;
    for (const auto& [d, k] : c.engine.policy.keys)
        out.push_back(k);
    return out;
}

std::string describe(const Config& c) {
    const auto& e = c.engine;
    const auto& p = e.policy;
    std::ostringstream os;
    auto list = [&](const std::vector<std::string>& v) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i)
            out += (i ? ", \"" : "\"") + v[i] + "\"";
        return out + "]";
    };
    os << "# effective configuration of " << c.file << "\n";
    os << "authserv-id = \"" << (e.authserv_id.empty() ? "(smtpd admd)" : e.authserv_id) << "\"\n";
    os << "trusted-authserv-ids = " << list(e.trusted_authserv_ids) << "\n";
    os << "mode = \"" << to_string(p.mode) << "\"\n";
    std::vector<std::string> nets;
    for (const auto& n : p.trusted_networks)
        nets.push_back(n.to_string());
    os << "trusted-networks = " << list(nets) << "\n";
    os << "trust-authenticated = " << (p.trust_authenticated ? "true" : "false") << "\n";
    os << "scrub-forged-results = " << (e.scrub_forged ? "true" : "false") << "\n";
    os << "trusted-sealers-file = \"" << c.trusted_sealers_file << "\"  # "
       << p.trusted_sealers.size() << " domains\n";
    auto flag = [](bool b) { return b ? "true" : "false"; };
    os << "[authentication]\nspf = " << flag(e.auth.spf) << "\ndkim = " << flag(e.auth.dkim)
       << "\ndmarc = " << flag(e.auth.dmarc) << "\ntemperror = \"" << to_string(e.auth.temperror)
       << "\"\n";
    if (!p.keys.empty()) {
        os << "[seal]\nwhen = \"" << to_string(p.seal_when)
           << "\"\nrecipient-domains = " << list(p.seal_recipient_domains) << "\ndomain-from = \""
           << to_string(p.domain_source) << "\"\ndefault-domain = \"" << p.default_domain
           << "\"\nheaders = " << list(e.seal.signed_headers)
           << "\noversign = " << (e.seal.oversign ? "true" : "false") << "\ncanonicalization = \""
           << arc::to_string(e.seal.header_canon) << "/" << arc::to_string(e.seal.body_canon)
           << "\"\n";
        for (const auto& [d, k] : p.keys) {
            auto f = c.key_files.find(d);
            os << "[[seal.keys]]\ndomain = \"" << d << "\"\nselector = \"" << k->selector
               << "\"\nkey = \"" << (f == c.key_files.end() ? "" : f->second)
               << "\"\nalgorithm = \"" << arc::to_string(k->key.algorithm()) << "\"  # "
               << k->key.bits() << " bits\n";
        }
    } else {
        os << "# [seal] absent: verify only\n";
    }
    os << "[dns]\nservers = \""
       << (c.resolver.ares.servers.empty() ? "(/etc/resolv.conf)" : c.resolver.ares.servers)
       << "\"\ntimeout-ms = " << c.resolver.ares.timeout.count()
       << "\ntries = " << c.resolver.ares.tries
       << "\nmessage-deadline-ms = " << e.message_deadline_ms
       << "\ncache-entries = " << c.resolver.cache_options.max_entries
       << "\ncache-bytes = " << c.resolver.cache_options.max_bytes << "\n";
    os << "[limits]\nmin-rsa-bits = " << e.keys.min_rsa_bits
       << "\nmax-rsa-bits = " << e.keys.max_rsa_bits
       << "\nmax-key-records = " << e.keys.max_key_records
       << "\nmax-key-operations = " << e.keys.max_key_operations
       << "\nspool-memory-bytes = " << e.spool_memory_limit
       << "\nmax-message-bytes = " << e.max_message_bytes
       << "\nmax-header-fields = " << e.max_header_fields
       << "\nmax-header-bytes = " << e.max_header_bytes << "\nmax-arc-sets = " << e.max_arc_sets
       << "\n";
    os << "[smtpd]\ntempfail-reply = \"" << e.tempfail_reply << "\"\n";
    return os.str();
}

} // namespace arcf::filter
