// SPDX-License-Identifier: ISC
// The per-hop report of `filter-arc verify --explain` (arc/explain.hpp).
#include "arc/explain.hpp"

#include "arc/explain_undo.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "mail/header.hpp"
#include "mail/key_budget.hpp"
#include "mail/signature_check.hpp"
#include "text/ascii.hpp"

namespace arcf::arc {

std::string_view to_string(CheckState s) {
    switch (s) {
    case CheckState::pass:
        return "pass";
    case CheckState::fail:
        return "fail";
    case CheckState::temperror:
        return "temperror";
    case CheckState::not_checked:
        return "not-checked";
    }
    return "not-checked";
}

namespace {

using undo::count_lines;
using undo::match_prefixes;
using undo::offset_of_line;
using undo::plain_spacing;
using undo::PrefixMatch;
using undo::strip_subject_tag;
using undo::unfolded;

/// The fields of one ARC set as found in the header block (the first of each kind).
struct SetFields {
    const HeaderField* aar = nullptr;
    const HeaderField* ams = nullptr;
    const HeaderField* seal = nullptr;
    std::optional<ArcMessageSignature> ams_parsed;
    std::optional<ArcSeal> seal_parsed;
};

std::vector<SetFields> collect_sets(const std::vector<HeaderField>& headers,
                                    std::uint32_t max_sets) {
    std::vector<SetFields> sets;
    for (const auto& f : headers) {
        auto kind = arc_header_kind(f.name());
        if (kind == ArcHeaderKind::none)
            continue;
        auto inst = peek_instance(kind, f.value());
        if (!inst || *inst > max_sets)
            continue;
        if (sets.size() < *inst)
            sets.resize(*inst);
        SetFields& s = sets[*inst - 1];
        const HeaderField** slot = kind == ArcHeaderKind::aar   ? &s.aar
                                   : kind == ArcHeaderKind::ams ? &s.ams
                                                                : &s.seal;
        if (*slot == nullptr)
            *slot = &f;
    }
    return sets;
}

CheckState state_of(SignatureCheck c) {
    switch (c) {
    case SignatureCheck::pass:
        return CheckState::pass;
    case SignatureCheck::temporary:
        return CheckState::temperror;
    case SignatureCheck::over_budget:
        return CheckState::not_checked;
    case SignatureCheck::bad_signature:
    case SignatureCheck::no_key:
    case SignatureCheck::unusable_key:
        break;
    }
    return CheckState::fail;
}

std::string hop_name(std::uint32_t i) {
    return "hop " + std::to_string(i);
}

class Explainer {
  public:
    Explainer(std::string_view message, const KeyAnswers& answers, const ExplainOptions& opts)
        : opts_(opts), split_(split_message(message)), base_(opts.keys.max_key_operations),
          extra_(opts.max_extra_operations) {
        for (const auto& [name, answer] : answers)
            lookups_[name].record(answer, opts_.keys);
    }

    Explanation run(const KeyAnswers& answers) {
        Explanation e;
        e.extra_limit = opts_.max_extra_operations;
        // The verdict is the chain validator's, over the same body hashes (one pass of the
        // body for every distinct c=/l=, within the usual budget of mail/body_hashes.hpp).
        VerifyOptions vo;
        vo.keys = opts_.keys;
        vo.now = opts_.now;
        vo.max_sets = opts_.max_sets;
        vo.body_hashes = hashes_;
        ChainVerifier v(vo);
        const std::vector<KeyName> names = v.begin(split_.headers);
        sets_ = collect_sets(split_.headers, opts_.max_sets);
        for (std::uint32_t i = 1; i <= sets_.size(); ++i)
            e.hops.push_back(describe(i));
        for (std::size_t k = sets_.size(); k-- > 0;)
            if (sets_[k].ams_parsed)
                hash_handle_[k] = hashes_->request(
                    sets_[k].ams_parsed->body_canon, sets_[k].ams_parsed->body_length,
                    k + 1 == sets_.size() ? BodyHashUse::arc_newest : BodyHashUse::arc_older,
                    body_hash_algorithm(sets_[k].ams_parsed->algorithm));
        for_each_line(split_.body, [&](std::string_view line) { hashes_->add_line(line); });
        for (const auto& n : names) {
            auto it = answers.find(n);
            v.provide_key(n, it == answers.end()
                                 ? dns::TxtAnswer::failed(dns::Status::temporary, "no answer")
                                 : it->second);
        }
        e.verdict = v.finish();
        check_bodies(e);
        check_seals(e);
        // Newest first: the hop nearest to the break gets the candidate budget first.
        for (std::size_t k = e.hops.size(); k-- > 0;)
            explain_header(e.hops[k]);
        locate_break(e);
        e.key_operations = base_.used();
        e.extra_operations = extra_.used();
        e.extra_exhausted = skipped_;
        return e;
    }

