// SPDX-License-Identifier: ISC
// One message through filter-arc, in every mode (smtpd, Exim, command line): lines in, DNS
// questions out by id, answers in by id, a deadline, and one typed Outcome. ARC verification
// (RFC 8617 §5.2), sender authentication (SPF, DKIM, DMARC), the trust boundary, the scrubbing
// of forged Authentication-Results (RFC 8601 §5), the seal decision and the log fields live
// here, once. Pure: no sockets, timers, files or clock (`now` is given).
#pragma once

#include "arc/chain.hpp"
#include "arc/seal.hpp"
#include "dns/answer.hpp"
#include "filter/pipeline/policy.hpp"
#include "filter/pipeline/seal_outcome.hpp"
#include "filter/pipeline/sender_auth.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkim/verifier.hpp"

namespace arcf::filter {
class MessageJob;
} // namespace arcf::filter

namespace arcf::pipeline {

/// Everything that decides what happens to a message; shared by the messages that started
/// under it (a reload never changes a message in flight).
struct Settings {
    std::string authserv_id;
    std::vector<std::string> trusted_authserv_ids; ///< our ADMD's other authserv-ids
    filter::Policy policy; ///< trust boundary, what gets sealed, with which key
    bool scrub_forged = true;
    arc::SealOptions seal;
    mail::KeyPolicy keys;
    bool oldest_pass = true;
    filter::SenderAuthOptions auth;
    std::size_t max_header_fields = 1000;
    std::size_t max_header_bytes = 1024 * 1024;
    std::uint32_t max_arc_sets = 50;
    /// The reply of a deferred message (smtpd's commit answer; Exim and the CLI exit 75).
    std::string tempfail_reply =
        "421 4.7.0 Message authentication temporarily failed (DNS), try again later";
    /// The reply of a message refused because a line cannot be passed back (Delivery).
    std::string line_too_long_reply =
        "550 5.6.0 Message refused: a line is too long to pass through the ARC filter";
};

/// What the MTA told us about the transaction (smtpd reports, Exim's X-ARC-Context; the CLI
/// has none).
struct Envelope {
    std::string client_ip; ///< "" (unix socket) or "local": local submission
    std::string helo;
    std::string mail_from; ///< the reverse-path, with or without <>
    std::string auth_user; ///< non-empty: SMTP AUTH succeeded
    std::vector<std::string> rcpts;
};

using QueryId = std::uint64_t;

/// One DNS question. Ids are unique within one Message; the same (type, name) is asked once
/// (an ARC key and a DKIM key of the same name share one question).
struct Query {
    QueryId id = 0;
    dns::RecordType type = dns::RecordType::txt;
    std::string name;
};

enum class Disposition {
    deliver, ///< pass on with added_lines on top, minus removed_lines
    defer,   ///< temporary failure: smtpd's commit gets reply, Exim and the CLI exit 75
    reject,  ///< permanent: smtpd's commit gets reply (nothing is passed on)
};
std::string_view to_string(Disposition d);

/// Key=value pairs for the one log line of a message, in order; formatted by
/// filter/pipeline/log.hpp.
using LogFields = std::vector<std::pair<std::string, std::string>>;

/// What the statistics count of a message (filter/pipeline/stats.hpp), as typed values; the
/// log line says the same in words.
struct Facts {
    std::string spf;                ///< SPF result (RFC 7208 §2.6); empty: SPF did not run
    std::vector<std::string> dkim;  ///< one result per DKIM-Signature (RFC 6376 §6.1)
    std::string dmarc;              ///< DMARC result (RFC 7489 §11.2); empty: did not run
    std::size_t forged_removed = 0; ///< forged Authentication-Results taken out (RFC 8601 §5)
    bool dns_temporary = false;     ///< a DNS answer was temporary (or the deadline passed)
    bool dmarc_vouched = false;     ///< DMARC failed; the newest sealer's AAR would override it
    bool dmarc_overridden = false;  ///< ... and did: the sealer is trusted (RFC 8617 §7.2.1)
};

struct Outcome {
    arc::ChainResult chain;
    Disposition disposition = Disposition::deliver;
    std::string reply; ///< the MTA's reply for defer and reject (smtpd's commit answer)
    SealOutcome seal = SealOutcome::policy;
    std::string seal_detail; ///< sealed: "i=N cv=X"; seal_error: what failed
    /// Physical header lines to put on top (no EOL): the ARC set, then our
    /// Authentication-Results. Empty unless disposition is deliver.
    std::vector<std::string> added_lines;
    /// One flag per input line (as given to add_line): the line belongs to a removed field.
    std::vector<bool> removed_lines;
    LogFields log;
    /// Every DKIM-Signature's result (RFC 6376 §6.1), for `filter-arc verify --json`.
    std::vector<dkim::DkimSignatureResult> dkim;
    Facts facts;
};

/// How the MTA passes the message back: lines longer than `line_room` are cut by it (or,
/// with `refuse_long_lines`, cannot be passed back at all and the message is refused).
struct Delivery {
    std::size_t longest_line = 0;
    std::size_t line_room = static_cast<std::size_t>(-1);
    bool refuse_long_lines = false;
};

class Message {
  public:
    Message(std::shared_ptr<const Settings> settings, Envelope env, std::uint64_t now);
    ~Message();
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;

