// SPDX-License-Identifier: ISC
// Fuzz target: DKIM (dkim/signature.hpp, dkim/verifier.hpp, dkim/resinfo.hpp). The input is
// read twice: as a DKIM-Signature value, whose parsed fields must be consistent, and as a whole
// message, verified through verify_dkim_message and through the streaming DkimVerifier with key
// answers reversed, repeated and unasked; both must give the same results, and the resinfo we
// write for them must read back.
#include "tests/fuzz/fuzz.hpp"
#include "tests/fuzz/fuzz_keys.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "dkim/resinfo.hpp"
#include "dkim/signature.hpp"
#include "dkim/verifier.hpp"
#include "mail/auth_results.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using arcf::fuzz::check;

namespace {

// The seeds' signers (tests/fuzz/make_dkim_corpus.py) and, for every other name, fuzz::lookup.
dns::TxtAnswer lookup(const mail::KeyName& name) {
    const std::string n = name.dns_name();
    if (n == "rsa._domainkey.example.com")
        return dns::TxtAnswer::found(
            {std::string("v=DKIM1; k=rsa; p=") + tests::keys::rsa1024_spki_b64});
    if (n == "ed._domainkey.example.com")
        return dns::TxtAnswer::found(
            {std::string("v=DKIM1; k=ed25519; p=") + tests::keys::ed25519_raw_b64});
    return fuzz::lookup(name);
}

void check_signature_value(std::string_view text) {
    auto s = dkim::parse_dkim_signature(text);
    if (!s)
        return;
    check(text::is_domain_name(s->domain) && text::to_lower(s->domain) == s->domain,
          "d= not a lower-case domain");
    check(text::is_domain_name(s->selector), "s= not a selector");
    check(s->body_hash.size() == 32 && !s->signature.empty(), "bh= or b= unusable");
    check(std::find(s->signed_headers.begin(), s->signed_headers.end(), "from") !=
              s->signed_headers.end(),
          "h= without from accepted");
    const std::string& id = s->identity_domain;
    check(id == s->domain ||
              (id.size() > s->domain.size() &&
               id.compare(id.size() - s->domain.size(), s->domain.size(), s->domain) == 0 &&
               id[id.size() - s->domain.size() - 1] == '.'),
          "i= domain outside d=", s->identity);
    check(s->identity.size() > id.size() && s->identity[s->identity.size() - id.size() - 1] == '@',
          "identity does not end in @domain", s->identity);
    check(!s->timestamp || !s->expiration || *s->expiration > *s->timestamp, "x= not after t=");
    auto ids = dkim::peek_dkim_ids(text);
    check(ids.domain == s->domain && ids.selector == s->selector &&
              ids.signature_text == s->signature_text,
          "peek_dkim_ids disagrees with parse_dkim_signature");
}

bool same(const dkim::DkimSignatureResult& a, const dkim::DkimSignatureResult& b) {
    return a.result == b.result && a.reason == b.reason && a.domain == b.domain &&
           a.selector == b.selector && a.identity == b.identity && a.algorithm == b.algorithm &&
           a.body_length == b.body_length && a.body_bytes == b.body_bytes &&
           a.body_partial == b.body_partial && a.header_b == b.header_b;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view msg = fuzz::as_text(data, size);
    check_signature_value(msg);

    dkim::DkimOptions opts;
    opts.now = 1795918548;
    opts.max_signatures = 1 + size % 4; // small, so that the limit is reached
    auto rs = dkim::verify_dkim_message(msg, opts, lookup);

    auto split = mail::split_message(msg);
    std::size_t fields = 0, usable = 0;
    for (const auto& f : split.headers)
        if (f.is(dkim::dkim_signature_name)) {
            ++fields;
            check_signature_value(f.value());
            auto s = dkim::parse_dkim_signature(f.value());
            if (s && !(s->expiration && *s->expiration < opts.now))
                ++usable;
        }
    check(rs.size() == fields, "not one result per DKIM-Signature");
    std::size_t policy = 0;
    for (const auto& r : rs) {
        policy += r.result == dkim::DkimResult::policy;
        check(r.result != dkim::DkimResult::neutral, "neutral is never produced");
        check(r.header_b.size() <= 12, "header.b longer than 12");
        if (r.result == dkim::DkimResult::pass) {
            check(r.body_bytes.has_value(), "pass without a hashed body");
            check(r.body_partial == (r.body_length && *r.body_length < *r.body_bytes),
                  "body_partial inconsistent with l=");
        }
        if (r.body_length && r.body_bytes && r.result == dkim::DkimResult::pass)
            check(*r.body_length <= *r.body_bytes, "l= beyond the body passed");
    }
    check(policy == (usable > opts.max_signatures ? usable - opts.max_signatures : 0),
          "max_signatures not applied exactly");

    // Streaming, answers last-to-first, each given twice (the second one must be ignored).
    dkim::DkimVerifier v(opts);
    auto names = v.begin(split.headers);
    check(names.size() <= opts.max_signatures, "more lookups than max_signatures");
    check(std::set<mail::KeyName>(names.begin(), names.end()).size() == names.size(),
          "a key name asked twice");
    check(!names.empty() || !v.needs_body(), "body needed without any key");
    mail::for_each_line(split.body, [&](std::string_view line) { v.add_body_line(line); });
    for (auto it = names.rbegin(); it != names.rend(); ++it)
        v.provide_key(*it, lookup(*it));
    for (const auto& n : names)
        v.provide_key(n, dns::TxtAnswer::failed(dns::Status::temporary, "late duplicate"));
    v.provide_key(mail::KeyName{"never", "asked.example"}, dns::TxtAnswer::found({"x"}));
    auto rs2 = v.finish();
    check(rs2.size() == rs.size(), "streaming gave another number of results");
    for (std::size_t i = 0; i < rs.size(); ++i)
        check(same(rs[i], rs2[i]), "answer order changed a result",
              rs[i].reason + " / " + rs2[i].reason);

    std::string ar = "mx.example";
    for (const auto& ri : dkim::dkim_resinfos(rs))
        ar += "; " + mail::format_resinfo(ri);
    check(ar.find_first_of("\r\n") == std::string::npos, "line break in Authentication-Results");
    auto back = mail::parse_authentication_results(ar);
    check(back.has_value() && back->results.size() == std::max<std::size_t>(rs.size(), 1),
          "our dkim= results do not read back", ar);
    for (std::size_t i = 0; back && i < rs.size() && i < back->results.size(); ++i)
        check(back->results[i].method == "dkim" &&
                  back->results[i].result == dkim::to_string(rs[i].result),
              "a dkim= result reads back differently", ar);
    return 0;
}
