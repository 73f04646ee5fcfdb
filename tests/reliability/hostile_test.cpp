// SPDX-License-Identifier: ISC
// Hostile input that is valid enough to reach the expensive paths: it must cost time linear in
// its size, because one process serves every session (a stalled filter stalls all mail).
#include "arc/chain.hpp"
#include "tests/catch.hpp"
#include "tests/reliability/fixtures.hpp"

#include <ctime>

#include "mail/header.hpp"
#include "mail/tag_list.hpp"

using namespace arcf;
using namespace arcf::reliability;

namespace {

// CPU seconds of this process since `t` (wall time would measure the machine's load). The
// bounds are generous for ASan builds; the quadratic paths they guard took minutes.
double seconds_since(std::clock_t t) {
    return static_cast<double>(std::clock() - t) / CLOCKS_PER_SEC;
}

std::string many_tags(std::size_t n) {
    std::string s = "i=1";
    for (std::size_t k = 0; k < n; ++k)
        s += "; t" + std::to_string(k) + "=x";
    return s;
}

} // namespace

TEST_CASE("hostile: a tag-list of 100,000 distinct tags parses in linear time", "[hostile]") {
    auto text = many_tags(100000); // ~1 MB; a pairwise duplicate check is 5e9 comparisons
    auto t0 = std::clock();
    auto tags = mail::parse_tag_list(text);
    REQUIRE(tags);
    CHECK(tags->tags().size() == 100001);
    auto dup = mail::parse_tag_list(text + "; t99999=again");
    REQUIRE(!dup);
    CHECK(dup.error().code == mail::Errc::duplicate_tag);
    CHECK(seconds_since(t0) < 10.0);
}

TEST_CASE("hostile: a 1 MB ARC header through the engine does not stall it", "[hostile]") {
    Keys keys;
    Driver d(options_with(keys.a));
    auto s1 = session_id(1), s2 = session_id(2);
    d.connect(s1);
    d.connect(s2);
    std::vector<std::string> msg = {"ARC-Seal: " + many_tags(90000),
                                    "ARC-Message-Signature: " + many_tags(90000),
                                    "From: a@example.org", "", "body"};
    auto t0 = std::clock();
    d.message(s1, msg);
    d.message(s2, plain_message());
    CHECK(seconds_since(t0) < 10.0);
    // Protocol 0.6: each line comes back as smtpd 6.8 stores it, cut at 1997 bytes (a whole
    // 900 KB line would not fit smtpd's 64 KiB read buffer: issue 15, class 1).
    auto stored = msg;
    for (auto& l : stored)
        l.resize(std::min<std::size_t>(l.size(), 1997));
    CHECK(is_input_plus_added(d.output_of(s1).datalines, stored));
    CHECK(is_input_plus_added(d.output_of(s2).datalines, plain_message()));
}

TEST_CASE("hostile: an AMS signing 100,000 header names over 900 fields", "[hostile]") {
    // h= names are matched against the header block; the work is names x fields at most.
    std::string h = "from";
    for (int k = 0; k < 100000; ++k)
        h += ":x" + std::to_string(k % 900);
    std::string msg = "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=dummy; b=YWJj\r\n"
                      "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; "
                      "s=dummy; "
                      "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=YWJj; h=" +
                      h + "\r\nARC-Authentication-Results: i=1; example.org; arc=none\r\n";
    for (int k = 0; k < 900; ++k)
        msg += "X" + std::to_string(k) + ": v\r\n";
    msg += "\r\n";
    arc::VerifyOptions vo;
    vo.now = now;
    auto t0 = std::clock();
    auto r = arc::verify_message(msg, vo, [&](const mail::KeyName&) {
        return dns::TxtAnswer::found(
            {"v=DKIM1; k=rsa; p=" + std::string(tests::keys::rsa1024_spki_b64)});
    });
    CHECK(r.status == arc::ChainStatus::fail);
    CHECK(seconds_since(t0) < 10.0);
}

TEST_CASE("hostile: a message starting with a folded line gets nothing on top", "[hostile]") {
    // A leading continuation line would become part of whatever field we add above it: text
    // appended to our Authentication-Results, or an AAR its seal no longer covers.
    Keys keys;
    Driver d(options_with(keys.a));
    auto s = session_id(1);
    d.connect(s);
    std::vector<std::string> msg = {"\t; dkim=pass header.d=bank.example", "From: a@example.org",
                                    "", "body"};
    d.message(s, msg);
    d.commit(s);
    auto out = d.output_of(s);
    std::size_t added = 99;
    CHECK(is_input_plus_added(out.datalines, msg, &added));
    CHECK(added == 0);
    CHECK(out.results == std::vector<std::string>{"proceed"});
}

TEST_CASE("hostile: a forged Authentication-Results as the last field keeps the empty line",
          "[hostile]") {
    // Scrubbing the last header field must not take the empty line after it: the body would
    // become part of the header block (and no seal would verify).
    Keys keys;
    Driver d(options_with(keys.a));
    auto s = session_id(1);
    d.connect(s);
    std::vector<std::string> msg = {"Received: from client.example by mx.example.test",
                                    "From: a@example.org",
                                    "Authentication-Results: mx.reliability.test; dkim=pass",
                                    "\theader.d=bank.example",
                                    "",
                                    "X-Looks-Like: a header, but is body"};
    d.message(s, msg);
    auto out = d.output_of(s);
    std::string text = stored(out.datalines);
    CHECK(text.find("dkim=pass") == std::string::npos);
    auto split = mail::split_message(text);
    CHECK(split.has_separator);
    CHECK(split.body == "X-Looks-Like: a header, but is body\r\n");
    arc::VerifyOptions vo;
    vo.now = now;
    auto r = arc::verify_message(text, vo,
                                 [&](const mail::KeyName& k) { return keys.lookup(k.dns_name()); });
    CHECK(r.status == arc::ChainStatus::pass);
}
