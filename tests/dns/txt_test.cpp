// SPDX-License-Identifier: ISC
// dns/txt: RFC 1035 §4.1 response parsing and RFC 6376 §3.6.2.2 / RFC 2308 §5 classification,
// checked with hand-built packets.
#include "dns/txt.hpp"
#include "tests/catch.hpp"

#include <cstdint>
#include <string>
#include <vector>

using arcf::dns::classify;
using arcf::dns::parse_txt_response;
using arcf::dns::Status;
using arcf::dns::Transport;
using arcf::dns::transport_failure;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

void put32(Bytes& b, std::uint32_t v) {
    put16(b, static_cast<std::uint16_t>(v >> 16));
    put16(b, static_cast<std::uint16_t>(v & 0xFFFF));
}

void put_name(Bytes& b, const std::string& dotted) {
    std::size_t start = 0;
    while (start < dotted.size()) {
        auto dot = dotted.find('.', start);
        if (dot == std::string::npos)
            dot = dotted.size();
        b.push_back(static_cast<std::uint8_t>(dot - start));
        b.insert(b.end(), dotted.begin() + static_cast<long>(start),
                 dotted.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    b.push_back(0);
}

Bytes txt_rdata(const std::vector<std::string>& strings) {
    Bytes r;
    for (const auto& s : strings) {
        r.push_back(static_cast<std::uint8_t>(s.size()));
        r.insert(r.end(), s.begin(), s.end());
    }
    return r;
}

/// One resource record; `owner` empty means a compression pointer to the question name.
struct Rr {
    std::string owner;
    std::uint16_t type = 16;
    std::uint32_t ttl = 300;
    Bytes rdata;
};

Rr txt(std::vector<std::string> strings, std::uint32_t ttl = 300, std::string owner = {}) {
    return Rr{std::move(owner), 16, ttl, txt_rdata(strings)};
}

Rr soa(std::uint32_t ttl, std::uint32_t minimum) {
    Bytes r;
    put_name(r, "ns.example.org");
    put_name(r, "hostmaster.example.org");
    for (std::uint32_t v : {1u, 3600u, 600u, 86400u})
        put32(r, v);
    put32(r, minimum);
    return Rr{"example.org", 6, ttl, r};
}

struct Msg {
    std::uint16_t flags = 0x8180; // QR RD RA, NOERROR
    std::string qname = "sel._domainkey.example.org";
    std::uint16_t qtype = 16;
    std::vector<Rr> answers;
    std::vector<Rr> authority;
};

void put_rr(Bytes& b, const Rr& rr) {
    if (rr.owner.empty()) {
        b.push_back(0xC0);
        b.push_back(12);
    } else {
        put_name(b, rr.owner);
    }
    put16(b, rr.type);
    put16(b, 1);
    put32(b, rr.ttl);
    put16(b, static_cast<std::uint16_t>(rr.rdata.size()));
    b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
}

Bytes build(const Msg& m) {
    Bytes b;
    put16(b, 0x4242);
    put16(b, m.flags);
    put16(b, 1);
    put16(b, static_cast<std::uint16_t>(m.answers.size()));
    put16(b, static_cast<std::uint16_t>(m.authority.size()));
    put16(b, 0);
    put_name(b, m.qname);
    put16(b, m.qtype);
    put16(b, 1);
    for (const auto& rr : m.answers)
        put_rr(b, rr);
    for (const auto& rr : m.authority)
        put_rr(b, rr);
    return b;
}

const std::string qname = "sel._domainkey.example.org";

} // namespace

TEST_CASE("txt: strings joined per RR, never across RRs; TTL is the minimum", "[txt][rfc6376]") {
    Msg m;
    m.answers = {txt({"v=DKIM1; k=rsa; ", "p=AAAA", "BBBB"}, 600), txt({"second"}, 120)};
    auto a = parse_txt_response(build(m), qname);
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 2);
    CHECK(a.records[0] == "v=DKIM1; k=rsa; p=AAAABBBB");
    CHECK(a.records[1] == "second");
    CHECK(a.ttl == 120);
}

TEST_CASE("txt: question matching ignores case and the final dot", "[txt][rfc4343]") {
    Msg m;
    m.qname = "SEL._DomainKey.Example.ORG";
    m.answers = {txt({"k"})};
    auto a = parse_txt_response(build(m), "sel._domainkey.example.org.");
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"k"});
}

TEST_CASE("txt: a 4096-bit key in many strings and an empty TXT RR", "[txt][rfc6376]") {
    std::vector<std::string> parts;
    std::string whole;
    for (int i = 0; i < 3; ++i) {
        parts.emplace_back(255, static_cast<char>('A' + i));
        whole += parts.back();
    }
    parts.emplace_back("tail");
    whole += "tail";
    Msg m;
    m.answers = {txt(parts), Rr{{}, 16, 300, {}}};
    auto a = parse_txt_response(build(m), qname);
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 2);
    CHECK(a.records[0] == whole);
    CHECK(a.records[1].empty());
}

