// SPDX-License-Identifier: ISC
// filter/shell/syslog_writer: the datagram format (PRI, RFC 3164 and RFC 5424 headers) and the
// writer against a temporary AF_UNIX datagram socket standing in for /dev/log: one datagram per
// line, never blocking, drops counted, reconnect after the daemon's socket is replaced.
#include "filter/shell/syslog_writer.hpp"
#include "tests/catch.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace arcf::filter;
using arcf::test::Contains;

namespace {

/// A syslog daemon's socket in a private directory: bound, read only when asked.
struct FakeSyslogd {
    std::string dir, path;
    int fd = -1;
    FakeSyslogd() {
        char tmpl[] = "/tmp/filter-arc-syslog-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw std::runtime_error("mkdtemp");
        dir = tmpl;
        path = dir + "/log";
        bind_socket();
    }
    ~FakeSyslogd() {
        close_socket();
        ::rmdir(dir.c_str());
    }
    void bind_socket() {
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path.copy(a.sun_path, sizeof a.sun_path - 1);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("bind");
    }
    void close_socket() {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
        ::unlink(path.c_str());
    }
    std::vector<std::string> receive() {
        std::vector<std::string> got;
        char buf[8192];
        while (true) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n < 0)
                break;
            got.emplace_back(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
};

// 2026-12-07 04:05:09 UTC.
constexpr std::time_t when = 1796616309;

} // namespace

TEST_CASE("syslog: PRI is facility * 8 + severity; RFC 3164 and RFC 5424 headers", "[syslog]") {
    SyslogIdentity id{2, "filter-arc", false, "mx", 4242};
    const std::string d = syslog_datagram(id, Severity::info, "session=1 action=deliver", when);
    // mail (2) * 8 + info (6) = 22. The time is local: only its shape is fixed here.
    CHECK(d.rfind("<22>Dec ", 0) == 0);
    REQUIRE(d.size() > 20);
    CHECK(d[10] == ' ');
    CHECK(d[13] == ':');
    CHECK(d[16] == ':');
    CHECK(d.substr(19) == " filter-arc[4242]: session=1 action=deliver");
    CHECK(syslog_datagram(SyslogIdentity{19, "arc", false, "mx", 1}, Severity::err, "x", when)
              .rfind("<155>", 0) == 0); // local3 (19) * 8 + err (3)

    id.rfc5424 = true;
    CHECK(syslog_datagram(id, Severity::warning, "a=b", when) ==
          "<20>1 2026-12-07T04:05:09Z mx filter-arc 4242 - - a=b");
    // The message is bounded and has no line breaks, whatever it was given.
    const std::string big =
        syslog_datagram(id, Severity::notice, std::string(10000, 'x') + "\n", when);
    CHECK(big.size() < 4096 + 64);
    CHECK(big.find('\n') == std::string::npos);
}

TEST_CASE("syslog: one datagram per line, its priority from the line", "[syslog]") {
    FakeSyslogd daemon;
    SyslogWriter w(SyslogIdentity{2, "filter-arc", true, "mx", 7}, daemon.path);
    REQUIRE(w.connected());
    w.write_line("session=1 arc=pass action=deliver");
    w.write_line("session=2 arc=temperror action=defer");
    w.write_line("event=start version=0.1.0");
    w.write_line("event=reload status=failed reason=\"x\"");
    auto got = daemon.receive();
    REQUIRE(got.size() == 4);
    CHECK(got[0].rfind("<22>1 ", 0) == 0);
    CHECK_THAT(got[0], Contains(" mx filter-arc 7 - - session=1 arc=pass action=deliver"));
    CHECK(got[1].rfind("<20>1 ", 0) == 0);
    CHECK(got[2].rfind("<21>1 ", 0) == 0);
    CHECK(got[3].rfind("<19>1 ", 0) == 0);
    CHECK(w.sent_total() == 4);
    CHECK(w.dropped_total() == 0);
}

TEST_CASE("syslog: a daemon that does not read never blocks us; drops are counted, then said",
          "[syslog]") {
    FakeSyslogd daemon;
    SyslogWriter w(SyslogIdentity{2, "filter-arc", false, "mx", 7}, daemon.path);
    REQUIRE(w.connected());
    const std::string line = "session=1 action=deliver pad=" + std::string(2000, 'p');
    const auto start = std::chrono::steady_clock::now();
    // Far more than a datagram socket's receive queue holds.
    for (int i = 0; i < 5000; ++i)
        w.write_line(line);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    const std::size_t dropped = w.dropped_total();
    CHECK(dropped > 0);
    CHECK(w.sent_total() + dropped == 5000);

    auto queued = daemon.receive();
    CHECK(queued.size() == w.sent_total());
    w.write_line("event=after");
    auto after = daemon.receive();
    REQUIRE(after.size() == 2);
    CHECK_THAT(after[0], Contains("]: event=log-dropped log_dropped=" + std::to_string(dropped)));
    CHECK(after[0].rfind("<20>", 0) == 0); // warning
    CHECK_THAT(after[1], Contains("]: event=after"));
}

TEST_CASE("syslog: the daemon restarts (a new socket at the path); we connect again", "[syslog]") {
    FakeSyslogd daemon;
    SyslogWriter w(SyslogIdentity{2, "filter-arc", false, "mx", 7}, daemon.path);
    w.write_line("event=one");
    CHECK(daemon.receive().size() == 1);

    daemon.close_socket();
    w.write_line("event=lost"); // nobody listens: dropped, counted
    CHECK(w.dropped_total() == 1);
    CHECK(!w.connected());

    daemon.bind_socket();
    // While nobody listened, connecting is retried at most once a second.
    std::vector<std::string> got;
    for (int i = 0; i < 30 && got.empty(); ++i) {
        w.write_line("event=two");
        got = daemon.receive();
        if (got.empty())
            ::usleep(100 * 1000);
    }
    REQUIRE(got.size() == 2);
    CHECK_THAT(got[0], Contains("event=log-dropped log_dropped="));
    CHECK_THAT(got[1], Contains("]: event=two"));
}

TEST_CASE("syslog: no socket at the path: every line dropped and counted, nothing blocks",
          "[syslog]") {
    SyslogWriter w(SyslogIdentity{}, "/nonexistent/filter-arc-test/log");
    CHECK(!w.connected());
    CHECK(!w.last_error().empty());
    for (int i = 0; i < 100; ++i)
        w.write_line("event=x");
    CHECK(w.dropped_total() == 100);
    CHECK(w.sent_total() == 0);
}
