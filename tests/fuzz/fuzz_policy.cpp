// SPDX-License-Identifier: ISC
// Fuzz target: the small parsers of the sealing policy (filter/pipeline/policy.hpp): CIDR networks
// and addresses, the envelope address domain and key choice by the From field.
#include "filter/pipeline/policy.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    auto nl = text.find('\n');
    std::string_view first = text.substr(0, nl);
    std::string_view second = nl == std::string_view::npos ? text : text.substr(nl + 1);
    if (auto n = filter::Network::parse(first)) {
        (void)n->contains(second);
        (void)n->contains(first);
        auto again = filter::Network::parse(n->to_string());
        check(again.has_value(), "a network does not re-parse from its own text", n->to_string());
    }
    std::string e = filter::domain_of(text);
    check(e.size() <= text.size(), "domain_of grew");
    filter::Policy p;
    p.trusted_networks.push_back(*filter::Network::parse("192.0.2.0/24"));
    p.trusted_networks.push_back(*filter::Network::parse("2001:db8::/32"));
    filter::Envelope env{std::string(first), "", std::string(second), {std::string(text)}};
    (void)filter::is_trusted_client(p, env);
    p.seal_when = filter::SealWhen::recipient_domains;
    p.seal_recipient_domains = {"example.org"};
    (void)filter::wants_seal(p, env);
    p.domain_source = filter::DomainSource::header_from;
    (void)filter::choose_key(p, env, text);
    return 0;
}
