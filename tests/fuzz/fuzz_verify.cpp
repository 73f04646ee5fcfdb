// SPDX-License-Identifier: ISC
// Fuzz target: whole-message ARC verification (arc/chain.hpp), through verify_message and
// through the streaming ChainVerifier with key answers in reverse order and repeated; both must
// agree, and the Authentication-Results we write for the verdict must read back.
#include "arc/auth_results_format.hpp"
#include "arc/chain.hpp"
#include "tests/fuzz/fuzz.hpp"
#include "tests/fuzz/fuzz_keys.hpp"

#include "mail/auth_results.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view msg = fuzz::as_text(data, size);
    arc::VerifyOptions vo;
    vo.now = 1795918548;
    vo.oldest_pass = (size & 1) == 0;
    auto r = arc::verify_message(msg, vo, fuzz::lookup);

    check(r.sets <= arc::max_instance, "more sets than RFC 8617 allows");
    if (r.status == arc::ChainStatus::pass) {
        check(r.sets >= 1 && r.chain.size() == r.sets, "pass without a complete chain");
        if (r.oldest_pass)
            check(*r.oldest_pass <= r.sets, "oldest-pass above the chain length");
        check(!r.ended, "a chain that ended with cv=fail passed");
    }
    if (r.status == arc::ChainStatus::none)
        check(r.sets == 0, "arc=none with sets");

    // Streaming, answers last-to-first, each given twice (the second one must be ignored).
    auto split = mail::split_message(msg);
    arc::ChainVerifier v(vo);
    auto names = v.begin(std::move(split.headers));
    mail::for_each_line(split.body, [&](std::string_view line) { v.add_body_line(line); });
    for (auto it = names.rbegin(); it != names.rend(); ++it)
        v.provide_key(*it, fuzz::lookup(*it));
    for (const auto& n : names)
        v.provide_key(n, dns::TxtAnswer::failed(dns::Status::temporary, "late duplicate"));
    v.provide_key(mail::KeyName{"never", "asked.example"}, dns::TxtAnswer::found({"x"}));
    auto r2 = v.finish();
    check(r2.status == r.status && r2.sets == r.sets && r2.oldest_pass == r.oldest_pass,
          "answer order changed the verdict", r.reason + " / " + r2.reason);

    std::string ar = arc::format_authentication_results("mx.example", r, "2001:db8::1");
    check(ar.find_first_of("\r\n") == std::string::npos, "line break in Authentication-Results");
    auto back = mail::parse_authentication_results(ar);
    check(back.has_value() && back->results.size() == 1 &&
              back->results[0].result == arc::to_string(r.status),
          "our Authentication-Results does not read back", ar);
    return 0;
}
