// SPDX-License-Identifier: ISC
// Fuzz target: DNS response packets for a TXT query (dns/txt.hpp parse_txt_response), as the
// c-ares resolver hands them over. The qname is the suite's key name, so seeds built for it
// reach the answer section.
#include "dns/txt.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> msg(data, size);
    auto a = dns::parse_txt_response(msg, "dummy._domainkey.example.org");
    if (a.status == dns::Status::ok)
        check(!a.records.empty(), "ok answer without records");
    else
        check(a.records.empty(), "failed answer with records");
    std::size_t total = 0;
    for (const auto& r : a.records)
        total += r.size();
    check(total <= size, "records larger than the packet");
    auto b = dns::classify(dns::Transport::answered, msg, "DUMMY._domainkey.example.org.");
    (void)b;
    auto c = dns::classify(dns::Transport::timeout, {}, "dummy._domainkey.example.org");
    check(c.status == dns::Status::temporary, "timeout is not temporary");
    return 0;
}
