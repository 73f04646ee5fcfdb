// SPDX-License-Identifier: ISC
// Verify once, use the verdict for both the Authentication-Results and the seal (RFC 8617 §5.1).
#include "filter/pipeline/message_job.hpp"

#include "arc/arc_headers.hpp"
#include "arc/auth_results_format.hpp"

#include <algorithm>

#include "mail/auth_results.hpp"
#include "text/ascii.hpp"

namespace arcf::filter {

namespace {
// The set of body hashes the job owns and lends to its verifiers (mail/body_hashes.hpp).
mail::SharedBodyHashes own_body_hashes(arc::VerifyOptions& v) {
    if (!v.body_hashes)
        v.body_hashes = std::make_shared<mail::BodyHashes>();
    return v.body_hashes;
}
} // namespace

MessageJob::MessageJob(JobOptions opts)
    : opts_(std::move(opts)), body_hashes_(own_body_hashes(opts_.verify)), verifier_(opts_.verify) {
}

std::string_view MessageJob::header_from() const {
    // RFC 5322 §3.6: exactly one From field. With several, key choice has no author domain,
    // as DMARC has none (RFC 7489 §6.6.1): the same rule as dmarc::author_domain().
    std::string_view from;
    std::size_t count = 0;
    for (const auto& h : verifier_.headers())
        if (h.is("from") && count++ == 0)
            from = h.value();
    return count == 1 ? from : std::string_view{};
}

namespace {

// Whether an Authentication-Results field bears one of `ids` as its authserv-id.
bool bears_id(const mail::HeaderField& f, const std::vector<std::string>& ids) {
    if (!f.is("authentication-results"))
        return false;
    auto ar = mail::parse_authentication_results(f.value());
    return ar && std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
               return text::iequals(id, ar->authserv_id);
           });
}

} // namespace

bool MessageJob::forged(const mail::HeaderField& field, const std::vector<std::string>& ids) {
    if (bears_id(field, ids))
        return true;
    // Issue 15 class 7, bare CR (RFC 5322 §2.2/§2.3: CR and LF occur only together as CRLF):
    // smtpd stores a bare CR as is, and common parsers take it for a line break, so
    // "X-Foo: a<CR>Authentication-Results: ourid; arc=pass" reads as our own result there. One
    // rule for every mode (this job serves smtpd, Exim and the CLI): for scrubbing, a bare CR
    // in the header block breaks lines, and a field carrying a forged field that way is
    // removed whole. Verification and canonicalization keep the bytes as they are.
    if (!mail::has_bare_cr(field.raw()))
        return false;
    auto seen = mail::fields_with_bare_cr_breaks(field.raw());
    return std::any_of(seen.begin(), seen.end(),
                       [&](const mail::HeaderField& f) { return bears_id(f, ids); });
}

std::vector<mail::KeyName> MessageJob::finish_headers() {
    headers_done_ = true;
    collector_.finish();
    auto& fields = collector_.fields();
    // RFC 8617 §5.2 has no verdict for a chain we refuse to examine: with ARC fields present the
    // result is fail with this reason (complete), never none; without them, none is true
    // (every field name was seen by add_line).
    // add_line counted every field and octet, including those past the limit it stopped storing.
    if (fields_seen_ > opts_.max_header_fields)
        limits_reason_ = "header block over limits: " + std::to_string(fields_seen_) +
                         " header fields, max-header-fields is " +
                         std::to_string(opts_.max_header_fields);
    else if (header_bytes_seen_ > opts_.max_header_bytes)
        limits_reason_ = "header block over limits: " + std::to_string(header_bytes_seen_) +
                         " octets, max-header-bytes is " + std::to_string(opts_.max_header_bytes);
    over_limit_ = over_limit_ || !limits_reason_.empty();

    // The trust boundary: the MTA's own Received field is the first line it hands us; fields
    // above it were added inside our MTA, fields below it came from the client.
    boundary_ = fields.size();
    for (std::size_t k = 0; k < fields.size(); ++k)
        if (fields[k].is("received")) {
            boundary_ = k;
            break;
        }
    removed_fields_.assign(fields.size(), false);
    removed_lines_.resize(lines_, false); // lines past the limit may already be marked
    if (opts_.scrub_forged) {
        std::vector<std::string> ids = opts_.trusted_authserv_ids;
        ids.push_back(opts_.authserv_id);
        for (std::size_t k = boundary_; k < fields.size(); ++k) {
            if (!forged(fields[k], ids))
                continue;
            removed_fields_[k] = true;
            // The last field ends with the header block, never with the empty line after it.
            std::size_t end = k + 1 < field_start_.size() ? field_start_[k + 1]
                                                          : std::min(header_lines_, stored_lines_);
            for (std::size_t i = field_start_[k]; i < end && i < removed_lines_.size(); ++i)
                removed_lines_[i] = true;
        }
    }
    if (auth_) {
        if (over_limit_)
            auth_->on_headers_over_limits(limits_reason_, has_dkim_signature_);
        else
            auth_->on_headers(fields);
    }
    std::vector<mail::KeyName> names;
    if (over_limit_)
        verifier_.begin({});
    else
        names = verifier_.begin(std::move(fields));
    // The body hash our seal needs, shared with the newest AMS when it used the same
    // canonicalization (the body is hashed once).
    seal_hash_ = verifier_.add_body_hash(opts_.seal.body_canon);
    return names;
}

