// SPDX-License-Identifier: ISC
// RFC 6376 §5.4.2, §6.1.2 and §6.1.3 steps shared by the ARC and DKIM verifiers.
#include "mail/signature_check.hpp"

#include <cstdint>
#include <cstring>

#include "text/ascii.hpp"

namespace arcf::mail {

namespace {

// Header field names compared as RFC 5322 §1.2.2 and RFC 6376 §3.4 do, without case. The hash
// folds case by setting bit 5 of every byte, eight bytes at a time: for letters that is
// to_lower(), other bytes may collide with their neighbours (only a cost, names are compared
// with iequals), and names equal without case always hash alike.
std::uint64_t name_hash(std::string_view s) noexcept {
    constexpr std::uint64_t fold = 0x2020202020202020ull, k = 0x9e3779b97f4a7c15ull;
    std::uint64_t h = s.size() * k;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ (w | fold)) * k;
        h ^= h >> 32;
    }
    if (i < s.size()) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = (h ^ (w | fold)) * k;
        h ^= h >> 32;
    }
    return h;
}

constexpr std::uint32_t none = 0xffffffffu;

// The distinct names of an h= list in an open-addressing table (power-of-two size, at most half
// full, linear probing), each with the list of its header instances from the bottom up, linked
// through one array indexed by field. Two allocations whatever the number of names, where a
// node-based map took one per name and one per instance list.
class NameTable {
  public:
    struct Slot {
        std::string_view name;     ///< empty: the slot is free
        std::uint32_t next = none; ///< the bottom-most instance not yet used
        std::uint32_t last = none; ///< the top-most instance listed so far
    };

    explicit NameTable(std::size_t names) {
        std::size_t size = 8;
        while (size < 2 * names)
            size *= 2;
        slots_.resize(size);
        mask_ = size - 1;
    }

    // The slot of `name` (not empty), or of the free slot it would take.
    Slot& find(std::string_view name) {
        for (std::size_t i = name_hash(name) & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.name.empty() || text::iequals(s.name, name))
                return s;
        }
    }
    // The slot of `name`, or null when it is not in the table.
    Slot* lookup(std::string_view name) {
        Slot& s = find(name);
        return s.name.empty() ? nullptr : &s;
    }

  private:
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

} // namespace

std::string signed_header_data(const std::vector<HeaderField>& headers,
                               const std::vector<std::string>& signed_names,
                               Canon canon,
                               std::string_view signature_raw) {
    // RFC 6376 §5.4.2: each h= name selects the next unused instance from the bottom up;
    // names with no instance left contribute nothing. The instances of each wanted name are
    // listed once, bottom first, so that hostile counts of fields and names cost linear time.
    NameTable wanted(signed_names.size());
    for (const auto& name : signed_names)
        if (!name.empty()) {
            NameTable::Slot& s = wanted.find(name);
            if (s.name.empty())
                s.name = name;
        }
    // up[k]: the next instance above field k of the same name.
    std::vector<std::uint32_t> up(headers.size(), none);
    std::size_t bytes = signature_raw.size() + 2;
    for (std::size_t k = headers.size(); k-- > 0;) {
        std::string_view name = headers[k].name();
        if (name.empty())
            continue;
        if (NameTable::Slot* s = wanted.lookup(name)) {
            const auto field = static_cast<std::uint32_t>(k);
            if (s->last == none)
                s->next = field;
            else
                up[s->last] = field;
            s->last = field;
            bytes += headers[k].raw().size() + 2;
        }
    }
    std::string data;
    data.reserve(bytes); // about the canonical size: relaxed fields only shrink
    for (const auto& name : signed_names) {
        if (name.empty())
            continue;
        NameTable::Slot& s = wanted.find(name);
        if (s.next != none) {
            append_canon_header(data, canon, headers[s.next].raw());
            s.next = up[s.next];
        }
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
