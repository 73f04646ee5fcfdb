// SPDX-License-Identifier: ISC
// RFC 8617 §5.2 validator actions, with the key lookups and the body hashing left to the caller.
#include "arc/chain.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace arcf::arc {

namespace {
// stopped: the public-key operation budget ran out before this signature was checked.
enum Outcome { ok = 0, bad = 1, temporary = 2, stopped = 3 };
} // namespace

std::string_view to_string(ChainStatus s) {
    switch (s) {
    case ChainStatus::none:
        return "none";
    case ChainStatus::pass:
        return "pass";
    case ChainStatus::fail:
        return "fail";
    case ChainStatus::temperror:
        return "temperror";
    }
    return "none";
}

struct ChainVerifier::Set {
    const HeaderField* aar_field = nullptr;
    const HeaderField* ams_field = nullptr;
    const HeaderField* seal_field = nullptr;
    ArcMessageSignature ams;
    ArcSeal seal;
    std::string ams_error; ///< why an older AMS could not be parsed (it then fails oldest-pass)
    std::size_t hasher = 0;
};

ChainVerifier::ChainVerifier(VerifyOptions opts)
    : opts_(std::move(opts)),
      hashes_(opts_.body_hashes ? opts_.body_hashes : std::make_shared<BodyHashes>()),
      own_hashes_(!opts_.body_hashes),
      budget_(opts_.budget ? opts_.budget
                           : std::make_shared<KeyOperationBudget>(opts_.keys.max_key_operations)) {}
ChainVerifier::~ChainVerifier() = default;

ChainResult ChainVerifier::fail_result(std::string reason) const {
    ChainResult r;
    r.status = ChainStatus::fail;
    r.reason = std::move(reason);
    r.sets = static_cast<std::uint32_t>(sets_.size());
    return r;
}

std::vector<KeyName> ChainVerifier::begin(std::vector<HeaderField> headers) {
    headers_ = std::move(headers);
    settled_ = analyse();
    std::vector<KeyName> names;
    if (settled_)
        return names;
    std::set<KeyName> unique;
    const std::size_t n = sets_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Set& s = sets_[i];
        unique.insert(KeyName{s.seal.selector, s.seal.domain});
        if ((i + 1 == n || opts_.oldest_pass) && s.ams_error.empty())
            unique.insert(KeyName{s.ams.selector, s.ams.domain});
    }
    names.assign(unique.begin(), unique.end());
    for (const auto& k : names)
        keys_.emplace(k, KeyLookup{});
    return names;
}

