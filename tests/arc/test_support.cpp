// SPDX-License-Identifier: ISC
// Small helpers shared by the arc unit tests.
#include "tests/arc/test_support.hpp"

#include "tests/catch.hpp"

#include "mail/base64.hpp"
#include "mail/header.hpp"

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

std::string b64(const mail::Digest& d) {
    return mail::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

mail::Digest hash_body(mail::Canon c, std::string_view body, std::optional<std::uint64_t> limit) {
    mail::BodyHasher h(c, limit);
    mail::for_each_line(body, [&](std::string_view line) { h.add_line(line); });
    return h.finish();
}

mail::PrivateKey load_key(const char* pem) {
    auto k = mail::PrivateKey::from_pem(pem);
    REQUIRE(k);
    return *k;
}

std::string unb64(std::string_view text) {
    auto d = mail::base64_decode(text);
    REQUIRE(d);
    return *d;
}

} // namespace arcf::tests
