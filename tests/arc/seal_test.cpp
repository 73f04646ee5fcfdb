// SPDX-License-Identifier: ISC
// The sealer (RFC 8617 §5.1): scoping rules, header choice, layout limits, AAR construction.
#include "arc/chain.hpp"
#include "arc/seal.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/catch.hpp"

#include <algorithm>

using namespace arcf;

namespace {

const char* const base_message = "Received: from x by mx.example\r\n"
                                 "From: Alice <alice@example.org>\r\n"
                                 "To: bob@example.net\r\n"
                                 "Subject: hello\r\n"
                                 "List-Id: <l.example.org>\r\n"
                                 "List-Unsubscribe: <mailto:u@example.org>\r\n"
                                 "Authentication-Results: mx.example; spf=pass (ok; really) "
                                 "smtp.mailfrom=alice@example.org\r\n"
                                 "Authentication-Results: other.example; dkim=fail\r\n"
                                 "\r\n"
                                 "body line\r\n";

arc::SealKey key() {
    return arc::SealKey{"seal.example", "s1",
                        *mail::PrivateKey::from_pem(tests::keys::rsa2048_pkcs8)};
}

std::string record() {
    return std::string("v=DKIM1; k=rsa; p=") + tests::keys::rsa2048_spki_b64;
}

struct Sealed {
    arc::SealResult result;
    std::string message; // the new fields on top of the input
};

Sealed seal(const std::string& msg, const arc::ChainResult& chain, arc::SealOptions opts = {}) {
    auto split = mail::split_message(msg);
    mail::BodyHasher bh(opts.body_canon);
    mail::for_each_line(split.body, [&](std::string_view l) { bh.add_line(l); });
    opts.authserv_id = "mx.example";
    opts.now = 1700000000;
    std::vector<mail::ResInfo> results{arc::arc_resinfo(chain, "192.0.2.1")};
    for (auto& r : arc::trusted_results(split.headers, {"mx.example"}))
        results.push_back(r);
    Sealed s;
    s.result = arc::seal_message(split.headers, bh.finish(), chain, results, key(), opts);
    for (const auto& f : s.result.fields)
        s.message += f + "\r\n";
    s.message += msg;
    return s;
}

arc::ChainResult verify(const std::string& msg) {
    arc::VerifyOptions vo;
    vo.now = 1700000000;
    return arc::verify_message(msg, vo, [](const mail::KeyName& k) {
        if (k.dns_name() == "s1._domainkey.seal.example")
            return dns::TxtAnswer::found({record()});
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    });
}

arc::ChainResult none_chain() {
    arc::ChainResult c;
    c.status = arc::ChainStatus::none;
    return c;
}

std::string field(const Sealed& s, std::string_view name) {
    for (const auto& f : s.result.fields)
        if (f.rfind(std::string(name) + ":", 0) == 0)
            return f;
    return {};
}

} // namespace

TEST_CASE("seal: i=1 on an unsigned message verifies, layout AS, AMS, AAR", "[seal][rfc8617]") {
    auto s = seal(base_message, none_chain());
    REQUIRE(s.result.sealed);
    REQUIRE(s.result.fields.size() == 3);
    CHECK(s.result.fields[0].rfind("ARC-Seal: i=1; a=rsa-sha256; t=1700000000; cv=none;", 0) == 0);
    CHECK(s.result.fields[1].rfind("ARC-Message-Signature: i=1;", 0) == 0);
    CHECK(s.result.fields[2].rfind("ARC-Authentication-Results: i=1; mx.example;", 0) == 0);
    auto r = verify(s.message);
    CHECK(r.status == arc::ChainStatus::pass);
    CHECK(r.sets == 1);
}

TEST_CASE("seal: every line is at most 78 columns and never 998", "[seal]") {
    auto s = seal(base_message, none_chain());
    for (const auto& f : s.result.fields)
        mail::for_each_line(f, [](std::string_view l) { CHECK(l.size() <= 78); });
}

