// SPDX-License-Identifier: ISC
// The trust boundary and sealing policy: which clients are ours, which messages get sealed,
// and with which key. Pure.
#pragma once

#include "arc/seal.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

/// An IPv4 or IPv6 network in CIDR notation (a plain address is a /32 or /128).
class Network {
  public:
    static std::optional<Network> parse(std::string_view text);
    bool contains(std::string_view address) const;
    std::string to_string() const { return text_; }

  private:
    std::array<unsigned char, 16> addr_{};
    unsigned prefix_ = 0;
    bool v6_ = false;
    std::string text_;
};

/// What smtpd (or Exim) told us about the transaction.
struct Envelope {
    std::string client_ip;
    std::string auth_user; ///< non-empty when the client authenticated successfully
    std::string mail_from; ///< envelope sender, empty for <>
    std::vector<std::string> rcpts;
};

enum class Mode { verify, seal, both };
enum class SealWhen { all, trusted, recipient_domains };
enum class DomainSource { fixed, envelope_from, header_from, recipient };

struct Policy {
    /// verify: Authentication-Results only; seal: seal only; both: both.
    Mode mode = Mode::both;
    SealWhen seal_when = SealWhen::all;
    std::vector<std::string> seal_recipient_domains;
    std::vector<Network> trusted_networks;
    bool trust_authenticated = true; ///< SMTP AUTH users count as trusted
    DomainSource domain_source = DomainSource::fixed;
    /// The sealing key of each signing domain: its one active key (filter-arc.toml(5)
    /// [[seal.keys]] state); published keys are only checked by `testkey`, never seal.
    std::map<std::string, std::shared_ptr<const arc::SealKey>> keys;
    std::string default_domain; ///< the key used when the source gives no configured domain
    std::set<std::string> trusted_sealers; ///< domains whose ARC results we would honour
};

bool is_trusted_client(const Policy& p, const Envelope& e);
/// Whether this message gets an ARC set (before key choice and chain state).
bool wants_seal(const Policy& p, const Envelope& e);
/// The key for this message, or null when none applies. `header_from` is the value of the
/// message's one From field (empty when it has none or several); with DomainSource::header_from
/// its domain is dmarc::author_domain()'s, the one DMARC evaluates.
std::shared_ptr<const arc::SealKey>
choose_key(const Policy& p, const Envelope& e, std::string_view header_from);

/// The domain of an address ("a@Example.ORG" -> "example.org"); empty when there is none.
std::string domain_of(std::string_view address);
std::string_view to_string(Mode m);
std::string_view to_string(SealWhen s);
std::string_view to_string(DomainSource d);

} // namespace arcf::filter