  private:
    const KeyLookup* lookup(const KeyName& n) const {
        auto it = lookups_.find(n);
        return it == lookups_.end() ? nullptr : &it->second;
    }

    HopReport describe(std::uint32_t i) {
        SetFields& s = sets_[i - 1];
        HopReport h;
        h.instance = i;
        h.aar_present = s.aar != nullptr;
        if (s.seal != nullptr) {
            h.seal.present = true;
            auto seal = parse_arc_seal(s.seal->value());
            if (seal) {
                h.seal.cv = seal->cv;
                h.seal.domain = seal->domain;
                h.seal.selector = seal->selector;
                h.seal.algorithm = std::string(to_string(seal->algorithm));
                h.seal.timestamp = seal->timestamp;
                s.seal_parsed = std::move(*seal);
            } else {
                h.seal.error = seal.error().detail;
            }
        }
        if (s.ams != nullptr) {
            h.ams.present = true;
            auto ams = parse_arc_message_signature(s.ams->value());
            if (ams) {
                h.ams.domain = ams->domain;
                h.ams.selector = ams->selector;
                h.ams.algorithm = std::string(to_string(ams->algorithm));
                h.ams.canon = std::string(to_string(ams->header_canon)) + "/" +
                              std::string(to_string(ams->body_canon));
                h.ams.timestamp = ams->timestamp;
                h.ams.expiration = ams->expiration;
                h.ams.body_length = ams->body_length;
                h.ams.signed_headers = ams->signed_headers;
                s.ams_parsed = std::move(*ams);
            } else {
                h.ams.error = ams.error().detail;
            }
        }
        if (s.ams_parsed) {
            const auto& m = *s.ams_parsed;
            if (m.expiration && *m.expiration < opts_.now) {
                h.ams.signature = CheckState::fail;
                h.ams.expired = true;
                h.ams.why = "expired (x=)";
            } else {
                auto v = check(m, split_.headers, base_);
                h.ams.signature = state_of(v.outcome);
                h.ams.header_mismatch = v.outcome == SignatureCheck::bad_signature;
                h.ams.why = v.why;
                ams_outcome_[i] = v.outcome;
            }
        }
        return h;
    }

    SignatureVerdict check(const ArcMessageSignature& m,
                           const std::vector<HeaderField>& headers,
                           KeyOperationBudget& budget) const {
        const KeyName name{m.selector, m.domain};
        std::string data = signed_header_data(headers, m.signed_headers, m.header_canon,
                                              sets_[m.instance - 1].ams->raw());
        return check_signature(lookup(name), name, sha256(data), m.signature, m.algorithm, false,
                               &budget);
    }

