// SPDX-License-Identifier: ISC
// DNS response parsing (RFC 1035 §3.3.14, §4.1, §4.1.4) and the mapping of outcomes to
// permanent or temporary answers (RFC 6376 §3.6.2.2, RFC 2308 §5, RFC 7208 §2.6.6, RFC 8617 §5.2).
#include "dns/txt.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/ascii.hpp"

namespace arcf::dns {
namespace {

// RFC 1035 §3.2.2 / §3.2.4 / §4.1.1 constants.
constexpr std::uint16_t type_cname = 5;
constexpr std::uint16_t type_soa = 6;
constexpr std::uint16_t class_in = 1;
constexpr std::size_t header_size = 12;
constexpr std::size_t max_name_octets = 255; // RFC 1035 §2.3.4
constexpr int max_pointer_hops = 64;

enum class Rcode : std::uint8_t {
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
};

/// A domain name in a comparable form: lower-cased labels, each prefixed by its length.
using WireName = std::string;

/// Dotted presentation name to WireName; a trailing dot is optional. Empty labels other than a
/// final one make the name unusable (nullopt).
std::optional<WireName> wire_from_text(std::string_view name) {
    name = text::without_trailing_dots(name);
    WireName out;
    if (name.empty())
        return out;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos)
            dot = name.size();
        std::size_t len = dot - start;
        if (len == 0 || len > 63)
            return std::nullopt;
        out.push_back(static_cast<char>(len));
        for (std::size_t i = start; i < dot; ++i)
            out.push_back(text::to_lower(name[i]));
        start = dot + 1;
    }
    return out;
}

/// Bounds-checked reader over one message. Every accessor fails softly: once `ok` is false all
/// further reads return zero, and the caller reports a malformed answer.
class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> msg) : msg_(msg) {}

    bool ok() const { return ok_; }
    std::size_t pos() const { return pos_; }
    void seek(std::size_t p) {
        if (p > msg_.size())
            ok_ = false;
        else
            pos_ = p;
    }

    std::uint8_t u8() {
        if (!ok_ || pos_ + 1 > msg_.size()) {
            ok_ = false;
            return 0;
        }
        return msg_[pos_++];
    }
    std::uint16_t u16() {
        std::uint16_t hi = u8();
        std::uint16_t lo = u8();
        return static_cast<std::uint16_t>((hi << 8) | lo);
    }
    std::uint32_t u32() {
        std::uint32_t hi = u16();
        std::uint32_t lo = u16();
        return (hi << 16) | lo;
    }
    void skip(std::size_t n) {
        if (!ok_ || pos_ + n > msg_.size())
            ok_ = false;
        else
            pos_ += n;
    }
    std::span<const std::uint8_t> bytes(std::size_t n) {
        if (!ok_ || pos_ + n > msg_.size()) {
            ok_ = false;
            return {};
        }
        auto s = msg_.subspan(pos_, n);
        pos_ += n;
        return s;
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) and leaves the position after its
    /// in-place part. Pointer loops, over-long names and reserved label types fail.
    WireName name() {
        WireName out;
        std::size_t p = pos_;
        std::optional<std::size_t> resume;
        int hops = 0;
        while (ok_) {
            if (p >= msg_.size()) {
                ok_ = false;
                break;
            }
            std::uint8_t len = msg_[p];
            if ((len & 0xC0) == 0xC0) {
                if (p + 1 >= msg_.size() || ++hops > max_pointer_hops) {
                    ok_ = false;
                    break;
                }
                if (!resume)
                    resume = p + 2;
                p = static_cast<std::size_t>(((len & 0x3F) << 8) | msg_[p + 1]);
                continue;
            }
            if ((len & 0xC0) != 0) { // 0x40 and 0x80 label types are reserved/obsolete
                ok_ = false;
                break;
            }
            if (len == 0) {
                ++p;
                break;
            }
            if (p + 1 + len > msg_.size() || out.size() + 1 + len + 1 > max_name_octets) {
                ok_ = false;
                break;
            }
            out.push_back(static_cast<char>(len));
            for (std::size_t i = 0; i < len; ++i)
                out.push_back(text::to_lower(static_cast<char>(msg_[p + 1 + i])));
            p += 1 + len;
        }
        if (ok_)
            pos_ = resume ? *resume : p;
        return out;
    }

  private:
    std::span<const std::uint8_t> msg_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

struct Rr {
    WireName owner;
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata_pos = 0;
    std::size_t rdata_len = 0;
};