TEST_CASE("txt: NXDOMAIN and NODATA are permanent, TTL from the SOA", "[txt][rfc2308]") {
    Msg nx;
    nx.flags = 0x8183;
    nx.authority = {soa(3600, 900)};
    auto a = parse_txt_response(build(nx), qname);
    CHECK(a.status == Status::nxdomain);
    CHECK(a.ttl == 900); // RFC 2308 §5: min(SOA TTL, MINIMUM)
    CHECK(a.records.empty());

    Msg nodata;
    nodata.authority = {soa(200, 900)};
    auto b = parse_txt_response(build(nodata), qname);
    CHECK(b.status == Status::nodata);
    CHECK(b.ttl == 200);

    Msg bare; // no SOA: the fallback
    auto c = parse_txt_response(build(bare), qname);
    CHECK(c.status == Status::nodata);
    CHECK(c.ttl == arcf::dns::negative_ttl_fallback);
}

TEST_CASE("txt: other records and other owners do not count as TXT", "[txt]") {
    Msg m;
    Bytes a_rdata = {127, 0, 0, 1};
    m.answers = {Rr{{}, 1, 300, a_rdata}, txt({"elsewhere"}, 300, "other.example.org")};
    auto a = parse_txt_response(build(m), qname);
    CHECK(a.status == Status::nodata);
}

TEST_CASE("txt: a CNAME chain is followed to the TXT records", "[txt][rfc1034]") {
    Msg m;
    Bytes target;
    put_name(target, "keys.example.net");
    m.answers = {Rr{{}, 5, 50, target}, txt({"v=DKIM1; p=X"}, 400, "keys.example.net"),
                 txt({"not ours"}, 400, "stray.example.net")};
    auto a = parse_txt_response(build(m), qname);
    REQUIRE(a.status == Status::ok);
    CHECK(a.records == std::vector<std::string>{"v=DKIM1; p=X"});
    CHECK(a.ttl == 50); // the chain is only as fresh as its shortest-lived link
}

TEST_CASE("txt: SERVFAIL, REFUSED and other RCODEs are temporary", "[txt][rfc8617]") {
    Msg m;
    m.flags = 0x8182;
    auto a = parse_txt_response(build(m), qname);
    CHECK(a.status == Status::temporary);
    CHECK(a.detail == "SERVFAIL");
    m.flags = 0x8185;
    CHECK(parse_txt_response(build(m), qname).detail == "REFUSED");
    m.flags = 0x8181;
    CHECK(parse_txt_response(build(m), qname).detail == "FORMERR");
    m.flags = 0x8189;
    CHECK(parse_txt_response(build(m), qname).detail == "RCODE 9");
}

TEST_CASE("txt: truncated and malformed messages are temporary", "[txt]") {
    Msg ok;
    ok.answers = {txt({"v=DKIM1"})};
    Bytes good = build(ok);

    auto temp = [](const Bytes& b) {
        auto a = parse_txt_response(b, qname);
        CHECK(a.status == Status::temporary);
        return a.detail;
    };

    Msg tc = ok;
    tc.flags |= 0x0200;
    CHECK(temp(build(tc)) == "truncated answer");
    CHECK(temp(Bytes(good.begin(), good.begin() + 11)).find("short header") != std::string::npos);

    Msg query = ok;
    query.flags = 0x0100; // QR clear
    CHECK(temp(build(query)).find("not a response") != std::string::npos);

    // Every strict prefix of a valid answer is malformed, never ok.
    for (std::size_t n = 12; n < good.size(); ++n) {
        auto a =
            parse_txt_response(Bytes(good.begin(), good.begin() + static_cast<long>(n)), qname);
        CHECK(a.status == Status::temporary);
    }

    // A character-string running past RDLENGTH.
    Msg over;
    Rr bad = txt({"abcdef"});
    bad.rdata[0] = 9;
    over.answers = {bad};
    CHECK(temp(build(over)).find("TXT record") != std::string::npos);

    // A compression pointer loop in an owner name.
    Bytes loop = good;
    std::size_t owner = 12 + (qname.size() + 2) + 4; // after the question
    loop[owner] = 0xC0;
    loop[owner + 1] = static_cast<std::uint8_t>(owner);
    CHECK(temp(loop).find("malformed") != std::string::npos);

    // An answer to another question.
    Msg other = ok;
    other.qname = "evil.example.org";
    CHECK(temp(build(other)).find("another question") != std::string::npos);
    Msg wrong_type = ok;
    wrong_type.qtype = 1;
    CHECK(temp(build(wrong_type)).find("another question") != std::string::npos);
}

