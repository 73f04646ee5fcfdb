// SPDX-License-Identifier: ISC
// The effective configuration as TOML that loads back into the same configuration
// (`check-config --print`), written from the schema table.
#include "filter/config/config.hpp"
#include "filter/config/schema.hpp"

#include <string>

namespace arcf::filter {

namespace {

bool is_active(const Config& c, const arc::SealKey* key) {
    const ConfiguredKey* k = configured_key(c, key);
    return k == nullptr || k->state == KeyState::active;
}

void settings_of(std::string& out,
                 const Config& c,
                 std::string_view table,
                 const arc::SealKey* key,
                 bool notes) {
    for (const auto& s : schema()) {
        if (s.table != table || s.show == nullptr)
            continue;
        out += std::string(s.key) + " = " + s.show(c, key);
        if (notes && s.table.empty() && s.key == "authserv-id" && c.engine.authserv_id.empty())
            out += "  # empty: smtpd's admd (Exim mode: the host name)";
        if (notes && s.key == "trusted-sealers-file" && !c.trusted_sealers_file.empty())
            out += "  # " + std::to_string(c.engine.policy.trusted_sealers.size()) + " domains";
        if (notes && s.key == "servers" && c.resolver.ares.servers.empty())
            out += "  # empty: /etc/resolv.conf";
        if (notes && key != nullptr && s.key == "algorithm")
            out += "  # " + std::to_string(key->key.bits()) + " bits";
        if (notes && key != nullptr && s.key == "state")
            out += is_active(c, key) ? "  # seals " + key->domain
                                     : "  # does not seal; testkey checks its record";
        out += "\n";
    }
}

} // namespace

std::string print_config(const Config& c, PrintStyle style) {
    bool notes = style == PrintStyle::annotated;
    std::string out;
    if (notes)
        out += "# effective configuration of " + c.file + "\n";
    for (auto table : tables()) {
        if (table == "seal.keys")
            continue; // inside [seal]
        if (table == "seal" && c.seal_keys.empty()) {
            if (notes)
                out += "# [seal] absent: verify only\n";
            continue;
        }
        if (!table.empty())
            out += "[" + std::string(table) + "]\n";
        settings_of(out, c, table, nullptr, notes);
        if (table != "seal")
            continue;
        // TOML 1.0 §Array of Tables: every key below [[seal.keys]] belongs to that key, so the
        // [seal] settings above come first.
        // Every key in file order, active and published (the state is one of its settings).
        for (const auto& k : c.seal_keys) {
            out += "[[seal.keys]]\n";
            settings_of(out, c, "seal.keys", k.key.get(), notes);
        }
    }
    return out;
}

std::string describe(const Config& c) {
    return print_config(c, PrintStyle::annotated);
}

} // namespace arcf::filter
