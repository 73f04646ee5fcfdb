// SPDX-License-Identifier: ISC
// Base64 (RFC 4648 §4) as used by DKIM b=, bh= and p= (RFC 6376 §2.4: FWS ignored).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace arcf::mail {

/// Decodes base64, ignoring FWS. Returns nullopt on any other invalid character, bad padding or
/// a length that is not a multiple of four.
std::optional<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

} // namespace arcf::mail