TEST_CASE("seal: AMS h= signs present fields only, never ARC fields, expands list-*",
          "[seal][rfc8617]") {
    auto s = seal(base_message, none_chain());
    std::string ams = field(s, "ARC-Message-Signature");
    std::string unfolded;
    for (char c : ams)
        if (c != '\r' && c != '\n' && c != '\t')
            unfolded.push_back(c);
    CHECK(unfolded.find("h=from:to:subject:list-id:list-unsubscribe;") != std::string::npos);
    CHECK(unfolded.find("date") == std::string::npos);       // absent: smtpd may add it later
    CHECK(unfolded.find("message-id") == std::string::npos); // likewise
    CHECK(unfolded.find("arc-") == std::string::npos);
    arc::SealOptions o;
    o.oversign = true;
    auto over = seal(base_message, none_chain(), o);
    std::string f = field(over, "ARC-Message-Signature");
    f.erase(std::remove_if(f.begin(), f.end(),
                           [](char c) { return c == '\r' || c == '\n' || c == '\t'; }),
            f.end());
    CHECK(f.find("h=from:from:to:to:subject:subject:") != std::string::npos);
    CHECK(verify(over.message).status == arc::ChainStatus::pass);
}

TEST_CASE("seal: the AAR carries our result and trusted results, without comments",
          "[seal][rfc8617][rfc8601]") {
    auto s = seal(base_message, none_chain());
    std::string aar = field(s, "ARC-Authentication-Results");
    CHECK(aar.find("arc=none") != std::string::npos);
    CHECK(aar.find("smtp.remote-ip=192.0.2.1") != std::string::npos);
    CHECK(aar.find("spf=pass smtp.mailfrom=alice@example.org") != std::string::npos);
    CHECK(aar.find("(ok") == std::string::npos); // comments dropped (a ';' inside one)
    CHECK(aar.find("other.example") == std::string::npos);
    CHECK(aar.find("dkim=fail") == std::string::npos); // foreign authserv-id
}

TEST_CASE("seal: values from results are re-emitted safely", "[seal][rfc8601]") {
    std::string msg = base_message;
    // A property value full of specials and an attempted header injection.
    msg.replace(msg.find("smtp.mailfrom=alice@example.org"), 31,
                "smtp.mailfrom=\"x;\\\"\r\n\tARC-Seal: i=9\" header.d=a(b)c");
    auto s = seal(msg, none_chain());
    std::string aar = field(s, "ARC-Authentication-Results");
    // No injection: every physical line after the first is a continuation (starts with WSP).
    int lines = 0;
    mail::for_each_line(aar, [&](std::string_view l) {
        if (lines++ > 0)
            CHECK((l.front() == ' ' || l.front() == '\t'));
    });
    CHECK(lines >= 1);
    CHECK(aar.find("\"x;\\\"") != std::string::npos); // quoted, ';' inside quotes
    CHECK(verify(s.message).status == arc::ChainStatus::pass);
}