/// RFC 1035 §4.1.3 resource record header; leaves the reader after the RDATA.
std::optional<Rr> read_rr(Reader& r) {
    Rr rr;
    rr.owner = r.name();
    rr.type = r.u16();
    rr.klass = r.u16();
    rr.ttl = r.u32();
    rr.rdata_len = r.u16();
    rr.rdata_pos = r.pos();
    r.skip(rr.rdata_len);
    if (!r.ok())
        return std::nullopt;
    // RFC 2181 §8: a TTL with the top bit set is treated as zero.
    if (rr.ttl > 0x7FFFFFFFu)
        rr.ttl = 0;
    return rr;
}

/// RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s; RFC 6376 §3.6.2.2 joins them
/// without separators. The strings must exactly fill RDLENGTH.
std::optional<std::string> read_txt_rdata(std::span<const std::uint8_t> msg, const Rr& rr) {
    Reader r(msg);
    r.seek(rr.rdata_pos);
    std::string joined;
    std::size_t end = rr.rdata_pos + rr.rdata_len;
    while (r.ok() && r.pos() < end) {
        std::size_t len = r.u8();
        if (r.pos() + len > end)
            return std::nullopt;
        auto s = r.bytes(len);
        joined.append(s.begin(), s.end());
    }
    if (!r.ok())
        return std::nullopt;
    return joined;
}

Answer temporary(std::string why) {
    return Answer::failed(Status::temporary, std::move(why));
}

Answer malformed(std::string_view what) {
    return temporary("malformed answer: " + std::string(what));
}

/// RFC 2308 §5: the negative TTL is the minimum of the SOA record's TTL and its MINIMUM field.
std::uint32_t negative_ttl(std::span<const std::uint8_t> msg, Reader& r, std::uint16_t nscount) {
    for (std::uint16_t i = 0; i < nscount; ++i) {
        auto rr = read_rr(r);
        if (!rr)
            return negative_ttl_fallback;
        if (rr->type != type_soa || rr->klass != class_in)
            continue;
        Reader s(msg);
        s.seek(rr->rdata_pos);
        s.name();   // MNAME
        s.name();   // RNAME
        s.skip(16); // SERIAL REFRESH RETRY EXPIRE
        std::uint32_t minimum = s.u32();
        if (!s.ok() || s.pos() != rr->rdata_pos + rr->rdata_len)
            return negative_ttl_fallback;
        return std::min(rr->ttl, minimum);
    }
    return negative_ttl_fallback;
}

std::string no_records(RecordType type) {
    return "no " + std::string(to_string(type)) + " record";
}

std::string rcode_name(std::uint8_t rcode) {
    switch (static_cast<Rcode>(rcode)) {
    case Rcode::noerror:
        return "NOERROR";
    case Rcode::formerr:
        return "FORMERR";
    case Rcode::servfail:
        return "SERVFAIL";
    case Rcode::nxdomain:
        return "NXDOMAIN";
    case Rcode::notimp:
        return "NOTIMP";
    case Rcode::refused:
        return "REFUSED";
    }
    return "RCODE " + std::to_string(rcode);
}

} // namespace

