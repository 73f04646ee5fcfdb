// SPDX-License-Identifier: ISC
// ARC-aware DMARC local policy (RFC 8617 §7.2.1, §7.2.2) and the dmarc resinfo (RFC 7489 §11.2).
#include "dmarc/arc_override.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace arcf::dmarc {

namespace {

const mail::AuthProperty*
property(const mail::ResInfo& r, std::string_view ptype, std::string_view name) {
    for (const auto& p : r.properties)
        if (text::to_lower(p.ptype) == ptype && text::to_lower(p.property) == name)
            return &p;
    return nullptr;
}

// The domain of "local@domain" or a bare domain (smtp.mailfrom may be either, RFC 8601 §2.7.2).
std::string_view domain_part(std::string_view v) {
    auto at = v.rfind('@');
    return at == std::string_view::npos ? v : v.substr(at + 1);
}

// Which recorded result vouches for our From domain, if any (see the header).
std::string
evidence(const std::vector<mail::ResInfo>& results, const std::string& from, const OrgDomain& psl) {
    for (const auto& r : results) {
        if (text::to_lower(r.result) != "pass")
            continue;
        std::string method = text::to_lower(r.method);
        if (method == "dmarc") {
            const auto* hf = property(r, "header", "from");
            if (hf == nullptr || normalize_domain(hf->value) == from)
                return "dmarc=pass";
        } else if (method == "dkim") {
            const auto* d = property(r, "header", "d");
            if (d != nullptr && aligned(d->value, from, Alignment::relaxed, psl))
                return "dkim=pass";
        } else if (method == "spf") {
            const auto* mf = property(r, "smtp", "mailfrom");
            if (mf == nullptr || domain_part(mf->value).empty())
                mf = property(r, "smtp", "helo");
            if (mf != nullptr && aligned(domain_part(mf->value), from, Alignment::relaxed, psl))
                return "spf=pass";
        }
    }
    return {};
}

std::string client_ip_of(const SealerResults& aar) {
    if (!aar.client_ip.empty())
        return aar.client_ip;
    for (const auto& r : aar.results)
        for (const auto* name : {"remote-ip", "client-ip"})
            if (const auto* p = property(r, "smtp", name); p != nullptr && !p->value.empty())
                return p->value;
    for (const auto& r : aar.results)
        if (const auto* p = property(r, "policy", "iprev"); p != nullptr && !p->value.empty())
            return p->value;
    return {};
}

// Keeps a value inside one report-comment word: no spaces, controls or ';'.
std::string word(std::string_view v) {
    std::string out;
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        out += (u <= 0x20 || u == 0x7f || c == ';' || c == '"' || c == '\\') ? '_' : c;
    }
    return out;
}

} // namespace

std::optional<Override> arc_override(const Outcome& dmarc,
                                     const arc::ChainResult& chain,
                                     const std::vector<std::string>& trusted_sealers,
                                     const SealerResults& aar,
                                     const OrgDomain& psl) {
    if (dmarc.result != Result::fail || dmarc.header_from.empty())
        return std::nullopt;
    // RFC 8617 §7.2.1: only a validated chain (§5.2) carries assessments worth accepting.
    if (chain.status != arc::ChainStatus::pass || chain.chain.empty() || chain.sets == 0)
        return std::nullopt;
    const arc::SetSummary& newest = chain.chain.back();
    if (newest.instance != chain.sets || newest.seal_domain.empty())
        return std::nullopt;
    std::string sealer = normalize_domain(newest.seal_domain);
    bool trusted = std::any_of(trusted_sealers.begin(), trusted_sealers.end(),
                               [&](const std::string& t) { return normalize_domain(t) == sealer; });
    if (!trusted)
        return std::nullopt;
    std::string why = evidence(aar.results, normalize_domain(dmarc.header_from), psl);
    if (why.empty())
        return std::nullopt;
    Override o;
    o.instance = newest.instance;
    o.domain = sealer;
    o.selector = newest.seal_selector;
    o.client_ip = client_ip_of(aar);
    o.origin_ip = aar.origin_ip;
    o.evidence = std::move(why);
    for (auto it = chain.chain.rbegin(); it != chain.chain.rend(); ++it)
        o.seals.push_back(
            SealSigner{it->instance, normalize_domain(it->seal_domain), it->seal_selector});
    return o;
}

std::string report_comment(const Override& o) {
    // RFC 8617 §7.2.2: "arc=pass as[2].d=d2.example as[2].s=s2 as[1].d=d1.example
    // as[1].s=s3 remote-ip[1]=10.10.10.13".
    std::string out = "arc=pass";
    for (const auto& s : o.seals) {
        std::string i = std::to_string(s.instance);
        out += " as[" + i + "].d=" + word(s.domain) + " as[" + i + "].s=" + word(s.selector);
    }
    // "the originating IP address from the first ARC Set", plus what the trusted sealer saw.
    if (!o.origin_ip.empty() && o.instance != 1)
        out += " remote-ip[1]=" + word(o.origin_ip);
    if (!o.client_ip.empty())
        out += " remote-ip[" + std::to_string(o.instance) + "]=" + word(o.client_ip);
    else if (!o.origin_ip.empty() && o.instance == 1)
        out += " remote-ip[1]=" + word(o.origin_ip);
    return out;
}

mail::ResInfo dmarc_resinfo(const Outcome& dmarc, const std::optional<Override>& o) {
    mail::ResInfo r;
    r.method = "dmarc";
    r.result = std::string(to_string(dmarc.result));
    bool policy = !dmarc.policy_domain.empty() &&
                  (dmarc.result == Result::pass || dmarc.result == Result::fail);
    if (policy) {
        // What Google and others put in a comment, "(p=REJECT sp=REJECT dis=NONE)", goes into
        // reason= (RFC 8601 §2.7.1): format_resinfo() writes no comments, and a reason is a
        // value every A-R parser keeps.
        Policy dis = o ? Policy::none : dmarc.disposition;
        std::string reason = "p=" + std::string(to_string(dmarc.p)) +
                             " sp=" + std::string(to_string(dmarc.sp.value_or(dmarc.p))) +
                             " dis=" + std::string(to_string(dis));
        if (o && dmarc.result == Result::fail)
            reason += "; local_policy " + report_comment(*o);
        r.reason = std::move(reason);
    } else if (!dmarc.reason.empty()) {
        r.reason = dmarc.reason;
    }
    if (!dmarc.header_from.empty())
        r.properties.push_back(mail::AuthProperty{"header", "from", dmarc.header_from});
    if (policy) {
        // RFC 7489 §11.2 policy.dmarc: "Evaluated DMARC policy applied/to be applied after
        // policy options including pct: and sp: have been processed".
        Policy asked = dmarc.result == Result::fail ? dmarc.disposition : dmarc.applied;
        r.properties.push_back(
            mail::AuthProperty{"policy", "dmarc", std::string(to_string(asked))});
    }
    return r;
}

} // namespace arcf::dmarc
