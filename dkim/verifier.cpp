// SPDX-License-Identifier: ISC
// RFC 6376 §6.1 verifier actions, with the key lookups and the body hashing left to the caller.
#include "dkim/verifier.hpp"

#include <utility>

#include "dkim/signature.hpp"

namespace arcf::dkim {

namespace {

DkimResult result_of(SignatureCheck c) {
    switch (c) {
    case SignatureCheck::pass:
        return DkimResult::pass;
    case SignatureCheck::bad_signature:
        return DkimResult::fail;
    case SignatureCheck::temporary:
        return DkimResult::temperror;
    case SignatureCheck::over_budget:
        return DkimResult::policy; // RFC 8601 §2.7.1: not accepted due to local policy
    case SignatureCheck::no_key:
    case SignatureCheck::unusable_key:
        break;
    }
    return DkimResult::permerror;
}

constexpr std::size_t header_b_length = 12;

std::string_view as_bytes(const Digest& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

} // namespace

std::string_view to_string(DkimResult r) {
    switch (r) {
    case DkimResult::pass:
        return "pass";
    case DkimResult::fail:
        return "fail";
    case DkimResult::neutral:
        return "neutral";
    case DkimResult::policy:
        return "policy";
    case DkimResult::temperror:
        return "temperror";
    case DkimResult::permerror:
        return "permerror";
    }
    return "permerror";
}

struct DkimVerifier::Pending {
    std::size_t result = 0; ///< index into results_
    KeyName key;
    Algorithm algorithm = Algorithm::rsa_sha256;
    std::string signature;
    std::string body_hash;
    Digest header_digest{};
    std::size_t hasher = 0;
    std::optional<std::uint64_t> body_length;
    bool subdomain_identity = false;
};

DkimVerifier::DkimVerifier(DkimOptions opts)
    : opts_(std::move(opts)),
      hashes_(opts_.body_hashes ? opts_.body_hashes : std::make_shared<BodyHashes>()),
      own_hashes_(!opts_.body_hashes),
      budget_(opts_.budget ? opts_.budget
                           : std::make_shared<KeyOperationBudget>(opts_.keys.max_key_operations)) {}
DkimVerifier::~DkimVerifier() = default;

std::vector<KeyName> DkimVerifier::begin(const std::vector<HeaderField>& headers) {
    begun_ = true;
    std::vector<KeyName> names;
    for (const auto& field : headers) {
        if (!field.is(dkim_signature_name))
            continue;
        DkimSignatureResult r;
        auto sig = parse_dkim_signature(field.value());
        if (!sig) {
            // RFC 6376 §6.1.1: a field that cannot be used is PERMFAIL; say whose it was.
            auto ids = peek_dkim_ids(field.value());
            r.domain = std::move(ids.domain);
            r.selector = std::move(ids.selector);
            r.identity = std::move(ids.identity);
            r.algorithm = std::move(ids.algorithm);
            r.header_b = ids.signature_text.substr(0, header_b_length);
            r.result = DkimResult::permerror;
            r.reason = sig.error().detail;
            results_.push_back(std::move(r));
            continue;
        }
        r.domain = sig->domain;
        r.selector = sig->selector;
        r.identity = sig->identity;
        r.algorithm = std::string(to_string(sig->algorithm));
        r.body_length = sig->body_length;
        r.header_b = sig->signature_text.substr(0, header_b_length);
        // RFC 6376 §3.5 x= / §6.1.1: an expired signature is PERMFAIL.
        if (sig->expiration && *sig->expiration < opts_.now) {
            r.result = DkimResult::permerror;
            r.reason = "signature expired (x=" + std::to_string(*sig->expiration) + ")";
            results_.push_back(std::move(r));
            continue;
        }
        // Bounded work: only the first max_signatures usable signatures cost a lookup.
        if (pending_.size() >= opts_.max_signatures) {
            r.result = DkimResult::policy;
            r.reason = "not checked: more than " + std::to_string(opts_.max_signatures) +
                       " DKIM signatures";
            results_.push_back(std::move(r));
            continue;
        }
        Pending p;
        p.result = results_.size();
        p.key = KeyName{sig->selector, sig->domain};
        p.algorithm = sig->algorithm;
        p.signature = std::move(sig->signature);
        p.body_hash = std::move(sig->body_hash);
        p.header_digest = sha256(
            signed_header_data(headers, sig->signed_headers, sig->header_canon, field.raw()));
        p.hasher = hashes_->request(sig->body_canon, sig->body_length, BodyHashUse::dkim,
                                    body_hash_algorithm(sig->algorithm));
        p.body_length = sig->body_length;
        p.subdomain_identity = sig->subdomain_identity();
        if (keys_.emplace(p.key, KeyLookup{}).second)
            names.push_back(p.key);
        r.result = DkimResult::temperror;
        r.reason = "not verified yet";
        results_.push_back(std::move(r));
        pending_.push_back(std::move(p));
    }
    return names;
}

void DkimVerifier::add_body_line(std::string_view line) {
    if (own_hashes_)
        hashes_->add_line(line);
}

void DkimVerifier::add_body_text(std::string_view text) {
    if (own_hashes_)
        hashes_->add_text(text);
}

void DkimVerifier::provide_key(const KeyName& name, const dns::TxtAnswer& answer) {
    auto it = keys_.find(name);
    if (it != keys_.end())
        it->second.record(answer, opts_.keys);
}

std::vector<DkimSignatureResult> DkimVerifier::finish() {
    if (finished_)
        return results_;
    finished_ = true;
    for (const auto& p : pending_) {
        DkimSignatureResult& r = results_[p.result];
        auto it = keys_.find(p.key);
        const KeyLookup* lookup = it == keys_.end() ? nullptr : &it->second;
        // RFC 6376 §6.1.2 before §6.1.3: without a usable key nothing else is decided.
        if (auto problem = key_problem(lookup, p.key)) {
            r.result = result_of(problem->outcome);
            r.reason = std::move(problem->why);
            continue;
        }
        const Digest* body = hashes_->digest(p.hasher);
        if (body == nullptr) {
            // Over the message's body-hash budget (mail/body_hashes.hpp): cannot be checked.
            r.result = DkimResult::permerror;
            r.reason = hashes_->refused_reason(p.hasher);
            continue;
        }
        const std::uint64_t length = hashes_->canonical_length(p.hasher);
        r.body_bytes = length;
        // RFC 6376 §3.5 l=: "MUST NOT be larger than the actual number of octets in the
        // canonicalized message body".
        if (p.body_length && *p.body_length > length) {
            r.result = DkimResult::permerror;
            r.reason = "l=" + std::to_string(*p.body_length) + " exceeds the " +
                       std::to_string(length) + "-byte body";
            continue;
        }
        if (as_bytes(*body) != p.body_hash) {
            r.result = DkimResult::fail;
            r.reason = "body hash did not verify";
            continue;
        }
        auto v = check_signature(lookup, p.key, p.header_digest, p.signature, p.algorithm,
                                 p.subdomain_identity, budget_.get());
        r.result = result_of(v.outcome);
        r.reason = std::move(v.why);
        // RFC 6376 §8.2: content after l= is unsigned; say so (the caller may distrust it).
        if (r.result == DkimResult::pass && p.body_length && *p.body_length < length) {
            r.body_partial = true;
            r.reason = "l= covers " + std::to_string(*p.body_length) + " of " +
                       std::to_string(length) + " body bytes";
        }
    }
    return results_;
}

} // namespace arcf::dkim