TEST_CASE("seal: scoping rules on failed, ended, temporary and full chains", "[seal][rfc8617]") {
    auto first = seal(base_message, none_chain());
    REQUIRE(verify(first.message).status == arc::ChainStatus::pass);

    SECTION("a failed chain gets cv=fail, and that seal covers only its own set") {
        std::string broken = first.message;
        broken.replace(broken.find("body line"), 9, "body LINE");
        auto r = verify(broken);
        REQUIRE(r.status == arc::ChainStatus::fail);
        auto s = seal(broken, r);
        REQUIRE(s.result.sealed);
        CHECK(s.result.cv == arc::Cv::fail);
        CHECK(s.result.instance == 2);
        // RFC 8617 §5.1.2: the AS signs only set 2, so it verifies even though set 1 is
        // altered; check it by hashing set 2 alone the way a verifier of the scope would.
        auto again = verify(s.message);
        CHECK(again.status == arc::ChainStatus::fail);
        CHECK(again.ended);
    }
    SECTION("a chain whose newest seal says cv=fail is never extended") {
        arc::ChainResult ended;
        ended.status = arc::ChainStatus::fail;
        ended.ended = true;
        ended.sets = 1;
        auto s = seal(first.message, ended);
        CHECK_FALSE(s.result.sealed);
        CHECK(s.result.fields.empty());
    }
    SECTION("no seal at all on temperror") {
        arc::ChainResult t;
        t.status = arc::ChainStatus::temperror;
        t.sets = 1;
        auto s = seal(first.message, t);
        CHECK_FALSE(s.result.sealed);
        CHECK(s.result.reason.find("temperror") != std::string::npos);
    }
    SECTION("no 51st set") {
        arc::ChainResult full;
        full.status = arc::ChainStatus::pass;
        full.sets = 50;
        CHECK_FALSE(seal(first.message, full).result.sealed);
    }
    SECTION("a passing chain is extended with cv=pass and still verifies") {
        auto r = verify(first.message);
        auto s = seal(first.message, r);
        CHECK(s.result.cv == arc::Cv::pass);
        auto v = verify(s.message);
        CHECK(v.status == arc::ChainStatus::pass);
        CHECK(v.sets == 2);
        CHECK(v.oldest_pass == 0u);
    }
}

TEST_CASE("seal: ed25519-sha256 keys seal and verify (RFC 8463)", "[seal][rfc8463]") {
    auto k = mail::PrivateKey::from_pem(tests::keys::ed25519_pkcs8);
    REQUIRE(k);
    auto split = mail::split_message(base_message);
    mail::BodyHasher bh(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { bh.add_line(l); });
    arc::SealOptions o;
    o.authserv_id = "mx.example";
    o.now = 1700000000;
    auto r = arc::seal_message(split.headers, bh.finish(), none_chain(),
                               {arc::arc_resinfo(none_chain())},
                               arc::SealKey{"ed.example", "e1", *k}, o);
    REQUIRE(r.sealed);
    CHECK(r.fields[0].find("a=ed25519-sha256") != std::string::npos);
    std::string msg;
    for (const auto& f : r.fields)
        msg += f + "\r\n";
    msg += base_message;
    arc::VerifyOptions vo;
    vo.now = 1700000000;
    auto v = arc::verify_message(msg, vo, [](const mail::KeyName&) {
        return dns::TxtAnswer::found(
            {std::string("v=DKIM1; k=ed25519; p=") + tests::keys::ed25519_raw_b64});
    });
    CHECK(v.status == arc::ChainStatus::pass);
}

TEST_CASE("seal: simple/simple canonicalization is honoured", "[seal][rfc6376]") {
    arc::SealOptions o;
    o.header_canon = mail::Canon::simple;
    o.body_canon = mail::Canon::simple;
    auto s = seal(base_message, none_chain(), o);
    CHECK(field(s, "ARC-Message-Signature").find("c=simple/simple") != std::string::npos);
    CHECK(verify(s.message).status == arc::ChainStatus::pass);
}

// Issue 15 class 2: the AMS h= list is bounded (arc::max_signed_fields entries, list-* names of
// at most arc::max_signed_name octets), so a message with many or long List- fields cannot
// make h= long or one of its words longer than a line.
TEST_CASE("seal: h= is bounded in entries and in name length", "[seal][issue15]") {
    std::string msg = base_message;
    std::string extra = "List-" + std::string(2000, 'N') + ": long name\r\n";
    for (int i = 0; i < 300; ++i)
        extra += "List-X" + std::to_string(i) + ": v\r\n";
    msg.insert(msg.find("Subject:"), extra);
    auto s = seal(msg, none_chain());
    REQUIRE(s.result.sealed);
    std::string ams = field(s, "ARC-Message-Signature");
    auto h = ams.find("h=");
    REQUIRE(h != std::string::npos);
    std::string list = ams.substr(h + 2, ams.find(';', h) - h - 2);
    list.erase(
        std::remove_if(list.begin(), list.end(),
                       [](char c) { return c == '\r' || c == '\n' || c == '\t' || c == ' '; }),
        list.end());
    CHECK(static_cast<std::size_t>(std::count(list.begin(), list.end(), ':')) + 1 ==
          arc::max_signed_fields);
    CHECK(list.rfind("from:to:subject:", 0) == 0); // configured order: the important ones first
    CHECK(list.find("nnnnnnnn") == std::string::npos);
    for (const auto& f : s.result.fields)
        for (std::size_t pos = 0, nl; pos < f.size(); pos = nl + 2) {
            nl = f.find("\r\n", pos);
            if (nl == std::string::npos)
                nl = f.size();
            CHECK(nl - pos <= 78);
        }
    CHECK(verify(s.message).status == arc::ChainStatus::pass);
}

