// SPDX-License-Identifier: ISC
// The smtpd filter protocol decoder. Field layouts per version are from OpenSMTPD's
// lka_filter.c and smtpd-filters(7): 0.5 swapped the response fields (reply.cpp), 0.6 moved the
// tx-mail/tx-rcpt address last, 0.7 moved the link-auth user name last.
#include "filter/smtpd/protocol.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace arcf::filter {

namespace {

// Takes the next field up to '|'; false when there is no '|' left.
bool next_field(std::string_view& rest, std::string_view& field) {
    auto bar = rest.find('|');
    if (bar == std::string_view::npos)
        return false;
    field = rest.substr(0, bar);
    rest.remove_prefix(bar + 1);
    return true;
}

// Hex digits by byte value: every data-line checks two ids, so one load per character.
constexpr std::array<bool, 256> hex_digits = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[static_cast<std::size_t>(c)] =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return t;
}();

bool is_hex_id(std::string_view s) {
#if defined(__SSE2__)
    if (s.size() == 16) {
        // The ids smtpd writes (two on every data-line): sixteen bytes checked at once. With
        // signed compares, a byte is in [lo, hi] when byte - lo - 128 < hi - lo - 127.
        auto in_range = [](__m128i v, int lo, int hi) {
            const __m128i shifted = _mm_sub_epi8(v, _mm_set1_epi8(static_cast<char>(lo + 128)));
            return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(hi - lo - 127)));
        };
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data()));
        const __m128i lower = _mm_or_si128(c, _mm_set1_epi8(0x20)); // 'A'..'F' to 'a'..'f'
        const __m128i ok = _mm_or_si128(in_range(c, '0', '9'), in_range(lower, 'a', 'f'));
        return _mm_movemask_epi8(ok) == 0xFFFF;
    }
#endif
    if (s.empty() || s.size() > 16)
        return false;
    bool all = true;
    for (char c : s)
        all &= hex_digits[static_cast<unsigned char>(c)];
    return all;
}

