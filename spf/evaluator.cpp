// SPDX-License-Identifier: ISC
// check_host() (RFC 7208 §4) as a resumable interpreter over a stack of record frames. Every
// step that needs DNS asks the cache; a miss queues a query and the step is re-run, from its
// start, once answers arrive (the steps are idempotent until they decide).
#include "spf/evaluator.hpp"

#include <algorithm>
#include <charconv>

#include "text/ascii.hpp"

namespace arcf::spf {

namespace {

// §7.3: an expanded name longer than 253 characters loses labels from the left until it fits.
// A trailing dot is ignored for domains (the suite's 7.1/16).
std::string normalize_target(std::string_view s) {
    std::string out(text::without_root_dot(s));
    while (out.size() > 253) {
        std::size_t dot = out.find('.');
        if (dot == std::string::npos)
            break;
        out.erase(0, dot + 1);
    }
    return out;
}

// §4.3: a malformed or single-label <domain>, or an address literal, gives "none".
bool initial_domain_ok(std::string_view domain) {
    return !domain.empty() && domain.front() != '[' && text::is_dns_name(domain) &&
           domain.find('.') != std::string_view::npos;
}

// `name` is `target` or a subdomain of it (§5.5), without regard to case.
bool same_or_subdomain(std::string_view name, std::string_view target) {
    if (name.size() == target.size())
        return text::iequals(name, target);
    return name.size() > target.size() && name[name.size() - target.size() - 1] == '.' &&
           text::iequals(name.substr(name.size() - target.size()), target);
}

std::optional<IpAddress> answer_address(const std::string& text, bool v6) {
    if (v6) {
        auto a = parse_ipv6(text);
        return a ? std::optional<IpAddress>(IpAddress::v6_from(*a)) : std::nullopt;
    }
    auto a = parse_ipv4(text);
    return a ? std::optional<IpAddress>(IpAddress::v4_from(*a)) : std::nullopt;
}

// §7.3 "p": the <domain> itself if validated, else a subdomain of it, else any; "unknown".
std::string choose_p(const std::vector<std::string>& names, std::string_view domain) {
    for (const auto& n : names)
        if (text::iequals(n, domain))
            return n;
    for (const auto& n : names)
        if (same_or_subdomain(n, domain))
            return n;
    return names.empty() ? std::string("unknown") : names.front();
}

struct MxHost {
    unsigned preference = 0;
    std::string host;
};

std::optional<MxHost> parse_mx(std::string_view rec) {
    std::size_t space = rec.find(' ');
    if (space == std::string_view::npos)
        return std::nullopt;
    MxHost mx;
    auto [end, ec] = std::from_chars(rec.data(), rec.data() + space, mx.preference);
    if (ec != std::errc() || end != rec.data() + space)
        return std::nullopt;
    std::string_view host = rec.substr(space + 1);
    while (!host.empty() && host.front() == ' ')
        host.remove_prefix(1);
    mx.host = std::string(text::without_root_dot(host));
    return mx;
}

std::string describe(const Answer& a) {
    return a.detail.empty() ? std::string(arcf::dns::to_string(a.status)) : a.detail;
}

} // namespace

CheckHost mail_from_identity(const IpAddress& ip,
                             std::string_view mail_from,
                             std::string_view helo,
                             std::string_view receiver,
                             std::int64_t now) {
    if (mail_from.empty())
        return helo_identity(ip, helo, receiver, now);
    CheckHost c;
    c.ip = ip;
    c.helo = std::string(helo);
    c.receiver = std::string(receiver);
    c.now = now;
    std::size_t at = mail_from.rfind('@');
    std::string local(at == std::string_view::npos ? std::string_view() : mail_from.substr(0, at));
    c.domain = std::string(at == std::string_view::npos ? mail_from : mail_from.substr(at + 1));
    // §4.3: "If the <sender> has no local-part, substitute the string 'postmaster'".
    if (local.empty())
        local = "postmaster";
    c.sender = local + "@" + c.domain;
    return c;
}

CheckHost helo_identity(const IpAddress& ip,
                        std::string_view helo,
                        std::string_view receiver,
                        std::int64_t now) {
    CheckHost c;
    c.ip = ip;
    c.domain = std::string(helo);
    c.sender = "postmaster@" + c.domain; // §2.3, §2.4
    c.helo = std::string(helo);
    c.receiver = std::string(receiver);
    c.now = now;
    return c;
}

Evaluator::Evaluator(CheckHost check, Limits limits) : check_(std::move(check)), limits_(limits) {
    check_.domain = std::string(text::without_root_dot(check_.domain));
    std::size_t at = check_.sender.rfind('@');
    std::string local, sender_domain;
    if (at == std::string::npos) {
        sender_domain = check_.sender.empty() ? check_.domain : check_.sender;
    } else {
        local = check_.sender.substr(0, at);
        sender_domain = check_.sender.substr(at + 1);
    }
    if (local.empty())
        local = "postmaster"; // §4.3
    if (check_.receiver.empty())
        check_.receiver = "unknown";
    base_values_.sender = local + "@" + sender_domain;
    base_values_.local_part = local;
    base_values_.sender_domain = sender_domain;
    base_values_.domain = check_.domain;
    base_values_.ip = check_.ip.macro_i();
    base_values_.ptr = "unknown";
    base_values_.ip_version = check_.ip.v6 ? "ip6" : "in-addr";
    base_values_.helo = check_.helo;
    base_values_.client = check_.ip.to_string();
    base_values_.receiver = check_.receiver;
    base_values_.timestamp = std::to_string(check_.now);
    Frame top;
    top.domain = check_.domain;
    stack_.push_back(std::move(top));
}

Step Evaluator::step() {
    if (verdict_)
        return *verdict_;
    if (outbox_.empty() && dirty_) {
        dirty_ = false;
        run();
    }
    if (verdict_) {
        outbox_.clear(); // asked for but never handed out: no longer needed
        return *verdict_;
    }
    if (!outbox_.empty()) {
        Query q = std::move(outbox_.front());
        outbox_.pop_front();
        cache_.at(ids_.at(q.id)).sent = true;
        ++in_flight_;
        return q;
    }
    if (in_flight_ > 0)
        return Waiting{};
    // Blocked with nothing asked for: a bug. Never leave the caller waiting forever.
    verdict_ = Verdict{Result::temperror, {}, {}, "internal error: SPF evaluation stalled"};
    return *verdict_;
}

bool Evaluator::answer(QueryId id, Answer a) {
    auto it = ids_.find(id);
    if (it == ids_.end())
        return false;
    Entry& e = cache_.at(it->second);
    if (!e.sent || e.answer)
        return false;
    if (a.status == Status::ok && a.records.empty())
        a.status = Status::nodata;
    e.answer = std::move(a);
    --in_flight_;
    dirty_ = true;
    return true;
}

const Answer* Evaluator::lookup(QueryType type, const std::string& name) {
    // A name no query can be made for is treated as non-existent, like the malformed <domain>
    // of §4.3 (RFC 7208 leaves it undefined for targets; the suite accepts either reading).
    static const Answer invalid = Answer::failed(Status::nxdomain, "not a valid domain name");
    if (!text::is_dns_name(name))
        return &invalid;
    Key key{type, text::to_lower(name)};
    if (auto it = cache_.find(key); it != cache_.end())
        return it->second.answer ? &*it->second.answer : nullptr;
    QueryId id = next_id_++;
    cache_.emplace(key, Entry{id, false, std::nullopt});
    ids_.emplace(id, key);
    outbox_.push_back(Query{id, type, name});
    return nullptr;
}

void Evaluator::run() {
    while (!verdict_) {
        if (explaining_) {
            if (!explain())
                return;
            continue;
        }
        Progress p = advance(stack_.back());
        if (p.kind == Progress::Kind::blocked)
            return;
        if (p.kind == Progress::Kind::finished)
            finish_frame(std::move(p.verdict));
    }
}

void Evaluator::finish_frame(Verdict v) {
    if (stack_.size() > 1) {
        stack_.pop_back();
        stack_.back().child = std::move(v);
        return;
    }
    const Frame& top = stack_.back();
    // §6.2: exp= is consulted for a "fail" of the record that produced it (after redirects;
    // never an included record's).
    if (v.result == Result::fail && top.fetched && top.record.exp) {
        explaining_ = true;
        pending_ = std::move(v);
        explain_spec_ = *top.record.exp;
        explain_domain_ = top.domain;
        return;
    }
    verdict_ = std::move(v);
}

bool Evaluator::charge_term() {
    // §4.6.4: include, a, mx, ptr, exists and redirect count; more than 10 is a permerror.
    ++terms_;
    return terms_ <= limits_.dns_terms;
}

bool Evaluator::count_void() {
    // §4.6.4: more than 2 lookups answering NXDOMAIN or no records give permerror.
    ++voids_;
    return voids_ <= limits_.void_lookups;
}

Evaluator::Progress Evaluator::fetch(Frame& f) {
    auto finished = [](Result r, std::string why) {
        return Progress{Progress::Kind::finished, Verdict{r, {}, {}, std::move(why)}};
    };
    auto no_record = [&](const std::string& why) {
        // §6.1: a redirect= target without a record is a permerror, not "none".
        if (f.from_redirect)
            return finished(Result::permerror,
                            "redirect=" + f.domain + ": " + why + " (RFC 7208 §6.1)");
        return finished(Result::none, why);
    };
    if (stack_.size() == 1 && !f.from_redirect && !initial_domain_ok(f.domain))
        return finished(Result::none,
                        "\"" + f.domain + "\" is not a usable domain (RFC 7208 §4.3)");
    const Answer* a = lookup(QueryType::txt, f.domain);
    if (!a)
        return Progress{};
    // §4.4: a DNS error other than NXDOMAIN is a temperror; NXDOMAIN or nothing is "none".
    if (a->status == Status::temporary)
        return finished(Result::temperror,
                        "TXT lookup for " + f.domain + ": " + describe(*a) + " (RFC 7208 §4.4)");
    std::vector<const std::string*> spf;
    if (a->status == Status::ok)
        for (const auto& r : a->records)
            if (is_spf_record(r))
                spf.push_back(&r);
    if (spf.empty())
        return no_record("no SPF record at " + f.domain);
    // §4.5: more than one record is a permerror.
    if (spf.size() > 1)
        return finished(Result::permerror, f.domain + " publishes " + std::to_string(spf.size()) +
                                               " SPF records (RFC 7208 §4.5)");
    auto parsed = parse_record(*spf.front());
    if (!parsed)
        return finished(Result::permerror, "SPF record of " + f.domain + ": " +
                                               parsed.error().detail + " (RFC 7208 §4.6)");
    f.record = std::move(*parsed);
    f.fetched = true;
    return Progress{Progress::Kind::again, {}};
}

Evaluator::Progress Evaluator::advance(Frame& f) {
    if (!f.fetched)
        return fetch(f);
    // §4.6.2: mechanisms in order; the first match decides.
    while (f.term < f.record.mechanisms.size()) {
        const Mechanism& m = f.record.mechanisms[f.term];
        TermResult r = evaluate(f, m);
        switch (r.outcome) {
        case Outcome::blocked:
            return Progress{};
        case Outcome::pushed:
            return Progress{Progress::Kind::again, {}};
        case Outcome::match:
            return Progress{
                Progress::Kind::finished,
                Verdict{
                    result_of(m.qualifier), {}, m.text, "matched " + m.text + " in " + f.domain}};
        case Outcome::error:
            return Progress{Progress::Kind::finished,
                            Verdict{r.error, {}, {}, std::move(r.reason)}};
        case Outcome::no_match:
            ++f.term;
            f.charged = false;
            f.child.reset();
            break;
        }
    }
    // §6.1: redirect= applies after every mechanism failed to match, unless there is an "all"
    // (§5.1).
    if (f.record.redirect && !f.record.has_all()) {
        if (!f.charged) {
            if (!charge_term())
                return Progress{Progress::Kind::finished,
                                Verdict{Result::permerror,
                                        {},
                                        {},
                                        "more than " + std::to_string(limits_.dns_terms) +
                                            " DNS-querying terms (RFC 7208 §4.6.4)"}};
            f.charged = true;
        }
        auto target = target_name(f, f.record.redirect);
        if (!target)
            return Progress{};
        std::string next = std::move(*target);
        f.domain = std::move(next);
        f.from_redirect = true;
        f.fetched = false;
        f.record = Record{};
        f.term = 0;
        f.charged = false;
        f.child.reset();
        return Progress{Progress::Kind::again, {}};
    }
    return Progress{
        Progress::Kind::finished,
        Verdict{
            Result::neutral, {}, {}, "no mechanism matched in " + f.domain + " (RFC 7208 §4.7)"}};
}

Evaluator::TermResult Evaluator::evaluate(Frame& f, const Mechanism& m) {
    auto error = [](Result r, std::string why) {
        return TermResult{Outcome::error, r, std::move(why)};
    };
    const TermResult blocked{Outcome::blocked, {}, {}};
    const TermResult match{Outcome::match, {}, {}};
    const TermResult no_match{Outcome::no_match, {}, {}};
    auto void_limit = [&] {
        return error(Result::permerror, "more than " + std::to_string(limits_.void_lookups) +
                                            " void lookups, the last at " + m.text +
                                            " (RFC 7208 §4.6.4)");
    };
    if (m.queries_dns() && !f.charged) {
        if (!charge_term())
            return error(Result::permerror, "more than " + std::to_string(limits_.dns_terms) +
                                                " DNS-querying terms at " + m.text +
                                                " (RFC 7208 §4.6.4)");
        f.charged = true;
    }
    const IpAddress& ip = check_.ip;
    auto address_match = [&](const Answer& a) {
        for (const auto& rec : a.records) {
            auto addr = answer_address(rec, ip.v6);
            if (addr && in_network(ip, *addr, ip.v6 ? m.cidr6 : m.cidr4))
                return true;
        }
        return false;
    };

    switch (m.kind) {
    case MechanismKind::all: // §5.1
        return match;
    case MechanismKind::ip4: // §5.6
        return !ip.v6 && in_network(ip, m.network, m.cidr4) ? match : no_match;
    case MechanismKind::ip6:
        return ip.v6 && in_network(ip, m.network, m.cidr6) ? match : no_match;
    case MechanismKind::a: { // §5.3
        auto target = target_name(f, m.domain);
        if (!target)
            return blocked;
        const Answer* a = lookup(address_type(), *target);
        if (!a)
            return blocked;
        // §5: a DNS error makes the whole check a temperror; NXDOMAIN is "no records".
        if (a->status == Status::temporary)
            return error(Result::temperror, std::string(to_string(address_type())) +
                                                " lookup for " + *target + ": " + describe(*a) +
                                                " (RFC 7208 §5)");
        if (a->status != Status::ok)
            return count_void() ? no_match : void_limit();
        return address_match(*a) ? match : no_match;
    }
    case MechanismKind::mx: { // §5.4
        auto target = target_name(f, m.domain);
        if (!target)
            return blocked;
        const Answer* a = lookup(QueryType::mx, *target);
        if (!a)
            return blocked;
        if (a->status == Status::temporary)
            return error(Result::temperror,
                         "MX lookup for " + *target + ": " + describe(*a) + " (RFC 7208 §5)");
        // §5.4: no MX records means no match; never fall back to the A record.
        if (a->status != Status::ok)
            return count_void() ? no_match : void_limit();
        // §4.6.4 item 2: more than 10 MX records is a permerror.
        if (a->records.size() > limits_.mx_names)
            return error(Result::permerror, *target + " has more than " +
                                                std::to_string(limits_.mx_names) +
                                                " MX records (RFC 7208 §4.6.4)");
        std::vector<MxHost> hosts;
        for (const auto& rec : a->records)
            if (auto mx = parse_mx(rec))
                hosts.push_back(std::move(*mx));
        std::stable_sort(hosts.begin(), hosts.end(), [](const MxHost& x, const MxHost& y) {
            return x.preference < y.preference;
        });
        // Ask for every exchange at once; decide in order, as a sequential walk would.
        bool waiting = false;
        for (const auto& h : hosts) {
            if (h.host.empty())
                continue; // null MX (RFC 7505)
            const Answer* addr = lookup(address_type(), h.host);
            if (!addr) {
                waiting = true;
                continue;
            }
            if (waiting)
                continue;
            if (addr->status == Status::temporary)
                return error(Result::temperror, std::string(to_string(address_type())) +
                                                    " lookup for MX " + h.host + ": " +
                                                    describe(*addr) + " (RFC 7208 §5)");
            if (addr->status == Status::ok && address_match(*addr))
                return match;
        }
        return waiting ? blocked : no_match;
    }
    case MechanismKind::ptr: { // §5.5
        // Not a void lookup when the PTR answer is empty: reverse zones belong to the client,
        // not to the domain whose record is evaluated, and §5.5 makes PTR failures a plain
        // no-match (the suite's ptr-limit comment argues the same for the PTR limit).
        auto target = target_name(f, m.domain);
        if (!target)
            return blocked;
        const auto* names = validated_names();
        if (!names)
            return blocked;
        for (const auto& n : *names)
            if (same_or_subdomain(n, *target))
                return match;
        return no_match;
    }
    case MechanismKind::exists: { // §5.7: an A query whatever the client's family
        auto target = target_name(f, m.domain);
        if (!target)
            return blocked;
        const Answer* a = lookup(QueryType::a, *target);
        if (!a)
            return blocked;
        if (a->status == Status::temporary)
            return error(Result::temperror,
                         "A lookup for " + *target + ": " + describe(*a) + " (RFC 7208 §5)");
        if (a->status != Status::ok)
            return count_void() ? no_match : void_limit();
        return match;
    }
    case MechanismKind::include: { // §5.2
        if (f.child) {
            const Verdict& c = *f.child;
            switch (c.result) {
            case Result::pass:
                return match;
            case Result::fail:
            case Result::softfail:
            case Result::neutral:
                return no_match;
            case Result::temperror:
                return error(Result::temperror, m.text + ": " + c.reason);
            case Result::permerror:
                return error(Result::permerror, m.text + ": " + c.reason);
            case Result::none:
                return error(Result::permerror,
                             m.text + ": " + c.reason + " (RFC 7208 §5.2: none is a permerror)");
            }
        }
        auto target = target_name(f, m.domain);
        if (!target)
            return blocked;
        Frame child;
        child.domain = std::move(*target);
        stack_.push_back(std::move(child)); // a deque: `f` and `m` stay valid
        return TermResult{Outcome::pushed, {}, {}};
    }
    }
    return no_match;
}

const std::vector<std::string>* Evaluator::validated_names() {
    if (validated_)
        return &*validated_;
    // §5.5: PTR for <ip>, then each name (at most 10, §4.6.4 item 3) is kept if one of its
    // addresses is <ip>. A PTR error leaves no names; an address lookup error skips the name.
    const Answer* ptr = lookup(QueryType::ptr, check_.ip.reverse_name());
    if (!ptr)
        return nullptr;
    std::vector<std::string> names;
    if (ptr->status == Status::ok) {
        for (const auto& r : ptr->records) {
            if (names.size() >= limits_.ptr_names)
                break;
            std::string n = std::string(text::without_root_dot(r));
            if (!n.empty())
                names.push_back(std::move(n));
        }
    }
    bool waiting = false;
    std::vector<std::string> valid;
    for (const auto& n : names) {
        const Answer* a = lookup(address_type(), n);
        if (!a) {
            waiting = true;
            continue;
        }
        if (a->status != Status::ok)
            continue;
        for (const auto& rec : a->records) {
            auto addr = answer_address(rec, check_.ip.v6);
            if (addr && *addr == check_.ip) {
                valid.push_back(n);
                break;
            }
        }
    }
    if (waiting)
        return nullptr;
    validated_ = std::move(valid);
    return &*validated_;
}

std::optional<std::string> Evaluator::expand_for(const std::string& domain, const MacroString& ms) {
    MacroValues v = base_values_;
    v.domain = domain;
    if (ms.uses('p')) {
        const auto* names = validated_names();
        if (!names)
            return std::nullopt;
        v.ptr = choose_p(*names, domain);
    }
    return expand(ms, v);
}

std::optional<std::string> Evaluator::target_name(const Frame& f,
                                                  const std::optional<MacroString>& spec) {
    if (!spec)
        return f.domain;
    auto expanded = expand_for(f.domain, *spec);
    if (!expanded)
        return std::nullopt;
    return normalize_target(*expanded);
}

bool Evaluator::explain() {
    // §6.2: expand the domain-spec, fetch exactly one TXT record, expand it as explain-string.
    // Any DNS error, not exactly one record, or a syntax error: as if there were no exp=.
    if (!explain_target_) {
        auto t = expand_for(explain_domain_, explain_spec_);
        if (!t)
            return false;
        explain_target_ = normalize_target(*t);
    }
    const Answer* a = lookup(QueryType::txt, *explain_target_);
    if (!a)
        return false;
    Verdict v = pending_;
    if (a->status == Status::ok && a->records.size() == 1) {
        auto text = parse_explain_string(a->records.front());
        if (text) {
            auto expanded = expand_for(explain_domain_, *text);
            if (!expanded)
                return false;
            v.explanation = std::move(*expanded);
        }
    }
    explaining_ = false;
    verdict_ = std::move(v);
    return true;
}

} // namespace arcf::spf