    /// Body hashes of every AMS, then for each mismatch without l= the footer search: one
    /// pass per body canonicalization.
    void check_bodies(Explanation& e) {
        std::map<Canon, std::set<std::string>> wanted;
        for (std::size_t k = 0; k < sets_.size(); ++k) {
            const auto& s = sets_[k];
            if (!s.ams_parsed)
                continue;
            const auto& m = *s.ams_parsed;
            HopReport& h = e.hops[k];
            const std::size_t handle = hash_handle_.at(k);
            const Digest* d = hashes_->digest(handle);
            if (d == nullptr) { // over the body-hash budget (mail/body_hashes.hpp)
                h.ams.body_hash = CheckState::not_checked;
                h.ams.why += (h.ams.why.empty() ? "" : "; ") + hashes_->refused_reason(handle);
                continue;
            }
            h.ams.body_hash =
                std::string_view(reinterpret_cast<const char*>(d->data()), d->size()) == m.body_hash
                    ? CheckState::pass
                    : CheckState::fail;
            if (m.body_length) {
                body_length_findings(h, *m.body_length, hashes_->canonical_length(handle));
                continue;
            }
            if (h.ams.body_hash == CheckState::fail)
                wanted[m.body_canon].insert(m.body_hash);
        }
        std::map<Canon, std::map<std::string, PrefixMatch>> matches;
        for (const auto& [c, set] : wanted)
            matches[c] = match_prefixes(split_.body, c, set, opts_.max_footer_bytes);
        const std::size_t total_lines = count_lines(split_.body);
        for (std::size_t k = 0; k < sets_.size(); ++k) {
            const auto& s = sets_[k];
            HopReport& h = e.hops[k];
            if (!s.ams_parsed || s.ams_parsed->body_length || h.ams.body_hash != CheckState::fail)
                continue;
            const auto& found = matches[s.ams_parsed->body_canon];
            auto it = found.find(s.ams_parsed->body_hash);
            Finding f;
            f.part = "body";
            if (it != found.end()) {
                // RFC 6376 §3.4.5 describes exactly this: text appended by a list.
                const std::size_t lines = total_lines - it->second.lines;
                const std::size_t bytes =
                    split_.body.size() - offset_of_line(split_.body, it->second.lines);
                f.likelihood = "probably";
                f.cause = "footer";
                f.lines = lines;
                f.bytes = bytes;
                f.text = "a footer of " + std::to_string(lines) + " line" +
                         (lines == 1 ? "" : "s") + " / " + std::to_string(bytes) + " byte" +
                         (bytes == 1 ? "" : "s") + " was probably added after " +
                         hop_name(h.instance) + ": the body without its last " +
                         std::to_string(lines) + " line" + (lines == 1 ? "" : "s") +
                         " matches its body hash";
            } else {
                f.likelihood = "probably";
                f.cause = "body-changed";
                f.text = "the body probably changed in the middle after " + hop_name(h.instance) +
                         ": no leading part of it matches the body hash, so it is not only an "
                         "appended footer (e.g. content rewritten, a footer put inside a MIME "
                         "part, or text added at the top); where the first changed line is "
                         "cannot be known from a hash";
                if (split_.body.size() > opts_.max_footer_bytes)
                    f.text += " (footers of up to " + std::to_string(opts_.max_footer_bytes) +
                              " bytes were looked for)";
            }
            h.findings.push_back(std::move(f));
        }
    }

    static void body_length_findings(HopReport& h, std::uint64_t signed_len, std::uint64_t now) {
        Finding f;
        f.part = "body";
        f.likelihood = "possibly";
        const std::string who = hop_name(h.instance);
        if (h.ams.body_hash == CheckState::pass) {
            if (now <= signed_len)
                return;
            f.cause = "body-length";
            f.bytes = now - signed_len;
            f.text = who + " signed only the first " + std::to_string(signed_len) +
                     " canonical body bytes (l=); the " + std::to_string(now - signed_len) +
                     " bytes after them are unsigned and were possibly added after it (RFC "
                     "6376 §8.2)";
        } else if (now < signed_len) {
            f.cause = "body-truncated";
            f.text = "the body is now shorter (" + std::to_string(now) +
                     " canonical bytes) than the " + std::to_string(signed_len) + " bytes " + who +
                     " signed (l=): it was cut or rewritten after " + who;
        } else {
            f.cause = "body-changed";
            f.text = "the body changed within the first " + std::to_string(signed_len) + " bytes " +
                     who +
                     " signed (l=): text appended after them would not break it, so the "
                     "change is inside";
        }
        h.findings.push_back(std::move(f));
    }