std::optional<ChainResult> ChainVerifier::analyse() {
    // RFC 8617 §5.2 step 1: collect the ARC sets.
    struct Found {
        ArcHeaderKind kind;
        const HeaderField* field;
        std::uint32_t instance;
        std::optional<mail::TagList> tags; ///< AS and AMS: parsed once, here (issue 21)
    };
    std::vector<Found> found;
    found.reserve(6); // two sets, as most chains have, without growing
    std::string bad_instance;
    bool any_arc = false;
    for (const auto& f : headers_) {
        auto kind = arc_header_kind(f.name());
        if (kind == ArcHeaderKind::none)
            continue;
        any_arc = true;
        std::optional<mail::TagList> tags;
        auto inst = read_instance(kind, f.value(), &tags);
        if (!inst) {
            // The reason says what is wrong with the field (issue 18 item 5): only a missing or
            // out-of-range i= is "no valid instance".
            if (bad_instance.empty()) {
                // An AAR's prefix is all instance; in a tag list, a missing or bad i= is
                // missing_tag / bad_value, anything else a syntax or duplicate-tag error.
                const auto& e = inst.error();
                bool instance_problem = kind == ArcHeaderKind::aar || e.code == Errc::missing_tag ||
                                        e.code == Errc::bad_value;
                bad_instance = std::string(f.name()) +
                               (instance_problem ? " has no valid instance (i=1..50): "
                                                 : " cannot be parsed: ") +
                               e.detail;
            }
            continue;
        }
        found.push_back(Found{kind, &f, *inst, std::move(tags)});
    }
    if (!bad_instance.empty()) {
        std::uint32_t highest = 0;
        for (const auto& x : found)
            highest = std::max(highest, x.instance);
        ChainResult r;
        r.status = ChainStatus::fail;
        r.reason = bad_instance;
        r.sets = highest;
        return r;
    }
    if (!any_arc) {
        ChainResult r;
        r.status = ChainStatus::none;
        r.reason = "no ARC sets";
        return r;
    }
    std::uint32_t n = 0;
    for (const auto& x : found)
        n = std::max(n, x.instance);
    sets_.assign(n, Set{});
    if (n > opts_.max_sets)
        return fail_result("more than " + std::to_string(opts_.max_sets) + " ARC sets");

    // Step 2: the newest seal already says the chain failed. The last ARC-Seal i=N parsed here
    // is kept for step 3 (it is the one step 3 takes when there is only one; with more, step 3
    // fails on the duplicate first): each seal is parsed once (issue 21).
    std::optional<Result<ArcSeal>> newest_seal;
    const mail::TagList* newest_seal_tags = nullptr;
    for (const auto& x : found) {
        if (x.kind == ArcHeaderKind::seal && x.instance == n) {
            auto seal = parse_arc_seal(*x.tags);
            if (seal && seal->cv == Cv::fail) {
                auto r = fail_result("ARC-Seal i=" + std::to_string(n) + " says cv=fail");
                r.ended = true;
                return r;
            }
            newest_seal = std::move(seal);
            newest_seal_tags = &*x.tags;
        }
    }

    // Step 3: exactly one of each header per instance, instances 1..N without gaps.
    // The tag lists step 1 parsed, per instance (`found` no longer changes).
    std::vector<const mail::TagList*> ams_tags(n, nullptr), seal_tags(n, nullptr);
    for (const auto& x : found) {
        Set& s = sets_[x.instance - 1];
        const HeaderField** slot = x.kind == ArcHeaderKind::aar   ? &s.aar_field
                                   : x.kind == ArcHeaderKind::ams ? &s.ams_field
                                                                  : &s.seal_field;
        if (*slot != nullptr)
            return fail_result("duplicate " + std::string(x.field->name()) +
                               " i=" + std::to_string(x.instance));
        *slot = x.field;
        if (x.kind == ArcHeaderKind::ams)
            ams_tags[x.instance - 1] = &*x.tags;
        else if (x.kind == ArcHeaderKind::seal)
            seal_tags[x.instance - 1] = &*x.tags;
    }
    for (std::uint32_t i = 1; i <= n; ++i) {
        Set& s = sets_[i - 1];
        const char* missing = s.aar_field == nullptr    ? "ARC-Authentication-Results"
                              : s.ams_field == nullptr  ? "ARC-Message-Signature"
                              : s.seal_field == nullptr ? "ARC-Seal"
                                                        : nullptr;
        if (missing != nullptr)
            return fail_result(std::string("missing ") + missing + " i=" + std::to_string(i));
        // RFC 8617 §5.2: the verdict rests on the newest AMS and every seal; an older AMS only
        // decides oldest-pass (step 5). So a tag-level problem in an older AMS (unknown c= or
        // a=, bad t= or l=, missing bh= or h=, bad b= or d=) makes that AMS fail, like an
        // expired x= or a wrong key type, not the chain (issue 18 item 2).
        auto ams = parse_arc_message_signature(*ams_tags[i - 1]);
        if (ams) {
            s.ams = std::move(*ams);
        } else if (i == n) {
            return fail_result("ARC-Message-Signature i=" + std::to_string(i) + ": " +
                               ams.error().detail);
        } else {
            s.ams.instance = i;
            s.ams_error = ams.error().detail;
        }
        auto seal = i == n && newest_seal && newest_seal_tags == seal_tags[i - 1]
                        ? std::move(*newest_seal)
                        : parse_arc_seal(*seal_tags[i - 1]);
        if (!seal)
            return fail_result("ARC-Seal i=" + std::to_string(i) + ": " + seal.error().detail);
        s.seal = std::move(*seal);
        auto aar = parse_arc_auth_results(s.aar_field->value());
        if (!aar)
            return fail_result("ARC-Authentication-Results i=" + std::to_string(i) + ": " +
                               aar.error().detail);
        // Step 3.3: cv=none only at i=1, pass everywhere else (fail is caught by step 2 or here).
        if (i == 1 && s.seal.cv != Cv::none)
            return fail_result("ARC-Seal i=1 has cv=" + std::string(to_string(s.seal.cv)));
        if (i > 1 && s.seal.cv != Cv::pass)
            return fail_result("ARC-Seal i=" + std::to_string(i) +
                               " has cv=" + std::string(to_string(s.seal.cv)));
    }
    // Body hashers: the newest AMS always (it decides the verdict, step 4), older ones only for
    // oldest-pass (step 5), ranked below every other use of the message's body-hash budget.
    for (std::uint32_t i = n; i >= 1; --i) {
        Set& s = sets_[i - 1];
        if ((i == n || opts_.oldest_pass) && s.ams_error.empty())
            s.hasher = hashes_->request(s.ams.body_canon, s.ams.body_length,
                                        i == n ? BodyHashUse::arc_newest : BodyHashUse::arc_older,
                                        body_hash_algorithm(s.ams.algorithm));
    }
    return std::nullopt;
}

