// SPDX-License-Identifier: ISC
// IP address parsing, formatting and prefix matching for the SPF evaluator.
#include "spf/ip.hpp"

#include <vector>

#include "text/ascii.hpp"

namespace arcf::spf {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Parses colon-separated hex groups; the last one may be a dotted IPv4 address (two groups).
bool parse_groups(std::string_view text, bool allow_v4_tail, std::vector<std::uint16_t>& out) {
    if (text.empty())
        return true;
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = text.find(':', start);
        std::string_view group =
            text.substr(start, colon == std::string_view::npos ? text.npos : colon - start);
        if (colon == std::string_view::npos && allow_v4_tail &&
            group.find('.') != std::string_view::npos) {
            auto v4 = parse_ipv4(group);
            if (!v4)
                return false;
            out.push_back(static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]));
            out.push_back(static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]));
            return true;
        }
        if (group.empty() || group.size() > 4)
            return false;
        unsigned value = 0;
        for (char c : group) {
            int h = hex_value(c);
            if (h < 0)
                return false;
            value = value * 16 + static_cast<unsigned>(h);
        }
        out.push_back(static_cast<std::uint16_t>(value));
        if (colon == std::string_view::npos)
            return true;
        start = colon + 1;
    }
}

constexpr char hex_lower[] = "0123456789abcdef";
constexpr char hex_upper[] = "0123456789ABCDEF";

} // namespace

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text) {
    std::array<std::uint8_t, 4> out{};
    std::size_t pos = 0;
    for (std::size_t part = 0; part < 4; ++part) {
        if (part > 0) {
            if (pos >= text.size() || text[pos] != '.')
                return std::nullopt;
            ++pos;
        }
        std::size_t begin = pos;
        unsigned value = 0;
        while (pos < text.size() && text::is_digit(text[pos]) && pos - begin < 3) {
            value = value * 10 + static_cast<unsigned>(text[pos] - '0');
            ++pos;
        }
        std::size_t len = pos - begin;
        // qnum: 1-3 digits, no leading zero, at most 255 (RFC 7208 §12).
        if (len == 0 || value > 255 || (len > 1 && text[begin] == '0'))
            return std::nullopt;
        out[part] = static_cast<std::uint8_t>(value);
    }
    if (pos != text.size())
        return std::nullopt;
    return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    std::vector<std::uint16_t> head, tail;
    std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        if (!parse_groups(text, true, head) || head.size() != 8)
            return std::nullopt;
    } else {
        if (text.find("::", gap + 1) != std::string_view::npos)
            return std::nullopt;
        // "::" stands for one or more zero groups (RFC 4291 §2.2 item 2).
        if (!parse_groups(text.substr(0, gap), false, head) ||
            !parse_groups(text.substr(gap + 2), true, tail) || head.size() + tail.size() > 7)
            return std::nullopt;
    }
    std::array<std::uint8_t, 16> out{};
    auto put = [&out](std::size_t index, std::uint16_t g) {
        out[2 * index] = static_cast<std::uint8_t>(g >> 8);
        out[2 * index + 1] = static_cast<std::uint8_t>(g & 0xff);
    };
    for (std::size_t i = 0; i < head.size(); ++i)
        put(i, head[i]);
    for (std::size_t i = 0; i < tail.size(); ++i)
        put(8 - tail.size() + i, tail[i]);
    return out;
}

IpAddress IpAddress::v4_from(const std::array<std::uint8_t, 4>& b) {
    IpAddress ip;
    for (std::size_t i = 0; i < 4; ++i)
        ip.bytes[i] = b[i];
    return ip;
}

IpAddress IpAddress::v6_from(const std::array<std::uint8_t, 16>& b) {
    IpAddress ip;
    ip.v6 = true;
    ip.bytes = b;
    return ip;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (auto v4 = parse_ipv4(text))
        return v4_from(*v4);
    auto v6 = parse_ipv6(text);
    if (!v6)
        return std::nullopt;
    // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) is IPv4 for SPF (RFC 7208 §5).
    bool mapped = (*v6)[10] == 0xff && (*v6)[11] == 0xff;
    for (std::size_t i = 0; i < 10 && mapped; ++i)
        mapped = (*v6)[i] == 0;
    if (mapped)
        return v4_from({(*v6)[12], (*v6)[13], (*v6)[14], (*v6)[15]});
    return v6_from(*v6);
}

std::string IpAddress::to_string() const {
    if (!v6) {
        return std::to_string(bytes[0]) + "." + std::to_string(bytes[1]) + "." +
               std::to_string(bytes[2]) + "." + std::to_string(bytes[3]);
    }
    std::array<unsigned, 8> g{};
    for (std::size_t i = 0; i < 8; ++i)
        g[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
    // RFC 5952 §4.2: "::" replaces the longest run of two or more zero groups, the first one
    // on a tie.
    std::size_t best = 8, best_len = 0;
    for (std::size_t i = 0; i < 8;) {
        if (g[i] != 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < 8 && g[j] == 0)
            ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = 8;
    std::string out;
    for (std::size_t i = 0; i < 8; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':')
            out += ':';
        // RFC 5952 §4.1 and §4.3: no leading zeros, lower case.
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            unsigned nibble = (g[i] >> shift) & 0xf;
            if (nibble != 0 || started || shift == 0) {
                out += hex_lower[nibble];
                started = true;
            }
        }
    }
    return out;
}

std::string IpAddress::macro_i() const {
    if (!v6)
        return to_string();
    std::string out;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i > 0)
            out += '.';
        out += hex_upper[bytes[i] >> 4];
        out += '.';
        out += hex_upper[bytes[i] & 0xf];
    }
    return out;
}

std::string IpAddress::reverse_name() const {
    std::string out;
    if (!v6) {
        for (std::size_t i = 4; i-- > 0;)
            out += std::to_string(bytes[i]) + ".";
        return out + "in-addr.arpa";
    }
    for (std::size_t i = 16; i-- > 0;) {
        out += hex_lower[bytes[i] & 0xf];
        out += '.';
        out += hex_lower[bytes[i] >> 4];
        out += '.';
    }
    return out + "ip6.arpa";
}

bool in_network(const IpAddress& ip, const IpAddress& net, unsigned prefix) {
    if (ip.v6 != net.v6)
        return false;
    unsigned max_bits = ip.v6 ? 128 : 32;
    if (prefix > max_bits)
        prefix = max_bits;
    std::size_t whole = prefix / 8;
    for (std::size_t i = 0; i < whole; ++i)
        if (ip.bytes[i] != net.bytes[i])
            return false;
    unsigned rest = prefix % 8;
    if (rest == 0)
        return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (ip.bytes[whole] & mask) == (net.bytes[whole] & mask);
}

} // namespace arcf::spf
