// SPDX-License-Identifier: ISC
// The CPU figures of issue 15 class 4: the worst legal message (50 ARC sets, RFC 8617 §4.2.1,
// and 10 DKIM signatures, DkimOptions::max_signatures, all RSA-4096) and the attack message
// (a key with a ~3000-bit public exponent, 50 TXT records at its selector, a valid 50-set chain
// and 10 DKIM signatures, every signature at that selector), each verified as the filter does:
// filter::MessageJob and filter::SenderAuth (DKIM on), one public-key operation budget.
#pragma once

#include "arc/chain.hpp"
#include "dns/answer.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/corpus.hpp"

namespace arcf::bench {

struct HostileMessage {
    Lines lines;                                ///< the message, without line ends
    std::size_t bytes = 0;                      ///< its size with CRLF line ends
    std::map<std::string, dns::TxtAnswer> zone; ///< key answers by DNS name
    std::size_t verifications = 0;              ///< public-key operations a full verification needs
};

/// 10 DKIM signatures and 50 ARC sets by RSA keys of `bits` bits, every signature valid.
HostileMessage worst_legal_message(unsigned bits);
/// The attack of issue 15 class 4 (slow to build: it signs 110 times with a huge exponent).
HostileMessage exponent_attack_message();

struct FilterVerdict {
    arc::ChainStatus chain = arc::ChainStatus::none;
    std::string chain_reason;
    std::size_t dkim_pass = 0, dkim_total = 0;
    std::string dkim_reason; ///< the first DKIM result's reason
};

/// Verifies `m` through MessageJob + SenderAuth as the filter does (DKIM concluded first).
FilterVerdict verify_as_filter(const HostileMessage& m);

/// RSA-`bits` verifications per second through EVP (a context set up once), sampled for
/// about `seconds` of CPU: the bound of the worst-legal figure.
class RsaVerifyMeter {
  public:
    explicit RsaVerifyMeter(unsigned bits);
    ~RsaVerifyMeter();
    RsaVerifyMeter(const RsaVerifyMeter&) = delete;
    RsaVerifyMeter& operator=(const RsaVerifyMeter&) = delete;
    double per_second(double seconds);

  private:
    struct State;
    std::unique_ptr<State> s_;
};

} // namespace arcf::bench
