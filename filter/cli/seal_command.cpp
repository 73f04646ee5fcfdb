// SPDX-License-Identifier: ISC
// `filter-arc seal`: verify the chain once, then add a new ARC set on top (RFC 8617 §5.1).
#include "arc/seal.hpp"
#include "filter/cli/cli.hpp"
#include "filter/cli/message_run.hpp"
#include "filter/config/config.hpp"
#include "filter/config/config_file.hpp"

#include <ctime>
#include <iostream>

#include "text/ascii.hpp"

namespace arcf::filter {

namespace {

int finish_seal(const std::string& message, const pipeline::Outcome& o) {
    std::cerr << tool_log_line("seal", o) << "\n";
    if (o.disposition != pipeline::Disposition::deliver) {
        std::cerr << "filter-arc seal: temporary failure, not sealed: " << o.chain.reason << "\n";
        return exit_tempfail;
    }
    if (o.seal != pipeline::SealOutcome::sealed)
        std::cerr << "filter-arc seal: not sealed: " << pipeline::to_string(o.seal)
                  << (o.seal_detail.empty() ? "" : " (" + o.seal_detail + ")")
                  << " (arc=" << arc::to_string(o.chain.status) << ": " << o.chain.reason << ")\n";
    const std::string out = delivered_text(message, o);
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
    std::cout.flush();
    return std::cout ? exit_ok : exit_software;
}

// `seal -c FILE`: the settings of the filter that FILE configures, whole (mode, keys, policy,
// sender authentication, limits): the same added fields as that filter adds in smtpd or Exim
// mode, apart from the envelope, which the command line does not have.
int seal_as_configured(const Args& args, const std::string& file) {
    for (const char* o : {"--domain", "--selector", "--key", "--authserv-id", "--headers",
                          "--canon", "--min-key-bits"})
        if (args.value(o))
            throw UsageError{std::string("with -c the configuration gives ") + o};
    if (args.flag("--oversign"))
        throw UsageError{"with -c the configuration gives --oversign"};
    if (args.positional().size() > 1)
        throw UsageError{"seal takes one message"};
    KeySourceOptions ks;
    ks.zone_file = args.value("--dns-zone");
    ks.dns_server = args.value("--dns-server");
    if (auto t = args.value("--timeout"))
        ks.timeout_ms = static_cast<unsigned>(parse_unsigned("--timeout", *t) * 1000);
    pipeline::Settings settings;
    try {
        settings = file_settings(file, ks);
    } catch (const ConfigError& e) {
        std::cerr << "filter-arc seal: " << e.message << "\n";
        return exit_config;
    }
    const std::uint64_t now = args.value("--now") ? parse_unsigned("--now", *args.value("--now"))
                                                  : static_cast<std::uint64_t>(std::time(nullptr));
    settings.seal.now = now;
    auto source = make_record_source(ks);
    std::string message, err;
    const std::string path = args.positional().empty() ? "-" : args.positional()[0];
    if (!read_input(path, message, err)) {
        std::cerr << "filter-arc seal: " << err << "\n";
        return exit_noinput;
    }
    return finish_seal(message,
                       run_message(std::make_shared<const pipeline::Settings>(std::move(settings)),
                                   message, source, ks.timeout_ms, now));
}

} // namespace

int run_seal(std::vector<std::string> argv) {
    Args args(std::move(argv),
              {"-c", "--config", "--domain", "--selector", "--key", "--authserv-id", "--dns-zone",
               "--dns-server", "--now", "--min-key-bits", "--timeout", "--headers", "--canon"},
              {"--oversign"});
    if (auto file = args.value("-c") ? args.value("-c") : args.value("--config"))
        return seal_as_configured(args, *file);
    auto domain = args.value("--domain"), selector = args.value("--selector"),
         keyfile = args.value("--key");
    if (!domain || !selector || !keyfile)
        throw UsageError{"seal needs --domain, --selector and --key"};
    if (!text::is_domain_name(*domain) || !text::is_domain_name(*selector))
        throw UsageError{"--domain and --selector must be domain names"};
    if (args.positional().size() > 1)
        throw UsageError{"seal takes one message"};
    std::string path = args.positional().empty() ? "-" : args.positional()[0];

    std::string pem, err;
    if (!read_config_file(*keyfile, pem, err)) { // bounded; a FIFO or device is refused
        std::cerr << "filter-arc seal: key: " << err << "\n";
        return exit_noinput;
    }
    auto key = mail::PrivateKey::from_pem(pem);
    if (!key) {
        std::cerr << "filter-arc seal: key " << *keyfile << ": " << key.error().detail << "\n";
        return exit_dataerr;
    }

    arc::VerifyOptions vopts;
    vopts.now = args.value("--now") ? parse_unsigned("--now", *args.value("--now"))
                                    : static_cast<std::uint64_t>(std::time(nullptr));
    if (auto bits = args.value("--min-key-bits"))
        vopts.keys.min_rsa_bits = static_cast<unsigned>(parse_unsigned("--min-key-bits", *bits));

    arc::SealOptions sopts;
    sopts.now = vopts.now;
    sopts.authserv_id = args.value("--authserv-id").value_or(default_authserv_id());
    sopts.oversign = args.flag("--oversign");
    if (auto h = args.value("--headers")) {
        sopts.signed_headers.clear();
        for (std::size_t pos = 0;;) {
            auto colon = h->find(':', pos);
            auto item = h->substr(pos, colon == std::string::npos ? colon : colon - pos);
            if (!item.empty())
                sopts.signed_headers.push_back(item);
            if (colon == std::string::npos)
                break;
            pos = colon + 1;
        }
    }
    if (auto c = args.value("--canon")) {
        auto slash = c->find('/');
        std::string hc = c->substr(0, slash),
                    bc = slash == std::string::npos ? "simple" : c->substr(slash + 1);
        auto parse = [](const std::string& s) {
            if (s == "relaxed")
                return mail::Canon::relaxed;
            if (s == "simple")
                return mail::Canon::simple;
            throw UsageError{"--canon takes relaxed|simple[/relaxed|simple]"};
        };
        sopts.header_canon = parse(hc);
        sopts.body_canon = parse(bc);
    }

    KeySourceOptions ks;
    ks.zone_file = args.value("--dns-zone");
    ks.dns_server = args.value("--dns-server");
    if (auto t = args.value("--timeout"))
        ks.timeout_ms = static_cast<unsigned>(parse_unsigned("--timeout", *t) * 1000);
    auto source = make_record_source(ks);

    std::string message;
    if (!read_input(path, message, err)) {
        std::cerr << "filter-arc seal: " << err << "\n";
        return exit_noinput;
    }

    // The filter's pipeline with the filter's defaults, sealing every message with this key
    // and writing no Authentication-Results of its own (mode = "seal"): the same ARC set as
    // the filter adds (RFC 8617 §5.1), the same trust boundary and scrubbing.
    pipeline::Settings settings = tool_settings(sopts.authserv_id);
    settings.keys = vopts.keys;
    settings.auth.keys = vopts.keys;
    settings.seal = sopts;
    settings.policy.mode = Mode::seal;
    settings.policy.seal_when = SealWhen::all;
    settings.policy.domain_source = DomainSource::fixed;
    settings.policy.keys.clear();
    settings.policy.keys.emplace(
        *domain, std::make_shared<const arc::SealKey>(arc::SealKey{*domain, *selector, *key}));
    settings.policy.default_domain = *domain;
    const pipeline::Outcome o =
        run_message(std::make_shared<const pipeline::Settings>(std::move(settings)), message,
                    source, ks.timeout_ms, vopts.now);
    return finish_seal(message, o);
}

} // namespace arcf::filter
