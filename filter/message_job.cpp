// SPDX-License-Identifier: ISC
// Verify once, use the verdict for both the Authentication-Results and the seal (RFC 8617 §5.1).
#include "filter/message_job.hpp"

#include "arc/arc_headers.hpp"
#include "arc/auth_results.hpp"
#include "arc/auth_results_format.hpp"

#include <algorithm>

namespace arcf::filter {

MessageJob::MessageJob(JobOptions opts) : opts_(std::move(opts)), verifier_(opts_.verify) {}

std::string_view MessageJob::header_from() const {
    for (const auto& h : verifier_.headers())
        if (h.is("from"))
            return h.value();
    return {};
}

std::vector<arc::KeyName> MessageJob::finish_headers() {
    headers_done_ = true;
    collector_.finish();
    auto& fields = collector_.fields();
    if (fields.size() > opts_.max_header_fields ||
        collector_.total_bytes() > opts_.max_header_bytes)
        over_limit_ = true;

    // The trust boundary: the MTA's own Received field is the first line it hands us; fields
    // above it were added inside our MTA, fields below it came from the client.
    boundary_ = fields.size();
    for (std::size_t k = 0; k < fields.size(); ++k)
        if (fields[k].is("received")) {
            boundary_ = k;
            break;
        }
    removed_fields_.assign(fields.size(), false);
    removed_lines_.assign(lines_, false);
    if (opts_.scrub_forged) {
        std::vector<std::string> ids = opts_.trusted_authserv_ids;
        ids.push_back(opts_.authserv_id);
        for (std::size_t k = boundary_; k < fields.size(); ++k) {
            if (!fields[k].is("authentication-results"))
                continue;
            auto ar = arc::parse_authentication_results(fields[k].value());
            if (!ar)
                continue;
            bool ours = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
                return arc::iequals(id, ar->authserv_id);
            });
            if (!ours)
                continue;
            removed_fields_[k] = true;
            // The last field ends with the header block, never with the empty line after it.
            std::size_t end = k + 1 < field_start_.size() ? field_start_[k + 1] : header_lines_;
            for (std::size_t i = field_start_[k]; i < end && i < removed_lines_.size(); ++i)
                removed_lines_[i] = true;
        }
    }
    std::vector<arc::KeyName> names;
    if (over_limit_)
        verifier_.begin({});
    else
        names = verifier_.begin(std::move(fields));
    seal_body_.emplace(opts_.seal.body_canon);
    return names;
}

std::vector<arc::KeyName> MessageJob::add_line(std::string_view line) {
    if (lines_ == 0 && !line.empty() && (line[0] == ' ' || line[0] == '\t'))
        leading_fold_ = true;
    if (!headers_done_) {
        if (!line.empty() && !((line[0] == ' ' || line[0] == '\t') && pending_field_))
            field_start_.push_back(lines_);
        pending_field_ = !line.empty();
        ++lines_;
        if (!line.empty())
            header_lines_ = lines_;
        if (collector_.add_line(line))
            return {};
        return finish_headers();
    }
    ++lines_;
    verifier_.add_body_line(line);
    if (seal_body_)
        seal_body_->add_line(line);
    return {};
}

std::vector<arc::KeyName> MessageJob::end_of_data() {
    if (!headers_done_)
        return finish_headers();
    return {};
}

void MessageJob::provide_key(const arc::KeyName& name, const dns::TxtAnswer& answer) {
    verifier_.provide_key(name, answer);
}

namespace {

// Splits "Name: value\r\n\tmore" into physical lines.
void append_physical_lines(std::vector<std::string>& out, std::string_view field) {
    arc::for_each_line(field, [&](std::string_view l) { out.emplace_back(l); });
}

// Our Authentication-Results, folded between resinfo words, never inside a comment.
std::string fold_authentication_results(const std::string& value) {
    std::vector<arc::FoldToken> tokens;
    std::size_t pos = 0;
    while (pos < value.size()) {
        auto sp = value.find(' ', pos);
        if (value[pos] == '(') {
            auto close = value.find(')', pos);
            sp = close == std::string::npos ? std::string::npos : value.find(' ', close);
        }
        tokens.push_back(
            arc::FoldToken{value.substr(pos, sp == std::string::npos ? sp : sp - pos), true});
        if (sp == std::string::npos)
            break;
        pos = sp + 1;
    }
    return arc::fold_field("Authentication-Results", tokens);
}

} // namespace

JobResult MessageJob::complete(const std::shared_ptr<const arc::SealKey>& key) {
    if (!headers_done_)
        end_of_data();
    JobResult r;
    r.forged_removed =
        static_cast<std::size_t>(std::count(removed_fields_.begin(), removed_fields_.end(), true));
    if (over_limit_) {
        // We refuse to process a header block this large; whether it claims a chain decides
        // between "none" and "fail" (we cannot vouch for a chain we did not check).
        r.chain.status = has_arc_headers_ ? arc::ChainStatus::fail : arc::ChainStatus::none;
        r.chain.reason = "header block exceeds the configured limits";
    } else {
        r.chain = verifier_.finish();
    }
    if (r.chain.status == arc::ChainStatus::temperror) {
        // A temporary DNS failure is never sealed or reported as a final verdict: defer.
        r.tempfail = true;
        r.seal_note = "not sealed: temperror";
        return r;
    }
    if (leading_fold_) {
        // Whatever we put on top would absorb that line (a seal that cannot verify, or text
        // appended to our Authentication-Results): add nothing.
        r.seal_note = "not sealed: the message starts with a folded line";
        return r;
    }
    if (key && !over_limit_ && seal_body_) {
        // Seal what will be stored: the fields minus the forged ones we take out.
        const auto& all = verifier_.headers();
        std::vector<arc::HeaderField> kept, inside;
        for (std::size_t k = 0; k < all.size(); ++k) {
            if (k < removed_fields_.size() && removed_fields_[k])
                continue;
            kept.push_back(all[k]);
            if (k < boundary_)
                inside.push_back(all[k]);
        }
        // The AAR: our arc= result, then the results our ADMD recorded inside the boundary.
        std::vector<arc::ResInfo> results{arc::arc_resinfo(r.chain, opts_.remote_ip)};
        std::vector<std::string> ids = opts_.trusted_authserv_ids;
        ids.push_back(opts_.authserv_id);
        for (auto& x : arc::trusted_results(inside, ids))
            results.push_back(std::move(x));
        arc::SealOptions so = opts_.seal;
        so.authserv_id = opts_.authserv_id;
        so.now = opts_.verify.now;
        auto sealed = arc::seal_message(kept, seal_body_->finish(), r.chain, results, *key, so);
        r.sealed = sealed.sealed;
        r.seal_note = sealed.reason;
        // AS, AMS, AAR as one block on top (what Microsoft 365 expects).
        for (const auto& f : sealed.fields)
            append_physical_lines(r.added_lines, f);
    } else {
        r.seal_note = over_limit_ ? "not sealed: header limits" : "not sealed: policy";
    }
    if (opts_.write_ar)
        append_physical_lines(r.added_lines,
                              fold_authentication_results(arc::format_authentication_results(
                                  opts_.authserv_id, r.chain, opts_.remote_ip)));
    return r;
}

} // namespace arcf::filter