Answer parse_response(std::span<const std::uint8_t> msg, std::string_view qname, RecordType type) {
    const std::uint16_t want_type = wire_type(type);
    auto want = wire_from_text(qname);
    if (!want)
        return Answer::failed(Status::nxdomain, "invalid domain name");
    if (msg.size() < header_size)
        return malformed("short header");

    Reader r(msg);
    r.u16(); // ID: matched by the transport
    std::uint16_t flags = r.u16();
    std::uint16_t qdcount = r.u16();
    std::uint16_t ancount = r.u16();
    std::uint16_t nscount = r.u16();
    r.u16(); // ARCOUNT: EDNS0 OPT and glue are not needed here

    if ((flags & 0x8000) == 0)
        return malformed("not a response");
    if ((flags & 0x0200) != 0) // TC: the records may be incomplete (RFC 1035 §4.1.1)
        return temporary("truncated answer");
    auto rcode = static_cast<std::uint8_t>(flags & 0x000F);
    if (rcode != static_cast<std::uint8_t>(Rcode::noerror) &&
        rcode != static_cast<std::uint8_t>(Rcode::nxdomain))
        return temporary(rcode_name(rcode)); // SERVFAIL, REFUSED, ...: RFC 8617 §5.2 temperror

    // Question section: the answer must be about the name we asked for.
    if (qdcount != 1)
        return malformed("question count " + std::to_string(qdcount));
    WireName asked = r.name();
    std::uint16_t qtype = r.u16();
    std::uint16_t qclass = r.u16();
    if (!r.ok())
        return malformed("question");
    if (asked != *want || qtype != want_type || qclass != class_in)
        return malformed("answer to another question");

    std::vector<Rr> answers;
    for (std::uint16_t i = 0; i < ancount; ++i) {
        auto rr = read_rr(r);
        if (!rr)
            return malformed("answer record " + std::to_string(i));
        answers.push_back(std::move(*rr));
    }

    // Follow a CNAME chain inside the answer (RFC 1034 §3.6.2); the data lives at its end.
    WireName target = *want;
    std::uint32_t ttl = 0xFFFFFFFFu;
    for (int hop = 0; hop <= max_cname_hops; ++hop) {
        auto cname = std::find_if(answers.begin(), answers.end(), [&](const Rr& rr) {
            return rr.type == type_cname && rr.klass == class_in && rr.owner == target;
        });
        if (cname == answers.end())
            break;
        if (hop == max_cname_hops)
            return malformed("CNAME chain too long");
        Reader c(msg);
        c.seek(cname->rdata_pos);
        WireName next = c.name();
        if (!c.ok() || c.pos() != cname->rdata_pos + cname->rdata_len)
            return malformed("CNAME record");
        ttl = std::min(ttl, cname->ttl);
        target = std::move(next);
    }

    std::vector<std::string> records;
    std::size_t found = 0;
    for (const Rr& rr : answers) {
        if (rr.type != want_type || rr.klass != class_in || rr.owner != target)
            continue;
        ++found;
        ttl = std::min(ttl, rr.ttl);
        if (type != RecordType::txt)
            continue; // decoded by the transport (see parse_response's contract)
        auto text = read_txt_rdata(msg, rr);
        if (!text)
            return malformed("TXT record");
        records.push_back(std::move(*text)); // joined per RR, never across RRs
    }

    if (rcode == static_cast<std::uint8_t>(Rcode::noerror) && found > 0)
        return Answer::found(std::move(records), ttl);

    // Negative answers (RFC 2308 §2.1 NXDOMAIN, §2.2 NODATA) are final: RFC 6376 §6.1.2 and
    // RFC 8617 §5.2 treat a missing key as a permanent failure; RFC 7208 §4.6.4 counts them as
    // void lookups.
    bool nx = rcode == static_cast<std::uint8_t>(Rcode::nxdomain);
    Answer a =
        Answer::failed(nx ? Status::nxdomain : Status::nodata, nx ? "NXDOMAIN" : no_records(type));
    a.ttl = negative_ttl(msg, r, nscount);
    return a;
}

TxtAnswer parse_txt_response(std::span<const std::uint8_t> msg, std::string_view qname) {
    return parse_response(msg, qname, RecordType::txt);
}

Answer transport_failure(Transport t, std::string_view detail, RecordType type) {
    auto why = [&](std::string_view fallback) {
        return std::string(detail.empty() ? fallback : detail);
    };
    switch (t) {
    case Transport::nxdomain: {
        auto a = Answer::failed(Status::nxdomain, why("NXDOMAIN"));
        a.ttl = negative_ttl_fallback;
        return a;
    }
    case Transport::nodata: {
        auto a = Answer::failed(Status::nodata, why(no_records(type)));
        a.ttl = negative_ttl_fallback;
        return a;
    }
    case Transport::bad_name:
        // A name that cannot be queried can never own a key: permanent (RFC 6376 §6.1.2).
        return Answer::failed(Status::nxdomain, why("invalid domain name"));
    case Transport::answered:
        return temporary(why("empty response"));
    case Transport::timeout:
        return temporary(why("timeout"));
    case Transport::servfail:
        return temporary(why("SERVFAIL"));
    case Transport::refused:
        return temporary(why("REFUSED"));
    case Transport::formerr:
        return temporary(why("FORMERR"));
    case Transport::notimp:
        return temporary(why("NOTIMP"));
    case Transport::connection_refused:
        return temporary(why("connection refused"));
    case Transport::bad_response:
        return temporary(why("malformed answer"));
    case Transport::no_memory:
        return temporary(why("out of memory"));
    case Transport::cancelled:
        return temporary(why("cancelled"));
    case Transport::shut_down:
        return temporary(why("resolver shut down"));
    case Transport::other:
        break;
    }
    return temporary(why("resolver error"));
}

Answer
classify(Transport t, std::span<const std::uint8_t> msg, std::string_view qname, RecordType type) {
    switch (t) {
    case Transport::answered:
    case Transport::servfail:
    case Transport::refused:
    case Transport::formerr:
    case Transport::notimp:
    case Transport::nxdomain:
    case Transport::nodata:
        if (!msg.empty())
            return parse_response(msg, qname, type);
        break;
    default:
        break;
    }
    return transport_failure(t, {}, type);
}

} // namespace arcf::dns