    /// RFC 8617 §5.1.1: seal i signs sets 1..i (AAR, AMS, AS each, relaxed), its own b= empty;
    /// checked only while every set below it is complete. The chain validator never checks a
    /// cv=fail seal (§5.2 step 2 ends there); the report does, so that a hop is not blamed for
    /// a seal it made correctly.
    void check_seals(Explanation& e) {
        Sha256 running;
        std::string canon;
        for (std::size_t k = 0; k < sets_.size(); ++k) {
            const SetFields& s = sets_[k];
            if (s.aar == nullptr || s.ams == nullptr || s.seal == nullptr)
                return;
            canon.clear();
            append_canon_header(canon, Canon::relaxed, s.aar->raw());
            append_canon_header(canon, Canon::relaxed, s.ams->raw());
            running.update(canon);
            if (s.seal_parsed) {
                // A cv=fail seal covers only its own set (RFC 8617 §5.1.2), as arc/seal.cpp
                // makes it.
                Sha256 own;
                if (s.seal_parsed->cv == Cv::fail) {
                    canon.clear();
                    append_canon_header(canon, Canon::relaxed, s.aar->raw());
                    append_canon_header(canon, Canon::relaxed, s.ams->raw());
                    own.update(canon);
                } else {
                    own = running.fork();
                }
                canon.clear();
                append_canon_header(canon, Canon::relaxed, strip_b_value(s.seal->raw()), false);
                own.update(canon);
                const KeyName name{s.seal_parsed->selector, s.seal_parsed->domain};
                auto v = check_signature(lookup(name), name, own.finish(), s.seal_parsed->signature,
                                         s.seal_parsed->algorithm, false, &base_);
                e.hops[k].seal.signature = state_of(v.outcome);
                e.hops[k].seal.why = v.why;
            }
            canon.clear();
            append_canon_header(canon, Canon::relaxed, s.seal->raw());
            running.update(canon);
        }
    }

    /// Tries one undone modification (the header block `make()` returns); true when the AMS
    /// then verifies. Nothing is built once the budget is spent.
    template <class Make>
    bool attempt(const ArcMessageSignature& m, Make&& make) {
        if (opts_.max_extra_operations == 0 || extra_.used() >= extra_.limit()) {
            skipped_ = true;
            return false;
        }
        auto v = check(m, make(), extra_);
        if (v.outcome == SignatureCheck::over_budget)
            skipped_ = true;
        return v.outcome == SignatureCheck::pass;
    }

    /// The index of every field, by lower-case name, top to bottom (built once).
    const std::map<std::string, std::vector<std::size_t>>& by_name() {
        if (!by_name_) {
            by_name_.emplace();
            for (std::size_t k = 0; k < split_.headers.size(); ++k)
                (*by_name_)[text::to_lower(split_.headers[k].name())].push_back(k);
        }
        return *by_name_;
    }

