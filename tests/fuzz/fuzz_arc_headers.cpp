// SPDX-License-Identifier: ISC
// Fuzz target: the three ARC header fields (arc/arc_headers.hpp). The input is a field value;
// every parser reads it, and what they accept must be self-consistent.
#include "arc/arc_headers.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/header.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);

    if (auto s = arc::parse_arc_seal(text)) {
        check(s->instance >= 1 && s->instance <= arc::max_instance, "AS instance out of range");
        check(text::is_domain_name(s->domain) && text::is_domain_name(s->selector),
              "AS d=/s= not a domain");
        check(!s->signature.empty(), "AS without a signature");
        check(arc::peek_instance(arc::ArcHeaderKind::seal, text) == s->instance,
              "peek_instance disagrees with parse_arc_seal");
    }
    if (auto m = arc::parse_arc_message_signature(text)) {
        check(m->instance >= 1 && m->instance <= arc::max_instance, "AMS instance out of range");
        check(m->body_hash.size() == 32, "AMS bh= is not 32 bytes");
        check(text::is_domain_name(m->domain), "AMS d= not a domain");
        for (const auto& h : m->signed_headers)
            check(!text::iequals(h, arc::as_name), "AMS signs ARC-Seal");
        check(arc::peek_instance(arc::ArcHeaderKind::ams, text) == m->instance,
              "peek_instance disagrees with parse_arc_message_signature");
    }
    if (auto a = arc::parse_arc_auth_results(text)) {
        check(a->instance >= 1 && a->instance <= arc::max_instance, "AAR instance out of range");
        check(a->payload.size() < text.size(), "AAR payload not inside the value");
        check(arc::peek_instance(arc::ArcHeaderKind::aar, text) == a->instance,
              "peek_instance disagrees with parse_arc_auth_results");
    }
    if (auto i = arc::parse_instance(text))
        check(*i >= 1 && *i <= 50 && std::to_string(*i).size() <= text.size(),
              "parse_instance out of range");
    if (text::is_domain_name(text))
        check(!text.empty() && text.size() <= 253 && text.front() != '.' && text.back() != '.',
              "is_domain_name accepted a bad name");
    auto kind = arc::arc_header_kind(text);
    check(kind == arc::ArcHeaderKind::none || text.size() >= 7, "arc_header_kind on short name");
    return 0;
}