void ChainVerifier::add_body_line(std::string_view line) {
    if (own_hashes_)
        hashes_->add_line(line);
}

void ChainVerifier::add_body_text(std::string_view text) {
    if (own_hashes_)
        hashes_->add_text(text);
}

std::size_t ChainVerifier::add_body_hash(Canon c) {
    return hashes_->request(c, std::nullopt, BodyHashUse::seal);
}

const Digest* ChainVerifier::body_hash(std::size_t index) {
    return hashes_->digest(index);
}

void ChainVerifier::provide_key(const KeyName& name, const dns::TxtAnswer& answer) {
    auto it = keys_.find(name);
    if (it == keys_.end())
        return;
    it->second.record(answer, opts_.keys);
}

int ChainVerifier::check_signature(const KeyName& name,
                                   const Digest& digest,
                                   const std::string& sig,
                                   Algorithm alg,
                                   std::string& why) {
    auto it = keys_.find(name);
    auto v = mail::check_signature(it == keys_.end() ? nullptr : &it->second, name, digest, sig,
                                   alg, false, budget_.get());
    why = std::move(v.why);
    switch (v.outcome) {
    case SignatureCheck::pass:
        return ok;
    case SignatureCheck::temporary:
        return temporary;
    case SignatureCheck::over_budget:
        return stopped;
    case SignatureCheck::bad_signature:
    case SignatureCheck::no_key:
    case SignatureCheck::unusable_key:
        break;
    }
    return bad;
}

int ChainVerifier::verify_ams(const Set& s, std::string& why) {
    const ArcMessageSignature& m = s.ams;
    // Only a failure names the signature: a passing one builds no text.
    const auto label = [&m] { return "ARC-Message-Signature i=" + std::to_string(m.instance); };
    if (!s.ams_error.empty()) {
        why = label() + ": " + s.ams_error;
        return bad;
    }
    if (m.expiration && *m.expiration < opts_.now) {
        why = label() + " expired";
        return bad;
    }
    const Digest* body = hashes_->digest(s.hasher);
    if (body == nullptr) {
        // Over the message's body-hash budget (mail/body_hashes.hpp): we cannot vouch for it.
        why = label() + ": " + hashes_->refused_reason(s.hasher);
        return bad;
    }
    if (std::string_view(reinterpret_cast<const char*>(body->data()), body->size()) !=
        m.body_hash) {
        why = label() + ": body hash mismatch";
        return bad;
    }
    std::string data =
        signed_header_data(headers_, m.signed_headers, m.header_canon, s.ams_field->raw());
    std::string detail;
    int r = check_signature(KeyName{m.selector, m.domain}, sha256(data), m.signature, m.algorithm,
                            detail);
    if (r != ok)
        why = label() + ": " + detail;
    return r;
}

