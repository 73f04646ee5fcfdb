// SPDX-License-Identifier: ISC
// TOML configuration reader (toml++ is confined to this file). Which keys exist, their types
// and ranges come from the schema table (filter/config/schema.hpp); this file walks the TOML
// tables, converts each value to its setting's kind, and then checks what spans settings.
#include "filter/config/config.hpp"

#include "arc/arc_headers.hpp"
#include "filter/config/builder.hpp"
#include "filter/config/config_file.hpp"
#include "filter/config/schema.hpp"

#include <toml++/toml.h>

#include <sstream>
#include <sys/stat.h>

#include "text/ascii.hpp"

namespace arcf::filter {

namespace {

std::string where(const Config& c, const toml::node& n, std::string_view name) {
    auto src = n.source();
    std::ostringstream os;
    os << c.file;
    if (src.begin)
        os << ":" << src.begin.line;
    os << ": " << name;
    return os.str();
}

std::string full_name(std::string_view table, std::string_view key) {
    return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

bool is_table_name(std::string_view key) {
    for (auto t : tables())
        if (!t.empty() && t == key && t != "seal.keys")
            return true;
    return false;
}

/// "unknown setting", with a hint when the key is a setting of another table: TOML puts every
/// key after a [table] or [[table]] header into that table (TOML 1.0 §Table), so a [seal]
/// setting written below a [[seal.keys]] table, or a top-level one below any table, lands in
/// the wrong table.
std::string unknown(std::string_view table, std::string_view key) {
    std::string out = "unknown setting";
    auto others = tables_with(key, table);
    if (others.empty())
        return out;
    std::string_view other = others.front();
    std::string k(key);
    std::string header = table == "seal.keys" ? "[[seal.keys]]" : "[" + std::string(table) + "]";
    if (other.empty())
        return out + "; " + k + " is a top-level setting: TOML puts every key below a " + header +
               " header into that table, so write top-level settings above the " +
               "first table header";
    std::string home = "[" + std::string(other) + "]";
    if (table == "seal.keys" && other == "seal")
        return out + "; " + k + " is a [seal] setting placed after a [[seal.keys]] table: " +
               "TOML puts every key below a [[seal.keys]] header into that key's table, so " +
               "write [seal] settings above the first [[seal.keys]]";
    if (table.empty())
        return out + "; " + k + " is a " + home + " setting: write it below a " + home + " header";
    return out + "; " + k + " is a " + home + " setting, not a [" + std::string(table) + "] one";
}

/// The value of `n` as setting `s` wants it, or ConfigError naming the place and the rule.
SettingValue convert(const Config& c, const Setting& s, const toml::node& n) {
    std::string name = s.name();
    SettingValue v;
    switch (s.kind) {
    case Kind::boolean:
        if (auto b = n.value<bool>()) {
            v.boolean = *b;
            return v;
        }
        throw ConfigError{where(c, n, name) + ": must be true or false"};
    case Kind::integer: {
        auto i = n.is_integer() ? n.value<std::int64_t>() : std::nullopt;
        if (!i || *i < 0)
            throw ConfigError{where(c, n, name) + ": must be a non-negative integer"};
        v.integer = static_cast<std::uint64_t>(*i);
        if (v.integer < s.min || v.integer > s.max)
            throw ConfigError{where(c, n, name) + ": " + out_of_range_text(s, v.integer)};
        return v;
    }
    case Kind::string:
    case Kind::choice: {
        auto t = n.value<std::string>();
        if (t && s.kind == Kind::string) {
            v.text = *t;
            return v;
        }
        if (s.kind == Kind::string)
            throw ConfigError{where(c, n, name) + ": must be a string"};
        std::string list;
        for (auto word : choices(s)) {
            if (t && *t == word) {
                v.text = *t;
                return v;
            }
            list += (list.empty() ? "" : ", ") + std::string("\"") + std::string(word) + "\"";
        }
        throw ConfigError{where(c, n, name) + ": must be one of " + list};
    }
    case Kind::string_list: {
        const toml::array* arr = n.as_array();
        if (arr == nullptr)
            throw ConfigError{where(c, n, name) + ": must be a list of strings"};
        for (const auto& e : *arr) {
            auto t = e.value<std::string>();
            if (!t)
                throw ConfigError{where(c, e, name) + ": must be a list of strings"};
            v.list.push_back(*t);
        }
        return v;
    }
    case Kind::key_tables:
        break;
    }
    throw ConfigError{where(c, n, name) + ": must be [[" + name + "]] tables"};
}

/// Every key of `t` is a setting of `table` (or, at the top level, a table); then each value
/// is converted and applied in file order of the schema.
void apply(ConfigBuilder& b, const toml::table& t, std::string_view table) {
    const Config& c = b.config;
    // The first unknown key in file order (toml++ tables iterate in key order).
    const toml::node* first = nullptr;
    std::string_view first_key;
    for (const auto& [k, node] : t) {
        std::string_view key = k.str();
        if ((table.empty() && is_table_name(key)) || find_setting(table, key) != nullptr)
            continue;
        if (first == nullptr || node.source().begin.line < first->source().begin.line) {
            first = &node;
            first_key = key;
        }
    }
    if (first != nullptr)
        throw ConfigError{where(c, *first, full_name(table, first_key)) + ": " +
                          unknown(table, first_key)};
    for (const auto& s : schema()) {
        if (s.table != table || s.set == nullptr)
            continue;
        const toml::node* n = t.get(s.key);
        if (n == nullptr)
            continue;
        SettingValue v = convert(c, s, *n);
        b.where = where(c, *n, s.name());
        try {
            s.set(b, v);
        } catch (const InvalidValue& e) {
            throw ConfigError{b.where + ": " + e.detail};
        }
    }
}

const toml::table* table_of(const Config& c, const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (n == nullptr)
        return nullptr;
    if (const auto* t = n->as_table())
        return t;
    throw ConfigError{where(c, *n, name) + ": must be a table [" + std::string(name) + "]"};
}

std::shared_ptr<const arc::SealKey> load_key(Config& c, const KeyEntry& k) {
    const std::string& at = k.file_where;
    if (!text::is_domain_name(k.domain) || !text::is_domain_name(k.selector))
        throw ConfigError{at + ": domain and selector must be domain names"};
    // Bounded and non-blocking: a FIFO or a device here must not hang a reload.
    struct stat st {};
    std::string pem, err;
    if (!read_config_file(k.file, pem, err, &st, max_key_file_bytes))
        throw ConfigError{at + ": " + err};
    // A private key others can read is a leaked key (OpenDKIM's RequireSafeKeys, same idea).
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        if (!c.allow_readable_keys)
            throw ConfigError{at + ": " + k.file +
                              " is readable by group or others; chmod 600 it or set "
                              "seal.allow-readable-keys = true"};
        c.warnings.push_back(at + ": " + k.file +
                             " is readable by group or others (allowed by "
                             "seal.allow-readable-keys)");
    }
    auto key = mail::PrivateKey::from_pem(pem);
    if (!key)
        throw ConfigError{at + ": " + k.file + ": " + key.error().detail};
    if (key->type() == mail::KeyType::rsa && key->bits() < 1024)
        throw ConfigError{at + ": RSA keys under 1024 bits do not verify (RFC 8301)"};
    if (!k.algorithm.empty() && k.algorithm != arc::to_string(key->algorithm()))
        throw ConfigError{k.algorithm_where + ": " + k.file + " is a " +
                          std::string(arc::to_string(key->type())) + " key"};
    return std::make_shared<const arc::SealKey>(
        arc::SealKey{text::to_lower(k.domain), k.selector, *key});
}

void add_key(Config& c, const KeyEntry& entry) {
    c.seal_keys.push_back(ConfiguredKey{load_key(c, entry), entry.file, entry.state});
}

/// "file:line" of an entry's "file:line: seal.keys".
std::string location(const KeyEntry& e) {
    return e.where.substr(0, e.where.rfind(": "));
}

/// "selector s1 at f.toml:3, selector s2 at f.toml:8"
std::string key_list(const std::vector<const KeyEntry*>& entries) {
    std::string out;
    for (const KeyEntry* e : entries)
        out += std::string(out.empty() ? "" : ", ") + "selector " + e->selector + " at " +
               location(*e);
    return out;
}

/// Rotation (README "Rotating keys"): a domain may have several keys, the one that seals
/// ("active") and others whose records stay or go up in DNS ("published"). Exactly one active
/// key per signing domain, so the key that seals never depends on the order of the file; and
/// one key per DNS name, since a selector names one record (RFC 6376 §3.6.2.1).
void choose_active_keys(Config& c, const std::vector<const KeyEntry*>& entries) {
    auto& p = c.engine.policy;
    std::map<std::string, std::vector<std::size_t>> by_domain; // indices into c.seal_keys
    for (std::size_t i = 0; i < c.seal_keys.size(); ++i) {
        const auto& k = *c.seal_keys[i].key;
        for (std::size_t j : by_domain[k.domain])
            if (text::to_lower(c.seal_keys[j].key->selector) == text::to_lower(k.selector))
                throw ConfigError{entries[i]->where + ": a second key for " + k.selector +
                                  "._domainkey." + k.domain + " (the first is at " +
                                  location(*entries[j]) + "); a selector names one DNS record"};
        by_domain[k.domain].push_back(i);
    }
    // In file order of each domain's first key, so the errors name the first domain at fault.
    for (std::size_t i = 0; i < c.seal_keys.size(); ++i) {
        const std::string& domain = c.seal_keys[i].key->domain;
        const auto& all = by_domain[domain];
        if (all.front() != i)
            continue;
        std::vector<const KeyEntry*> active, published;
        for (std::size_t j : all)
            (c.seal_keys[j].state == KeyState::active ? active : published).push_back(entries[j]);
        if (active.size() > 1)
            throw ConfigError{active[1]->where + ": " + std::to_string(active.size()) +
                              " active keys for " + domain + " (" + key_list(active) +
                              "); exactly one key per domain seals: set state = "
                              "\"published\" on all but one"};
        if (active.empty())
            throw ConfigError{published.front()->where + ": no active key for " + domain + " (" +
                              key_list(published) +
                              ", all state = \"published\"); set "
                              "state = \"active\" on the key that seals"};
        for (std::size_t j : all) {
            const ConfiguredKey& k = c.seal_keys[j];
            if (k.state != KeyState::active)
                continue;
            p.keys[domain] = k.key;
            // RFC 8617 §5.1 seals with any DKIM algorithm, but few ARC verifiers (and none of
            // the large mailbox providers) accept ed25519-sha256 (RFC 8463): one active key per
            // domain, so this domain's seals would go unverified there. A published Ed25519
            // key seals nothing and draws no warning.
            if (k.key->key.type() == mail::KeyType::ed25519)
                c.warnings.push_back(entries[j]->file_where + ": " + domain +
                                     " seals with an Ed25519 key: few ARC verifiers accept "
                                     "ed25519-sha256 seals; seal with RSA-2048 (filter-arc "
                                     "keygen --type rsa)");
        }
    }
    if (p.default_domain.empty() && !c.seal_keys.empty())
        p.default_domain = c.seal_keys.front().key->domain;
}

void load_seal(ConfigBuilder& b, const toml::table& s) {
    Config& c = b.config;
    apply(b, s, "seal");
    if (const toml::node* kn = s.get("keys")) {
        const toml::array* arr = kn->as_array();
        if (arr == nullptr)
            throw ConfigError{where(c, *kn, "seal.keys") + ": must be [[seal.keys]] tables"};
        for (const auto& item : *arr) {
            const toml::table* kt = item.as_table();
            if (kt == nullptr)
                throw ConfigError{where(c, item, "seal.keys") + ": must be [[seal.keys]] tables"};
            b.keys.push_back(KeyEntry{});
            b.keys.back().where = where(c, item, "seal.keys");
            b.keys.back().file_where = b.keys.back().where + ".key";
            apply(b, *kt, "seal.keys");
            const KeyEntry& k = b.keys.back();
            if (k.domain.empty() || k.selector.empty() || k.file.empty())
                throw ConfigError{k.where + ": each key needs domain, selector and key"};
        }
    }
    KeyEntry& one = b.seal_key;
    std::vector<const KeyEntry*> entries; // parallel to c.seal_keys
    if (!one.domain.empty() || !one.selector.empty() || !one.file.empty()) {
        if (one.domain.empty() || one.selector.empty() || one.file.empty())
            throw ConfigError{where(c, s, "seal") + ": domain, selector and key go together"};
        one.where = where(c, s, "seal");
        add_key(c, one);
        entries.push_back(&one);
    }
    for (const auto& k : b.keys) {
        add_key(c, k);
        entries.push_back(&k);
    }
    choose_active_keys(c, entries);
    auto& p = c.engine.policy;
    if (p.keys.empty())
        throw ConfigError{where(c, s, "seal") +
                          ": no key (set domain/selector/key or [[seal.keys]])"};
    if (!b.default_domain_where.empty()) {
        p.default_domain = b.default_domain;
        if (p.keys.count(p.default_domain) == 0)
            throw ConfigError{b.default_domain_where + ": no key for " + p.default_domain};
    }
    if (p.seal_when == SealWhen::recipient_domains && p.seal_recipient_domains.empty())
        throw ConfigError{b.when_where + ": \"recipient-domains\" needs seal.recipient-domains"};
}

void load_sealers(Config& c, const std::string& at) {
    std::string text, err;
    if (!read_config_file(c.trusted_sealers_file, text, err))
        throw ConfigError{at + ": " + err};
    std::size_t lineno = 0;
    auto& sealers = c.engine.policy.trusted_sealers;
    mail::for_each_line(text, [&](std::string_view line) {
        ++lineno;
        line = line.substr(0, line.find('#'));
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
            line.remove_suffix(1);
        if (line.empty())
            return;
        if (!text::is_domain_name(line))
            throw ConfigError{c.trusted_sealers_file + ":" + std::to_string(lineno) + ": \"" +
                              std::string(line) + "\" is not a domain name"};
        sealers.insert(text::to_lower(line));
    });
}

/// What holds for a whole configuration, with or without a file.
void finish(Config& c, const std::string& mode_where) {
    auto& e = c.engine;
    auto& p = e.policy;
    if (p.keys.empty()) {
        // Nothing to seal with: verify only (filter-arc.toml(5): "Without a [seal] table,
        // filter-arc only verifies"). An explicit "seal" would add nothing at all.
        if (p.mode == Mode::seal)
            throw ConfigError{mode_where + ": \"seal\" needs a [seal] table with a key"};
        p.mode = Mode::verify;
    }
    if (e.keys.min_rsa_bits > e.keys.max_rsa_bits)
        throw ConfigError{c.file + ": limits.min-rsa-bits is above limits.max-rsa-bits"};
    // What sender authentication needs from the rest of the file: the key-size policy for DKIM
    // (RFC 8301), the trusted sealers for the ARC-aware DMARC override (RFC 8617 §7.2.1), and
    // the Public Suffix List for organizational domains (RFC 7489 §3.2), read once per load.
    e.auth.keys = e.keys;
    e.auth.trusted_sealers.assign(p.trusted_sealers.begin(), p.trusted_sealers.end());
}

} // namespace

Config default_config() {
    Config c = schema_defaults();
    finish(c, c.file + ": mode");
    return c;
}

Config load_config(const std::string& path) {
    Config c = schema_defaults();
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
    ConfigBuilder b(c);
    apply(b, root, "");
    if (!c.trusted_sealers_file.empty())
        load_sealers(c, b.sealers_where);
    for (auto name : tables()) {
        if (name.empty() || name == "seal.keys")
            continue;
        const toml::table* t = table_of(c, root, name);
        if (t == nullptr)
            continue;
        if (name == "seal")
            load_seal(b, *t);
        else
            apply(b, *t, name);
    }
    const toml::node* mode = root.get("mode");
    finish(c, mode != nullptr ? where(c, *mode, "mode") : path + ": mode");
    if (c.engine.auth.dmarc)
        c.engine.auth.psl = std::make_shared<const dmarc::OrgDomain>(dmarc::OrgDomain::system());
    return c;
}

std::optional<OnConfigError> parse_on_config_error(std::string_view word) {
    if (word == "defer")
        return OnConfigError::defer;
    if (word == "pass")
        return OnConfigError::pass;
    return std::nullopt;
}

std::string_view to_string(OnConfigError e) {
    return e == OnConfigError::pass ? "pass" : "defer";
}

Config degraded_config(const std::string& path, std::string why, OnConfigError on_error) {
    Config c = default_config();
    c.file = path;
    c.engine.config_error = why.empty() ? path + ": cannot be loaded" : std::move(why);
    c.engine.config_error_defer = on_error == OnConfigError::defer;
    if (on_error == OnConfigError::pass) {
        // The [dns] servers of the file that could not be read may be the only ones that
        // answer: an SPF or DMARC temperror is recorded, never a reason to defer, or "pass"
        // would defer everything exactly where a private resolver is configured.
        c.engine.auth.temperror = TempErrorAction::record;
    }
    return c;
}

Config load_config_or_defaults(const std::string& path, OnConfigError on_error) {
    std::string why;
    try {
        return path.empty() ? default_config() : load_config(path);
    } catch (const ConfigError& e) {
        why = e.message;
    } catch (const std::exception& e) {
        // std::bad_alloc, or the Public Suffix List failing: still not a reason to exit.
        why = path + ": " + e.what();
    }
    return degraded_config(path, std::move(why), on_error);
}

std::vector<std::shared_ptr<const arc::SealKey>> all_seal_keys(const Config& c) {
    std::vector<std::shared_ptr<const arc::SealKey>> out;
    for (const auto& k : c.seal_keys)
        out.push_back(k.key);
    return out;
}

const ConfiguredKey* configured_key(const Config& c, const arc::SealKey* key) {
    for (const auto& k : c.seal_keys)
        if (k.key.get() == key)
            return &k;
    return nullptr;
}

std::string_view to_string(KeyState s) {
    return s == KeyState::active ? "active" : "published";
}

} // namespace arcf::filter
