// SPDX-License-Identifier: ISC
// Deterministic benchmark messages and chains.
#include "bench/corpus.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "mail/base64.hpp"
#include "mail/header.hpp"
#include "mail/signature_check.hpp"

namespace arcf::bench {

namespace {

// xorshift32: the same corpus on every run.
class Rng {
  public:
    explicit Rng(std::uint32_t seed) : s_(seed == 0 ? 0x9e3779b9u : seed) {}
    std::uint32_t next() {
        s_ ^= s_ << 13;
        s_ ^= s_ >> 17;
        s_ ^= s_ << 5;
        return s_;
    }
    std::size_t below(std::size_t n) { return next() % n; }

  private:
    std::uint32_t s_;
};

constexpr std::array<std::string_view, 48> words = {
    "the",      "report",   "quarter", "figures",  "attached", "please",   "review",  "before",
    "meeting",  "thanks",   "budget",  "revenue",  "team",     "project",  "update",  "draft",
    "customer", "schedule", "and",     "of",       "to",       "in",       "we",      "will",
    "send",     "final",    "version", "tomorrow", "morning",  "with",     "notes",   "from",
    "call",     "numbers",  "growth",  "margin",   "compared", "previous", "year",    "is",
    "a",        "for",      "on",      "our",      "new",      "office",   "pricing", "plan"};

// One line of prose of about `width` columns; now and then two spaces after a full stop or a
// trailing space, as mail clients write them (relaxed canonicalization has work to do).
std::string prose_line(Rng& r, std::size_t width) {
    std::string line;
    while (line.size() < width) {
        if (!line.empty())
            line += (r.below(12) == 0) ? ".  " : " ";
        line += words[r.below(words.size())];
    }
    if (r.below(6) == 0)
        line += ' ';
    return line;
}

void add_base64_lines(std::string& out, Rng& r, std::size_t bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string line(76, 'A');
    for (std::size_t done = 0; done < bytes; done += line.size() + 2) {
        for (auto& c : line)
            c = alphabet[r.next() & 63u];
        out += line;
        out += "\r\n";
    }
}

const char* const header_block =
    "Received: from mail-out.example.org (mail-out.example.org [198.51.100.23])\r\n"
    "\tby mx.example.net (Postfix) with ESMTPS id 4Xz9k1Lm2Nz3\r\n"
    "\tfor <alice@example.net>; Tue, 14 May 2024 09:12:33 +0000 (UTC)\r\n"
    "Received: from [10.0.0.5] (unknown [203.0.113.9])\r\n"
    "\t(Authenticated sender: bob@example.org)\r\n"
    "\tby mail-out.example.org (Postfix) with ESMTPSA id 7F2A1C0123\r\n"
    "\tfor <alice@example.net>; Tue, 14 May 2024 09:12:31 +0000 (UTC)\r\n"
    "From: Bob Example <bob@example.org>\r\n"
    "To: Alice Example <alice@example.net>, Carol Example <carol@example.net>,\r\n"
    "\tDave Example <dave@example.net>\r\n"
    "Cc: team@lists.example.org\r\n"
    "Subject: Quarterly report: the figures, the draft and the\r\n"
    " attachment we discussed on Monday\r\n"
    "Date: Tue, 14 May 2024 11:12:30 +0200\r\n"
    "Message-ID: <20240514091230.5a3c9e@mail-out.example.org>\r\n"
    "In-Reply-To: <20240513170211.77f1@example.net>\r\n"
    "References: <20240512080000.1111@example.net>\r\n"
    "\t<20240513170211.77f1@example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    "List-Id: Example team <team.lists.example.org>\r\n"
    "List-Unsubscribe: <mailto:leave-team@lists.example.org>,\r\n"
    "\t<https://lists.example.org/unsubscribe/team>\r\n"
    "User-Agent: Example Mail 4.2\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"=_mixed_5a3c9e\"\r\n";

} // namespace

std::string make_message(std::size_t bytes, std::uint32_t seed) {
    Rng r(seed);
    std::string m = header_block;
    m += "\r\nThis is a multi-part message in MIME format.\r\n\r\n"
         "--=_mixed_5a3c9e\r\n"
         "Content-Type: multipart/alternative; boundary=\"=_alt_5a3c9e\"\r\n\r\n"
         "--=_alt_5a3c9e\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    const std::size_t fixed = 900; // the MIME lines still to come
    const std::size_t room = bytes > m.size() + fixed ? bytes - m.size() - fixed : 0;
    // A quarter of the room for the text, 30 % for the HTML, the rest for the attachment; but
    // as in real mail, a large message is large because of its attachment: the text parts
    // stop growing at 16 KiB and 24 KiB.
    const std::size_t text_bytes = std::min<std::size_t>(room / 4, 16 * 1024);
    const std::size_t html_bytes = std::min<std::size_t>(room * 3 / 10, 24 * 1024);
    for (std::size_t start = m.size(); m.size() - start < text_bytes;) {
        m += "Hello Alice,\r\n\r\n";
        for (int i = 0; i < 6 && m.size() - start < text_bytes; ++i)
            m += prose_line(r, 60 + r.below(12)) + "\r\n";
        m += "\r\n";
    }
    m += "Best regards,\r\nBob\r\n-- \r\nBob Example, Example Org\r\n\r\n"
         "--=_alt_5a3c9e\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
         "<html>\r\n<body>\r\n";
    for (std::size_t start = m.size(); m.size() - start < html_bytes;) {
        m += "\t<div class=3D\"para\">\r\n";
        for (int i = 0; i < 4 && m.size() - start < html_bytes; ++i)
            m += "\t\t  <p>" + prose_line(r, 50 + r.below(10)) + "</p>\r\n";
        m += "\t</div>\r\n";
    }
    m += "</body>\r\n</html>\r\n\r\n--=_alt_5a3c9e--\r\n\r\n"
         "--=_mixed_5a3c9e\r\n"
         "Content-Type: application/pdf; name=\"report-q2.pdf\"\r\n"
         "Content-Disposition: attachment; filename=\"report-q2.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n";
    const std::size_t tail = 24;
    if (bytes > m.size() + tail)
        add_base64_lines(m, r, bytes - m.size() - tail);
    m += "\r\n--=_mixed_5a3c9e--\r\n";
    return m;
}

std::string make_text_body(std::size_t bytes, std::uint32_t seed) {
    Rng r(seed);
    std::string b;
    b.reserve(bytes + 128);
    while (b.size() < bytes) {
        for (int i = 0; i < 6 && b.size() < bytes; ++i)
            b += prose_line(r, 60 + r.below(12)) + "\r\n";
        b += "\t\t  <p>" + prose_line(r, 50) + "</p>\r\n\r\n";
    }
    return b;
}

KeyRing make_keys(std::size_t hops, unsigned bits) {
    KeyRing ring;
    for (std::size_t i = 1; i <= hops; ++i) {
        auto k = mail::PrivateKey::generate(mail::KeyType::rsa, bits);
        if (!k)
            throw std::runtime_error("key generation: " + k.error().detail);
        auto key = std::make_shared<arc::SealKey>();
        key->domain = "hop" + std::to_string(i) + ".example";
        key->selector = "s1";
        key->key = std::move(*k);
        ring.answers[mail::KeyName{key->selector, key->domain}] =
            dns::TxtAnswer::found({"v=DKIM1; k=rsa; p=" + key->key.public_key_base64()}, 300);
        ring.hops.push_back(std::move(key));
    }
    return ring;
}

std::string add_chain(const std::string& message, std::size_t sets, const KeyRing& keys) {
    std::string m = message;
    for (std::size_t i = 0; i < sets; ++i) {
        const arc::SealKey& key = *keys.hops.at(i % keys.hops.size()); // in turn
        arc::VerifyOptions vo;
        vo.now = corpus_time;
        auto chain = arc::verify_message(m, vo, [&](const mail::KeyName& n) {
            auto it = keys.answers.find(n);
            return it == keys.answers.end() ? dns::TxtAnswer::failed(dns::Status::nxdomain, "")
                                            : it->second;
        });
        if (chain.status != arc::ChainStatus::pass && chain.status != arc::ChainStatus::none)
            throw std::runtime_error("corpus chain does not verify: " + chain.reason);
        auto split = mail::split_message(m);
        mail::BodyHasher body(mail::Canon::relaxed);
        mail::for_each_line(split.body, [&](std::string_view l) { body.add_line(l); });
        arc::SealOptions so;
        so.authserv_id = "mx." + key.domain;
        so.now = corpus_time;
        auto sealed = arc::seal_message(split.headers, body.finish(), chain,
                                        {arc::arc_resinfo(chain, "192.0.2.7")}, key, so);
        if (!sealed.sealed)
            throw std::runtime_error("corpus sealing failed: " + sealed.reason);
        std::string top;
        for (const auto& f : sealed.fields)
            top += f + "\r\n";
        m = top + m;
    }
    return m;
}

std::string add_dkim_signature(const std::string& message, const arc::SealKey& key) {
    auto split = mail::split_message(message);
    mail::BodyHasher body(mail::Canon::relaxed);
    mail::for_each_line(split.body, [&](std::string_view l) { body.add_line(l); });
    const mail::Digest bh = body.finish();
    const std::vector<std::string> names = {"from", "to", "subject", "date", "message-id"};
    std::string field =
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + key.domain +
        "; s=" + key.selector + "; t=" + std::to_string(corpus_time) +
        "; h=from:to:subject:date:message-id; bh=" +
        mail::base64_encode(std::string_view(reinterpret_cast<const char*>(bh.data()), bh.size())) +
        "; b=";
    auto sig = key.key.sign(
        mail::sha256(mail::signed_header_data(split.headers, names, mail::Canon::relaxed, field)));
    if (!sig)
        throw std::runtime_error("DKIM signing failed: " + sig.error().detail);
    return field + mail::base64_encode(*sig) + "\r\n" + message;
}

Lines::Lines(std::string message) : text_(std::make_shared<const std::string>(std::move(message))) {
    bool ended = mail::for_each_line(*text_, [&](std::string_view l) { lines_.push_back(l); });
    (void)ended;
}

Lines lines_of(const std::string& message) {
    return Lines(message);
}

} // namespace arcf::bench
