// SPDX-License-Identifier: ISC
// IP addresses for SPF: strict text forms (RFC 7208 §12 ip4-network, RFC 4291 §2.2), prefix
// matching (§5.6), and the macro and reverse-lookup spellings (§5.5, §7.3).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arcf::spf {

/// "a.b.c.d" with every part 0-255 and no leading zeros (RFC 7208 §12 qnum).
std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text);
/// Any RFC 4291 §2.2 text form, including "::" and a dotted IPv4 tail.
std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text);

struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{}; ///< an IPv4 address uses the first four

    static IpAddress v4_from(const std::array<std::uint8_t, 4>& b);
    static IpAddress v6_from(const std::array<std::uint8_t, 16>& b);

    /// The SMTP client address: IPv4 or IPv6 text. An IPv4-mapped IPv6 address becomes IPv4
    /// (RFC 7208 §5: it "MUST still be considered an IPv4 address").
    static std::optional<IpAddress> parse(std::string_view text);

    /// Dotted quad, or RFC 5952 text for IPv6 (the %{c} macro, RFC 7208 §7.3).
    std::string to_string() const;
    /// Dotted quad, or the 32 nibbles dot-separated, most significant first, in upper case
    /// (the %{i} macro, RFC 7208 §7.3 and the §7.4 example).
    std::string macro_i() const;
    /// The PTR query name: "d.c.b.a.in-addr.arpa" or the nibble form under "ip6.arpa"
    /// (RFC 7208 §5.5, RFC 1035 §3.5, RFC 3596 §2.5).
    std::string reverse_name() const;

    bool operator==(const IpAddress&) const = default;
};

/// True when `ip` and `net` are the same family and agree on the first `prefix` bits.
bool in_network(const IpAddress& ip, const IpAddress& net, unsigned prefix);

} // namespace arcf::spf