// Issue 15 class 2: results copied into the AAR are written within the budgets; a value too
// long for a line is left out with a note, never written across the 998-octet line limit.
TEST_CASE("seal: a 70 KB trusted result value is left out of the AAR", "[seal][issue15]") {
    std::string msg = base_message;
    msg.insert(0, "Authentication-Results: mx.example; dkim=pass header.d=" +
                      std::string(70000, 'd') + " header.s=sel\r\n");
    auto s = seal(msg, none_chain());
    REQUIRE(s.result.sealed);
    std::string aar = field(s, "ARC-Authentication-Results");
    for (auto fold = aar.find("\r\n\t"); fold != std::string::npos; fold = aar.find("\r\n\t"))
        aar.replace(fold, 3, " ");
    CHECK(aar.find("dkim=pass header.s=sel (1 property omitted: too long)") != std::string::npos);
    CHECK(aar.find("ddddd") == std::string::npos);
    CHECK(s.result.values_omitted == 1);
    CHECK(verify(s.message).status == arc::ChainStatus::pass);
}

TEST_CASE("fold_field: a short first token on a continuation line still lets the next fold",
          "[seal][rfc5322]") {
    // RFC 5322 §2.2.3: fold only where FWS may be, lines of at most 78 when the tokens allow.
    // After a fold, a line holding only a short token used to keep the next long one with it.
    const std::string name = "ARC-Message-Signature";
    // "ARC-Message-Signature: a=...;" fills 77 columns, "i=1;" goes to a line of its own, and
    // b= (74 columns) no longer fits after it.
    std::vector<arcf::arc::FoldToken> tokens = {{"a=" + std::string(51, 'x') + ";", true},
                                                {"i=1;", true},
                                                {"b=" + std::string(71, 'B') + ";", true},
                                                {"c=1;", true}};
    const std::string field = arcf::arc::fold_field(name, tokens);
    std::size_t from = 0, lines = 0;
    while (from <= field.size()) {
        auto end = field.find("\r\n", from);
        const std::string line = field.substr(from, end == std::string::npos ? end : end - from);
        INFO(line);
        CHECK(line.size() <= 78);
        CHECK(line.find_first_not_of(" \t") != std::string::npos); // never a blank line
        if (lines > 0)
            CHECK(line[0] == '\t');
        ++lines;
        if (end == std::string::npos)
            break;
        from = end + 2;
    }
    CHECK(lines == 4);
    // Unfolded (RFC 5322 §2.2.3), the tokens come back in order, each after one space.
    std::string unfolded, joined = name + ":";
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field.compare(i, 3, "\r\n\t") == 0) {
            unfolded += ' ';
            i += 2;
        } else {
            unfolded += field[i];
        }
    }
    for (const auto& t : tokens)
        joined += " " + t.text;
    CHECK(unfolded == joined);
}

TEST_CASE("fold_field: a token longer than a line stays whole, after the field name",
          "[seal][rfc5322]") {
    const std::string long_token(90, 'z');
    const std::string f = arcf::arc::fold_field("X", {{long_token, true}, {"y;", true}});
    CHECK(f == "X: " + long_token + "\r\n\ty;");
}
