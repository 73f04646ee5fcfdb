// SPDX-License-Identifier: ISC
// Verify once, use the verdict for both the Authentication-Results and the seal (RFC 8617 §5.1).
#include "filter/message_job.hpp"

#include "arc/auth_results_format.hpp"

namespace arcf::filter {

MessageJob::MessageJob(JobOptions opts) : opts_(std::move(opts)), verifier_(opts_.verify) {}

std::vector<arc::KeyName> MessageJob::finish_headers() {
    headers_done_ = true;
    collector_.finish();
    auto names = verifier_.begin(std::move(collector_.fields()));
    if (opts_.seal_key)
        seal_body_.emplace(opts_.seal.body_canon);
    return names;
}

std::vector<arc::KeyName> MessageJob::add_line(std::string_view line) {
    if (!headers_done_) {
        if (collector_.add_line(line))
            return {};
        return finish_headers();
    }
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
} // namespace

JobResult MessageJob::complete(bool allow_seal) {
    if (!headers_done_)
        end_of_data();
    JobResult r;
    r.chain = verifier_.finish();
    if (r.chain.status == arc::ChainStatus::temperror) {
        // A temporary DNS failure is never sealed or reported as a final verdict: defer.
        r.tempfail = true;
        r.seal_note = "not sealed: temperror";
        return r;
    }
    std::vector<std::string> ar_lines;
    {
        // Fold our own header at resinfo boundaries when long (RFC 5322 §2.2.3).
        std::vector<arc::FoldToken> tokens;
        std::string value =
            arc::format_authentication_results(opts_.authserv_id, r.chain, opts_.remote_ip);
        std::size_t pos = 0;
        while (pos < value.size()) {
            auto sp = value.find(' ', pos);
            // keep comments together: never fold inside "(...)"
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
        append_physical_lines(ar_lines, arc::fold_field("Authentication-Results", tokens));
    }
    if (opts_.seal_key && allow_seal && seal_body_) {
        std::vector<arc::ResInfo> results{arc::arc_resinfo(r.chain, opts_.remote_ip)};
        if (!opts_.trusted_authserv_ids.empty())
            for (auto& x : arc::trusted_results(verifier_.headers(), opts_.trusted_authserv_ids))
                results.push_back(std::move(x));
        arc::SealOptions so = opts_.seal;
        so.authserv_id = opts_.authserv_id;
        so.now = opts_.verify.now;
        auto sealed = arc::seal_message(verifier_.headers(), seal_body_->finish(), r.chain, results,
                                        *opts_.seal_key, so);
        r.sealed = sealed.sealed;
        r.seal_note = sealed.reason;
        for (const auto& f : sealed.fields)
            append_physical_lines(r.added_lines, f);
    } else {
        r.seal_note = opts_.seal_key ? "not sealed: policy" : "not sealed: no key";
    }
    // AS, AMS, AAR as one block on top (what Microsoft 365 expects), then our A-R.
    for (auto& l : ar_lines)
        r.added_lines.push_back(std::move(l));
    return r;
}

} // namespace arcf::filter
