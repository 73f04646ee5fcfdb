// SPDX-License-Identifier: ISC
// The three ARC header fields (RFC 8617 §4.1): ARC-Authentication-Results, ARC-Message-Signature
// and ARC-Seal, parsed into typed values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"
#include "mail/result.hpp"
#include "mail/tag_list.hpp"

namespace arcf::arc {

// Written in terms of the shared mail plumbing (mail/).
using namespace arcf::mail;
using mail::to_string; // arc::to_string names the mail/ overloads too

inline constexpr std::string_view aar_name = "arc-authentication-results";
inline constexpr std::string_view ams_name = "arc-message-signature";
inline constexpr std::string_view as_name = "arc-seal";

/// RFC 8617 §4.2.1: instance values are 1..50.
inline constexpr std::uint32_t max_instance = 50;

/// Chain validation status (RFC 8617 §4.4).
enum class Cv { none, pass, fail };
std::string_view to_string(Cv cv);

/// Which ARC header a field is, if any.
enum class ArcHeaderKind { none, aar, ams, seal };
ArcHeaderKind arc_header_kind(std::string_view field_name);

struct ArcSeal {
    std::uint32_t instance = 0;
    Algorithm algorithm = Algorithm::rsa_sha256;
    std::string signature; ///< decoded b=
    Cv cv = Cv::none;
    std::string domain;
    std::string selector;
    std::optional<std::uint64_t> timestamp;
};

struct ArcMessageSignature {
    std::uint32_t instance = 0;
    Algorithm algorithm = Algorithm::rsa_sha256;
    std::string signature; ///< decoded b=
    std::string body_hash; ///< decoded bh=
    Canon header_canon = Canon::simple;
    Canon body_canon = Canon::simple;
    std::string domain;
    std::string selector;
    std::vector<std::string> signed_headers; ///< h=, lower-cased, in order
    std::optional<std::uint64_t> timestamp;
    std::optional<std::uint64_t> expiration;
    std::optional<std::uint64_t> body_length;
};

struct ArcAuthResults {
    std::uint32_t instance = 0;
    std::string_view payload; ///< the authres payload after "i=N;" (a view into the field value)
};

/// Parses an instance tag value: 1*2DIGIT within 1..50 (RFC 8617 §4.2.1).
std::optional<std::uint32_t> parse_instance(std::string_view v);

/// Parses the value of an ARC-Seal field (RFC 8617 §4.1.3). h= is forbidden (§4.1.3).
Result<ArcSeal> parse_arc_seal(std::string_view value);
/// The same from its tag list already parsed (mail::parse_tag_list of the value).
Result<ArcSeal> parse_arc_seal(const mail::TagList& tags);
/// Parses the value of an ARC-Message-Signature field (RFC 8617 §4.1.2; DKIM-Signature tags of
/// RFC 6376 §3.5 without v=). A missing c= means simple/simple (RFC 6376 §3.5).
Result<ArcMessageSignature> parse_arc_message_signature(std::string_view value);
/// The same from its tag list already parsed.
Result<ArcMessageSignature> parse_arc_message_signature(const mail::TagList& tags);
/// Parses the value of an ARC-Authentication-Results field: "i=" instance ";" authres-payload
/// (RFC 8617 §4.1.1), with CFWS (comments too) allowed around "i", "=" and the number.
Result<ArcAuthResults> parse_arc_auth_results(std::string_view value);

/// The i= value of any ARC header, for grouping into sets before full parsing; the error names
/// what is wrong (tag-list syntax, missing or invalid i=).
/// For an ARC-Seal or ARC-Message-Signature whose tag list parses, `tags` (when given) receives
/// that list, so that the full parse need not do it again.
Result<std::uint32_t> read_instance(ArcHeaderKind kind,
                                    std::string_view value,
                                    std::optional<mail::TagList>* tags = nullptr);
/// read_instance without the reason.
std::optional<std::uint32_t> peek_instance(ArcHeaderKind kind, std::string_view value);

} // namespace arcf::arc