    /// One message line, un-stuffed, without EOL (header block, empty line, body).
    void add_line(std::string_view line);
    /// The client's address when it is known only after the message started (Exim: its
    /// X-ARC-Context is the last header field); before the header block ends.
    void set_envelope(Envelope env);
    /// The data ended.
    void end_of_data();
    /// The message is not verified (over limits.max-message-bytes): no queries any more, no
    /// seal; the header block is still read, bounded, so scrubbing and our A-R still happen.
    void skip_verification(std::string reason);
    bool headers_done() const;

    /// Every question to send now (each returned once): ARC and DKIM keys (deduplicated),
    /// SPF and DMARC lookups. Answers can lead to more questions: call again after on_answer.
    std::vector<Query> take_queries();
    /// Whether take_queries() would return any: checked per data-line, which rarely asks.
    bool has_queries() const { return !outbox_.empty(); }
    /// The answer to a question take_queries() returned; unknown or repeated ids are ignored.
    void on_answer(QueryId id, const dns::Answer& answer);
    /// The message's DNS time is up: every unanswered question counts as temporary.
    void on_deadline();
    bool deadline_hit() const { return deadline_hit_; }
    /// The data is complete and nothing is outstanding (or the deadline passed).
    bool ready() const;
    /// Questions sent and not answered.
    std::size_t outstanding() const { return open_.size(); }

    /// Policy, seal and our Authentication-Results, once (call when ready(); earlier, missing
    /// answers count as temporary).
    Outcome finish(const Delivery& delivery = {});

  private:
    struct Open {
        dns::RecordType type;
        std::string name;
        std::vector<mail::KeyName> keys; ///< ARC keys waiting for it
        std::vector<std::uint64_t> auth; ///< sender-authentication query ids waiting for it
    };
    void after_line(bool had_headers);
    void ask_keys(const std::vector<mail::KeyName>& names);
    void pump_auth();
    Open& ask(dns::RecordType type, std::string name);
    void deliver(Open& q, const dns::Answer& a);
    void add_log(Outcome& o) const;

    std::shared_ptr<const Settings> settings_;
    Envelope env_;
    std::uint64_t now_;
    std::unique_ptr<filter::MessageJob> job_;
    std::unique_ptr<filter::SenderAuth> auth_;
    std::map<QueryId, Open> open_;
    std::map<std::pair<dns::RecordType, std::string>, QueryId> by_question_;
    std::map<std::pair<dns::RecordType, std::string>, dns::Answer> answered_;
    std::vector<Query> outbox_;
    QueryId next_id_ = 1;
    std::string skipped_;
    bool data_done_ = false;
    bool deadline_hit_ = false;
    bool finished_ = false;
};

} // namespace arcf::pipeline
