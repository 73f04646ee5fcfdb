// SPDX-License-Identifier: ISC
// One message's verification and sealing, shared by the OpenSMTPD and Exim shells: lines in,
// key names out, key answers in, the header lines to add and the decision out. Pure.
#pragma once

#include "arc/chain.hpp"
#include "arc/seal.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

struct JobOptions {
    std::string authserv_id;
    std::vector<std::string> trusted_authserv_ids; ///< results we copy into the AAR
    std::shared_ptr<const arc::SealKey> seal_key;  ///< null: verify only
    arc::SealOptions seal;
    arc::VerifyOptions verify;
    std::string remote_ip; ///< for smtp.remote-ip (RFC 8617 §6)
};

struct JobResult {
    arc::ChainResult chain;
    bool tempfail = false; ///< defer the message: a key answer was temporary
    bool sealed = false;
    std::string seal_note;                ///< why sealed or not
    std::vector<std::string> added_lines; ///< physical header lines to put on top, no EOL
};

class MessageJob {
  public:
    explicit MessageJob(JobOptions opts);

    /// One message line, un-stuffed, without EOL. Returns the key names to look up when this
    /// line completed the header block (empty otherwise).
    std::vector<arc::KeyName> add_line(std::string_view line);
    /// The data ended (also completes a header block without body).
    std::vector<arc::KeyName> end_of_data();
    void provide_key(const arc::KeyName& name, const dns::TxtAnswer& answer);
    /// Verifies, writes the Authentication-Results and seals when a key is configured and
    /// `allow_seal`. Keys never provided count as temporary failures.
    JobResult complete(bool allow_seal = true);

    bool headers_done() const { return headers_done_; }
    const std::vector<arc::HeaderField>& headers() const { return verifier_.headers(); }

  private:
    std::vector<arc::KeyName> finish_headers();

    JobOptions opts_;
    arc::HeaderCollector collector_;
    arc::ChainVerifier verifier_;
    std::optional<arc::BodyHasher> seal_body_;
    bool headers_done_ = false;
};

} // namespace arcf::filter
