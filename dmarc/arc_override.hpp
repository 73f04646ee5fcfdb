// SPDX-License-Identifier: ISC
// ARC-aware DMARC local policy (RFC 8617 §7.2.1): a DMARC failure may be overridden when a
// trusted sealer's passing chain records that the message authenticated before it was
// modified; the report comment that says so (§7.2.2) and the dmarc resinfo (RFC 7489 §11.2).
#pragma once

#include "arc/chain.hpp"
#include "dmarc/evaluator.hpp"
#include "dmarc/org_domain.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/auth_results.hpp"

namespace arcf::dmarc {

/// One ARC-Seal's signer (as[i].d, as[i].s).
struct SealSigner {
    std::uint32_t instance = 0;
    std::string domain, selector;
};

/// A DMARC failure locally overridden on the word of a trusted ARC sealer.
struct Override {
    std::uint32_t instance = 0;    ///< N, the newest set, whose AAR was trusted
    std::string domain, selector;  ///< as[N].d, as[N].s
    std::string client_ip;         ///< the client address sealer N saw; empty when unknown
    std::string origin_ip;         ///< the one ARC set 1 recorded, when the caller knows it
    std::string evidence;          ///< what its AAR recorded: "dmarc=pass", "dkim=pass", "spf=pass"
    std::vector<SealSigner> seals; ///< every set, newest first (for the report comment)
};

/// What the newest set's ARC-Authentication-Results recorded (RFC 8617 §4.1.1): its resinfos
/// and, when the caller knows it, the client address it names (smtp.remote-ip, RFC 8617 §6).
struct SealerResults {
    std::vector<mail::ResInfo> results;
    std::string client_ip;
    /// Optional: smtp.remote-ip of the AAR with i=1, the "originating IP address from the first
    /// ARC Set" that RFC 8617 §7.2.2 wants in the report comment.
    std::string origin_ip;
};

/// RFC 8617 §7.2.1 ("As a matter of local policy, a DMARC processor MAY choose to accept the
/// authentication assessments provided by an Authenticated Received Chain"): an Override only
/// when all of these hold, never otherwise:
///  - `dmarc.result` is fail;
///  - the chain validated (`chain.status` pass, RFC 8617 §5.2) and lists its sets;
///  - as[N].d of the newest set is one of `trusted_sealers` (case-insensitive, exact name:
///    trust is given to a sealer, not to everything below its organizational domain);
///  - its AAR recorded, for the message as it arrived there, one of: dmarc=pass for our
///    RFC5322.From domain (header.from, when present, must equal it); dkim=pass with a
///    header.d aligned (relaxed, RFC 7489 §3.1.1) with the From domain; spf=pass with an
///    smtp.mailfrom (or smtp.helo) domain aligned (relaxed, §3.1.2) with it.
/// An AAR result for some other domain vouches for nothing here (no pass out of nothing).
/// The client address comes from `aar.client_ip`, else from an smtp.remote-ip,
/// smtp.client-ip or policy.iprev property in the AAR.
std::optional<Override> arc_override(const Outcome& dmarc,
                                     const arc::ChainResult& chain,
                                     const std::vector<std::string>& trusted_sealers,
                                     const SealerResults& aar,
                                     const OrgDomain& psl);

/// RFC 8617 §7.2.2: the DMARC aggregate report comment (RFC 7489 Appendix C reason
/// local_policy) for an override: the chain status, as[i].d and as[i].s of every set newest
/// first, then remote-ip[1] (the origin, when known) and remote-ip[N] (what sealer N saw), e.g.
/// "arc=pass as[2].d=d2.example as[2].s=s2 as[1].d=d1.example as[1].s=s1 remote-ip[2]=192.0.2.1".
std::string report_comment(const Override& o);

/// The dmarc resinfo of our Authentication-Results (RFC 7489 §11.2): result, header.from and
/// policy.dmarc (the policy DMARC asks for after sp= and pct=, whether or not an override
/// set it aside). format_resinfo() drops comments, so what large receivers put in one goes
/// into reason=: "p=<p> sp=<sp or p> dis=<disposition>", where dis is none after an override,
/// followed by "; local_policy " and report_comment(). For none/temperror/permerror the
/// reason is the evaluator's sentence.
mail::ResInfo dmarc_resinfo(const Outcome& dmarc, const std::optional<Override>& o);

} // namespace arcf::dmarc
