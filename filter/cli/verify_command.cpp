// SPDX-License-Identifier: ISC
// `filter-arc verify`: one message in, one Authentication-Results verdict out (RFC 8617 §5.2).
#include "arc/auth_results_format.hpp"
#include "arc/explain.hpp"
#include "arc/explain_format.hpp"
#include "filter/cli/cli.hpp"
#include "filter/cli/message_run.hpp"
#include "filter/config/config.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <optional>
#include <string_view>

#include "dkim/verifier.hpp"

namespace arcf::filter {

namespace {

void print_dkim_json(const std::vector<dkim::DkimSignatureResult>& dkim) {
    std::cout << ",\"dkim\":[";
    for (std::size_t i = 0; i < dkim.size(); ++i) {
        const auto& d = dkim[i];
        std::cout << (i ? "," : "") << "{\"result\":\"" << dkim::to_string(d.result)
                  << "\",\"domain\":\"" << json_escape(d.domain) << "\",\"selector\":\""
                  << json_escape(d.selector) << "\",\"identity\":\"" << json_escape(d.identity)
                  << "\",\"algorithm\":\"" << json_escape(d.algorithm) << "\",\"body_length\":"
                  << (d.body_length ? std::to_string(*d.body_length) : std::string("null"))
                  << ",\"body_partial\":" << (d.body_partial ? "true" : "false")
                  << ",\"header_b\":\"" << json_escape(d.header_b) << "\",\"reason\":\""
                  << json_escape(d.reason) << "\"}";
    }
    std::cout << "]";
}

/// `--explain`: the per-hop report (arc/explain.hpp), its keys asked for in one round from the
/// same place the verdict's came from.
arc::Explanation explain(std::string_view message,
                         const mail::KeyPolicy& keys,
                         std::uint64_t now,
                         const KeySourceOptions& ks) {
    const std::vector<mail::KeyName> names = arc::explain_key_names(message);
    std::vector<std::string> dns_names;
    for (const auto& n : names)
        dns_names.push_back(n.dns_name());
    const std::vector<dns::TxtAnswer> answers = make_key_source(ks)(dns_names);
    arc::KeyAnswers by_name;
    for (std::size_t k = 0; k < names.size() && k < answers.size(); ++k)
        by_name.emplace(names[k], answers[k]);
    arc::ExplainOptions opts;
    opts.keys = keys;
    opts.now = now;
    return arc::explain_chain(message, by_name, opts);
}

} // namespace

int run_verify(std::vector<std::string> argv) {
    Args args(std::move(argv),
              {"-c", "--config", "--dns-zone", "--dns-server", "--now", "--authserv-id",
               "--min-key-bits", "--timeout"},
              {"--json", "--explain", "--no-oldest-pass"});
    if (args.positional().size() > 1)
        throw UsageError{"verify takes one message"};
    std::string path = args.positional().empty() ? "-" : args.positional()[0];

    arc::VerifyOptions opts;
    opts.now = args.value("--now") ? parse_unsigned("--now", *args.value("--now"))
                                   : static_cast<std::uint64_t>(std::time(nullptr));
    if (auto bits = args.value("--min-key-bits"))
        opts.keys.min_rsa_bits = static_cast<unsigned>(parse_unsigned("--min-key-bits", *bits));
    opts.oldest_pass = !args.flag("--no-oldest-pass");

    KeySourceOptions ks;
    ks.zone_file = args.value("--dns-zone");
    ks.dns_server = args.value("--dns-server");
    if (auto t = args.value("--timeout"))
        ks.timeout_ms = static_cast<unsigned>(parse_unsigned("--timeout", *t) * 1000);

    std::string message, err;
    if (!read_input(path, message, err)) {
        std::cerr << "filter-arc verify: " << err << "\n";
        return exit_noinput;
    }
    // The filter's pipeline in mode = "verify" (RFC 8617 §5.2): ARC, and every
    // DKIM-Signature with one round of key lookups for both; with -c the settings of the filter
    // that FILE configures (its authserv-id, DNS servers, sender authentication and limits).
    pipeline::Settings settings;
    if (auto file = args.value("-c") ? args.value("-c") : args.value("--config")) {
        try {
            settings = file_settings(*file, ks);
        } catch (const ConfigError& e) {
            std::cerr << "filter-arc verify: " << e.message << "\n";
            return exit_config;
        }
        if (auto id = args.value("--authserv-id"))
            settings.authserv_id = *id;
        if (args.value("--min-key-bits"))
            settings.keys.min_rsa_bits = settings.auth.keys.min_rsa_bits = opts.keys.min_rsa_bits;
        if (args.flag("--no-oldest-pass"))
            settings.oldest_pass = false;
    } else {
        settings = tool_settings(args.value("--authserv-id").value_or(default_authserv_id()));
        settings.keys = opts.keys;
        settings.auth.keys = opts.keys;
        settings.oldest_pass = opts.oldest_pass;
    }
    settings.policy.mode = Mode::verify;
    const std::string id = settings.authserv_id;
    const mail::KeyPolicy key_policy = settings.keys;
    auto source = make_record_source(ks);
    const pipeline::Outcome o =
        run_message(std::make_shared<const pipeline::Settings>(std::move(settings)), message,
                    source, ks.timeout_ms, opts.now);
    std::cerr << tool_log_line("verify", o) << "\n";
    const arc::ChainResult& r = o.chain;
    const std::vector<dkim::DkimSignatureResult>& dkim = o.dkim;

    std::optional<arc::Explanation> explained;
    if (args.flag("--explain"))
        explained = explain(message, key_policy, opts.now, ks);

    if (args.flag("--json")) {
        std::cout << "{\"arc\":\"" << arc::to_string(r.status) << "\",\"sets\":" << r.sets
                  << ",\"oldest_pass\":"
                  << (r.oldest_pass ? std::to_string(*r.oldest_pass) : std::string("null"))
                  << ",\"reason\":\"" << json_escape(r.reason) << "\",\"chain\":[";
        for (std::size_t i = 0; i < r.chain.size(); ++i) {
            const auto& s = r.chain[i];
            std::cout << (i ? "," : "") << "{\"i\":" << s.instance << ",\"cv\":\""
                      << arc::to_string(s.cv) << "\",\"seal_domain\":\""
                      << json_escape(s.seal_domain) << "\",\"seal_selector\":\""
                      << json_escape(s.seal_selector) << "\",\"ams_domain\":\""
                      << json_escape(s.ams_domain) << "\",\"ams_selector\":\""
                      << json_escape(s.ams_selector) << "\"}";
        }
        std::cout << "]";
        print_dkim_json(dkim);
        if (explained)
            std::cout << ",\"explain\":" << arc::format_explanation_json(*explained);
        std::cout << "}\n";
    } else {
        // The Authentication-Results the filter adds (arc=, then spf, dkim and dmarc), unfolded.
        std::string ar = added_authentication_results(o);
        if (ar.empty())
            ar = arc::format_authentication_results(id, r);
        std::cout << "Authentication-Results: " << ar << "\n";
        if (explained)
            std::cout << "\n" << arc::format_explanation_text(*explained);
    }
    return r.status == arc::ChainStatus::temperror ? exit_tempfail : exit_ok;
}

} // namespace arcf::filter
