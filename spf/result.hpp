// SPDX-License-Identifier: ISC
// SPF results (RFC 7208 §2.6), the verdict of check_host(), and syntax errors as values.
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace arcf::spf {

/// The seven results of check_host() (RFC 7208 §2.6).
enum class Result {
    none,      ///< §2.6.1: no syntactically valid domain or no SPF record
    neutral,   ///< §2.6.2: "?" matched, or nothing matched (§4.7)
    pass,      ///< §2.6.3
    fail,      ///< §2.6.4
    softfail,  ///< §2.6.5
    temperror, ///< §2.6.6: a transient (generally DNS) error
    permerror, ///< §2.6.7: the published records could not be interpreted
};

constexpr std::string_view to_string(Result r) {
    switch (r) {
    case Result::none:
        return "none";
    case Result::neutral:
        return "neutral";
    case Result::pass:
        return "pass";
    case Result::fail:
        return "fail";
    case Result::softfail:
        return "softfail";
    case Result::temperror:
        return "temperror";
    case Result::permerror:
        return "permerror";
    }
    return "unknown";
}

/// The outcome of one check_host() evaluation.
struct Verdict {
    Result result = Result::none;
    /// The expanded exp= text (RFC 7208 §6.2) for a top-level "fail"; empty when the record has
    /// no exp= or it could not be used, in which case the caller supplies its own default.
    std::string explanation;
    /// The directive that decided the result as written ("-all", "include:_spf.example.com"),
    /// empty when none did (default result, redirect, errors).
    std::string mechanism;
    /// Why, for logs and Received-SPF comments ("matched ip4:192.0.2.0/24 in example.com",
    /// "more than 10 DNS-querying terms (RFC 7208 §4.6.4)").
    std::string reason;
};

/// Why a record, term or macro-string does not match the RFC 7208 §12 ABNF.
struct SyntaxError {
    std::string detail;
};

template <class T>
using Parsed = tl::expected<T, SyntaxError>;

inline tl::unexpected<SyntaxError> syntax_error(std::string detail) {
    return tl::unexpected<SyntaxError>(SyntaxError{std::move(detail)});
}

} // namespace arcf::spf
