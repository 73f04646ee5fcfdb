// SPDX-License-Identifier: ISC
// filter-arc-null: the floor of the bench's whole-filter figures. It is what any smtpd filter
// process costs in the bench's harness on this machine before it does any work of its own: it
// reads the protocol, hands every data-line back unchanged (plus one marker header, which the
// bench counts instead of a seal) and lets every commit proceed. Its CPU time is the pipe reads
// and writes, the wake-ups and the process's start; filter-arc spends the same on top of what it
// does. Protocol 0.7 only (what the bench speaks); not installed, never run by the tests.
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

std::string out;

void flush_out() {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t w = write(1, out.data() + done, out.size() - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            std::exit(1);
        done += static_cast<std::size_t>(w);
    }
    out.clear();
}

// "filter|0.7|TIME|smtp-in|PHASE|SESSION|TOKEN|REST": fields 4 to 6, and REST.
struct Request {
    std::string_view phase, session, token, rest;
};

bool split(std::string_view line, Request& r) {
    std::string_view f[7];
    std::size_t from = 0;
    for (auto& field : f) {
        const std::size_t bar = line.find('|', from);
        if (bar == std::string_view::npos)
            return false;
        field = line.substr(from, bar - from);
        from = bar + 1;
    }
    r = Request{f[4], f[5], f[6], line.substr(from)};
    return f[0] == "filter";
}

void answer(const Request& r) {
    if (r.phase == "data-line") {
        if (r.rest == ".") // one added header per message, where filter-arc puts its seal
            out.append("filter-dataline|")
                .append(r.session)
                .append("|")
                .append(r.token)
                .append("|X-Bench-Null: yes\n");
        out.append("filter-dataline|").append(r.session).append("|").append(r.token).append("|");
        out.append(r.rest).push_back('\n');
    } else {
        out.append("filter-result|")
            .append(r.session)
            .append("|")
            .append(r.token)
            .append("|proceed\n");
    }
}

} // namespace

int main() {
    // Lines are read in place; only a line cut by the end of a read is moved to the front.
    std::vector<char> buf(64 * 1024);
    std::size_t held = 0;
    out.reserve(buf.size() + 4096);
    for (;;) {
        if (held == buf.size())
            buf.resize(buf.size() * 2); // a line longer than the buffer
        const ssize_t got = read(0, buf.data() + held, buf.size() - held);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        const std::string_view data(buf.data(), held + static_cast<std::size_t>(got));
        std::size_t pos = 0;
        for (std::size_t nl; (nl = data.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
            const std::string_view line = data.substr(pos, nl - pos);
            Request r;
            if (line == "config|ready")
                out.append("register|filter|smtp-in|data-line\nregister|filter|smtp-in|commit\n"
                           "register|ready\n");
            else if (split(line, r))
                answer(r);
        }
        held = data.size() - pos;
        std::memmove(buf.data(), buf.data() + pos, held);
        flush_out(); // one write per read, as filter-arc writes once per turn
    }
    flush_out();
    return 0;
}
