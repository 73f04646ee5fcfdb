// SPDX-License-Identifier: ISC
// Small helpers shared by the arc unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"

namespace arcf::tests {

/// Turns every bare LF into CRLF, so messages can be written readably with "\n".
std::string crlf(std::string_view text);
/// Base64 of a digest, for comparing with `openssl dgst -sha256 -binary | base64`.
std::string b64(const mail::Digest& d);
/// Feeds `body` (CRLF or LF) to a BodyHasher line by line and returns the hash.
mail::Digest
hash_body(mail::Canon c, std::string_view body, std::optional<std::uint64_t> limit = std::nullopt);
/// Parses a PEM private key; the calling test fails if it does not parse.
mail::PrivateKey load_key(const char* pem);
/// Decodes base64 (the calling test fails if it is invalid).
std::string unb64(std::string_view text);

} // namespace arcf::tests
