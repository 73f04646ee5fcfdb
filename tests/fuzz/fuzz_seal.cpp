// SPDX-License-Identifier: ISC
// Fuzz target: verify-then-seal of a whole message (filter/pipeline/message_job.hpp on
// arc/seal.hpp), as both the OpenSMTPD engine and the Exim mode run it. A new set must verify: the
// message with our added lines on top reads as pass (or fail when we sealed cv=fail) with one more
// set.
#include "filter/pipeline/message_job.hpp"
#include "tests/fuzz/fuzz.hpp"
#include "tests/fuzz/fuzz_keys.hpp"

#include <string>

#include "mail/auth_results.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    const std::uint8_t flags = data[0];
    std::string_view msg = fuzz::as_text(data + 1, size - 1);

    filter::JobOptions jo;
    jo.authserv_id = "mx.fuzz.example";
    jo.trusted_authserv_ids = {"lists.example.org"};
    jo.verify.now = 1795918548;
    jo.verify.oldest_pass = (flags & 1) != 0;
    jo.seal.now = jo.verify.now;
    jo.seal.oversign = (flags & 2) != 0;
    jo.seal.header_canon = (flags & 4) != 0 ? mail::Canon::simple : mail::Canon::relaxed;
    jo.seal.body_canon = (flags & 8) != 0 ? mail::Canon::simple : mail::Canon::relaxed;
    jo.remote_ip = (flags & 16) != 0 ? "192.0.2.7" : "";
    jo.write_ar = (flags & 32) != 0;
    jo.max_header_fields = (flags & 64) != 0 ? 8 : 1000;

    filter::MessageJob job(jo);
    std::vector<std::string> lines;
    std::vector<mail::KeyName> names;
    mail::for_each_line(msg, [&](std::string_view line) {
        lines.emplace_back(line);
        auto n = job.add_line(line);
        names.insert(names.end(), n.begin(), n.end());
    });
    auto n = job.end_of_data();
    names.insert(names.end(), n.begin(), n.end());
    for (const auto& k : names)
        job.provide_key(k, fuzz::lookup(k));
    auto r = job.complete(fuzz::seal_key());

    std::size_t added = 0;
    for (const auto& l : r.added_lines) {
        check(l.find_first_of("\r\n") == std::string::npos, "added line with CR or LF", l);
        // RFC 5322 §2.1.1 (issue 15 class 2): smtpd cuts longer lines and our seal breaks.
        check(l.size() <= filter::max_added_line, "added line over 998 octets", l);
        added += l.size() + 2;
    }
    check(added <= filter::max_added_total, "added fields over their total budget");
    if (r.tempfail) {
        check(r.added_lines.empty() && !r.sealed, "tempfail with output");
        return 0;
    }
    if (!r.sealed)
        return 0;
    check(r.added_lines.size() >= 3, "sealed without three fields");

    // What smtpd would store: our lines, then the input minus the fields we scrubbed.
    std::string out;
    for (const auto& l : r.added_lines)
        out += l + "\r\n";
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (!job.line_removed(i))
            out += lines[i] + "\r\n";
    arc::VerifyOptions vo;
    vo.now = jo.verify.now;
    vo.oldest_pass = false;
    auto again = arc::verify_message(out, vo, fuzz::lookup);
    if (r.chain.status == arc::ChainStatus::fail) {
        check(again.status == arc::ChainStatus::fail, "a cv=fail seal does not read as fail",
              again.reason);
    } else {
        check(again.status == arc::ChainStatus::pass, "our own seal does not verify",
              again.reason + "\n" + out.substr(0, 3000));
        check(again.sets == r.chain.sets + 1, "sealed chain has the wrong length", again.reason);
    }
    return 0;
}
