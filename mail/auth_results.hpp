// SPDX-License-Identifier: ISC
// Authentication-Results parsing and safe re-emission (RFC 8601 §2.2), for building the AAR
// from results we trust (RFC 8617 §4.1.1, §5.1).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/result.hpp"

namespace arcf::mail {

struct AuthProperty {
    std::string ptype;    ///< "smtp", "header", "body", "policy", ...
    std::string property; ///< "mailfrom", "d", "i", ...
    std::string value;    ///< unquoted
    /// The value is an IP address we state (smtp.remote-ip): written unquoted when it has an
    /// address's shape (at most 64 hex digits, ':' and '.'), quoted like any value otherwise.
    bool address = false;
};

struct ResInfo {
    std::string method;         ///< lower case, e.g. "dkim"
    std::string method_version; ///< "1" in "dkim/1", usually empty
    std::string result;         ///< lower case, e.g. "pass"
    std::optional<std::string> reason;
    std::vector<AuthProperty> properties;
    std::string raw; ///< the resinfo text as written (unfolded, comments kept), for test mode
    /// Written as an RFC 8601 comment after the result (comment_safe, bounded); never parsed.
    std::string comment;
};

struct AuthResults {
    std::string authserv_id; ///< empty when the header omits it (seen from some providers)
    std::optional<std::string> version;
    std::vector<ResInfo> results; ///< empty for "none"
};

/// Parses an Authentication-Results value leniently: comments anywhere, an authres-version, a
/// missing authserv-id, unknown methods and properties. Fails only when no structure is found.
Result<AuthResults> parse_authentication_results(std::string_view value);

/// Budgets for the results we write into our Authentication-Results and AAR (issue 15 class 2).
/// RFC 5322 §2.1.1: a line is at most 998 octets; we fold only between words (FWS), so every
/// word must fit a line on its own. Values come from the message (DKIM d=/s=/a=/i=, the From
/// domain, the envelope, results copied from our ADMD's Authentication-Results): a value too
/// long to write is left out (never cut: a shortened domain or address names something else)
/// and the fact is recorded in a comment and counted (WriteStats, logged). Reasons are prose and
/// are shortened instead, ending in "...".
struct WriteBudget {
    static constexpr std::size_t max_value = 512;  ///< octets of one property value
    static constexpr std::size_t max_name = 64;    ///< octets of a method, result, ptype, property
    static constexpr std::size_t max_reason = 256; ///< octets of a reason or a comment
    static constexpr std::size_t max_resinfo = 1024;  ///< octets of one written resinfo
    static constexpr std::size_t max_per_method = 16; ///< results of one method in one field
    /// Octets of all results in one field (our arc, spf, 16 dkim and dmarc results always fit;
    /// results copied from upstream come after them and are the ones left out).
    static constexpr std::size_t max_results = 20480;
};

/// What the budgets took out (for the log line).
struct WriteStats {
    std::size_t values_omitted = 0;  ///< properties left out, reasons and comments shortened
    std::size_t results_omitted = 0; ///< whole resinfos left out (per-method count or size)
    void add(const WriteStats& o) {
        values_omitted += o.values_omitted;
        results_omitted += o.results_omitted;
    }
    std::size_t total() const { return values_omitted + results_omitted; }
};

/// Re-emits one result from its parsed parts only: every value a token or a quoted-string with
/// escaping, never CR, LF or a bare ';' (no header injection); no comment except `comment` and
/// the note "(N properties omitted: too long)" when the budgets left properties out. At most
/// WriteBudget::max_resinfo octets, no word longer than max_value plus its property name.
std::string format_resinfo(const ResInfo& r, WriteStats* stats = nullptr);

/// The resinfos of one field, each written with format_resinfo(), within the budgets: at most
/// max_per_method results of one method, at most max_results octets in all (a result that does
/// not fit is left out, later smaller ones may still fit). When results were left out, the last
/// one carries the comment "(N results omitted: over budget)". Never empty when `results` is not.
std::vector<std::string> format_results(const std::vector<ResInfo>& results,
                                        WriteStats* stats = nullptr);

/// Makes text safe inside an RFC 8601 comment: parentheses become brackets, ';' a comma (a ';'
/// inside a comment breaks some receivers' parsers), backslashes and controls a space.
std::string comment_safe(std::string_view text);
/// comment_safe() cut to `max` octets (ending in "..."), counting the cut in `stats`.
std::string bounded_comment(std::string_view text,
                            std::size_t max = WriteBudget::max_reason,
                            WriteStats* stats = nullptr);

/// Lays out "Name: value" for a field we write from resinfos (our Authentication-Results and
/// the AAR, RFC 8601 §2.2, RFC 8617 §4.1.1): folded with CRLF TAB only at a space outside a
/// quoted-string and outside a comment, i.e. where FWS is allowed (RFC 5322 §3.2.2), so that
/// lines stay within 78 octets unless one word is longer (RFC 5322 §2.1.1). It never folds inside
/// a word, so a line exceeds 998 octets only if one word does: the write budgets (WriteBudget)
/// keep every word we write far below that, and MessageJob checks every added line.
std::string fold_results_field(std::string_view name, std::string_view value);

/// Formats a value as an RFC 8601 pvalue: kept as is when it is a token or an address/domain,
/// otherwise quoted.
std::string format_value(std::string_view v);

} // namespace arcf::mail
