// SPDX-License-Identifier: ISC
// Library operations for the benchmark, each checked once before it is timed.
#include "bench/library.hpp"

#include "arc/chain.hpp"
#include "filter/pipeline/message_job.hpp"

#include <stdexcept>

#include "mail/header.hpp"

namespace arcf::bench {

namespace {

filter::JobOptions job_options() {
    filter::JobOptions o;
    o.authserv_id = "mx.bench.test";
    o.verify.now = corpus_time;
    o.remote_ip = "192.0.2.7";
    return o;
}

const dns::TxtAnswer& answer_for(const KeyRing& keys, const mail::KeyName& n) {
    static const dns::TxtAnswer missing = dns::TxtAnswer::failed(dns::Status::nxdomain, "none");
    auto it = keys.answers.find(n);
    return it == keys.answers.end() ? missing : it->second;
}

filter::JobResult seal_once(const std::vector<std::string>& lines,
                            const std::shared_ptr<const arc::SealKey>& key,
                            const KeyRing& keys,
                            const filter::JobOptions& opts) {
    filter::MessageJob job(opts);
    std::vector<mail::KeyName> names;
    for (const auto& l : lines) {
        auto asked = job.add_line(l);
        names.insert(names.end(), asked.begin(), asked.end());
    }
    auto asked = job.end_of_data();
    names.insert(names.end(), asked.begin(), asked.end());
    for (const auto& n : names)
        job.provide_key(n, answer_for(keys, n));
    return job.complete(key);
}

} // namespace

Operation seal_operation(const std::vector<std::string>& lines,
                         const std::shared_ptr<const arc::SealKey>& key,
                         const KeyRing& keys) {
    auto opts = std::make_shared<const filter::JobOptions>(job_options());
    auto first = seal_once(lines, key, keys, *opts);
    if (!first.sealed || first.chain.status == arc::ChainStatus::fail)
        throw std::runtime_error("seal benchmark: message not sealed (" + first.seal_note + ", " +
                                 first.chain.reason + ")");
    return [&lines, key, &keys, opts] { seal_once(lines, key, keys, *opts); };
}

Operation verify_operation(const std::string& message, const KeyRing& keys, bool oldest_pass) {
    arc::VerifyOptions vo;
    vo.now = corpus_time;
    vo.oldest_pass = oldest_pass;
    auto lookup = [&keys](const mail::KeyName& n) -> const dns::TxtAnswer& {
        return answer_for(keys, n);
    };
    auto first = arc::verify_message(message, vo, lookup);
    if (first.status != arc::ChainStatus::pass)
        throw std::runtime_error("verify benchmark: chain does not pass: " + first.reason);
    return [&message, vo, lookup] { arc::verify_message(message, vo, lookup); };
}

Operation canon_operation(std::string_view body, mail::Canon canon) {
    return [body, canon] {
        mail::BodyHasher h(canon);
        mail::for_each_line(body, [&](std::string_view l) { h.add_line(l); });
        h.finish();
    };
}

} // namespace arcf::bench
