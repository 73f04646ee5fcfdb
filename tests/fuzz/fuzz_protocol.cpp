// SPDX-License-Identifier: ISC
// Fuzz target: the smtpd filter protocol codec (filter/smtpd/protocol.hpp decodes, filter/smtpd/
// reply.hpp encodes). Every line decodes to one typed event or a typed error; what decodes has
// its views inside the line and round-trips; the replies built from it are lines smtpd accepts,
// within the version's limit.
#include "filter/smtpd/protocol.hpp"
#include "filter/smtpd/reply.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <algorithm>
#include <string>
#include <variant>

using namespace arcf;
using arcf::fuzz::check;

namespace {

bool is_hex(std::string_view s) {
    return !s.empty() && s.size() <= 16 && s.find_first_not_of("0123456789abcdefABCDEF") == s.npos;
}

bool inside(std::string_view part, std::string_view whole) {
    if (part.empty())
        return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string version_text(filter::Version v) {
    return std::to_string(v.major) + "." + std::to_string(v.minor);
}

// The replies to a request, in its version's layout: one line each, within the limit.
void check_replies(const filter::SessionRef& s, std::string_view token, std::string_view line) {
    const filter::Responder r(s.version, s.id, token);
    const std::size_t max = filter::max_output_line(s.version);
    std::string out;
    r.proceed(out);
    check(out.find('\n') == out.size() - 1 && out.size() - 1 <= max, "proceed is not one line");
    out.clear();
    r.reject(out, "451 4.7.0 later");
    check(std::count(out.begin(), out.end(), '|') == 4, "reject adds a field");
    out.clear();
    r.dataline(out, line);
    check(out.size() - 1 <= max, "dataline over the version's limit");
    check(line.find('\n') != std::string_view::npos || out.find('\n') == out.size() - 1,
          "dataline is not one line");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view line = fuzz::as_text(data, size);
    const filter::Event ev = filter::decode(line);
    if (auto s = filter::session_of(ev)) {
        check(is_hex(s->id) && inside(s->id, line), "session is not a hex id of the line");
        // The version decoded is the one written: it decodes the same when written back.
        std::string again = "report|" + version_text(s->version) + "|0|smtp-in|link-disconnect|" +
                            std::string(s->id);
        auto back = filter::session_of(filter::decode(again));
        check(back && back->version == s->version, "version does not round-trip");
    }
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, filter::Malformed>) {
                check(e.line == line, "malformed does not show the line");
                check(!filter::to_string(e.error).empty(), "error without text");
            } else if constexpr (std::is_same_v<T, filter::DataLine>) {
                check(is_hex(e.token) && inside(e.line, line), "data-line views");
                check_replies(e.s, e.token, e.line);
                // Whatever params came in decode the same when written in another version.
                std::string again = "filter|0.7|0|smtp-in|data-line|" + std::string(e.s.id) + "|" +
                                    std::string(e.token) + "|" + std::string(e.line);
                const filter::Event back = filter::decode(again);
                const auto* d = std::get_if<filter::DataLine>(&back);
                check(d != nullptr && d->line == e.line, "data-line does not round-trip");
            } else if constexpr (std::is_same_v<T, filter::Commit> ||
                                 std::is_same_v<T, filter::OtherFilter>) {
                check(is_hex(e.token), "token is not a hex id");
                check_replies(e.s, e.token, "");
            } else if constexpr (std::is_same_v<T, filter::LinkAuth>) {
                check(inside(e.user, line) && inside(e.result, line), "link-auth views");
                check(e.pass == (e.result == "pass"), "pass without result pass");
                check(e.result.find('|') == std::string_view::npos, "result holds '|'");
            } else if constexpr (std::is_same_v<T, filter::TxMail> ||
                                 std::is_same_v<T, filter::TxRcpt>) {
                check(inside(e.address, line) && inside(e.msgid, line), "tx views");
                check(e.ok == (e.result == "ok"), "ok without result ok");
                check(e.result.find('|') == std::string_view::npos &&
                          e.msgid.find('|') == std::string_view::npos,
                      "a fixed field holds '|'");
            } else if constexpr (std::is_same_v<T, filter::LinkConnect>) {
                check(inside(e.client_ip, e.src), "client address outside src");
            } else if constexpr (std::is_same_v<T, filter::ConfigOther>) {
                check(!e.key.empty() && e.key.find('|') == std::string_view::npos,
                      "bad config key");
            }
        },
        ev);
    // Reject replies: what passes the check never breaks a protocol line.
    if (filter::is_valid_reject_reply(line)) {
        for (filter::Version v : {filter::Version{0, 4}, filter::Version{0, 7}}) {
            std::string r;
            filter::Responder(v, "0123456789abcdef", "fedcba9876543210").reject(r, line);
            check(r.find('\n') == r.size() - 1, "reject reply spans lines");
            check(std::count(r.begin(), r.end(), '|') == 4, "reject reply adds a field");
        }
    }
    check(inside(filter::address_of(line), line), "address_of outside its input");
    return 0;
}
