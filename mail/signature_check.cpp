// SPDX-License-Identifier: ISC
// RFC 6376 §5.4.2, §6.1.2 and §6.1.3 steps shared by the ARC and DKIM verifiers.
#include "mail/signature_check.hpp"

#include <unordered_map>

#include "text/ascii.hpp"

namespace arcf::mail {

namespace {

// Header field names compared as RFC 5322 §1.2.2 and RFC 6376 §3.4 do, without case: hashed and
// compared lower-cased in place, so that no lower-case copy of a name is made.
struct NameHash {
    std::size_t operator()(std::string_view s) const noexcept {
        std::size_t h = 14695981039346656037ull; // FNV-1a
        for (char c : s)
            h = (h ^ static_cast<unsigned char>(text::to_lower(c))) * 1099511628211ull;
        return h;
    }
};
struct NameEqual {
    bool operator()(std::string_view a, std::string_view b) const noexcept {
        return text::iequals(a, b);
    }
};

} // namespace

std::string signed_header_data(const std::vector<HeaderField>& headers,
                               const std::vector<std::string>& signed_names,
                               Canon canon,
                               std::string_view signature_raw) {
    // RFC 6376 §5.4.2: each h= name selects the next unused instance from the bottom up;
    // names with no instance left contribute nothing. The instances of each wanted name are
    // listed once, bottom first, so that hostile counts of fields and names cost linear time.
    struct Instances {
        std::vector<std::size_t> bottom_up;
        std::size_t next = 0;
    };
    std::unordered_map<std::string_view, Instances, NameHash, NameEqual> wanted;
    wanted.reserve(signed_names.size());
    for (const auto& name : signed_names)
        if (!name.empty())
            wanted.try_emplace(name);
    std::size_t bytes = signature_raw.size() + 2;
    for (std::size_t k = headers.size(); k-- > 0;) {
        if (headers[k].name().empty())
            continue;
        auto it = wanted.find(headers[k].name());
        if (it != wanted.end()) {
            it->second.bottom_up.push_back(k);
            bytes += headers[k].raw().size() + 2;
        }
    }
    std::string data;
    data.reserve(bytes); // about the canonical size: relaxed fields only shrink
    for (const auto& name : signed_names) {
        if (name.empty())
            continue;
        Instances& in = wanted.find(name)->second;
        if (in.next < in.bottom_up.size())
            append_canon_header(data, canon, headers[in.bottom_up[in.next++]].raw());
    }
    // RFC 6376 §3.7: the signature field last, b= empty, without its trailing CRLF.
    append_canon_header(data, canon, strip_b_value(signature_raw), false);
    return data;
}

void KeyLookup::record(const dns::TxtAnswer& answer, const KeyPolicy& policy) {
    if (answered)
        return;
    answered = true;
    status = answer.status;
    detail = answer.detail.empty() ? std::string(dns::to_string(answer.status)) : answer.detail;
    if (answer.status == dns::Status::ok)
        keys = parse_key_records(answer.records, policy, &parse_error);
}

std::optional<SignatureVerdict> key_problem(const KeyLookup* k, const KeyName& name) {
    if (k == nullptr || !k->answered)
        return SignatureVerdict{SignatureCheck::temporary, "no answer for key " + name.dns_name()};
    switch (k->status) {
    case dns::Status::temporary:
        return SignatureVerdict{SignatureCheck::temporary, "key " + name.dns_name() +
                                                               ": temporary DNS failure (" +
                                                               k->detail + ")"};
    case dns::Status::nxdomain:
    case dns::Status::nodata:
        return SignatureVerdict{SignatureCheck::no_key, "no key at " + name.dns_name()};
    case dns::Status::ok:
        break;
    }
    if (k->keys.empty())
        return SignatureVerdict{SignatureCheck::unusable_key, "unusable key at " + name.dns_name() +
                                                                  ": " + k->parse_error.detail};
    return std::nullopt;
}

SignatureVerdict check_signature(const KeyLookup* k,
                                 const KeyName& name,
                                 const Digest& digest,
                                 std::string_view signature,
                                 Algorithm alg,
                                 bool subdomain_identity,
                                 KeyOperationBudget* budget) {
    if (auto problem = key_problem(k, name))
        return *problem;
    // RFC 6376 §3.6.2.2: several records at a selector; try each usable one of the right type.
    bool type_seen = false, tried = false;
    for (const auto& rec : k->keys) {
        if (rec.key.type() != key_type_of(alg))
            continue;
        type_seen = true;
        // RFC 6376 §3.6.1 t=s: the i= domain must equal d=, not be a subdomain of it.
        if (rec.strict_identity && subdomain_identity)
            continue;
        if (budget != nullptr && !budget->take())
            return SignatureVerdict{SignatureCheck::over_budget, budget_exhausted_reason(*budget)};
        tried = true;
        if (rec.key.verify(digest, signature))
            return SignatureVerdict{SignatureCheck::pass, {}};
    }
    if (!type_seen)
        return SignatureVerdict{SignatureCheck::unusable_key, "key type does not match a="};
    if (!tried)
        return SignatureVerdict{SignatureCheck::unusable_key,
                                "key at " + name.dns_name() +
                                    " has t=s but i= is in a subdomain of d="};
    return SignatureVerdict{SignatureCheck::bad_signature, "signature did not verify"};
}

std::string budget_exhausted_reason(const KeyOperationBudget& budget) {
    return "not verified: per-message signature budget exhausted (" +
           std::to_string(budget.limit()) + " public-key operations)";
}

} // namespace arcf::mail
