// SPDX-License-Identifier: ISC
// Fuzz target: the smtpd filter protocol line codec (filter/smtpd/protocol.hpp). Whatever parses
// must round-trip through the response writers into lines smtpd accepts.
#include "filter/smtpd/protocol.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <algorithm>
#include <string>

using namespace arcf;
using arcf::fuzz::check;

namespace {

bool is_hex(std::string_view s) {
    return !s.empty() && s.size() <= 16 && s.find_first_not_of("0123456789abcdefABCDEF") == s.npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view line = fuzz::as_text(data, size);
    if (auto l = filter::parse_line(line)) {
        if (l->type == filter::LineType::config) {
            check(!l->key.empty() && l->key.find('|') == std::string_view::npos, "bad config key");
        } else {
            check(is_hex(l->session), "session is not a hex id");
            check(l->version.find('|') == std::string_view::npos &&
                      l->subsystem.find('|') == std::string_view::npos &&
                      l->event.find('|') == std::string_view::npos,
                  "a fixed field contains '|'");
            if (l->type == filter::LineType::filter) {
                check(is_hex(l->token), "token is not a hex id");
                check(l->has_params, "filter request without params");
                // The answers we build from it are one line each.
                std::string p = filter::format_proceed(l->session, l->token);
                check(p.find('\n') == p.size() - 1, "proceed is not one line");
                std::string d = filter::format_dataline(l->session, l->token, l->params);
                check(l->params.find('\n') != std::string_view::npos ||
                          d.find('\n') == d.size() - 1,
                      "dataline is not one line");
                std::string again = "filter|0.6|0|smtp-in|data-line|" + std::string(l->session) +
                                    "|" + std::string(l->token) + "|" + std::string(l->params);
                auto back = filter::parse_line(again);
                check(back.has_value() && back->params == l->params, "params do not round-trip");
            }
            check(l->params.data() == nullptr || l->params.size() <= line.size(),
                  "params outside the line");
            (void)filter::version_before(l->version, "0.7");
            for (std::size_t n = 0; n < 6; ++n) {
                auto f = filter::split_params(l->params, n);
                if (f)
                    check(f->size() == n, "split_params returned the wrong count");
            }
        }
    }
    // Reject replies: what passes the check never breaks a protocol line.
    if (filter::is_valid_reject_reply(line)) {
        std::string r = filter::format_reject("0123456789abcdef", "fedcba9876543210", line);
        check(r.find('\n') == r.size() - 1, "reject reply spans lines");
        check(std::count(r.begin(), r.end(), '|') == 4, "reject reply adds a field");
    }
    std::string a = filter::address_of(line);
    check(a.size() <= line.size(), "address_of grew");
    (void)filter::version_before(line, line);
    return 0;
}
