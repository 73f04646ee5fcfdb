// SPDX-License-Identifier: ISC
// Catch2 for every test file, whichever major version Debian ships: v2 (Debian 12, the single
// header <catch2/catch.hpp>) or v3 (Debian 13, <catch2/catch_all.hpp> and a compiled library).
// tests/catch_main.cpp holds the one main for both.
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define ARCF_CATCH2_MAJOR 3
#else
#include <catch2/catch.hpp>
#define ARCF_CATCH2_MAJOR 2
#endif

#include <string>

namespace arcf::test {

/// Substring matcher for CHECK_THAT(text, Contains("...")): v2 calls it Contains, v3 renamed it
/// ContainsSubstring (v3's Contains matches an element of a range instead).
/// Case-sensitive, as both versions default to.
inline auto Contains(const std::string& needle) {
#if ARCF_CATCH2_MAJOR >= 3
    return Catch::Matchers::ContainsSubstring(needle);
#else
    return Catch::Matchers::Contains(needle);
#endif
}

} // namespace arcf::test
