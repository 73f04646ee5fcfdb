// SPDX-License-Identifier: ISC
// Test-only ARC sealer (RFC 8617 §5.1) built from the core's primitives, to make chains to verify.
#pragma once

#include "arc/arc_headers.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/canon.hpp"
#include "mail/crypto.hpp"

namespace arcf::tests {

/// Who signs: a key and where its public half is published.
struct Signer {
    const mail::PrivateKey* key = nullptr;
    std::string domain;
    std::string selector;

    /// <selector>._domainkey.<domain>
    std::string dns_name() const;
    /// "v=DKIM1; k=rsa|ed25519; p=<public key>"
    std::string key_record() const;
};

struct SealOptions {
    Signer ams;                 ///< signs the ARC-Message-Signature
    Signer seal;                ///< signs the ARC-Seal
    arc::Cv cv = arc::Cv::none; ///< cv= of the new seal; cv=fail seals only the new set
    std::string aar_payload = "relay.example; arc=none";            ///< the AAR after "i=N; "
    std::string signed_headers = "from:to:subject:date:message-id"; ///< the AMS h= value
    mail::Canon header_canon = mail::Canon::relaxed;
    mail::Canon body_canon = mail::Canon::relaxed;
    std::optional<std::uint64_t> timestamp;   ///< t= of both signatures
    std::optional<std::uint64_t> expiration;  ///< x= of the AMS
    std::optional<std::uint64_t> body_length; ///< l= of the AMS
    bool fold = false;                        ///< fold both signatures after each ';' and inside b=
    /// Text replacements (first occurrence) in the new AAR before anything signs it, and in the
    /// new AMS after it is signed and before the seal signs it: a set whose seal is valid over
    /// fields a normal signer would not write.
    std::vector<std::pair<std::string, std::string>> aar_edits, ams_edits;
    /// Tags (name, value) added after the standard ones to the ARC-Seal before it is signed.
    std::vector<std::pair<std::string, std::string>> extra_seal_tags;
};

/// One ARC set as complete header fields ("Name: value", CRLF inside folds, no final CRLF).
/// Tags are written in alphabetical order, "; "-separated (the ARC suite's signing format).
struct ArcSet {
    std::uint32_t instance = 0;
    std::string aar;
    std::string ams;
    std::string seal;
};

/// Builds the next ARC set for a CRLF `message` (instance = highest present + 1). Throws
/// std::runtime_error when a key is missing or signing fails.
ArcSet make_arc_set(std::string_view message, const SealOptions& o);
/// `message` with the new set prepended: ARC-Seal, ARC-Message-Signature, then the AAR.
std::string seal_message(std::string_view message, const SealOptions& o);
/// The b= value of a whole ARC-Seal / ARC-Message-Signature field, FWS removed.
std::string b_value(std::string_view field);

} // namespace arcf::tests
