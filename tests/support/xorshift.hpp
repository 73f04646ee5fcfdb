// SPDX-License-Identifier: ISC
// The random source of the differential tests: xorshift32, so that a failure can be replayed
// from its seed (printed by the test).
#pragma once

#include <cstddef>
#include <cstdint>

namespace arcf::test {

struct Rng {
    std::uint32_t s;
    std::uint32_t next() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
    /// A number below `n` (0 when `n` is 0).
    std::size_t below(std::size_t n) { return n == 0 ? 0 : next() % n; }
};

} // namespace arcf::test
