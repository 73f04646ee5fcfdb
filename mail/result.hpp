// SPDX-License-Identifier: ISC
// Typed parse results for the pure core: values, not exceptions (see DEVELOPERS.md, "Errors").
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <utility>

namespace arcf::mail {

/// Why a piece of input could not be parsed or used.
enum class Errc {
    syntax,        ///< the text does not match its ABNF
    missing_tag,   ///< a required tag is absent
    duplicate_tag, ///< RFC 6376 §3.2: a tag appears twice
    bad_value,     ///< a tag is present but its value is not acceptable
    unsupported,   ///< a valid but unsupported algorithm, key type, version
    key_too_small, ///< RFC 8301 §3.2
    key_too_large, ///< our CPU-exhaustion bound
    revoked,       ///< RFC 6376 §3.6.1: empty p=
    crypto,        ///< OpenSSL refused the key or signature
};

struct Error {
    Errc code = Errc::syntax;
    std::string detail;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string detail) {
    return tl::unexpected<Error>(Error{code, std::move(detail)});
}

} // namespace arcf::mail