namespace {
// The name of the field a header line starts ("Name:" or "Name :"), empty without a colon.
std::string_view field_name(std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
        return {};
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
        name.remove_suffix(1);
    return name;
}
} // namespace

std::vector<mail::KeyName> MessageJob::add_other_line(std::string_view line) {
    if (lines_ == 0 && !line.empty() && (line[0] == ' ' || line[0] == '\t'))
        leading_fold_ = true;
    if (!headers_done_)
        return add_header_line(line);
    ++lines_;
    body_hashes_->add_line(line); // once for the chain, DKIM and our seal
    if (auth_)
        auth_->add_body_line(line);
    return {};
}

std::vector<mail::KeyName> MessageJob::add_header_line(std::string_view line) {
    if (line.empty()) {
        ++lines_;
        if (!over_limit_)
            collector_.add_line(line);
        return finish_headers();
    }
    const bool starts = !((line[0] == ' ' || line[0] == '\t') && pending_field_);
    pending_field_ = true;
    ++lines_;
    header_lines_ = lines_;
    if (starts) {
        ++fields_seen_;
        std::string_view name = field_name(line);
        field_is_ar_ = text::iequals(name, "authentication-results");
        if (arc::arc_header_kind(name) != arc::ArcHeaderKind::none)
            has_arc_headers_ = true; // counted even past the limit: a claimed chain
        else if (text::iequals(name, "dkim-signature"))
            has_dkim_signature_ = true;
    }
    header_bytes_seen_ += line.size() + 2;
    if (!over_limit_ &&
        (header_bytes_seen_ > opts_.max_header_bytes || fields_seen_ > opts_.max_header_fields)) {
        // Count, don't store, from here on. Authentication-Results past this point cannot
        // be read whole, so every one is taken out (RFC 8601 §5 allows removing them);
        // that includes the field cut by the limit.
        over_limit_ = true;
        stored_lines_ = lines_ - 1;
        if (!starts && field_is_ar_ && !field_start_.empty()) {
            removed_lines_.resize(lines_ - 1, false);
            for (std::size_t i = field_start_.back(); i + 1 < lines_; ++i)
                removed_lines_[i] = true;
        }
    }
    if (over_limit_) {
        removed_lines_.resize(lines_ - 1, false);
        removed_lines_.push_back(field_is_ar_);
        return {};
    }
    if (starts)
        field_start_.push_back(lines_ - 1);
    collector_.add_line(line);
    return {};
}

std::vector<mail::KeyName> MessageJob::end_of_data() {
    if (!headers_done_)
        return finish_headers();
    return {};
}

void MessageJob::provide_key(const mail::KeyName& name, const dns::TxtAnswer& answer) {
    verifier_.provide_key(name, answer);
}

