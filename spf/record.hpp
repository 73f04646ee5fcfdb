// SPDX-License-Identifier: ISC
// SPF records (RFC 7208 §4.5, §4.6, §5, §6, §12): selection of "v=spf1" records and a full
// parse into mechanisms and modifiers, every syntax error found before evaluation (§4.6).
#pragma once

#include "spf/ip.hpp"
#include "spf/macro.hpp"
#include "spf/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::spf {

/// §4.6.2: "+" pass (the default), "-" fail, "~" softfail, "?" neutral.
enum class Qualifier { pass, fail, softfail, neutral };

Result result_of(Qualifier q);

enum class MechanismKind { all, include, a, mx, ptr, ip4, ip6, exists };

std::string_view to_string(MechanismKind k);

struct Mechanism {
    Qualifier qualifier = Qualifier::pass;
    MechanismKind kind = MechanismKind::all;
    /// include and exists always; a, mx and ptr when written (else <domain>).
    std::optional<MacroString> domain;
    IpAddress network;    ///< ip4, ip6
    unsigned cidr4 = 32;  ///< a, mx, ip4 (§5.6 ip4-cidr-length, default 32)
    unsigned cidr6 = 128; ///< a, mx, ip6 (§5.6 ip6-cidr-length, default 128)
    std::string text;     ///< the directive as written, for logs

    /// include, a, mx, ptr and exists count against the DNS term limit (§4.6.4).
    bool queries_dns() const;
};

struct Record {
    std::vector<Mechanism> mechanisms; ///< in record order
    std::optional<MacroString> redirect;
    std::optional<MacroString> exp;
    std::vector<std::string> unknown_modifiers; ///< names, ignored (§6)

    /// §5.1: a redirect= is ignored when there is an "all" mechanism anywhere in the record.
    bool has_all() const;
};

/// §4.5: the TXT string begins with "v=spf1" (any case) followed by SP or its end.
bool is_spf_record(std::string_view txt);

/// Parses a whole record (§12 "record"). Any syntax error anywhere is an error (§4.6), as are
/// a second redirect= or exp= (§6), an unknown mechanism (§4.6.1) and a bad CIDR (§5.6).
Parsed<Record> parse_record(std::string_view text);

} // namespace arcf::spf
