// SPDX-License-Identifier: ISC
// Shared pieces of the fuzz targets: the libFuzzer entry point and a check that aborts (so that
// libFuzzer, or the gcc corpus replay, reports the input) when a property does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace arcf::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return size == 0 ? std::string_view()
                     : std::string_view(reinterpret_cast<const char*>(data), size);
}

/// A violated property is a finding: say which, then abort like a crash.
inline void check(bool ok, const char* what, std::string_view detail = {}) {
    if (ok)
        return;
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    if (!detail.empty())
        std::fprintf(stderr, "  detail: %.*s\n",
                     static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
    std::abort();
}

} // namespace arcf::fuzz