std::vector<Digest> ChainVerifier::seal_digests() const {
    // RFC 8617 §5.1.1: seal i signs every set 1..i in order, AAR, AMS, AS, relaxed, with its
    // own b= emptied and no CRLF after it. Seal i's input is therefore sets 1..i-1 whole, then
    // AAR i and AMS i, then its own emptied AS: one running digest over the whole sets, forked
    // for each seal, canonicalizes and hashes every field once (linear in the header bytes;
    // seal by seal it was quadratic: 50 sets hashed 1275 sets).
    // The newest seal's input is not continued: its digest finishes the running one (no fork),
    // and its whole field, which no later seal signs, is neither canonicalized nor hashed.
    std::vector<Digest> out;
    out.reserve(sets_.size());
    Sha256 running;
    std::string canon;
    for (std::size_t i = 0; i < sets_.size(); ++i) {
        const Set& s = sets_[i];
        const bool newest = i + 1 == sets_.size();
        canon.clear();
        append_canon_header(canon, Canon::relaxed, s.aar_field->raw());
        append_canon_header(canon, Canon::relaxed, s.ams_field->raw());
        running.update(canon);
        canon.clear();
        append_canon_header(canon, Canon::relaxed, strip_b_value(s.seal_field->raw()), false);
        if (newest) {
            running.update(canon);
            out.push_back(running.finish());
            break;
        }
        Sha256 own = running.fork();
        own.update(canon);
        out.push_back(own.finish());
        canon.clear();
        append_canon_header(canon, Canon::relaxed, s.seal_field->raw());
        running.update(canon);
    }
    return out;
}

int ChainVerifier::verify_seal(std::uint32_t instance, const Digest& digest, std::string& why) {
    const ArcSeal& seal = sets_[instance - 1].seal;
    std::string detail;
    int r = check_signature(KeyName{seal.selector, seal.domain}, digest, seal.signature,
                            seal.algorithm, detail);
    if (r != ok)
        why = "ARC-Seal i=" + std::to_string(instance) + ": " + detail;
    return r;
}

ChainResult ChainVerifier::finish() {
    if (settled_)
        return *settled_;
    ChainResult r;
    const auto n = static_cast<std::uint32_t>(sets_.size());
    r.sets = n;
    for (const auto& s : sets_)
        r.chain.push_back(SetSummary{s.seal.instance, s.seal.cv, s.seal.domain, s.seal.selector,
                                     s.ams.domain, s.ams.selector});
    std::string first_temp;
    // Step 4: the newest AMS.
    std::string why;
    int ams = verify_ams(sets_[n - 1], why);
    // A signature the budget kept us from checking leaves a chain we cannot vouch for: fail,
    // as for any other chain we refuse to validate (RFC 8617 §4.2.1 treats too many sets so).
    if (ams == bad || ams == stopped) {
        r.status = ChainStatus::fail;
        r.reason = why;
        return r;
    }
    if (ams == temporary)
        first_temp = why;
    // Step 6: every seal, newest first. A certain failure wins over a temporary one.
    const std::vector<Digest> seal_digest = seal_digests();
    for (std::uint32_t i = n; i >= 1; --i) {
        std::string seal_why;
        int res = verify_seal(i, seal_digest[i - 1], seal_why);
        if (res == bad || res == stopped) {
            r.status = ChainStatus::fail;
            r.reason = seal_why;
            return r;
        }
        if (res == temporary && first_temp.empty())
            first_temp = seal_why;
    }
    if (!first_temp.empty()) {
        r.status = ChainStatus::temperror;
        r.reason = first_temp;
        return r;
    }
    // Step 5 (optional): oldest-pass, informational; a temporary failure or a spent budget
    // only withholds it.
    if (opts_.oldest_pass) {
        std::uint32_t oldest = 0;
        bool known = true;
        for (std::uint32_t i = n - 1; i >= 1; --i) {
            std::string older_why;
            int res = verify_ams(sets_[i - 1], older_why);
            if (res == temporary || res == stopped) {
                known = false;
                break;
            }
            if (res == bad) {
                oldest = i + 1;
                break;
            }
        }
        if (known)
            r.oldest_pass = oldest;
    }
    r.status = ChainStatus::pass;
    r.reason = n == 1 ? "1 set verified" : std::to_string(n) + " sets verified";
    return r;
}

} // namespace arcf::arc