namespace {

// Splits "Name: value\r\n\tmore" into physical lines.
void append_physical_lines(std::vector<std::string>& out, std::string_view field) {
    mail::for_each_line(field, [&](std::string_view l) { out.emplace_back(l); });
}

// RFC 8601 §2.2: "authserv-id; arc=... ; spf=... ; ...", our arc= result first; the others
// within the write budgets (mail/auth_results.hpp), what they left out counted in `stats`.
std::string authentication_results_value(const std::string& authserv_id,
                                         const arc::ChainResult& chain,
                                         const std::string& remote_ip,
                                         const std::vector<mail::ResInfo>& others,
                                         mail::WriteStats& stats) {
    std::string value = arc::format_authentication_results(authserv_id, chain, remote_ip, &stats);
    for (const auto& text : mail::format_results(others, &stats))
        value += "; " + text;
    return value;
}

// RFC 5322 §2.1.1: no line of a field we add may exceed 998 octets (smtpd 6.8 cuts output
// lines at 1997, and a cut line breaks our own seal). The budgets make this hold by
// construction; this is the check that keeps it so.
bool lines_fit(const std::vector<std::string>& lines, std::size_t from) {
    return std::all_of(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end(),
                       [](const std::string& l) { return l.size() <= max_added_line; });
}

} // namespace

namespace {

// The results an AAR recorded (RFC 8617 §4.1.1), from the fields as received.
std::optional<std::vector<mail::ResInfo>> aar_results(const std::vector<mail::HeaderField>& fields,
                                                      std::uint32_t instance) {
    for (const auto& f : fields) {
        if (arc::arc_header_kind(f.name()) != arc::ArcHeaderKind::aar)
            continue;
        auto aar = arc::parse_arc_auth_results(f.value());
        if (!aar || aar->instance != instance)
            continue;
        auto ar = mail::parse_authentication_results(aar->payload);
        if (!ar)
            return std::nullopt;
        return std::move(ar->results);
    }
    return std::nullopt;
}

std::string remote_ip_of(const std::vector<mail::ResInfo>& results) {
    for (const auto& r : results)
        for (const auto& p : r.properties)
            if (text::iequals(p.ptype, "smtp") && text::iequals(p.property, "remote-ip"))
                return p.value;
    return {};
}

} // namespace

