// SPDX-License-Identifier: ISC
// `filter-arc keygen` and `filter-arc testkey`: create a signing key with its DNS record, print
// the record of an existing key (`keygen --record`), and check that what DNS publishes matches
// every key of the configuration, active and published (RFC 6376 §3.6.1).
#include "arc/arc_headers.hpp"
#include "filter/cli/cli.hpp"
#include "filter/config/config.hpp"
#include "filter/config/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/base64.hpp"
#include "mail/key_record.hpp"
#include "text/ascii.hpp"

namespace arcf::filter {

namespace {

/// The TXT value of a key's record (RFC 6376 §3.6.1; k=ed25519 and the raw 32-byte key for
/// Ed25519, RFC 8463 §4.2): the single string that DNS web panels take.
std::string record_value(const mail::PrivateKey& key) {
    return std::string("v=DKIM1; k=") + std::string(arc::to_string(key.type())) +
           "; p=" + key.public_key_base64();
}

/// The TXT record of a key as one zone-file line, the value split into 255-byte strings
/// (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2 joins them again). `name` is the owner name without the
/// final dot.
std::string zone_line(const std::string& name, const mail::PrivateKey& key) {
    std::string rec = record_value(key);
    std::string out = name + ". IN TXT (";
    for (std::size_t i = 0; i < rec.size(); i += 255)
        out += " \"" + rec.substr(i, 255) + "\"";
    return out + " )";
}

std::string
zone_line(const std::string& selector, const std::string& domain, const mail::PrivateKey& key) {
    return zone_line(selector + "._domainkey." + domain, key);
}

/// `keygen --record --key FILE [--domain D --selector S]`: the record of an existing key, on
/// stdout as two lines: the zone-file line, then the single string for DNS web panels; what
/// each line is goes to stderr. Without --domain and --selector the zone line's owner name is
/// the placeholder SELECTOR._domainkey.DOMAIN.
int print_key_record(const Args& args) {
    for (const char* o : {"--type", "--bits", "--out"})
        if (args.value(o))
            throw UsageError{std::string("keygen --record reads an existing key; ") + o +
                             " is for a new one"};
    auto file = args.value("--key");
    if (!file)
        throw UsageError{"keygen --record needs --key FILE"};
    auto domain = args.value("--domain"), selector = args.value("--selector");
    if (domain.has_value() != selector.has_value())
        throw UsageError{"keygen --record takes --domain and --selector together, or neither"};
    if (domain && (!text::is_domain_name(*domain) || !text::is_domain_name(*selector)))
        throw UsageError{"--domain and --selector must be domain names"};
    std::string pem, err;
    if (!read_config_file(*file, pem, err)) { // bounded; a FIFO or device is refused
        std::cerr << "filter-arc keygen: " << err << "\n";
        return exit_noinput;
    }
    auto key = mail::PrivateKey::from_pem(pem);
    if (!key) {
        std::cerr << "filter-arc keygen: " << *file << ": " << key.error().detail << "\n";
        return exit_dataerr;
    }
    std::string name =
        domain ? *selector + "._domainkey." + *domain : std::string("SELECTOR._domainkey.DOMAIN");
    std::cerr << "filter-arc keygen: the DNS record of " << *file << " ("
              << arc::to_string(key->type()) << ", " << key->bits() << " bits); zone-file line"
              << (domain ? "" : " (replace SELECTOR and DOMAIN)") << ":\n";
    std::cout << zone_line(name, *key) << "\n" << std::flush;
    std::cerr << "filter-arc keygen: the same as one string, for DNS web panels (type TXT, name "
              << name << "):\n";
    std::cout << record_value(*key) << "\n" << std::flush;
    return std::cout ? exit_ok : exit_software;
}

/// One line of `testkey`: "NAME: VERDICT (STATE key)". The verdict comes right after the name
/// (scripts match "NAME: match").
std::string testkey_line(const Config& cfg, const arc::SealKey& key, const std::string& verdict) {
    const ConfiguredKey* ck = configured_key(cfg, &key);
    KeyState state = ck == nullptr ? KeyState::active : ck->state;
    return key.selector + "._domainkey." + key.domain + ": " + verdict + " (" +
           std::string(to_string(state)) +
           (state == KeyState::active ? " key, seals)" : " key, does not seal)");
}

} // namespace

int run_keygen(std::vector<std::string> argv) {
    Args args(std::move(argv), {"--domain", "--selector", "--type", "--bits", "--out", "--key"},
              {"--help", "--record"});
    if (args.flag("--help")) {
        std::cout << "usage: filter-arc keygen --domain D --selector S [--type rsa|ed25519] "
                     "[--bits N] [--out FILE]\n"
                     "       filter-arc keygen --record --key FILE [--domain D --selector S]\n";
        return exit_ok;
    }
    if (args.flag("--record"))
        return print_key_record(args);
    if (args.value("--key"))
        throw UsageError{"--key goes with --record (keygen --out names a new key's file)"};
    auto domain = args.value("--domain"), selector = args.value("--selector");
    if (!domain || !selector)
        throw UsageError{"keygen needs --domain and --selector"};
    if (!text::is_domain_name(*domain) || !text::is_domain_name(*selector))
        throw UsageError{"--domain and --selector must be domain names"};
    std::string type = args.value("--type").value_or("rsa");
    if (type != "rsa" && type != "ed25519")
        throw UsageError{"--type is rsa or ed25519"};
    unsigned bits = args.value("--bits")
                        ? static_cast<unsigned>(parse_unsigned("--bits", *args.value("--bits")))
                        : 2048;
    if (type == "rsa" && (bits < 1024 || bits > 8192))
        throw UsageError{"--bits must be 1024..8192 (2048 or more recommended, RFC 8301)"};
    std::string out = args.value("--out").value_or(*selector + "." + *domain + ".key");

    auto key = mail::PrivateKey::generate(
        type == "rsa" ? mail::KeyType::rsa : mail::KeyType::ed25519, bits);
    if (!key) {
        std::cerr << "filter-arc keygen: " << key.error().detail << "\n";
        return exit_software;
    }
    std::string pem = key->to_pem();
    // Created 0600 and never overwritten: a private key must not be readable by others.
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        std::cerr << "filter-arc keygen: cannot create " << out << ": " << std::strerror(errno)
                  << "\n";
        return exit_noinput;
    }
    ::fchmod(fd, 0600);
    bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        std::cerr << "filter-arc keygen: cannot write " << out << "\n";
        ::unlink(out.c_str());
        return exit_software;
    }
    std::cerr << "filter-arc keygen: wrote " << out << " (" << type << ", " << key->bits()
              << " bits); publish this record (filter-arc keygen --record --key " << out
              << " also prints it as one string, for DNS web panels):\n";
    std::cout << zone_line(*selector, *domain, *key) << "\n";
    return exit_ok;
}

