// SPDX-License-Identifier: ISC
// MessageJob, the pipeline shared by smtpd, Exim and the CLI: the fields we add stay within
// RFC 5322 line limits whatever the message holds, and the trust boundary (issue 15 classes 2
// and 7): forged results behind a bare CR, header blocks over the limits.
#include "filter/pipeline/message_job.hpp"
#include "filter/pipeline/sender_auth.hpp"
#include "tests/catch.hpp"
#include "tests/filter/test_keys.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "mail/base64.hpp"
#include "mail/canon.hpp"

using namespace arcf;
using namespace arcf::filter;

namespace {

constexpr std::uint64_t now = 1700000000;

struct Run {
    JobResult result;
    std::vector<std::string> lines; ///< the input lines
    std::string stored;             ///< what smtpd stores: added lines, then the kept lines
    std::vector<std::string> removed;
};

std::shared_ptr<const arc::SealKey> seal_key() {
    static auto key = std::make_shared<const arc::SealKey>(
        arc::SealKey{"forwarder.example", "s1", tests::make_ed25519_key()});
    return key;
}

JobOptions job_options() {
    JobOptions o;
    o.authserv_id = "mx.example.test";
    o.verify.now = now;
    o.seal.now = now;
    o.remote_ip = "192.0.2.7";
    return o;
}

/// Runs one message through a MessageJob with SPF off and DKIM and DMARC on (every DNS answer
/// NXDOMAIN). Lines as smtpd hands them over: un-stuffed, no EOL. The stored text is cut at
/// 1997 octets per line, as smtpd 6.8 stores filter output.
Run run(const std::vector<std::string>& lines,
        JobOptions o = job_options(),
        std::shared_ptr<const arc::SealKey> key = seal_key()) {
    SenderAuthOptions ao;
    ao.spf = false;
    SenderContext ctx;
    ctx.now = static_cast<std::int64_t>(now);
    ctx.receiver = o.authserv_id;
    SenderAuth auth(ao, ctx);
    MessageJob job(o);
    job.set_sender_auth(&auth);
    std::vector<mail::KeyName> names;
    for (const auto& l : lines)
        for (auto& n : job.add_line(l))
            names.push_back(std::move(n));
    for (auto& n : job.end_of_data())
        names.push_back(std::move(n));
    auth.end_of_data();
    for (const auto& n : names)
        job.provide_key(n, dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    for (auto qs = auth.take_queries(); !qs.empty(); qs = auth.take_queries())
        for (const auto& q : qs)
            auth.on_answer(q.id, dns::Answer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    auth.conclude();
    Run r;
    r.result = job.complete(key, &auth);
    r.lines = lines;
    for (const auto& l : r.result.added_lines)
        r.stored += l.substr(0, 1997) + "\r\n";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (job.line_removed(i))
            r.removed.push_back(lines[i]);
        else
            r.stored += lines[i].substr(0, 1997) + "\r\n";
    }
    return r;
}

arc::ChainResult verify_stored(const std::string& msg) {
    arc::VerifyOptions vo;
    vo.now = now;
    return arc::verify_message(msg, vo, [&](const mail::KeyName& k) {
        if (k.dns_name() == "s1._domainkey.forwarder.example")
            return dns::TxtAnswer::found({tests::key_record(seal_key()->key)});
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    });
}

std::size_t longest(const std::vector<std::string>& lines) {
    std::size_t n = 0;
    for (const auto& l : lines)
        n = std::max(n, l.size());
    return n;
}

/// The unfolded text of the added field `name` (empty when absent).
std::string added_field(const JobResult& r, const std::string& name) {
    std::string out;
    bool in = false;
    for (const auto& l : r.added_lines) {
        if (l.rfind(name + ":", 0) == 0) {
            in = true;
            out = l;
        } else if (in && !l.empty() && (l[0] == ' ' || l[0] == '\t')) {
            out += " " + l.substr(1); // unfolded: the fold replaced one space
        } else {
            in = false;
        }
    }
    return out;
}

/// `count` continuation lines of `width` letters each: one tag value folded over many lines.
std::vector<std::string> folded(const std::string& first, std::size_t count, std::size_t width) {
    std::vector<std::string> v{first};
    for (std::size_t i = 0; i < count; ++i)
        v.push_back("\t" + std::string(width, static_cast<char>('a' + i % 26)));
    return v;
}

const std::vector<std::string> head = {
    "Received: from client.example.org (localhost [127.0.0.1])",
    "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
};
const std::vector<std::string> tail = {
    "From: Sender <sender@example.org>",
    "To: arctest@example.test",
    "Subject: hostile values",
    "",
    "body line",
};

std::vector<std::string> message(const std::vector<std::string>& middle) {
    std::vector<std::string> m = head;
    m.insert(m.end(), middle.begin(), middle.end());
    m.insert(m.end(), tail.begin(), tail.end());
    return m;
}

} // namespace

// ---- Issue 15 class 2: every line we add is at most 998 octets (RFC 5322 §2.1.1) ----

TEST_CASE("message job: a DKIM-Signature with d=, s=, a= folded over 72 KB adds no long line",
          "[message_job][issue15][limits]") {
    // Three tag values of ~24 KB each, folded into 78-column lines: legal header syntax.
    std::vector<std::string> sig{"DKIM-Signature: v=1; c=relaxed/relaxed; bh=AAAA; b=AAAA;"};
    for (const char* tag : {"d=", "s=", "a="}) {
        auto part = folded(std::string("\t") + tag + "x", 310, 77);
        part.back() += ";";
        sig.insert(sig.end(), part.begin(), part.end());
    }
    std::size_t bytes = 0;
    for (const auto& l : sig)
        bytes += l.size() + 2;
    REQUIRE(bytes > 72000);
    auto r = run(message(sig));
    REQUIRE(r.result.sealed);
    CHECK(longest(r.result.added_lines) <= max_added_line);
    // The DKIM result is still reported, the values that cannot be written are counted.
    std::string ar = added_field(r.result, "Authentication-Results");
    CHECK(ar.find("dkim=permerror") != std::string::npos);
    CHECK(ar.find("omitted: too long") != std::string::npos);
    CHECK(r.result.written.values_omitted >= 3);
    std::string aar = added_field(r.result, "ARC-Authentication-Results");
    CHECK(aar.find("dkim=permerror") != std::string::npos);
    // What smtpd stores (lines cut at 1997) still carries a seal that verifies.
    auto v = verify_stored(r.stored);
    CHECK(v.status == arc::ChainStatus::pass);
    CHECK(v.sets == 1);
}

TEST_CASE("message job: a 70 KB value in our ADMD's Authentication-Results, copied to the AAR",
          "[message_job][issue15][limits]") {
    // Above the Received boundary: added inside our ADMD, so its results go into the AAR.
    std::vector<std::string> lines{
        "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=" +
            std::string(70000, 'm') + "@example.org; dkim=pass header.d=example.org",
        "Authentication-Results: mx.example.test; dkim=pass header.d=\"" + std::string(35000, 'q') +
            " " + std::string(35000, 'r') + "\"",
    };
    auto msg = message({});
    msg.insert(msg.begin(), lines.begin(), lines.end());
    auto r = run(msg);
    REQUIRE(r.result.sealed);
    CHECK(longest(r.result.added_lines) <= max_added_line);
    std::string aar = added_field(r.result, "ARC-Authentication-Results");
    // The copied results are there; the values too long to write are not.
    CHECK(aar.find("spf=pass") != std::string::npos);
    CHECK(aar.find("header.d=example.org") != std::string::npos);
    CHECK(aar.find("mmmmmmmmmm") == std::string::npos);
    CHECK(aar.find("omitted: too long") != std::string::npos);
    CHECK(r.result.written.values_omitted >= 2);
    auto v = verify_stored(r.stored);
    CHECK(v.status == arc::ChainStatus::pass);
}

TEST_CASE("message job: the results written are bounded in number and size",
          "[message_job][issue15][limits]") {
    // 40 DKIM signatures (the first 10 checked, the rest policy): the A-R states at most 16 dkim
    // results, then says how many it left out; DMARC is still stated.
    std::vector<std::string> sigs;
    for (int i = 0; i < 40; ++i)
        sigs.push_back("DKIM-Signature: v=1; a=rsa-sha256; d=d" + std::to_string(i) +
                       ".example; s=s; h=from; bh=AAAA; b=AAAA");
    auto r = run(message(sigs));
    REQUIRE(r.result.sealed);
    CHECK(longest(r.result.added_lines) <= max_added_line);
    for (const char* field : {"Authentication-Results", "ARC-Authentication-Results"}) {
        std::string f = added_field(r.result, field);
        std::size_t dkim = 0;
        for (auto p = f.find("dkim="); p != std::string::npos; p = f.find("dkim=", p + 1))
            ++dkim;
        CHECK(dkim == mail::WriteBudget::max_per_method);
        CHECK(f.find("(24 results omitted: over budget)") != std::string::npos);
        CHECK(f.find("dmarc=") != std::string::npos);
    }
    CHECK(r.result.written.results_omitted == 48);
    CHECK(verify_stored(r.stored).status == arc::ChainStatus::pass);
}

TEST_CASE("message job: everything we add stays within its documented total",
          "[message_job][issue15][limits]") {
    // Values just inside the per-value budget, as many as the per-method and per-field budgets
    // let through, 100 List- fields for h=, 60 long results from our ADMD for the AAR.
    std::vector<std::string> mid;
    for (int i = 0; i < 20; ++i)
        mid.push_back("DKIM-Signature: v=1; a=rsa-sha256; d=" + std::string(240, 'd') +
                      std::to_string(i) + ".example; s=" + std::string(60, 's') +
                      "; i=" + std::string(60, 'l') + "@" + std::string(240, 'd') +
                      "; h=from; bh=AAAA; b=AAAA");
    for (int i = 0; i < 100; ++i)
        mid.push_back("List-" + std::string(55, 'x') + std::to_string(i) + ": v");
    auto msg = message(mid);
    for (int i = 0; i < 60; ++i) {
        std::string ar = "Authentication-Results: mx.example.test; x-m" + std::to_string(i) +
                         "=pass reason=\"" + std::string(250, 'r') + "\"";
        for (int k = 0; k < 3; ++k)
            ar += " header.p" + std::to_string(k) + "=" + std::string(240, 'v');
        msg.insert(msg.begin(), ar);
    }
    auto r = run(msg);
    REQUIRE(r.result.sealed);
    std::size_t total = 0;
    for (const auto& l : r.result.added_lines)
        total += l.size() + 2;
    CHECK(total <= max_added_total);
    CHECK(longest(r.result.added_lines) <= max_added_line);
    CHECK(r.result.written.results_omitted > 0);
    CHECK(verify_stored(r.stored).status == arc::ChainStatus::pass);
}

// ---- Issue 15 class 7: the trust boundary ----

TEST_CASE("message job: a forged Authentication-Results behind a bare CR is removed",
          "[message_job][issue15][scrub]") {
    SECTION("hidden in another field") {
        std::string forged = "X-Foo: a\rAuthentication-Results: mx.example.test; arc=pass";
        auto r = run(message({forged, "X-Kept: b"}));
        CHECK(r.result.forged_removed == 1);
        CHECK(r.removed == std::vector<std::string>{forged});
        CHECK(r.stored.find("arc=pass\r\n") == std::string::npos);
        CHECK(r.stored.find("X-Kept: b") != std::string::npos);
        CHECK(verify_stored(r.stored).status == arc::ChainStatus::pass);
    }
    SECTION("on a continuation line, with the field's other lines") {
        std::vector<std::string> field{
            "X-Foo: a", "\tb\rAuthentication-Results:", "\tmx.example.test; dkim=pass"};
        auto r = run(message(field));
        CHECK(r.result.forged_removed == 1);
        CHECK(r.removed == field);
    }
    SECTION("behind an Authentication-Results of another ADMD") {
        std::string forged = "Authentication-Results: other.example; spf=none\r"
                             "Authentication-Results: MX.example.test; dmarc=pass";
        auto r = run(message({forged}));
        CHECK(r.removed == std::vector<std::string>{forged});
    }
    SECTION("another ADMD's results behind a bare CR stay") {
        std::string other = "X-Foo: a\rAuthentication-Results: other.example; arc=pass";
        auto r = run(message({other, "X-Bar: 1\r2"}));
        CHECK(r.result.forged_removed == 0);
        CHECK(r.removed.empty());
    }
    SECTION("above the boundary (inside our ADMD) nothing is removed") {
        auto msg = message({});
        msg.insert(msg.begin(), "X-Ours: a\rAuthentication-Results: mx.example.test; arc=none");
        auto r = run(msg);
        CHECK(r.removed.empty());
    }
}

TEST_CASE("message job: a header block over the limits with ARC fields is arc=fail, not none",
          "[message_job][issue15][limits]") {
    const std::vector<std::string> arc_fields{
        "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=s; b=AAAA",
        "ARC-Message-Signature: i=1; a=rsa-sha256; d=relay.example; s=s; h=from; bh=AAAA; b=AAAA",
        "ARC-Authentication-Results: i=1; relay.example; spf=pass",
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA",
    };
    SECTION("max-header-fields") {
        auto o = job_options();
        o.max_header_fields = 5;
        auto r = run(message(arc_fields), o);
        CHECK(r.result.chain.status == arc::ChainStatus::fail);
        CHECK(r.result.chain.reason ==
              "header block over limits: 8 header fields, max-header-fields is 5");
        CHECK_FALSE(r.result.sealed);
        std::string ar = added_field(r.result, "Authentication-Results");
        CHECK(ar.find("arc=fail (header block over limits: 8 header fields") != std::string::npos);
        // No false statement from the methods the limits stopped.
        CHECK(ar.find("no From") == std::string::npos);
        CHECK(ar.find("dkim=policy reason=\"not checked: header block over limits") !=
              std::string::npos);
        CHECK(ar.find("dmarc=permerror reason=\"not evaluated: header block over limits") !=
              std::string::npos);
    }
    SECTION("max-header-bytes") {
        auto o = job_options();
        o.max_header_bytes = 300;
        auto r = run(message(arc_fields), o);
        CHECK(r.result.chain.status == arc::ChainStatus::fail);
        CHECK(r.result.chain.reason.find("max-header-bytes is 300") != std::string::npos);
    }
    SECTION("without ARC fields there is no chain: none, and no DKIM signature: dkim=none") {
        auto o = job_options();
        o.max_header_fields = 3;
        auto r = run(message({"X-A: 1", "X-B: 2"}), o);
        CHECK(r.result.chain.status == arc::ChainStatus::none);
        std::string ar = added_field(r.result, "Authentication-Results");
        CHECK(ar.find("dkim=none") != std::string::npos);
        CHECK(ar.find("dmarc=permerror") != std::string::npos);
        CHECK(ar.find("no From") == std::string::npos);
    }
}

TEST_CASE("message job: the From value for key choice needs exactly one From field",
          "[message_job][issue15]") {
    MessageJob one(job_options());
    for (const auto& l : message({}))
        one.add_line(l);
    CHECK(one.header_from() == " Sender <sender@example.org>");
    MessageJob two(job_options());
    for (const auto& l : message({"From: other@evil.example"}))
        two.add_line(l);
    CHECK(two.header_from().empty());
}

TEST_CASE("message job: body lines given in batches hash as one line at a time", "[message_job]") {
    // Issue 21: however the job feeds the body hashes (one line at a time, or batches joined
    // with CRLF, as tried in round two: it failed this when joined with LF alone), a line that
    // ends in CR keeps it, WSP runs and trailing WSP hash as RFC 6376 §3.4.4 says wherever an
    // 8 KiB edge falls, a 20 KB line hashes whole, and empty lines at the end are not hashed.
    std::vector<std::string> lines{"From: a@example.org", "To: b@example.net", "Subject: s", ""};
    std::vector<std::string> body;
    for (int i = 0; i < 700; ++i) {
        std::string l = "line " + std::to_string(i) + " \t with  runs";
        if (i % 7 == 0)
            l += "\r"; // a bare CR at the end of the line stays (RFC 6376 §3.4.4 keeps it)
        if (i % 11 == 0)
            l += " \t ";
        if (i % 13 == 0)
            l.clear();
        if (i == 350)
            l.assign(20000, 'x');
        body.push_back(l);
    }
    body.insert(body.end(), {"", "  ", ""});
    lines.insert(lines.end(), body.begin(), body.end());
    auto r = run(lines);
    REQUIRE(r.result.sealed);
    mail::BodyHasher h(mail::Canon::relaxed);
    for (const auto& l : body)
        h.add_line(l);
    const mail::Digest d = h.finish();
    const std::string bh =
        "bh=" +
        mail::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
    CHECK_THAT(r.stored, arcf::test::Contains(bh));
}

TEST_CASE("message job: body lines without SenderAuth ask for nothing and hash like the body",
          "[message_job]") {
    // Issue 21: a body line goes inline to the body hashes; it never asks for a key, with or
    // without SenderAuth, and the seal's bh= is the relaxed body hash (RFC 6376 §3.4.4) of
    // exactly those lines, trailing empty lines left out.
    const std::vector<std::string> fields{"From: a@example.org", "To: b@example.net", "Subject: s"};
    std::vector<std::string> body;
    for (int i = 0; i < 3000; ++i)
        body.push_back(i % 9 == 0 ? std::string() : "body  line " + std::to_string(i) + " \t");
    body.insert(body.end(), {"", ""});
    MessageJob job(job_options());
    for (const auto& l : fields)
        CHECK(job.add_line(l).empty());
    auto names = job.add_line("");
    for (const auto& l : body)
        CHECK(job.add_line(l).empty());
    for (auto& n : job.end_of_data())
        names.push_back(std::move(n));
    for (const auto& n : names)
        job.provide_key(n, dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN"));
    const JobResult r = job.complete(seal_key());
    REQUIRE(r.sealed);
    mail::BodyHasher h(mail::Canon::relaxed);
    for (const auto& l : body)
        h.add_line(l);
    const mail::Digest d = h.finish();
    std::string added;
    for (const auto& l : r.added_lines)
        added += l + "\r\n";
    CHECK_THAT(added, arcf::test::Contains(
                          "bh=" + mail::base64_encode(std::string_view(
                                      reinterpret_cast<const char*>(d.data()), d.size()))));
}

TEST_CASE("message job: a folded first line after an empty end of data still counts as one",
          "[message_job]") {
    // The data ended before any line (no header block, no body); a line given after that is the
    // message's first line all the same: when it is a continuation line, whatever we put on top
    // would absorb it, so nothing is added (as for any message starting with one).
    MessageJob job(job_options());
    CHECK(job.end_of_data().empty());
    CHECK(job.add_line(" folded").empty());
    const JobResult r = job.complete(seal_key());
    CHECK_FALSE(r.sealed);
    CHECK(r.seal == pipeline::SealOutcome::leading_fold);
}
