// SPDX-License-Identifier: ISC
// check_host() (RFC 7208 §4) as a sans-I/O state machine: it asks for DNS queries, is fed the
// answers in any order, and ends in a Verdict. No sockets, clock or exceptions.
#pragma once

#include "spf/dns.hpp"
#include "spf/ip.hpp"
#include "spf/macro.hpp"
#include "spf/record.hpp"
#include "spf/result.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace arcf::spf {

/// The arguments of check_host() (RFC 7208 §4.1) plus what the macros need (§7.2).
struct CheckHost {
    IpAddress ip;         ///< <ip>, the SMTP client
    std::string domain;   ///< <domain>
    std::string sender;   ///< <sender>: "local@domain" ("postmaster" when the local-part is empty)
    std::string helo;     ///< %{h}
    std::string receiver; ///< %{r} in explanations; "unknown" when empty
    std::int64_t now = 0; ///< %{t} in explanations, seconds since the epoch
};

/// The MAIL FROM identity (RFC 7208 §2.4): <sender> is the reverse-path and <domain> its domain;
/// with a null reverse-path it is "postmaster@" the HELO identity (§2.4, §2.3).
CheckHost mail_from_identity(const IpAddress& ip,
                             std::string_view mail_from,
                             std::string_view helo,
                             std::string_view receiver,
                             std::int64_t now);
/// The HELO identity (RFC 7208 §2.3): <domain> is the HELO name, <sender> "postmaster@" it.
CheckHost helo_identity(const IpAddress& ip,
                        std::string_view helo,
                        std::string_view receiver,
                        std::int64_t now);

/// Processing limits (RFC 7208 §4.6.4). The defaults are the RFC's.
struct Limits {
    unsigned dns_terms = 10;   ///< include, a, mx, ptr, exists, redirect per evaluation
    unsigned void_lookups = 2; ///< a, mx, exists terms answered NXDOMAIN or no records
    unsigned mx_names = 10;    ///< MX records per "mx" (more is a permerror)
    unsigned ptr_names = 10;   ///< PTR names validated per "ptr" / %{p} (the rest ignored)
};

/// Every query the evaluator needs is out; feed answers to make progress.
struct Waiting {};

/// What step() returns: a query to send, Waiting, or the final verdict.
using Step = std::variant<Query, Waiting, Verdict>;

/// One check_host() evaluation. Drive it like this:
///
///     for (;;) {
///         auto s = ev.step();
///         if (auto* q = std::get_if<Query>(&s)) { send(*q); continue; }   // keep calling step()
///         if (std::holds_alternative<Waiting>(s)) { wait for an answer; ev.answer(id, a); }
///         else { use std::get<Verdict>(s); cancel any query still in flight; break; }
///     }
///
/// Several queries may be in flight at once (the addresses of all MX hosts, of all PTR names);
/// answers may come in any order and the verdict is the one sequential evaluation gives. Each
/// distinct (type, name) is asked at most once per evaluation. The elapsed-time limit of
/// RFC 7208 §4.6.4 is the caller's: answering every query still in flight with
/// Status::temporary ends the evaluation promptly.
class Evaluator {
  public:
    explicit Evaluator(CheckHost check, Limits limits = {});

    /// The next thing to do. Once a Verdict is returned, every later call returns it again.
    Step step();
    /// Feeds the answer to a query step() returned. False (and ignored) for an unknown id or
    /// one already answered.
    bool answer(QueryId id, Answer a);

    bool finished() const { return verdict_.has_value(); }
    /// Queries handed out by step() and not answered yet.
    std::size_t in_flight() const { return in_flight_; }
    /// DNS-querying terms and void lookups counted so far (§4.6.4), for logs.
    unsigned dns_terms() const { return terms_; }
    unsigned void_lookups() const { return voids_; }

  private:
    // One check_host() invocation: the top level, or an include: target. A redirect= replaces
    // the frame's domain and record in place (§6.1).
    struct Frame {
        std::string domain;
        bool from_redirect = false; ///< "none" becomes permerror (§6.1)
        bool fetched = false;
        Record record;
        std::size_t term = 0;         ///< next mechanism
        bool charged = false;         ///< the current term was counted against the limit
        std::optional<Verdict> child; ///< the include target's verdict
    };

    enum class Outcome { blocked, match, no_match, pushed, error };
    struct TermResult {
        Outcome outcome = Outcome::blocked;
        Result error = Result::permerror;
        std::string reason;
    };
    struct Progress {
        enum class Kind { blocked, again, finished } kind = Kind::blocked;
        Verdict verdict;
    };
    struct Entry {
        QueryId id = 0;
        bool sent = false; ///< handed out by step()
        std::optional<Answer> answer;
    };
    using Key = std::pair<QueryType, std::string>;

    void run();
    Progress advance(Frame& f);
    Progress fetch(Frame& f);
    TermResult evaluate(Frame& f, const Mechanism& m);
    TermResult evaluate_mx(const Mechanism& m, const std::string& target);
    bool explain();
    void finish_frame(Verdict v);

    const Answer* lookup(QueryType type, const std::string& name);
    QueryType address_type() const { return check_.ip.v6 ? QueryType::aaaa : QueryType::a; }
    const std::vector<std::string>* validated_names();
    std::optional<std::string> expand_for(const std::string& domain, const MacroString& ms);
    std::optional<std::string> target_name(const Frame& f, const std::optional<MacroString>& spec);
    bool charge_term();
    bool count_void();

    CheckHost check_;
    Limits limits_;
    MacroValues base_values_;

    std::deque<Frame> stack_;
    unsigned terms_ = 0;
    unsigned voids_ = 0;
    std::optional<std::vector<std::string>> validated_;

    bool explaining_ = false;
    Verdict pending_; ///< the "fail" waiting for its explanation
    MacroString explain_spec_;
    std::string explain_domain_;
    std::optional<std::string> explain_target_;

    std::optional<Verdict> verdict_;

    std::map<Key, Entry> cache_;
    std::map<QueryId, Key> ids_;
    std::deque<Query> outbox_;
    QueryId next_id_ = 1;
    std::size_t in_flight_ = 0;
    bool dirty_ = true; ///< something changed since run() last blocked
};

} // namespace arcf::spf
