// SPDX-License-Identifier: ISC
// Small helpers shared by the arc unit tests.
#include "tests/arc/test_support.hpp"

#include "arc/base64.hpp"
#include "arc/header.hpp"
#include "tests/catch.hpp"

namespace arcf::tests {

std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            out.push_back('\r');
        out.push_back(text[i]);
    }
    return out;
}

std::string b64(const arc::Digest& d) {
    return arc::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

arc::Digest hash_body(arc::Canon c, std::string_view body, std::optional<std::uint64_t> limit) {
    arc::BodyHasher h(c, limit);
    arc::for_each_line(body, [&](std::string_view line) { h.add_line(line); });
    return h.finish();
}

arc::PrivateKey load_key(const char* pem) {
    auto k = arc::PrivateKey::from_pem(pem);
    REQUIRE(k);
    return *k;
}

std::string unb64(std::string_view text) {
    auto d = arc::base64_decode(text);
    REQUIRE(d);
    return *d;
}

} // namespace arcf::tests
