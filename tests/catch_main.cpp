// SPDX-License-Identifier: ISC
// The one Catch2 main shared by every unit test binary. Written out (rather than v2's
// CATCH_CONFIG_MAIN or v3's Catch2WithMain library) so it is the same on Catch2 v2 and v3.
#if __has_include(<catch2/catch_session.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

int main(int argc, char* argv[]) {
    return Catch::Session().run(argc, argv);
}
