// SPDX-License-Identifier: ISC
// DMARC policy records (RFC 7489 §6.3, §6.4; np= from RFC 9091 §4.2): selection by "v=DMARC1"
// and a lenient parse where bad optional values fall back to their defaults.
#pragma once

#include "dmarc/error.hpp"
#include "dmarc/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::dmarc {

/// A usable policy record. Text tags are kept as written (surrounding WSP removed), empty when
/// absent; the caller that sends reports parses them.
struct Record {
    Policy p = Policy::none;
    std::optional<Policy> sp; ///< §6.3: absent means p applies to subdomains too
    std::optional<Policy> np; ///< RFC 9091 §4.2 (parsed, not applied by the evaluator)
    Alignment adkim = Alignment::relaxed;
    Alignment aspf = Alignment::relaxed;
    int pct = 100; ///< 0..100
    std::string rua, ruf, fo, rf, ri;
    /// §6.6.3 step 6.1: p= (or sp=) was missing or invalid and rua= names a reporting URI, so
    /// the record counts as p=none.
    bool p_assumed = false;
    /// Tags that were ignored or replaced by their default (unknown, invalid value, repeated),
    /// one short note each, for logs (§6.3: "Syntax errors in the remainder of the record SHOULD
    /// be discarded in favor of default values (if any) or ignored outright").
    std::vector<std::string> notes;
};

// The failures are dmarc::Error values (dmarc/error.hpp), codes not_dmarc and no_policy.

/// §6.6.3 steps 2 and 4: the TXT string begins with the tag "v=DMARC1" (WSP allowed around '='
/// as in §6.4 dmarc-version; the value is case-sensitive), ended by ';', WSP or the string's end.
bool is_dmarc_record(std::string_view txt);

/// Parses one TXT string. Tag names are case-insensitive (ABNF literals, §6.4), as are the
/// keyword values; unknown tags are ignored (§6.3), as are repeats of a tag (the first counts).
/// pct, adkim and aspf fall back to their defaults when invalid.
Parsed<Record> parse_record(std::string_view txt);

/// §6.4 dmarc-uri (URI [ "!" size ]): whether one element of a rua=/ruf= list looks like an
/// absolute URI ("scheme:rest").
bool is_report_uri(std::string_view uri);

} // namespace arcf::dmarc