    void explain_header(HopReport& h) {
        auto it = ams_outcome_.find(h.instance);
        if (it == ams_outcome_.end() || it->second != SignatureCheck::bad_signature)
            return;
        const ArcMessageSignature& m = *sets_[h.instance - 1].ams_parsed;
        const std::vector<HeaderField>& headers = split_.headers;
        const std::string who = hop_name(h.instance);
        const auto& names = by_name();
        static const std::vector<std::size_t> none;
        auto instances = [&](const std::string& n) -> const std::vector<std::size_t>& {
            auto f = names.find(n);
            return f == names.end() ? none : f->second;
        };
        // RFC 6376 §5.4.2: the k-th use of a name in h= selects its k-th instance from the
        // bottom; `selected` lists them, in h= order.
        std::map<std::string, std::size_t> in_h;
        std::vector<std::pair<std::string, std::size_t>> selected;
        for (const auto& n : m.signed_headers) {
            const std::size_t k = in_h[n]++;
            const auto& all = instances(n);
            if (k < all.size())
                selected.emplace_back(n, all[all.size() - 1 - k]);
        }
        auto found = [&](std::string cause, std::string field, std::string text) {
            h.findings.push_back(Finding{
                "header", "probably", std::move(cause), std::move(field), {}, {}, std::move(text)});
        };
        auto replaced = [&](std::size_t index, std::string raw) {
            return [&headers, index, raw = std::move(raw)] {
                std::vector<HeaderField> copy = headers;
                copy[index] = HeaderField(raw);
                return copy;
            };
        };
        auto spent = [&] { return skipped_; };
        // 1. A list's Subject tag ("[list] "), the most common header change.
        for (const auto& [n, index] : selected) {
            if (n != "subject" || spent())
                continue;
            std::string tag;
            std::string stripped = strip_subject_tag(headers[index], tag);
            if (stripped.empty())
                continue;
            if (attempt(m, replaced(index, stripped))) {
                found("subject-tag", "subject",
                      "a Subject tag \"" + tag + "\" was probably added after " + who + ": " + who +
                          "'s signature verifies with it removed");
                return;
            }
        }
        // 2. More instances of a signed field than before: one was added, and the verifier
        // (RFC 6376 §5.4.2, bottom up) now selects it. Tried: each instance left out.
        auto try_without = [&](const std::string& n, bool duplicate) {
            for (std::size_t index : instances(n)) {
                if (spent())
                    return false;
                bool ok = attempt(m, [&] {
                    std::vector<HeaderField> copy = headers;
                    copy.erase(copy.begin() + static_cast<std::ptrdiff_t>(index));
                    return copy;
                });
                if (!ok)
                    continue;
                std::string shown(headers[index].raw().substr(0, 80));
                for (char& c : shown)
                    if (c == '\r' || c == '\n')
                        c = ' ';
                const std::string field(headers[index].name());
                if (duplicate)
                    found("duplicate-field", n,
                          "a second " + field + " field was probably added after " + who + " (\"" +
                              shown + "\"): " + who + "'s signature verifies without it");
                else
                    found("added-field", n,
                          "the " + field + " field was probably added after " + who + " (\"" +
                              shown + "\"): " + who + " signed its absence (h= names " + n +
                              " more times than the message had), and its signature verifies "
                              "without it");
                return true;
            }
            return false;
        };
        for (const auto& [n, count] : in_h) {
            const std::size_t have = instances(n).size();
            if (have >= 2 && try_without(n, have > count))
                return;
        }
        // 3. A field re-folded or with its white space changed: under simple header
        // canonicalization any fold counts (RFC 6376 §3.4.1); under relaxed only a break put
        // where there was no white space (§3.4.2).
        for (const auto& [n, index] : selected) {
            const std::string_view raw = headers[index].raw();
            if (raw.find("\r\n") == std::string::npos)
                continue;
            for (bool keep_wsp : {true, false}) {
                if (spent() || (keep_wsp && m.header_canon == Canon::relaxed))
                    continue; // relaxed already unfolds at white space
                if (attempt(m, replaced(index, unfolded(raw, keep_wsp)))) {
                    found("refolded", n,
                          "the " + std::string(headers[index].name()) +
                              " field was probably re-folded after " + who +
                              (keep_wsp ? " (line breaks added at its white space)"
                                        : " (line breaks added inside words)") +
                              ": " + who + "'s signature verifies with it unfolded");
                    return;
                }
            }
        }
        // 4. White space changed inside a field under simple header canonicalization
        // (RFC 6376 §3.4.1 keeps every byte): each field tried with one space after its colon,
        // runs of white space reduced to one space and none at its end (folds kept).
        if (m.header_canon == Canon::simple) {
            for (const auto& [n, index] : selected) {
                const std::string_view raw = headers[index].raw();
                std::string plain = plain_spacing(headers[index]);
                if (spent() || plain == raw)
                    continue;
                if (attempt(m, replaced(index, plain))) {
                    found("whitespace", n,
                          "the white space of the " + std::string(headers[index].name()) +
                              " field probably changed after " + who + " (c=simple): " + who +
                              "'s signature verifies with it normalized");
                    return;
                }
            }
            // A signer that wrote c=simple and canonicalized relaxed (RFC 6376 §3.4.2).
            ArcMessageSignature relaxed = m;
            relaxed.header_canon = Canon::relaxed;
            if (!spent() && attempt(relaxed, [&] { return headers; })) {
                found("canonicalization", "",
                      who +
                          " says c=simple but its signature verifies with relaxed header "
                          "canonicalization: " +
                          who + " probably canonicalized relaxed (a signer bug)");
                return;
            }
        }
        // 5. A field h= names (the message has one) added after the hop: signers list absent
        // fields to forbid their addition (RFC 6376 §5.4.2, §8.15). From is mandatory (RFC 5322
        // §3.6): never an added field.
        for (const auto& [n, count] : in_h) {
            if (instances(n).size() == 1 && n != "from" && try_without(n, false))
                return;
        }
        Finding f;
        f.part = "header";
        f.likelihood = "possibly";
        f.cause = "header-changed";
        std::string absent;
        std::size_t listed = 0;
        for (const auto& [n, count] : in_h) {
            if (!instances(n).empty())
                continue;
            if (++listed > 10) { // the report stays readable whatever h= says
                absent += ", ...";
                break;
            }
            absent += (absent.empty() ? "" : ", ") + n;
        }
        f.text = "a header field " + who +
                 " signed (h=) possibly changed after it, in a way none of the undo operations "
                 "we tried explains (Subject tag, added or duplicated field, re-folding, "
                 "white space)";
        if (spent())
            f.text += "; the budget of " + std::to_string(opts_.max_extra_operations) +
                      " extra verifications ran out before every candidate was tried";
        if (!absent.empty())
            f.text += "; h= also names fields the message does not have now (" + absent +
                      "): possibly removed after " + who +
                      ", or listed while absent to forbid adding them";
        h.findings.push_back(std::move(f));
    }

