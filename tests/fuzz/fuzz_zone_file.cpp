// SPDX-License-Identifier: ISC
// Fuzz target: RFC 1035 master files (dns/zone_file.hpp), as read for --dns-zone.
#include "dns/zone_file.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    dns::ZoneFile z;
    std::string err;
    bool ok = z.parse(text, err);
    check(ok || !err.empty(), "zone file refused without a message");
    for (const char* name : {"dummy._domainkey.example.org", "example.org", "", ".",
                             "s1._domainkey.forwarder.example."}) {
        auto a = z.lookup(name);
        check(a.status != dns::Status::temporary, "zone lookup is temporary");
        check((a.status == dns::Status::ok) == !a.records.empty(), "records and status disagree");
    }
    return 0;
}