int run_testkey(std::vector<std::string> argv) {
    Args args(std::move(argv), {"-c", "--config", "--dns-server", "--dns-zone", "--timeout"},
              {"--help"});
    if (args.flag("--help")) {
        std::cout << "usage: filter-arc testkey -c FILE [--dns-server HOST:PORT | --dns-zone FILE] "
                     "[--timeout SECONDS]\n";
        return exit_ok;
    }
    auto file = args.value("-c") ? args.value("-c") : args.value("--config");
    if (!file)
        throw UsageError{"testkey needs -c FILE"};
    Config cfg = load_config(*file);
    auto keys = all_seal_keys(cfg);
    if (keys.empty()) {
        // Nothing to test is not success: a script that runs testkey before switching a
        // sealer on must stop here (issue 20). EX_CONFIG: the file lacks what testkey checks.
        std::cerr << "filter-arc testkey: " << *file
                  << " configures no signing keys (no [seal] section): nothing to test; add "
                     "[seal] domain, selector and key (filter-arc.toml(5))\n";
        return exit_config;
    }
    KeySourceOptions ks;
    ks.zone_file = args.value("--dns-zone");
    ks.dns_server = args.value("--dns-server");
    if (!ks.dns_server && !cfg.resolver.ares.servers.empty())
        ks.dns_server = cfg.resolver.ares.servers;
    if (auto t = args.value("--timeout"))
        ks.timeout_ms = static_cast<unsigned>(parse_unsigned("--timeout", *t) * 1000);
    KeySource source = make_key_source(ks);
    std::vector<std::string> names;
    for (const auto& k : keys)
        names.push_back(k->selector + "._domainkey." + k->domain);
    auto answers = source(names);
    int status = exit_ok;
    mail::KeyPolicy lenient;
    lenient.min_rsa_bits = 512;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& a = answers.at(i);
        std::string verdict;
        switch (a.status) {
        case dns::Status::temporary:
            verdict = "temporary: could not be checked (" + a.detail + ")";
            status = exit_tempfail;
            break;
        case dns::Status::nxdomain:
        case dns::Status::nodata:
            verdict = "missing: no TXT record published";
            status = status == exit_ok ? 1 : status;
            break;
        case dns::Status::ok: {
            bool match = false, malformed = true;
            std::string why;
            for (const auto& rec : a.records) {
                auto parsed = mail::parse_key_record(rec, lenient);
                if (!parsed) {
                    why = parsed.error().detail;
                    continue;
                }
                malformed = false;
                match = match || keys[i]->key.matches(parsed->key);
            }
            if (match) {
                verdict = "match";
            } else {
                verdict =
                    malformed ? "malformed: " + why : "mismatch: DNS has another key at this name";
                status = status == exit_ok ? 1 : status;
            }
            break;
        }
        }
        std::cout << testkey_line(cfg, *keys[i], verdict) << "\n";
    }
    return status;
}

} // namespace arcf::filter