TEST_CASE("txt: a TTL with the top bit set counts as zero", "[txt][rfc2181]") {
    Msg m;
    m.answers = {txt({"x"}, 0x80000001u)};
    auto a = parse_txt_response(build(m), qname);
    REQUIRE(a.status == Status::ok);
    CHECK(a.ttl == 0);
}

TEST_CASE("txt: transport outcomes without a packet", "[txt][rfc8617]") {
    struct Row {
        Transport t;
        Status s;
        const char* detail;
    };
    const Row rows[] = {
        {Transport::timeout, Status::temporary, "timeout"},
        {Transport::servfail, Status::temporary, "SERVFAIL"},
        {Transport::refused, Status::temporary, "REFUSED"},
        {Transport::connection_refused, Status::temporary, "connection refused"},
        {Transport::bad_response, Status::temporary, "malformed answer"},
        {Transport::no_memory, Status::temporary, "out of memory"},
        {Transport::nxdomain, Status::nxdomain, "NXDOMAIN"},
        {Transport::nodata, Status::nodata, "no TXT record"},
        {Transport::bad_name, Status::nxdomain, "invalid domain name"},
        {Transport::other, Status::temporary, "resolver error"},
    };
    for (const auto& r : rows) {
        auto a = classify(r.t, {}, qname);
        CHECK(a.status == r.s);
        CHECK(a.detail == r.detail);
    }
    CHECK(transport_failure(Transport::other, "EBADFAMILY").detail == "EBADFAMILY");
}

TEST_CASE("txt: the packet's RCODE wins over the transport's status", "[txt]") {
    Msg nx;
    nx.flags = 0x8183;
    nx.authority = {soa(100, 100)};
    auto a = classify(Transport::nxdomain, build(nx), qname);
    CHECK(a.status == Status::nxdomain);
    CHECK(a.ttl == 100);
    Msg ok;
    ok.answers = {txt({"v"})};
    CHECK(classify(Transport::answered, build(ok), qname).status == Status::ok);
    CHECK(classify(Transport::timeout, build(ok), qname).status == Status::temporary);
}

TEST_CASE("response: other types are classified like TXT, their RDATA left to the transport",
          "[txt][spf]") {
    using arcf::dns::parse_response;
    using arcf::dns::RecordType;
    const std::string host = "mail.example.org";
    Msg m;
    m.qname = host;
    m.qtype = 1;
    m.answers = {Rr{{}, 1, 300, {192, 0, 2, 1}}, Rr{{}, 1, 100, {192, 0, 2, 2}}};
    auto a = parse_response(build(m), host, RecordType::a);
    CHECK(a.status == Status::ok);
    CHECK(a.records.empty()); // ares_parse_a_reply fills them in dns/ares_resolver.cpp
    CHECK(a.ttl == 100);

    // A CNAME chain, as for TXT.
    Msg chain = m;
    Bytes target;
    put_name(target, "relay.example.net");
    chain.answers = {Rr{{}, 5, 50, target}, Rr{"relay.example.net", 1, 400, {192, 0, 2, 9}}};
    auto c = parse_response(build(chain), host, RecordType::a);
    CHECK(c.status == Status::ok);
    CHECK(c.ttl == 50);

    // NODATA names the type asked; a record of another type does not count.
    Msg other = m;
    other.answers = {txt({"v=spf1 -all"})};
    other.authority = {soa(200, 100)};
    auto n = parse_response(build(other), host, RecordType::a);
    CHECK(n.status == Status::nodata);
    CHECK(n.detail == "no A record");
    CHECK(n.ttl == 100);
    Msg nx = m;
    nx.flags = 0x8183;
    nx.answers.clear();
    CHECK(parse_response(build(nx), host, RecordType::a).status == Status::nxdomain);
    Msg fail = m;
    fail.flags = 0x8182;
    CHECK(parse_response(build(fail), host, RecordType::a).status == Status::temporary);

    // The answer must be to the type asked.
    auto wrong = parse_response(build(m), host, RecordType::aaaa);
    CHECK(wrong.status == Status::temporary);
    CHECK(wrong.detail.find("another question") != std::string::npos);

    // MX (type 15), PTR (12) and AAAA (28) the same way.
    for (auto [type, code] : {std::pair{RecordType::mx, 15}, std::pair{RecordType::ptr, 12},
                              std::pair{RecordType::aaaa, 28}}) {
        Msg t;
        t.qname = host;
        t.qtype = static_cast<std::uint16_t>(code);
        t.answers = {Rr{{}, static_cast<std::uint16_t>(code), 60, Bytes(16, 1)}};
        CHECK(parse_response(build(t), host, type).status == Status::ok);
        t.answers.clear();
        auto none = parse_response(build(t), host, type);
        CHECK(none.status == Status::nodata);
        CHECK(none.detail == "no " + std::string(arcf::dns::to_string(type)) + " record");
    }
    CHECK(transport_failure(Transport::nodata, {}, RecordType::mx).detail == "no MX record");
}
