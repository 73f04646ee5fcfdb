// SPDX-License-Identifier: ISC
// The adapter between the SPF evaluator's DNS vocabulary (spf/dns.hpp) and the resolvers
// (dns/resolver.hpp): the same five record types (RFC 7208 §4.4, §5) and answers in the same text
// forms, so the pure evaluator never sees a resolver and a resolver never sees SPF.
#pragma once

#include "dns/answer.hpp"
#include "dns/resolver.hpp"
#include "spf/dns.hpp"

#include <functional>

namespace arcf::filter {

/// The resolver's record type for an SPF query type.
dns::RecordType record_type(spf::QueryType type);

/// A resolver answer as the evaluator takes it: status, records and detail carried over (the
/// TTL is the cache's business, not the evaluator's).
spf::Answer spf_answer(const dns::Answer& answer);

/// Sends `query` through `resolver`; `done` gets the answer in the evaluator's vocabulary, on the
/// resolver's terms (later, exactly once, never after cancel()).
dns::Resolver::QueryId send_spf_query(dns::Resolver& resolver,
                                      const spf::Query& query,
                                      std::function<void(spf::Answer)> done);

} // namespace arcf::filter