    static bool ams_failed(const HopReport& h) {
        return h.ams.present && (!h.ams.error.empty() || h.ams.body_hash == CheckState::fail ||
                                 h.ams.signature == CheckState::fail);
    }

    static BreakPoint ams_break(const HopReport& h, const std::string& after) {
        BreakPoint b;
        b.hop = h.instance;
        const std::string who = hop_name(h.instance);
        const bool body = h.ams.body_hash == CheckState::fail;
        const bool sig = h.ams.header_mismatch;
        if (!h.ams.error.empty() || h.ams.expired ||
            (!sig && h.ams.signature == CheckState::fail) || (!body && !sig)) {
            b.part = "ams";
            b.text = who + "'s ARC-Message-Signature fails: " +
                     (h.ams.error.empty() ? h.ams.why : h.ams.error);
        } else if (body && sig) {
            b.part = "ams";
            b.text = "the body and the signed header fields changed " + after;
        } else if (body) {
            b.part = "ams-body-hash";
            b.text = "the body changed " + after + " (body hash mismatch)";
        } else {
            b.part = "ams-header-signature";
            b.text = "a signed header field changed " + after + " (the body hash still matches)";
        }
        return b;
    }

    void locate_break(Explanation& e) const {
        const auto n = static_cast<std::uint32_t>(e.hops.size());
        auto lowest_bad_seal = [&]() -> const HopReport* {
            for (const auto& h : e.hops)
                if (h.seal.present &&
                    (!h.seal.error.empty() || h.seal.signature == CheckState::fail))
                    return &h;
            return nullptr;
        };
        auto seal_break = [&](const HopReport& h) {
            BreakPoint b;
            b.hop = h.instance;
            b.part = "seal";
            b.text = hop_name(h.instance) + "'s ARC-Seal fails (" +
                     (h.seal.error.empty() ? h.seal.why : h.seal.error) +
                     "): the ARC fields of sets 1.." + std::to_string(h.instance) +
                     " changed after it sealed, or it sealed them wrongly";
            return b;
        };
        // Between two hops: the AMS of hop k fails, hop k+1's passes.
        for (std::uint32_t k = 1; k < n; ++k) {
            if (ams_failed(e.hops[k - 1]) && !ams_failed(e.hops[k]) &&
                e.hops[k].ams.signature == CheckState::pass)
                e.notes.push_back("the message changed between " + hop_name(k) + " and " +
                                  hop_name(k + 1) + " (" + hop_name(k) +
                                  "'s signature no longer verifies; " + hop_name(k + 1) +
                                  "'s covers the changed message)");
        }
        if (e.verdict.status != ChainStatus::fail || n == 0)
            return;
        const HopReport& newest = e.hops[n - 1];
        if (e.verdict.ended) {
            // RFC 8617 §5.1.2: hop N found the chain failing and said so (cv=fail).
            for (std::uint32_t k = n - 1; k >= 1; --k) {
                if (ams_failed(e.hops[k - 1])) {
                    e.broken =
                        ams_break(e.hops[k - 1], "after " + hop_name(k) + " signed, before " +
                                                     hop_name(n) + " sealed it cv=fail");
                    return;
                }
            }
            if (const HopReport* bad = lowest_bad_seal(); bad != nullptr && bad->instance < n) {
                e.broken = seal_break(*bad);
                return;
            }
            e.broken =
                BreakPoint{n, "seal",
                           hop_name(n) + " sealed with cv=fail, but every older signature verifies "
                                         "here: it may have lacked a key or judged by other rules"};
            return;
        }
        if (ams_failed(newest)) {
            e.broken = ams_break(newest, "after " + hop_name(n) + " (the last hop) signed it");
            return;
        }
        if (const HopReport* bad = lowest_bad_seal()) {
            e.broken = seal_break(*bad);
            return;
        }
        for (const auto& h : e.hops) {
            if (!h.aar_present || !h.ams.present || !h.seal.present) {
                e.broken = BreakPoint{h.instance, "structure", e.verdict.reason};
                return;
            }
        }
        e.broken = BreakPoint{0, "other", e.verdict.reason};
    }

