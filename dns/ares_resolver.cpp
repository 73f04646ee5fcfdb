// SPDX-License-Identifier: ISC
// c-ares on a Boost.Asio io_context: RFC 1035 §4.2 UDP/TCP transport with EDNS0 (RFC 6891) and
// TCP fallback on truncation (RFC 7766 §5); A/AAAA/MX/PTR RDATA read with c-ares' own parsers
// (RFC 1035 §3.3.9, §3.3.12, §3.4.1; RFC 3596 §2.2). The only file that includes <ares.h>.
//
// Two c-ares generations are supported, chosen at build time from <ares_version.h>:
//  - c-ares >= 1.28 (Debian 13 has 1.34): ares_query_dnsrec() and the ares_dns_record_* reader.
//    1.34 deprecates ares_query() and every ares_parse_*_reply(), so they are not used there.
//  - older c-ares (Debian 12 has 1.18): ares_query() with the raw answer and ares_parse_*_reply().
// Either way the packet is classified by dns/txt.cpp from its wire form, so both behave alike.
#include "dns/ares_resolver.hpp"

#include "dns/txt.hpp"

#include <ares.h>
#include <ares_version.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "text/ascii.hpp"

#if ARES_VERSION >= 0x011c00 // 1.28.0: ares_query_dnsrec, ares_dns_record_rr_get_const
#define ARCF_CARES_DNSREC 1
#else
#define ARCF_CARES_DNSREC 0
#endif

namespace arcf::dns {
namespace {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

/// c-ares status -> transport outcome; dns/txt.cpp decides what each one means.
Transport transport_of(int status) {
    switch (status) {
    case ARES_SUCCESS:
        return Transport::answered;
    case ARES_ENODATA:
        return Transport::nodata;
    case ARES_ENOTFOUND:
        return Transport::nxdomain;
    case ARES_ESERVFAIL:
        return Transport::servfail;
    case ARES_EREFUSED:
        return Transport::refused;
    case ARES_EFORMERR:
        return Transport::formerr;
    case ARES_ENOTIMP:
        return Transport::notimp;
    case ARES_ETIMEOUT:
        return Transport::timeout;
    case ARES_ECONNREFUSED:
        return Transport::connection_refused;
    case ARES_EBADRESP:
        return Transport::bad_response;
    case ARES_EBADNAME:
        return Transport::bad_name;
    case ARES_ENOMEM:
        return Transport::no_memory;
    case ARES_ECANCELLED:
        return Transport::cancelled;
    case ARES_EDESTRUCTION:
        return Transport::shut_down;
    default:
        return Transport::other;
    }
}

#if !ARCF_CARES_DNSREC
constexpr int class_in = 1; // RFC 1035 §3.2.4

/// The answer count of a response header (RFC 1035 §4.1.1), to size c-ares' output arrays.
int answer_count(std::span<const std::uint8_t> msg) {
    return msg.size() < 12 ? 0 : (msg[6] << 8) | msg[7];
}

#endif

std::string address_text(int family, const void* addr) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(family, addr, buf, sizeof buf) == nullptr)
        return {};
    return buf; // glibc writes RFC 5952 text for IPv6
}

std::string without_final_dot(const char* name) {
    return std::string(text::without_root_dot(name == nullptr ? "" : name));
}

/// Records decoded into dns::Answer's text forms; nullopt when they cannot be read.
using Decoded = std::optional<std::vector<std::string>>;

/// Every decoded record must be usable: only a null MX (RFC 7505) has an empty name.
Decoded checked(RecordType type, std::vector<std::string> out) {
    for (const auto& r : out)
        if (r.empty() && type != RecordType::mx)
            return std::nullopt;
    return out;
}

#if ARCF_CARES_DNSREC
/// Owner names compare case-insensitively (RFC 4343 §3), without the root's final dot.
bool same_name(std::string_view a, std::string_view b) {
    return text::iequals(text::without_root_dot(a), text::without_root_dot(b));
}

