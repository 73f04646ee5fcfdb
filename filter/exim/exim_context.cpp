// SPDX-License-Identifier: ISC
#include "filter/exim/exim_context.hpp"

#include <arpa/inet.h>
#include <array>

#include "mail/base64.hpp"

namespace arcf::filter {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && is_wsp(v.front()))
        v.remove_prefix(1);
    while (!v.empty() && is_wsp(v.back()))
        v.remove_suffix(1);
    return v;
}

bool is_b64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

// Strict base64 (RFC 4648 §4): only the alphabet and padding, no whitespace inside.
std::optional<std::string> decode(std::string_view v) {
    if (v.empty())
        return std::string();
    for (char c : v)
        if (!is_b64(c))
            return std::nullopt;
    auto d = mail::base64_decode(v);
    if (!d || mail::base64_encode(*d) != v) // canonical form only: one encoding per value
        return std::nullopt;
    for (char c : *d) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) // no control characters in any connection fact
            return std::nullopt;
    }
    return d;
}

} // namespace

EximContextResult parse_exim_context(std::string_view value) {
    EximContextResult r;
    if (value.size() > max_exim_context_bytes) {
        r.problem = "longer than " + std::to_string(max_exim_context_bytes) + " bytes";
        return r;
    }
    static constexpr std::array<std::string_view, 6> keys{"v",    "from", "helo",
                                                          "auth", "rcpt", "ip"};
    std::array<std::string, 6> values;
    std::size_t pos = 0;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        if (pos > value.size()) {
            r.problem = "missing " + std::string(keys[k]) + "=";
            return r;
        }
        auto semi = value.find(';', pos);
        std::string_view item = trim(value.substr(
            pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos));
        pos = semi == std::string_view::npos ? value.size() + 1 : semi + 1;
        if (k + 1 == keys.size() && semi != std::string_view::npos) {
            r.problem = "text after ip=";
            return r;
        }
        auto eq = item.find('=');
        if (eq == std::string_view::npos || item.substr(0, eq) != keys[k]) {
            r.problem = "expected " + std::string(keys[k]) + "= as item " + std::to_string(k + 1) +
                        " (the Exim snippet of etc/exim4/filter-arc.conf.example writes "
                        "v=2; from=; helo=; auth=; rcpt=; ip=)";
            return r;
        }
        std::string_view raw = item.substr(eq + 1);
        if (k == 0) {
            if (raw != "2") {
                r.problem = "unknown version v=" + std::string(raw);
                return r;
            }
            continue;
        }
        auto d = decode(raw);
        if (!d) {
            r.problem = std::string(keys[k]) + "= is not strict base64 of printable text";
            return r;
        }
        values[k] = std::move(*d);
    }
    EximContext c{values[5], values[2], values[1], values[3], values[4]};
    unsigned char buf[16];
    if (!c.ip.empty() && inet_pton(AF_INET, c.ip.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, c.ip.c_str(), buf) != 1) {
        r.problem = "ip= is not an IP address";
        return r;
    }
    r.context = std::move(c);
    return r;
}

} // namespace arcf::filter