// The offsets of the first `n` '|' in `s` (fewer when it has fewer), in one pass: every line
// from smtpd starts with up to seven short fields.
std::size_t find_bars(std::string_view s, std::size_t* pos, std::size_t n) {
    std::size_t found = 0, i = 0;
#if defined(__SSE2__)
    const __m128i bar = _mm_set1_epi8('|');
    auto bars_in = [&](std::size_t at) -> std::uint64_t {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + at));
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, bar)));
    };
    // Sixty-four bytes a step while they last (the fixed fields of a line take about 80).
    for (; i + 64 <= s.size() && found < n; i += 64) {
        std::uint64_t mask =
            bars_in(i) | bars_in(i + 16) << 16 | bars_in(i + 32) << 32 | bars_in(i + 48) << 48;
        while (mask != 0 && found < n) {
            pos[found++] = i + static_cast<std::size_t>(__builtin_ctzll(mask));
            mask &= mask - 1;
        }
    }
    for (; i + 16 <= s.size() && found < n; i += 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, bar)));
        while (mask != 0 && found < n) {
            pos[found++] = i + static_cast<std::size_t>(__builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
#endif
    for (; i < s.size() && found < n; ++i)
        if (s[i] == '|')
            pos[found++] = i;
    return found;
}

bool parse_number(std::string_view s, unsigned& n) {
    if (s.empty() || s.size() > 4)
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && end == s.data() + s.size();
}

// "MAJOR.MINOR", numerically ("0.10" is after "0.9"). A suffix after MINOR ("0.7.1", "0.8-rc")
// is ignored: a later smtpd that writes one must still get its answers, never a hung session.
std::optional<Version> parse_version(std::string_view s) {
    // Every line starts with it, and every smtpd so far writes one digit on each side ("0.7").
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (s.size() == 3 && s[1] == '.' && digit(s[0]) && digit(s[2]))
        return Version{static_cast<unsigned>(s[0] - '0'), static_cast<unsigned>(s[2] - '0')};
    auto dot = s.find('.');
    Version v;
    if (dot == std::string_view::npos || !parse_number(s.substr(0, dot), v.major))
        return std::nullopt;
    std::string_view minor = s.substr(dot + 1);
    minor = minor.substr(0, minor.find_first_not_of("0123456789"));
    if (!parse_number(minor, v.minor))
        return std::nullopt;
    return v;
}

// Splits `params` into `first` and `rest` at the first '|'.
bool split_first(std::string_view params, std::string_view& first, std::string_view& rest) {
    rest = params;
    return next_field(rest, first);
}

// Splits `params` into `head` and `last` at the last '|' (for layouts where an earlier field
// may contain '|' and the last one cannot).
bool split_last(std::string_view params, std::string_view& head, std::string_view& last) {
    auto bar = params.rfind('|');
    if (bar == std::string_view::npos)
        return false;
    head = params.substr(0, bar);
    last = params.substr(bar + 1);
    return true;
}

Event malformed(DecodeError e, std::string_view line) {
    return Malformed{e, line};
}

// msgid|result|address from 0.6 on; msgid|address|result before (the address, which may
// contain '|', in the middle: the result is taken from the end).
template <class Tx>
Event decode_tx(SessionRef s, std::string_view params, std::string_view line) {
    Tx tx{s, {}, false, {}, {}};
    std::string_view rest;
    if (!split_first(params, tx.msgid, rest))
        return malformed(DecodeError::missing_fields, line);
    if (s.version < Version{0, 6}) {
        if (!split_last(rest, tx.address, tx.result))
            return malformed(DecodeError::missing_fields, line);
    } else if (!split_first(rest, tx.result, tx.address)) {
        return malformed(DecodeError::missing_fields, line);
    }
    tx.ok = tx.result == "ok";
    return tx;
}

Event decode_report(SessionRef s,
                    std::string_view subsystem,
                    std::string_view event,
                    std::optional<std::string_view> params,
                    std::string_view line) {
    // We register for smtp-in only; anything else is not ours to act on.
    if (subsystem != "smtp-in")
        return OtherReport{s, event};
    if (event == "link-disconnect")
        return LinkDisconnect{s};
    const bool typed = event == "link-connect" || event == "link-identify" ||
                       event == "link-auth" || event == "tx-begin" || event == "tx-mail" ||
                       event == "tx-rcpt" || event == "tx-reset" || event == "tx-rollback";
    if (!typed)
        return OtherReport{s, event};
    // A tx-reset or tx-rollback without its msgid still ends the transaction: cleanup is
    // never refused.
    if (!params && event != "tx-reset" && event != "tx-rollback")
        return malformed(DecodeError::missing_fields, line);
    std::string_view p = params.value_or(std::string_view());
    if (event == "link-connect") {
        LinkConnect c{s, {}, {}, {}, {}, {}};
        if (!next_field(p, c.rdns) || !next_field(p, c.fcrdns) || !next_field(p, c.src))
            return malformed(DecodeError::missing_fields, line);
        c.dest = p;
        c.client_ip = address_of(c.src);
        return c;
    }
    if (event == "link-identify") {
        LinkIdentify i{s, {}, {}};
        if (!split_first(p, i.method, i.helo))
            return malformed(DecodeError::missing_fields, line);
        return i;
    }
    if (event == "link-auth") {
        LinkAuth a{s, false, {}, {}};
        // 0.7 moved the user name (which may contain '|') last: result|username. Before, it
        // was username|result, so the result is the text after the last '|'.
        const bool ok = s.version < Version{0, 7} ? split_last(p, a.user, a.result)
                                                  : split_first(p, a.result, a.user);
        if (!ok)
            return malformed(DecodeError::missing_fields, line);
        a.pass = a.result == "pass";
        return a;
    }
    if (event == "tx-mail")
        return decode_tx<TxMail>(s, p, line);
    if (event == "tx-rcpt")
        return decode_tx<TxRcpt>(s, p, line);
    std::string_view msgid = p.substr(0, p.find('|'));
    if (event == "tx-begin")
        return TxBegin{s, msgid};
    if (event == "tx-reset")
        return TxReset{s, msgid};
    return TxRollback{s, msgid};
}

} // namespace

