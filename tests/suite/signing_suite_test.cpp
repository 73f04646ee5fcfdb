// SPDX-License-Identifier: ISC
// Drives arc-draft-sign-tests.yml through the sealer in its standardized layout, compared as
// the suite's own runner compares: whitespace removed, split on ';', compared as sets
// (shared/notes/arc-test-suite.md §2.2, §2.3).
#include "arc/arc_headers.hpp"
#include "arc/seal.hpp"
#include "tests/catch.hpp"
#include "tests/suite/suite_loader.hpp"

#include <iostream>
#include <set>

#include "text/ascii.hpp"

using namespace arcf;

namespace {

std::multiset<std::string> as_set(std::string v) {
    std::string compact;
    for (char c : v)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            compact.push_back(c);
    std::multiset<std::string> out;
    if (compact.empty())
        return out;
    std::size_t pos = 0;
    while (true) {
        std::size_t semi = compact.find(';', pos);
        out.insert(compact.substr(pos, semi == std::string::npos ? semi : semi - pos));
        if (semi == std::string::npos)
            break;
        pos = semi + 1;
    }
    return out;
}

std::string field_value(const std::vector<std::string>& fields, std::string_view name) {
    for (const auto& f : fields) {
        auto colon = f.find(':');
        if (text::iequals(std::string_view(f).substr(0, colon), name))
            return f.substr(colon + 1);
    }
    return {};
}

} // namespace

TEST_CASE("arc suite: signing, standardized layout", "[suite][seal]") {
    auto scenarios = tests::load_suite(tests::suite_dir() + "/tests/arc-draft-sign-tests.yml");
    int total = 0, matched = 0;
    for (const auto& sc : scenarios) {
        auto key = mail::PrivateKey::from_pem(sc.fields.at("privatekey"));
        REQUIRE(key);
        arc::SealKey sk{sc.fields.at("domain"), sc.fields.at("sel"), *key};
        for (const auto& c : sc.cases) {
            ++total;
            INFO(sc.description << " / " << c.id);
            auto msg = tests::to_crlf(c.fields.at("message"));
            auto split = mail::split_message(msg);
            const std::string srv_id = c.fields.at("srv-id");

            // The suite's signer takes cv from the arc= result of the A-R bearing srv-id
            // (README "Signing Suite Assumptions"); without one on a chained message it emits
            // nothing.
            auto results = arc::trusted_results(split.headers, {srv_id}, true);
            arc::ChainResult chain;
            for (const auto& h : split.headers) {
                auto kind = arc::arc_header_kind(h.name());
                if (kind == arc::ArcHeaderKind::seal)
                    if (auto i = arc::peek_instance(kind, h.value()))
                        chain.sets = std::max(chain.sets, *i);
            }
            std::optional<std::string> arc_result;
            for (const auto& r : results)
                if (r.method == "arc")
                    arc_result = r.result;
            arc::SealResult sealed;
            if (arc_result || chain.sets == 0) {
                std::string ar = arc_result.value_or("none");
                chain.status = ar == "pass"   ? arc::ChainStatus::pass
                               : ar == "none" ? arc::ChainStatus::none
                                              : arc::ChainStatus::fail;
                mail::BodyHasher bh(mail::Canon::relaxed);
                mail::for_each_line(split.body, [&](std::string_view l) { bh.add_line(l); });
                arc::SealOptions opts;
                opts.authserv_id = srv_id;
                opts.now = std::stoull(c.fields.at("t"));
                opts.standardized = true;
                opts.signed_headers.clear();
                std::string sh = c.fields.at("sig-headers");
                for (std::size_t pos = 0;;) {
                    auto colon = sh.find(':', pos);
                    opts.signed_headers.push_back(sh.substr(pos, colon - pos));
                    if (colon == std::string::npos)
                        break;
                    pos = colon + 1;
                }
                sealed = arc::seal_message(split.headers, bh.finish(), chain, results, sk, opts);
            }
            bool ok = true;
            for (const char* name : {"AS", "AMS", "AAR"}) {
                std::string header = std::string(name) == "AS"    ? "ARC-Seal"
                                     : std::string(name) == "AMS" ? "ARC-Message-Signature"
                                                                  : "ARC-Authentication-Results";
                auto got = as_set(field_value(sealed.fields, header));
                auto want = as_set(c.fields.count(name) ? c.fields.at(name) : "");
                CHECK(got == want);
                if (got != want) {
                    ok = false;
                    std::cout << "MISMATCH " << c.id << " " << name << ":\n  got  "
                              << field_value(sealed.fields, header) << "\n  want "
                              << (c.fields.count(name) ? c.fields.at(name) : "") << "\n";
                }
            }
            if (ok)
                ++matched;
        }
    }
    std::cout << "ARC signing suite: " << matched << "/" << total << "\n";
    CHECK(total == 17);
}
