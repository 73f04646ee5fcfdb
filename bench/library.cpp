// SPDX-License-Identifier: ISC
// Library operations for the benchmark, each checked once before it is timed.
#include "bench/library.hpp"

#include "arc/chain.hpp"
#include "filter/config/config.hpp"
#include "filter/pipeline/message.hpp"
#include "filter/pipeline/message_job.hpp"
#include "filter/pipeline/sender_auth.hpp"
#include "filter/smtpd/engine.hpp"

#include <map>
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

filter::JobResult seal_once(const Lines& lines,
                            const std::shared_ptr<const arc::SealKey>& key,
                            const KeyRing& keys,
                            const filter::JobOptions& opts) {
    filter::MessageJob job(opts);
    std::vector<mail::KeyName> names;
    for (const auto& l : lines) {
        auto asked = job.add_line(l);
        if (!asked.empty()) // (only the line that ends the header block asks for keys)
            names.insert(names.end(), asked.begin(), asked.end());
    }
    auto asked = job.end_of_data();
    names.insert(names.end(), asked.begin(), asked.end());
    for (const auto& n : names)
        job.provide_key(n, answer_for(keys, n));
    return job.complete(key);
}

} // namespace

Operation seal_operation(const Lines& lines,
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

namespace {

struct DkimAndChain {
    arc::ChainStatus chain = arc::ChainStatus::none;
    std::string chain_reason;
    std::vector<mail::ResInfo> dkim;
};

DkimAndChain dkim_verify_once(const Lines& lines,
                              const KeyRing& keys,
                              const std::map<std::string, const dns::TxtAnswer*>& by_name) {
    filter::MessageJob job(job_options());
    filter::SenderAuthOptions ao;
    ao.spf = false;
    ao.dmarc = false;
    filter::SenderAuth auth(ao, filter::SenderContext{"192.0.2.7", "mail.example", "a@example", "",
                                                      "mx.bench.test",
                                                      static_cast<std::int64_t>(corpus_time)});
    job.set_sender_auth(&auth);
    std::vector<mail::KeyName> names;
    for (const auto& l : lines) {
        auto asked = job.add_line(l);
        if (!asked.empty()) // (only the line that ends the header block asks for keys)
            names.insert(names.end(), asked.begin(), asked.end());
    }
    auto asked = job.end_of_data();
    names.insert(names.end(), asked.begin(), asked.end());
    auth.end_of_data();
    for (const auto& n : names)
        job.provide_key(n, answer_for(keys, n));
    static const dns::TxtAnswer missing = dns::TxtAnswer::failed(dns::Status::nxdomain, "none");
    for (const auto& q : auth.take_queries()) {
        auto it = by_name.find(q.name);
        auth.on_answer(q.id, it == by_name.end() ? missing : *it->second);
    }
    auth.conclude();
    auto r = job.complete(nullptr, &auth);
    DkimAndChain out{r.chain.status, r.chain.reason, {}};
    for (auto& res : auth.results())
        if (res.method == "dkim")
            out.dkim.push_back(std::move(res));
    return out;
}

} // namespace

Operation dkim_verify_operation(const Lines& lines, const KeyRing& keys, bool expect_dkim) {
    auto by_name = std::make_shared<std::map<std::string, const dns::TxtAnswer*>>();
    for (const auto& [name, answer] : keys.answers)
        (*by_name)[name.dns_name()] = &answer;
    auto first = dkim_verify_once(lines, keys, *by_name);
    if (first.chain != arc::ChainStatus::pass)
        throw std::runtime_error("DKIM + ARC benchmark: chain does not pass: " +
                                 first.chain_reason);
    if (first.dkim.empty())
        throw std::runtime_error("DKIM + ARC benchmark: no DKIM result");
    for (const auto& d : first.dkim)
        if (d.result != (expect_dkim ? "pass" : "none"))
            throw std::runtime_error("DKIM + ARC benchmark: dkim=" + d.result + " (" +
                                     d.reason.value_or("") + ")");
    return [&lines, &keys, by_name] { dkim_verify_once(lines, keys, *by_name); };
}

namespace {

pipeline::Outcome through_pipeline(const Lines& lines,
                                   const std::shared_ptr<const pipeline::Settings>& settings,
                                   const std::map<std::string, const dns::TxtAnswer*>& txt) {
    // The envelope bench/stream.cpp's opening() reports to the filter.
    pipeline::Message m(
        settings,
        pipeline::Envelope{
            "192.0.2.7", "client.example.org", "<bob@example.org>", "", {"<alice@example.net>"}},
        static_cast<std::uint64_t>(corpus_time));
    for (const auto& l : lines)
        m.add_line(l);
    m.end_of_data();
    static const dns::Answer missing = dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN");
    for (auto qs = m.take_queries(); !qs.empty(); qs = m.take_queries())
        for (const auto& q : qs) {
            auto it = q.type == dns::RecordType::txt ? txt.find(q.name) : txt.end();
            m.on_answer(q.id, it == txt.end() ? missing : *it->second);
        }
    return m.finish();
}

} // namespace

Operation pipeline_operation(const Lines& lines, const std::string& config, const KeyRing& keys) {
    const filter::Config cfg = filter::load_config(config);
    auto settings = std::make_shared<const pipeline::Settings>(
        filter::message_settings(cfg.engine, cfg.engine.authserv_id));
    auto txt = std::make_shared<std::map<std::string, const dns::TxtAnswer*>>();
    for (const auto& [name, answer] : keys.answers)
        (*txt)[name.dns_name()] = &answer;
    auto first = through_pipeline(lines, settings, *txt);
    if (first.seal != pipeline::SealOutcome::sealed)
        throw std::runtime_error("pipeline benchmark: message not sealed (" + first.seal_detail +
                                 ", " + first.chain.reason + ")");
    return [&lines, settings, txt] { through_pipeline(lines, settings, *txt); };
}

Operation canon_operation(std::string_view body, mail::Canon canon) {
    return [body, canon] {
        mail::BodyHasher h(canon);
        h.add_text(body);
        h.finish();
    };
}

} // namespace arcf::bench