/// The RDATA of an A, AAAA, MX or PTR answer in dns::Answer's text forms, read from the record
/// c-ares parsed. Like parse_response(), only RRs owned by `qname` or by the end of its CNAME
/// chain inside the answer section count (RFC 1034 §3.6.2; at most max_cname_hops hops).
Decoded decode_records(RecordType type, const ares_dns_record_t* rec, std::string_view qname) {
    if (rec == nullptr)
        return std::nullopt;
    const std::size_t count = ares_dns_record_rr_cnt(rec, ARES_SECTION_ANSWER);
    auto rr_at = [rec](std::size_t i) {
        return ares_dns_record_rr_get_const(rec, ARES_SECTION_ANSWER, i);
    };
    std::string owner(qname);
    for (int hop = 0; hop < max_cname_hops; ++hop) {
        const char* next = nullptr;
        for (std::size_t i = 0; i < count && next == nullptr; ++i) {
            const ares_dns_rr_t* rr = rr_at(i);
            if (rr != nullptr && ares_dns_rr_get_type(rr) == ARES_REC_TYPE_CNAME &&
                same_name(without_final_dot(ares_dns_rr_get_name(rr)), owner))
                next = ares_dns_rr_get_str(rr, ARES_RR_CNAME_CNAME);
        }
        if (next == nullptr)
            break;
        owner = without_final_dot(next);
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < count; ++i) {
        const ares_dns_rr_t* rr = rr_at(i);
        if (rr == nullptr || static_cast<unsigned>(ares_dns_rr_get_type(rr)) != wire_type(type) ||
            !same_name(without_final_dot(ares_dns_rr_get_name(rr)), owner))
            continue;
        switch (type) {
        case RecordType::a: {
            const in_addr* addr = ares_dns_rr_get_addr(rr, ARES_RR_A_ADDR);
            if (addr == nullptr)
                return std::nullopt;
            out.push_back(address_text(AF_INET, addr));
            break;
        }
        case RecordType::aaaa: {
            const ares_in6_addr* addr = ares_dns_rr_get_addr6(rr, ARES_RR_AAAA_ADDR);
            if (addr == nullptr)
                return std::nullopt;
            out.push_back(address_text(AF_INET6, addr));
            break;
        }
        case RecordType::mx: {
            // A null MX (RFC 7505) has the root as exchange: "0 " with an empty name.
            const char* host = ares_dns_rr_get_str(rr, ARES_RR_MX_EXCHANGE);
            if (host == nullptr)
                return std::nullopt;
            out.push_back(std::to_string(ares_dns_rr_get_u16(rr, ARES_RR_MX_PREFERENCE)) + " " +
                          without_final_dot(host));
            break;
        }
        case RecordType::ptr: {
            const char* target = ares_dns_rr_get_str(rr, ARES_RR_PTR_DNAME);
            if (target == nullptr)
                return std::nullopt;
            out.push_back(without_final_dot(target));
            break;
        }
        case RecordType::txt:
            return std::nullopt; // parse_response() decodes TXT itself
        }
    }
    return checked(type, std::move(out));
}
#else
/// The RDATA of an A, AAAA, MX or PTR response in dns::Answer's text forms, read with c-ares'
/// parsers (they follow a CNAME chain inside the answer as parse_response() does). nullopt when
/// c-ares cannot read it.
Decoded decode_records(RecordType type, std::span<const std::uint8_t> msg) {
    const auto* buf = msg.data();
    const int len = static_cast<int>(msg.size());
    const int room = std::max(1, answer_count(msg));
    std::vector<std::string> out;
    switch (type) {
    case RecordType::a: {
        std::vector<ares_addrttl> addrs(static_cast<std::size_t>(room));
        int n = room;
        if (ares_parse_a_reply(buf, len, nullptr, addrs.data(), &n) != ARES_SUCCESS)
            return std::nullopt;
        for (int i = 0; i < n; ++i)
            out.push_back(address_text(AF_INET, &addrs[static_cast<std::size_t>(i)].ipaddr));
        break;
    }
    case RecordType::aaaa: {
        std::vector<ares_addr6ttl> addrs(static_cast<std::size_t>(room));
        int n = room;
        if (ares_parse_aaaa_reply(buf, len, nullptr, addrs.data(), &n) != ARES_SUCCESS)
            return std::nullopt;
        for (int i = 0; i < n; ++i)
            out.push_back(address_text(AF_INET6, &addrs[static_cast<std::size_t>(i)].ip6addr));
        break;
    }
    case RecordType::mx: {
        ares_mx_reply* mx = nullptr;
        if (ares_parse_mx_reply(buf, len, &mx) != ARES_SUCCESS)
            return std::nullopt;
        // A null MX (RFC 7505) has the root as exchange: "0 " with an empty name.
        for (const ares_mx_reply* m = mx; m != nullptr; m = m->next)
            out.push_back(std::to_string(m->priority) + " " + without_final_dot(m->host));
        ares_free_data(mx);
        break;
    }
    case RecordType::ptr: {
        hostent* host = nullptr;
        const std::uint8_t unused[4] = {};
        if (ares_parse_ptr_reply(buf, len, unused, sizeof unused, AF_INET, &host) != ARES_SUCCESS)
            return std::nullopt;
        // Every PTR name is in h_aliases, in answer order; h_name is only the last one.
        for (char** a = host->h_aliases; a != nullptr && *a != nullptr; ++a)
            out.push_back(without_final_dot(*a));
        if (out.empty() && host->h_name != nullptr)
            out.push_back(without_final_dot(host->h_name));
        ares_free_hostent(host);
        break;
    }
    case RecordType::txt:
        return std::nullopt; // parse_response() decodes TXT itself
    }
    return checked(type, std::move(out));
}
#endif

