// SPDX-License-Identifier: ISC
// The library's own throughput: sealing through filter::MessageJob (the code path the filter
// runs for each message), chain verification through arc::ChainVerifier with the keys' DNS
// answers at hand, and body canonicalization + SHA-256 alone.
#pragma once

#include "arc/canon.hpp"
#include "arc/seal.hpp"

#include <memory>
#include <string>
#include <vector>

#include "bench/corpus.hpp"
#include "bench/measure.hpp"

namespace arcf::bench {

/// Messages per CPU second: `lines` (one message without line ends) sealed at i=N+1 after its
/// chain is verified, with our Authentication-Results written, as the filter does.
double seal_rate(const std::vector<std::string>& lines,
                 const std::shared_ptr<const arc::SealKey>& key,
                 const KeyRing& keys,
                 const RunShape& shape);

/// Messages per CPU second: the chain of `message` verified, every key answer given from
/// `keys` (a warm cache: the TXT answer is at hand, its key still has to be used).
double verify_rate(const std::string& message,
                   const KeyRing& keys,
                   bool oldest_pass,
                   const RunShape& shape);

/// Body bytes per CPU second through BodyHasher (line splitting included).
double canon_rate(std::string_view body, arc::Canon canon, const RunShape& shape);

} // namespace arcf::bench
