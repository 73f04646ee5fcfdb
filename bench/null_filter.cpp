// SPDX-License-Identifier: ISC
// filter-arc-null: the floor of the bench's whole-filter figures. It is what any smtpd filter
// process costs in the bench's harness on this machine before it does any work of its own: it
// reads the protocol, hands every data-line back unchanged (plus one marker header, which the
// bench counts instead of a seal) and lets every commit proceed. Its CPU time is the pipe reads
// and writes, the wake-ups and the process's start; filter-arc spends the same on top of what it
// does. Protocol 0.7 only (what the bench speaks); not installed, never run by the tests.
#include <algorithm>
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

// One request line, "filter|0.7|TIME|smtp-in|PHASE|SESSION|TOKEN|REST" (without its newline,
// which follows it in the buffer). As a tight filter would, a data-line's answer is
// "filter-dataline|" and then the request's own "SESSION|TOKEN|REST\n", copied once.
void answer(std::string_view line, const char* newline_end) {
    constexpr std::string_view head = "filter|";
    if (line.substr(0, head.size()) != head)
        return;
    std::size_t at = head.size();
    for (int field = 0; field < 3; ++field) { // version, time, subsystem
        at = line.find('|', at);
        if (at == std::string_view::npos)
            return;
        ++at;
    }
    const std::size_t phase_end = line.find('|', at);
    if (phase_end == std::string_view::npos)
        return;
    const std::string_view phase = line.substr(at, phase_end - at);
    const std::size_t session = phase_end + 1;
    const std::size_t session_end = line.find('|', session);
    if (session_end == std::string_view::npos)
        return;
    const std::size_t token_end = std::min(line.find('|', session_end + 1), line.size());
    const std::string_view id = line.substr(session, token_end - session); // "SESSION|TOKEN"
    if (phase == "data-line") {
        if (token_end == line.size())
            return;
        if (line.substr(token_end + 1) == ".") // one added header per message, where filter-arc
            out.append("filter-dataline|").append(id).append("|X-Bench-Null: yes\n"); // seals
        out.append("filter-dataline|").append(line.data() + session, newline_end);
    } else {
        out.append("filter-result|").append(id).append("|proceed\n");
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
            if (line == "config|ready")
                out.append("register|filter|smtp-in|data-line\nregister|filter|smtp-in|commit\n"
                           "register|ready\n");
            else
                answer(line, data.data() + nl + 1);
        }
        held = data.size() - pos;
        std::memmove(buf.data(), buf.data() + pos, held);
        flush_out(); // one write per read, as filter-arc writes once per turn
    }
    flush_out();
    return 0;
}
