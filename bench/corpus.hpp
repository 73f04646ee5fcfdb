// SPDX-License-Identifier: ISC
// Benchmark input: realistic messages (multipart MIME, folded headers, quoted-printable text,
// HTML, a base64 attachment) of a chosen size, RSA-2048 keys, and ARC chains of 1..N sets made
// by our own sealer, each hop under its own domain.
#pragma once

#include "arc/chain.hpp"
#include "arc/seal.hpp"
#include "dns/answer.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mail/crypto.hpp"

namespace arcf::bench {

/// A message of about `bytes` octets (CRLF line ends): headers as a real MUA and two MTAs write
/// them, then multipart/mixed { multipart/alternative { text/plain, text/html }, attachment }.
std::string make_message(std::size_t bytes, std::uint32_t seed);

/// A body of prose and indented HTML only (no attachment), about `bytes` octets: the worst
/// realistic case for relaxed canonicalization, which rewrites many of its lines.
std::string make_text_body(std::size_t bytes, std::uint32_t seed);

/// The fixed time every signature in the corpus carries (t=), and the verifier's "now".
constexpr std::uint64_t corpus_time = 1715677950;

/// Signing keys and the TXT answers that publish them (what a warm DNS cache holds).
struct KeyRing {
    std::vector<std::shared_ptr<const arc::SealKey>> hops; ///< hop i seals set i+1
    std::map<mail::KeyName, dns::TxtAnswer> answers;
};
/// `hops` RSA keys of `bits` bits, domains hop1.example, hop2.example, ... selector "s1".
KeyRing make_keys(std::size_t hops, unsigned bits);

/// `message` with `sets` ARC sets added by hops 1..sets, the keys of `keys` in turn when there
/// are more sets than keys (each hop verifies the chain first).
std::string add_chain(const std::string& message, std::size_t sets, const KeyRing& keys);

/// `message` with a DKIM-Signature (RFC 6376 §3.5, rsa-sha256, relaxed/relaxed, no l=) by
/// `key` on top, over From, To, Subject, Date and Message-ID.
std::string add_dkim_signature(const std::string& message, const arc::SealKey& key);

/// A message's lines without their line ends, as smtpd hands them to the filter: views into one
/// copy of the message, in order, as the filter's lines are views into the buffer it read them
/// into (not one allocation each, scattered over the heap). Copies share the text.
class Lines {
  public:
    Lines() = default;
    explicit Lines(std::string message);
    std::size_t size() const { return lines_.size(); }
    bool empty() const { return lines_.empty(); }
    const std::string_view& operator[](std::size_t i) const { return lines_[i]; }
    std::vector<std::string_view>::const_iterator begin() const { return lines_.begin(); }
    std::vector<std::string_view>::const_iterator end() const { return lines_.end(); }

  private:
    std::shared_ptr<const std::string> text_;
    std::vector<std::string_view> lines_;
};

/// The message split into lines without line ends, as smtpd hands them to the filter.
Lines lines_of(const std::string& message);

} // namespace arcf::bench