    const ExplainOptions& opts_;
    SplitMessage split_;
    std::map<KeyName, KeyLookup> lookups_;
    KeyOperationBudget base_, extra_;
    std::vector<SetFields> sets_;
    std::map<std::uint32_t, SignatureCheck> ams_outcome_;
    SharedBodyHashes hashes_ = std::make_shared<BodyHashes>();
    std::map<std::size_t, std::size_t> hash_handle_; ///< set index -> body hash handle
    bool skipped_ = false; ///< an undo candidate was left untried: the budget was spent
    std::optional<std::map<std::string, std::vector<std::size_t>>> by_name_;
};

} // namespace

std::vector<KeyName> explain_key_names(std::string_view message) {
    auto split = split_message(message);
    std::set<KeyName> names;
    for (const auto& s : collect_sets(split.headers, max_instance)) {
        if (s.seal != nullptr)
            if (auto seal = parse_arc_seal(s.seal->value()))
                names.insert(KeyName{seal->selector, seal->domain});
        if (s.ams != nullptr)
            if (auto ams = parse_arc_message_signature(s.ams->value()))
                names.insert(KeyName{ams->selector, ams->domain});
    }
    return {names.begin(), names.end()};
}

Explanation
explain_chain(std::string_view message, const KeyAnswers& answers, const ExplainOptions& opts) {
    Explainer x(message, answers, opts);
    return x.run(answers);
}

} // namespace arcf::arc