std::string_view to_string(DecodeError e) {
    switch (e) {
    case DecodeError::unknown_kind:
        return "not a config, report or filter line";
    case DecodeError::missing_fields:
        return "missing fields";
    case DecodeError::bad_version:
        return "bad protocol version";
    case DecodeError::bad_session:
        return "bad session id";
    case DecodeError::bad_token:
        return "bad token";
    case DecodeError::empty_config_key:
        return "empty config key";
    }
    return "malformed";
}

Event decode(std::string_view line) {
    // One pass finds the bars of the fixed fields: KIND|VERSION|TIME|SUBSYSTEM|EVENT|SESSION|
    // TOKEN| for requests (seven), six for reports; a config line needs one.
    std::array<std::size_t, 7> bar{};
    const std::size_t bars = find_bars(line, bar.data(), bar.size());
    if (bars == 0)
        return malformed(DecodeError::unknown_kind, line);
    auto field = [&](std::size_t i) { // the text between bar i - 1 and bar i
        return line.substr(bar[i - 1] + 1, bar[i] - bar[i - 1] - 1);
    };
    const std::string_view kind = line.substr(0, bar[0]);
    if (kind == "config") {
        // config|KEY|VALUE; "config|ready" has no value.
        const std::string_view key = bars > 1 ? field(1) : line.substr(bar[0] + 1);
        const std::string_view value = bars > 1 ? line.substr(bar[1] + 1) : std::string_view();
        if (key.empty())
            return malformed(DecodeError::empty_config_key, line);
        if (key == "ready")
            return ConfigReady{};
        if (key == "admd")
            return ConfigAdmd{value};
        return ConfigOther{key, value};
    }
    const bool report = kind == "report";
    if (!report && kind != "filter")
        return malformed(DecodeError::unknown_kind, line);
    if (bars < 5)
        return malformed(DecodeError::missing_fields, line);
    const std::string_view version = field(1), subsystem = field(3), event = field(4);
    auto v = parse_version(version);
    if (!v)
        return malformed(DecodeError::bad_version, line);
    SessionRef s{{}, *v};
    if (report) {
        // link-disconnect has nothing after the session id.
        std::optional<std::string_view> params;
        if (bars > 5) {
            s.id = field(5);
            params = line.substr(bar[5] + 1);
        } else {
            s.id = line.substr(bar[4] + 1);
        }
        if (!is_hex_id(s.id))
            return malformed(DecodeError::bad_session, line);
        return decode_report(s, subsystem, event, params, line);
    }
    // Requests have always been SESSION|TOKEN|PARAMS, PARAMS possibly empty (only the responses
    // of 0.4 put the token first).
    if (bars < 7)
        return malformed(DecodeError::missing_fields, line);
    s.id = field(5);
    const std::string_view token = field(6);
    const std::string_view rest = line.substr(bar[6] + 1);
    if (!is_hex_id(s.id))
        return malformed(DecodeError::bad_session, line);
    if (!is_hex_id(token))
        return malformed(DecodeError::bad_token, line);
    if (event.size() == 9 && std::memcmp(event.data(), "data-line", 9) == 0) // nearly every line
        return DataLine{s, token, rest};
    if (event == "commit")
        return Commit{s, token};
    return OtherFilter{s, event, token, rest};
}

std::optional<SessionRef> session_of(const Event& e) {
    return std::visit(
        [](const auto& ev) -> std::optional<SessionRef> {
            if constexpr (requires { ev.s; })
                return ev.s;
            else
                return std::nullopt;
        },
        e);
}

std::string_view address_of(std::string_view src) {
    if (src.rfind("unix:", 0) == 0)
        return {};
    if (!src.empty() && src.front() == '[') {
        auto close = src.find(']');
        return src.substr(1, close == std::string_view::npos ? src.npos : close - 1);
    }
    auto colon = src.rfind(':');
    if (colon != std::string_view::npos && src.find(':') == colon)
        return src.substr(0, colon);
    return src; // no port, or a bare IPv6 address
}

} // namespace arcf::filter