JobResult MessageJob::complete(const std::shared_ptr<const arc::SealKey>& key,
                               const SenderAuth* auth) {
    if (!headers_done_)
        end_of_data();
    JobResult r;
    r.forged_removed =
        static_cast<std::size_t>(std::count(removed_fields_.begin(), removed_fields_.end(), true));
    if (over_limit_ || !skipped_.empty()) {
        // We refuse to process a header block (or message) this large. A chain it claims is one
        // we cannot vouch for: fail (RFC 8617 §5.2; ARC has no permerror), with the limit as the
        // reason; without ARC fields there is no chain, and none is the truth.
        r.chain.status = has_arc_headers_ ? arc::ChainStatus::fail : arc::ChainStatus::none;
        r.chain.reason = over_limit_ ? limits_reason_ : skipped_;
    } else {
        r.chain = verifier_.finish();
    }
    if (r.chain.status == arc::ChainStatus::temperror) {
        // A temporary DNS failure is never sealed or reported as a final verdict: defer.
        r.tempfail = true;
        r.seal = pipeline::SealOutcome::chain_temperror;
        r.seal_note = "not sealed: temperror";
        return r;
    }
    std::vector<mail::ResInfo> sender_results;
    if (auth) {
        // The newest set's AAR, for the ARC-aware DMARC override (RFC 8617 §7.2.1), only when
        // the chain validated (the override checks that again).
        std::optional<dmarc::SealerResults> newest;
        if (r.chain.status == arc::ChainStatus::pass && r.chain.sets > 0) {
            if (auto res = aar_results(verifier_.headers(), r.chain.sets)) {
                newest.emplace();
                newest->client_ip = remote_ip_of(*res);
                newest->results = std::move(*res);
                if (auto first = aar_results(verifier_.headers(), 1))
                    newest->origin_ip = remote_ip_of(*first);
            }
        }
        sender_results = auth->results(&r.chain, newest ? &*newest : nullptr);
        if (newest && !r.chain.chain.empty()) {
            const std::string& sealer = r.chain.chain.back().seal_domain;
            r.dmarc_vouched =
                auth->would_override(r.chain, *newest, std::vector<std::string>{sealer});
            r.dmarc_overridden = auth->would_override(r.chain, *newest, std::nullopt);
        }
    }
    if (leading_fold_) {
        // Whatever we put on top would absorb that line (a seal that cannot verify, or text
        // appended to our Authentication-Results): add nothing.
        r.seal = pipeline::SealOutcome::leading_fold;
        r.seal_note = "not sealed: the message starts with a folded line";
        return r;
    }
    // The seal's body hash; none when the body-hash budget left it out (mail/body_hashes.hpp).
    const bool may_seal = key && !over_limit_ && skipped_.empty() && seal_hash_;
    const mail::Digest* seal_body = may_seal ? verifier_.body_hash(*seal_hash_) : nullptr;
    if (may_seal && seal_body == nullptr) {
        r.seal_note = "not sealed: " + body_hashes_->refused_reason(*seal_hash_);
    } else if (seal_body != nullptr) {
        // Seal what will be stored: the fields minus the forged ones we take out.
        const auto& all = verifier_.headers();
        std::vector<mail::HeaderField> kept, inside;
        for (std::size_t k = 0; k < all.size(); ++k) {
            if (k < removed_fields_.size() && removed_fields_[k])
                continue;
            kept.push_back(all[k]);
            if (k < boundary_)
                inside.push_back(all[k]);
        }
        // The AAR: our arc= result and our other results, then the results our ADMD recorded
        // inside the boundary (RFC 8617 §4.1.1).
        std::vector<mail::ResInfo> results{arc::arc_resinfo(r.chain, opts_.remote_ip)};
        results.insert(results.end(), sender_results.begin(), sender_results.end());
        std::vector<std::string> ids = opts_.trusted_authserv_ids;
        ids.push_back(opts_.authserv_id);
        for (auto& x : arc::trusted_results(inside, ids))
            results.push_back(std::move(x));
        arc::SealOptions so = opts_.seal;
        so.authserv_id = opts_.authserv_id;
        so.now = opts_.verify.now;
        auto sealed = arc::seal_message(kept, *seal_body, r.chain, results, *key, so);
        r.sealed = sealed.sealed;
        r.seal_note = sealed.reason;
        // RFC 8617 §5.1: seal_message refuses an ended chain and a 51st set; anything else it
        // refuses is an error making the set.
        r.seal = sealed.sealed                       ? pipeline::SealOutcome::sealed
                 : r.chain.ended                     ? pipeline::SealOutcome::chain_fail
                 : r.chain.sets >= arc::max_instance ? pipeline::SealOutcome::over_limit
                                                     : pipeline::SealOutcome::seal_error;
        r.written.values_omitted += sealed.values_omitted;
        r.written.results_omitted += sealed.results_omitted;
        // AS, AMS, AAR as one block on top (what Microsoft 365 expects).
        for (const auto& f : sealed.fields)
            append_physical_lines(r.added_lines, f);
        if (!lines_fit(r.added_lines, 0)) {
            r.added_lines.clear();
            r.sealed = false;
            r.seal = pipeline::SealOutcome::added_too_long;
            r.seal_note = "not sealed: a line of the new ARC set would exceed 998 octets";
        }
    } else {
        r.seal = over_limit_         ? pipeline::SealOutcome::header_limits
                 : !skipped_.empty() ? pipeline::SealOutcome::too_large
                                     : pipeline::SealOutcome::policy;
        r.seal_note = over_limit_         ? "not sealed: header limits"
                      : !skipped_.empty() ? "not sealed: " + skipped_
                                          : "not sealed: policy";
    }
    if (opts_.write_ar) {
        std::size_t first = r.added_lines.size();
        append_physical_lines(
            r.added_lines, mail::fold_results_field("Authentication-Results",
                                                    authentication_results_value(
                                                        opts_.authserv_id, r.chain, opts_.remote_ip,
                                                        sender_results, r.written)));
        if (!lines_fit(r.added_lines, first)) {
            // Not reachable within the budgets; if it were, our results would go unreported
            // rather than out as a line smtpd cuts.
            r.added_lines.resize(first);
            ++r.written.results_omitted;
        }
    }
    // The total budget (max_added_total), also held by construction: checked the same way.
    std::size_t total = 0;
    for (const auto& l : r.added_lines)
        total += l.size() + 2;
    if (total > max_added_total) {
        r.added_lines.clear();
        r.sealed = false;
        r.seal = pipeline::SealOutcome::added_too_long;
        r.seal_note = "not sealed: the fields to add would exceed " +
                      std::to_string(max_added_total) + " octets";
        ++r.written.results_omitted;
    }
    return r;
}

} // namespace arcf::filter
