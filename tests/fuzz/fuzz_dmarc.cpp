// SPDX-License-Identifier: ISC
// Fuzz target: DMARC records (dmarc/record.hpp), From field values (dmarc/from_domain.hpp),
// organizational domains, discovery with the input as the answer, and the dmarc resinfo.
#include "dmarc/arc_override.hpp"
#include "dmarc/evaluator.hpp"
#include "dmarc/from_domain.hpp"
#include "dmarc/org_domain.hpp"
#include "dmarc/record.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/auth_results.hpp"

using namespace arcf;
using arcf::fuzz::check;

namespace {

const dmarc::OrgDomain& psl() {
    static const dmarc::OrgDomain list = dmarc::OrgDomain::system();
    return list;
}

// Writes a parsed record back in canonical form.
std::string write(const dmarc::Record& r) {
    std::string out = "v=DMARC1; p=" + std::string(to_string(r.p));
    if (r.sp)
        out += "; sp=" + std::string(to_string(*r.sp));
    if (r.np)
        out += "; np=" + std::string(to_string(*r.np));
    out += "; adkim=" + std::string(to_string(r.adkim));
    out += "; aspf=" + std::string(to_string(r.aspf));
    out += "; pct=" + std::to_string(r.pct);
    for (auto [name, value] :
         {std::pair{"rua", &r.rua}, {"ruf", &r.ruf}, {"fo", &r.fo}, {"rf", &r.rf}, {"ri", &r.ri}})
        if (!value->empty())
            out += std::string("; ") + name + "=" + *value;
    return out;
}

void record_properties(std::string_view text) {
    auto r = dmarc::parse_record(text);
    bool selected = dmarc::is_dmarc_record(text);
    if (!r) {
        check((r.error().code == dmarc::Errc::not_dmarc) == !selected,
              "not_dmarc disagrees with is_dmarc_record");
        return;
    }
    check(selected, "a parsed record is not selected by is_dmarc_record");
    check(r->pct >= 0 && r->pct <= 100, "pct out of range");
    if (r->p_assumed)
        check(r->p == dmarc::Policy::none && !r->sp, "assumed policy is not p=none");
    for (const auto* v : {&r->rua, &r->ruf, &r->fo, &r->rf, &r->ri})
        check(v->find(';') == std::string::npos, "';' inside a tag value");
    // Written back canonically, the record reads the same.
    std::string again = write(*r);
    auto re = dmarc::parse_record(again);
    check(re.has_value(), "canonical record does not parse", again);
    check(re->p == r->p && re->sp == r->sp && re->np == r->np && re->adkim == r->adkim &&
              re->aspf == r->aspf && re->pct == r->pct && re->rua == r->rua && re->ruf == r->ruf &&
              re->fo == r->fo && re->rf == r->rf && re->ri == r->ri,
          "canonical record reads differently", again);

    // Discovery with this record as the only answer: pass with an aligned DKIM pass, fail
    // without one.
    dmarc::Evaluator ev("example.com", psl());
    check(ev.provide(dns::TxtAnswer::found({std::string(text)})).empty(), "asked again");
    auto pass = ev.finish({{"mail.example.com", true, false}}, {});
    auto fail = ev.finish({{"example.net", true, false}}, {"pass", "example.org"});
    if (r->adkim == dmarc::Alignment::relaxed)
        check(pass.result == dmarc::Result::pass, "aligned relaxed DKIM pass did not pass");
    check(fail.result == dmarc::Result::fail, "unaligned passes did not fail");
    check(fail.disposition == fail.applied || r->pct < 100, "disposition without sampling");
}

bool valid_name(const std::string& d) {
    if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' ||
        d.find("..") != std::string::npos)
        return false;
    for (char c : d)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    return true;
}

void from_properties(std::string_view text) {
    auto all = dmarc::from_domains(text);
    auto author = dmarc::author_domain(text);
    check(all.has_value() || !author.has_value(), "author_domain without from_domains");
    if (!all)
        return;
    for (const auto& d : *all) {
        check(valid_name(d), "from_domains gave an invalid name", d);
        // Our own rendering of the address gives the same domain back.
        auto again = dmarc::author_domain("<x@" + d + ">");
        check(again.has_value() && *again == d, "domain does not re-parse", d);
        std::string org = psl().organizational(d);
        check(!org.empty() && d.size() >= org.size() &&
                  d.compare(d.size() - org.size(), org.size(), org) == 0,
              "organizational domain is not a suffix", d);
        check(psl().organizational(org) == org, "organizational domain is not a fixed point", d);
        check(dmarc::aligned(d, org, dmarc::Alignment::relaxed, psl()),
              "a domain is not relaxed-aligned with its organizational domain", d);
    }
    if (author) {
        check(!all->empty(), "author domain from no address");
        for (const auto& d : *all)
            check(d == *author, "author domain differs from an address's domain");
    } else if (author.error().code == dmarc::Errc::multiple_domains) {
        check(author.error().domains.size() >= 2, "multiple_domains with fewer than two");
    }
}

void resinfo_properties(std::string_view text) {
    dmarc::Outcome o;
    o.result = dmarc::Result::temperror;
    o.header_from = std::string(text.substr(0, 64));
    o.reason = std::string(text);
    std::string out = mail::format_resinfo(dmarc::dmarc_resinfo(o, std::nullopt));
    for (char c : out)
        check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control in a resinfo", out);
    auto back = mail::parse_authentication_results("mx.example; " + out);
    check(back.has_value() && back->results.size() == 1 && back->results[0].result == "temperror",
          "dmarc resinfo does not read back", out);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    record_properties(text);
    from_properties(text);
    resinfo_properties(text);
    return 0;
}
