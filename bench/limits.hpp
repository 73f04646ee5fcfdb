// SPDX-License-Identifier: ISC
// The hardware's limit, measured in the same run through OpenSSL's EVP interface: RSA-2048
// signatures and verifications per second (PKCS#1 v1.5 over a SHA-256 digest, a context set up
// once, as `openssl speed rsa2048` does) and SHA-256 bytes per second (`openssl speed -evp`).
#pragma once

#include <memory>

#include "bench/measure.hpp"

namespace arcf::bench {

struct Limits {
    double rsa_sign_per_s = 0;
    double rsa_verify_per_s = 0;
    double sha256_bytes_per_s = 0;

    /// Seconds one seal of a `bytes` message cannot go below: two signatures (AMS, AS) and
    /// one pass of SHA-256 over the message.
    double seal_seconds(double bytes) const;
    /// Verifying an N-set chain: 1 + N verifications (newest AMS, every AS) and one hash.
    double verify_seconds(double bytes, unsigned sets) const;
};

/// Takes the three measurements, as often as asked: the key and the contexts are set up once.
class LimitMeter {
  public:
    LimitMeter();
    ~LimitMeter();
    LimitMeter(const LimitMeter&) = delete;
    LimitMeter& operator=(const LimitMeter&) = delete;

    /// Each measurement as the median of `shape`.
    Limits measure(const RunShape& shape);
    /// Each measurement once, for `seconds` of CPU: the limit right now, to pair with one
    /// repetition of a figure.
    Limits sample(double seconds);

  private:
    struct State;
    std::unique_ptr<State> s_;
};

} // namespace arcf::bench
