// SPDX-License-Identifier: ISC
// `scripts/bench --peers` (issue 21): the same corpus sealed and verified by the independent
// implementations Debian ships (python3-dkim, libmail-dkim-perl), each in one process on the
// core the bench is pinned to, keys parsed once where the API allows and DNS answered from
// memory; then a table of their msgs/s next to ours and our ratio to each. Each peer must verify
// our seals and we theirs, or its figure is marked invalid.
#pragma once

#include <map>
#include <string>

#include "bench/corpus.hpp"

namespace arcf::bench {

struct PeerCorpus {
    std::string seal_4k;     ///< the seal figure's message (CRLF), without Authentication-Results
    std::string verify1_4k;  ///< with one ARC set by our sealer
    std::string verify1_10m; ///< the same at 10 MiB
};

/// Runs the peers that are installed on `corpus` for at least `seconds` CPU per figure and
/// prints "PEER ..." lines and the table. `ours` holds our msgs/s by figure name ("seal_4k",
/// "verify1_4k", "verify1_10m"). Returns false when a peer failed a sanity check. When
/// `markdown` is given, the table is appended to it in Markdown too.
bool run_peers(const PeerCorpus& corpus,
               const KeyRing& ring,
               const std::map<std::string, double>& ours,
               double seconds,
               std::string* markdown = nullptr);

} // namespace arcf::bench
