// SPDX-License-Identifier: ISC
// The library's own work, one message per call: sealing through filter::MessageJob (the code
// path the filter runs for each message), chain verification through arc::ChainVerifier with
// the keys' DNS answers at hand, and body canonicalization + SHA-256 alone. Each maker runs
// its operation once and checks the result, so that a broken path cannot look fast.
#pragma once

#include "arc/seal.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/corpus.hpp"
#include "mail/canon.hpp"

namespace arcf::bench {

using Operation = std::function<void()>;

/// `lines` (one message without line ends) sealed at i=N+1 after its chain is verified, with
/// our Authentication-Results written, as the filter does. The referenced data must outlive the
/// operation.
Operation seal_operation(const Lines& lines,
                         const std::shared_ptr<const arc::SealKey>& key,
                         const KeyRing& keys);

/// The chain of `message` verified, every key answer given from `keys` (a warm cache: the TXT
/// answer is at hand, its key still has to be used).
Operation verify_operation(const std::string& message, const KeyRing& keys, bool oldest_pass);

/// `lines` (a message with DKIM-Signatures and an ARC chain) verified as the filter does:
/// filter::MessageJob with filter::SenderAuth (DKIM on; SPF and DMARC off), every key answer
/// from `keys`, no seal. ARC and DKIM share the message's body hashes.
/// With `expect_dkim` false, the message has no DKIM-Signature (dkim=none): the same path for
/// a chain alone.
Operation dkim_verify_operation(const Lines& lines, const KeyRing& keys, bool expect_dkim = true);

/// `lines` through the whole per-message pipeline as the filter runs it (pipeline::Message with
/// the settings of the configuration at `config`, the envelope the benchmark's smtpd stream
/// reports): verification, SPF and DMARC, our Authentication-Results, the seal and the log
/// fields; every DNS answer from memory (`keys`, NXDOMAIN for the rest). Not the smtpd shell:
/// no protocol, no replay, no log line written. For comparison with the filter process only.
Operation pipeline_operation(const Lines& lines, const std::string& config, const KeyRing& keys);

/// `body` through BodyHasher (line splitting included).
Operation canon_operation(std::string_view body, mail::Canon canon);

} // namespace arcf::bench
