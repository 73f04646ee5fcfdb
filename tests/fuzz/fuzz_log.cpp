// SPDX-License-Identifier: ISC
// Fuzz target: log lines (filter/pipeline/log.hpp) and the Exim context
// (filter/exim/exim_context.hpp), the two places where attacker bytes meet a key=value syntax.
// Properties: a log value or line never holds a control character or an unescaped quote, and stays
// within its bound; a context that parses re-encodes to one that parses to the same facts.
#include "filter/exim/exim_context.hpp"
#include "filter/pipeline/log.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <string>

#include "mail/base64.hpp"

using namespace arcf;
using arcf::fuzz::check;

namespace {
bool clean(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);

    std::string q = filter::quote_log(text, 64);
    check(clean(q), "quote_log left a control character", q);
    check(q.size() >= 2 && q.front() == '"' && q.back() == '"', "quote_log not quoted", q);
    check(q.size() <= 2 + 64 * 4 + 32, "quote_log over its bound", q);
    // Inside the quotes every '"' is escaped: the value cannot end early.
    for (std::size_t i = 1; i + 1 < q.size(); ++i) {
        if (q[i] == '\\') {
            ++i;
            continue;
        }
        check(q[i] != '"', "an unescaped quote inside a log value", q);
    }
    std::string v = filter::log_value(text);
    check(clean(v), "log_value left a control character", v);
    check(v.find(' ') == std::string::npos || v.front() == '"', "a bare value with a space", v);
    std::string line = filter::bound_log_line(text, 256);
    check(clean(line), "bound_log_line left a control character", line);
    check(line.size() <= 256, "bound_log_line over its bound", line);

    auto r = filter::parse_exim_context(text);
    check(r.context.has_value() != !r.problem.empty(), "a context both refused and accepted");
    if (r.context) {
        const auto& c = *r.context;
        std::string again =
            "v=2; from=" + mail::base64_encode(c.from) + "; helo=" + mail::base64_encode(c.helo) +
            "; auth=" + mail::base64_encode(c.auth) + "; rcpt=" + mail::base64_encode(c.rcpt) +
            "; ip=" + mail::base64_encode(c.ip);
        auto r2 = filter::parse_exim_context(again);
        check(r2.context && r2.context->from == c.from && r2.context->helo == c.helo &&
                  r2.context->auth == c.auth && r2.context->rcpt == c.rcpt &&
                  r2.context->ip == c.ip,
              "a context does not re-parse from its own encoding", again);
    }
    return 0;
}