/// What c-ares carries for one query. The resolver owns it (Impl::tickets_); c-ares holds a
/// pointer until its callback runs, which happens exactly once (also on ares_destroy, with
/// ARES_EDESTRUCTION) or, for a query c-ares refused to start, possibly never.
struct Ticket {
    AresResolver::Impl* impl;
    Resolver::QueryId id;
    RecordType type;
    std::string name;
};

} // namespace

class AresResolver::Impl : public std::enable_shared_from_this<AresResolver::Impl> {
  public:
    explicit Impl(boost::asio::io_context& io) : io_(io), timer_(io) {}
    ~Impl() { shutdown(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void start(const AresOptions& opts);
    QueryId query(RecordType type, const std::string& name, Completion done);
    void cancel(QueryId id) { pending_.erase(id); }
    void shutdown();
    std::size_t pending() const { return pending_.size(); }
    std::size_t sockets() const { return sockets_.size(); }

    // Entry points from c-ares (C callbacks in the anonymous namespace below).
    void on_sock_state(int fd, bool readable, bool writable);
    /// `msg` is the response packet (empty if none); `records` the decoded RDATA for types
    /// other than TXT, used when the packet says NOERROR with records.
    void on_answer(QueryId id,
                   RecordType type,
                   const std::string& name,
                   int status,
                   std::span<const std::uint8_t> msg,
                   Decoded records);
    /// Hands a ticket back from c-ares; null if it was already handed back.
    std::unique_ptr<Ticket> take(const Ticket* t);

  private:
    /// One socket c-ares opened. The descriptor only borrows the fd: it is release()d, never
    /// closed, because c-ares closes its own sockets.
    struct Socket {
        Socket(boost::asio::io_context& io, int f) : sd(io), fd(f) {}
        boost::asio::posix::stream_descriptor sd;
        int fd;
        bool want_read = false;
        bool want_write = false;
        bool reading = false;
        bool writing = false;
        bool gone = false;
    };

    void arm(const std::shared_ptr<Socket>& s);
    void on_ready(const std::shared_ptr<Socket>& s, bool write, boost::system::error_code ec);
    void rearm_timer();
    void deliver(QueryId id, Answer answer);

    boost::asio::io_context& io_;
    ares_channel channel_ = nullptr;
    boost::asio::steady_timer timer_;
    bool timer_armed_ = false;
    std::uint64_t timer_gen_ = 0;
    std::unordered_map<int, std::shared_ptr<Socket>> sockets_;
    std::unordered_map<QueryId, Completion> pending_;
    std::unordered_map<const Ticket*, std::unique_ptr<Ticket>> tickets_;
    QueryId next_id_ = 1;
    bool closed_ = false;
};

namespace {

void sock_state_cb(void* data, ares_socket_t fd, int readable, int writable) {
    try {
        static_cast<AresResolver::Impl*>(data)->on_sock_state(fd, readable != 0, writable != 0);
    } catch (...) {
        // Nothing may unwind through c-ares. Unwatched sockets still time out via the timer.
    }
}

#if ARCF_CARES_DNSREC
struct AresFree {
    void operator()(unsigned char* p) const { ares_free_string(p); }
};

void answer_cb(void* arg,
               ares_status_t status,
               std::size_t /*timeouts*/,
               const ares_dns_record_t* rec) {
    const auto* raw = static_cast<const Ticket*>(arg);
    std::unique_ptr<Ticket> t = raw->impl->take(raw);
    if (!t)
        return;
    try {
        // dns/txt.cpp reads the wire form, so the parsed record is written back out; c-ares
        // only hands over a record it could parse.
        std::unique_ptr<unsigned char, AresFree> buf;
        std::span<const std::uint8_t> msg;
        unsigned char* out = nullptr;
        std::size_t len = 0;
        if (rec != nullptr && ares_dns_write(rec, &out, &len) == ARES_SUCCESS) {
            buf.reset(out);
            msg = std::span<const std::uint8_t>(out, len);
        }
        Decoded records = t->type == RecordType::txt || status != ARES_SUCCESS
                              ? Decoded()
                              : decode_records(t->type, rec, t->name);
        t->impl->on_answer(t->id, t->type, t->name, static_cast<int>(status), msg,
                           std::move(records));
    } catch (...) {
        // Out of memory while classifying or posting: the query stays pending until cancelled.
    }
}
#else
void answer_cb(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    const auto* raw = static_cast<const Ticket*>(arg);
    std::unique_ptr<Ticket> t = raw->impl->take(raw);
    if (!t)
        return;
    try {
        std::span<const std::uint8_t> msg;
        if (abuf != nullptr && alen > 0)
            msg = std::span<const std::uint8_t>(abuf, static_cast<std::size_t>(alen));
        Decoded records = t->type == RecordType::txt || status != ARES_SUCCESS
                              ? Decoded()
                              : decode_records(t->type, msg);
        t->impl->on_answer(t->id, t->type, t->name, status, msg, std::move(records));
    } catch (...) {
        // Out of memory while classifying or posting: the query stays pending until cancelled.
    }
}
#endif

} // namespace

void AresResolver::Impl::start(const AresOptions& opts) {
    init_library_once();
    ares_options o{};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    o.flags = 0;
    // c-ares 1.18 turns SERVFAIL/REFUSED into a retry and finally ARES_ECONNREFUSED; passing them
    // through keeps the RCODE for the log. Both are temporary failures (RFC 8617 §5.2) anyway.
    if (!opts.servfail_failover)
        o.flags |= ARES_FLAG_NOCHECKRESP;
    if (opts.edns_udp_size > 0) {
        // RFC 6891 §6.2.5: advertise a payload size so 2048/4096-bit keys fit in one datagram.
        // Truncated answers (TC=1) are retried over TCP because ARES_FLAG_IGNTC stays off
        // (RFC 7766 §5).
        o.flags |= ARES_FLAG_EDNS;
        o.ednspsz = opts.edns_udp_size;
        mask |= ARES_OPT_EDNSPSZ;
    }
    o.timeout = static_cast<int>(opts.timeout.count() > 0 ? opts.timeout.count() : 1);
    o.tries = opts.tries > 0 ? opts.tries : 1;
    o.sock_state_cb = &sock_state_cb;
    o.sock_state_cb_data = this;
#if ARES_VERSION >= 0x011700 // 1.23.0: ARES_OPT_QUERY_CACHE
    // c-ares >= 1.23 can keep answers itself (>= 1.31 does so by default, up to an hour). A
    // max TTL of 0 turns that off, so dns/cache.cpp with its documented budget, TTL caps and
    // SIGHUP flush stays the only cache (RFC 2308 §5 negative TTLs are applied there).
    o.qcache_max_ttl = 0;
    mask |= ARES_OPT_QUERY_CACHE;
#endif
    int rc = ares_init_options(&channel_, &o, mask);
    if (rc != ARES_SUCCESS) {
        channel_ = nullptr;
        throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(rc));
    }
    if (!opts.servers.empty()) {
        rc = ares_set_servers_ports_csv(channel_, opts.servers.c_str());
        if (rc != ARES_SUCCESS)
            throw std::runtime_error("DNS servers \"" + opts.servers + "\": " + ares_strerror(rc));
    }
}

void AresResolver::Impl::shutdown() {
    if (channel_ == nullptr)
        return;
    closed_ = true;
    pending_.clear();
    // Runs every query callback with ARES_EDESTRUCTION (dropped in on_answer) and reports each
    // socket closed through sock_state_cb, which releases its descriptor.
    ares_destroy(channel_);
    channel_ = nullptr;
    tickets_.clear();
    for (auto& [fd, s] : sockets_) {
        s->gone = true;
        s->sd.release();
    }
    sockets_.clear();
    timer_.cancel();
}

Resolver::QueryId
AresResolver::Impl::query(RecordType type, const std::string& name, Completion done) {
    QueryId id = next_id_++;
    pending_.emplace(id, std::move(done));
    if (closed_) {
        boost::asio::post(io_, [weak = weak_from_this(), id, type] {
            if (auto self = weak.lock())
                self->deliver(id, transport_failure(Transport::shut_down, {}, type));
        });
        return id;
    }
    // c-ares would read '\' as an RFC 1035 §5.1 escape and stop at NUL; neither occurs in a
    // selector or domain (RFC 6376 §3.1 sub-domain syntax), so such names cannot own a record.
    if (name.find_first_of(std::string_view("\\\0", 2)) != std::string::npos) {
        on_answer(id, type, name, ARES_EBADNAME, {}, std::nullopt);
        return id;
    }
    auto owned = std::make_unique<Ticket>(Ticket{this, id, type, name});
    const Ticket* ticket = owned.get();
    tickets_.emplace(ticket, std::move(owned));
    // answer_cb may run before the call returns (bad name, no servers), which is fine because
    // on_answer only posts.
#if ARCF_CARES_DNSREC
    unsigned short qid = 0;
    ares_status_t rc = ares_query_dnsrec(channel_, name.c_str(), ARES_CLASS_IN,
                                         static_cast<ares_dns_rec_type_t>(wire_type(type)),
                                         &answer_cb, const_cast<Ticket*>(ticket), &qid);
    // A query c-ares did not start may not have reached answer_cb; then it is answered here.
    if (rc != ARES_SUCCESS && take(ticket))
        on_answer(id, type, name, static_cast<int>(rc), {}, std::nullopt);
#else
    ares_query(channel_, name.c_str(), class_in, wire_type(type), &answer_cb,
               const_cast<Ticket*>(ticket));
#endif
    rearm_timer();
    return id;
}

std::unique_ptr<Ticket> AresResolver::Impl::take(const Ticket* t) {
    auto it = tickets_.find(t);
    if (it == tickets_.end())
        return nullptr;
    std::unique_ptr<Ticket> owned = std::move(it->second);
    tickets_.erase(it);
    return owned;
}

void AresResolver::Impl::on_answer(QueryId id,
                                   RecordType type,
                                   const std::string& name,
                                   int status,
                                   std::span<const std::uint8_t> msg,
                                   Decoded records) {
    if (closed_ || status == ARES_EDESTRUCTION || pending_.count(id) == 0)
        return;
    // The status, TTLs and negative answers are decided as for TXT (dns/txt.cpp), so every type
    // tells NXDOMAIN, NODATA and temporary failures apart the same way.
    Answer a = classify(transport_of(status), msg, name, type);
    if (a.status == Status::temporary && transport_of(status) == Transport::other)
        a.detail = ares_strerror(status);
    if (a.status == Status::ok && type != RecordType::txt) {
        if (records && !records->empty())
            a.records = std::move(*records);
        else
            a = Answer::failed(Status::temporary,
                               "malformed answer: " + std::string(to_string(type)) + " record");
    }
    // Never complete inline: c-ares may be inside ares_query() or ares_process_fd() here.
    boost::asio::post(io_, [weak = weak_from_this(), id, a = std::move(a)]() mutable {
        if (auto self = weak.lock())
            self->deliver(id, std::move(a));
    });
}

void AresResolver::Impl::deliver(QueryId id, Answer answer) {
    if (closed_)
        return;
    auto it = pending_.find(id);
    if (it == pending_.end())
        return; // cancelled
    Completion done = std::move(it->second);
    pending_.erase(it);
    done(std::move(answer));
}

void AresResolver::Impl::on_sock_state(int fd, bool readable, bool writable) {
    auto it = sockets_.find(fd);
    if (!readable && !writable) {
        // c-ares is about to close fd: stop watching without closing it.
        if (it != sockets_.end()) {
            it->second->gone = true;
            boost::system::error_code ignored;
            it->second->sd.cancel(ignored);
            it->second->sd.release();
            sockets_.erase(it);
        }
        return;
    }
    if (closed_)
        return;
    std::shared_ptr<Socket> s;
    if (it == sockets_.end()) {
        s = std::make_shared<Socket>(io_, fd);
        boost::system::error_code ec;
        s->sd.assign(fd, ec);
        sockets_.emplace(fd, s);
        if (ec) {
            s->gone = true; // cannot watch it; its queries end by timeout
            return;
        }
    } else {
        s = it->second;
    }
    s->want_read = readable;
    s->want_write = writable;
    arm(s);
}

void AresResolver::Impl::arm(const std::shared_ptr<Socket>& s) {
    using boost::asio::posix::descriptor_base;
    std::weak_ptr<Impl> weak = weak_from_this();
    if (s->want_read && !s->reading && !s->gone) {
        s->reading = true;
        s->sd.async_wait(descriptor_base::wait_read, [weak, s](boost::system::error_code ec) {
            s->reading = false;
            if (auto self = weak.lock())
                self->on_ready(s, false, ec);
        });
    }
    if (s->want_write && !s->writing && !s->gone) {
        s->writing = true;
        s->sd.async_wait(descriptor_base::wait_write, [weak, s](boost::system::error_code ec) {
            s->writing = false;
            if (auto self = weak.lock())
                self->on_ready(s, true, ec);
        });
    }
}

void AresResolver::Impl::on_ready(const std::shared_ptr<Socket>& s,
                                  bool write,
                                  boost::system::error_code ec) {
    if (closed_ || s->gone || ec == boost::asio::error::operation_aborted)
        return;
    // Other errors: let c-ares try the socket and notice the failure itself.
    if (write)
        ares_process_fd(channel_, ARES_SOCKET_BAD, s->fd);
    else
        ares_process_fd(channel_, s->fd, ARES_SOCKET_BAD);
    if (closed_)
        return;
    if (!s->gone)
        arm(s);
    rearm_timer();
}

void AresResolver::Impl::rearm_timer() {
    if (closed_)
        return;
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
        if (timer_armed_) {
            timer_armed_ = false;
            ++timer_gen_;
            timer_.cancel();
        }
        return;
    }
    auto due = std::chrono::steady_clock::now() + std::chrono::seconds(tv.tv_sec) +
               std::chrono::microseconds(tv.tv_usec);
    // An earlier wake-up is harmless (c-ares just finds nothing due), so keep a pending one.
    if (timer_armed_ && timer_.expiry() <= due)
        return;
    timer_armed_ = true;
    std::uint64_t gen = ++timer_gen_;
    timer_.expires_at(due);
    timer_.async_wait([weak = weak_from_this(), gen](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec == boost::asio::error::operation_aborted || gen != self->timer_gen_ ||
            self->closed_)
            return;
        self->timer_armed_ = false;
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD); // timeouts only
        self->rearm_timer();
    });
}

AresResolver::AresResolver(boost::asio::io_context& io, const AresOptions& opts)
    : impl_(std::make_shared<Impl>(io)) {
    impl_->start(opts); // on throw, ~Impl destroys the half-set-up channel
}

AresResolver::~AresResolver() {
    impl_->shutdown();
}

Resolver::QueryId AresResolver::query(RecordType type, const std::string& name, Completion done) {
    return impl_->query(type, name, std::move(done));
}

void AresResolver::cancel(QueryId id) {
    impl_->cancel(id);
}

std::size_t AresResolver::pending() const {
    return impl_->pending();
}

std::size_t AresResolver::open_sockets() const {
    return impl_->sockets();
}

} // namespace arcf::dns
