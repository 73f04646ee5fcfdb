// SPDX-License-Identifier: ISC
// SPF queries through the resolvers (RFC 7208 §4.4, §5): type mapping and answer conversion.
#include "filter/pipeline/spf_dns.hpp"

#include <utility>

namespace arcf::filter {

dns::RecordType record_type(spf::QueryType type) {
    switch (type) {
    case spf::QueryType::a:
        return dns::RecordType::a;
    case spf::QueryType::aaaa:
        return dns::RecordType::aaaa;
    case spf::QueryType::mx:
        return dns::RecordType::mx;
    case spf::QueryType::txt:
        return dns::RecordType::txt;
    case spf::QueryType::ptr:
        return dns::RecordType::ptr;
    }
    return dns::RecordType::txt;
}

spf::Answer spf_answer(const dns::Answer& answer) {
    // Both sides share dns::Status and the per-type text forms (spf/dns.hpp, dns/answer.hpp); an
    // `ok` without records reads as NODATA on the SPF side (a void lookup, RFC 7208 §4.6.4).
    return spf::Answer{answer.status, answer.records, answer.detail};
}

dns::Resolver::QueryId send_spf_query(dns::Resolver& resolver,
                                      const spf::Query& query,
                                      std::function<void(spf::Answer)> done) {
    return resolver.query(record_type(query.type), query.name,
                          [done = std::move(done)](dns::Answer a) { done(spf_answer(a)); });
}

} // namespace arcf::filter
