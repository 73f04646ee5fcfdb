// SPDX-License-Identifier: ISC
#include "filter/shell/log_writer.hpp"
#include "tests/catch.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using namespace arcf::filter;

namespace {
std::string read_all(int fd) {
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}
} // namespace

TEST_CASE("a log writer on a pipe nobody reads never blocks; drops whole lines and counts them") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    const std::string line = "event=test value=" + std::string(1000, 'x');
    std::size_t dropped = 0;
    {
        LogWriter w(p[1], 64 * 1024);
        REQUIRE(w.nonblocking());
        const auto start = std::chrono::steady_clock::now();
        // Far more than the pipe (64 KiB) plus the buffer (64 KiB) can hold.
        for (int i = 0; i < 2000; ++i)
            w.write_line(line);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took < std::chrono::seconds(2));
        CHECK(w.pending() <= 64 * 1024);
        dropped = w.dropped_total();
        CHECK(dropped > 1000);

        // The reader comes back: what was kept arrives in whole lines, then the drop count.
        REQUIRE(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
        std::string got;
        for (int round = 0; round < 100 && !(w.flush() && w.pending() == 0); ++round)
            got += read_all(p[0]);
        got += read_all(p[0]);
        w.write_line("event=after");
        got += read_all(p[0]);
        const auto note = "event=log-dropped log_dropped=" + std::to_string(dropped) + "\n";
        auto at = got.find(note);
        REQUIRE(at != std::string::npos);
        CHECK(got.substr(at + note.size()) == "event=after\n");
        // Every kept line is whole.
        std::size_t kept = 0;
        for (std::size_t pos = 0; pos < at;) {
            auto nl = got.find('\n', pos);
            REQUIRE(nl != std::string::npos);
            CHECK(got.substr(pos, nl - pos) == line);
            ++kept;
            pos = nl + 1;
        }
        CHECK(kept + dropped == 2000);
    }
    // The descriptor is given back as it was (blocking).
    CHECK((fcntl(p[1], F_GETFL) & O_NONBLOCK) == 0);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("a log writer bounds each line and keeps it one line") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    {
        LogWriter w(p[1]);
        w.write_line("event=x reason=\"" + std::string(100000, 'r') + "\"\nevent=forged");
    }
    ::close(p[1]);
    std::string got = read_all(p[0]);
    ::close(p[0]);
    REQUIRE(!got.empty());
    CHECK(got.size() <= max_log_line + 1);
    CHECK(got.find('\n') == got.size() - 1);
    CHECK(got.find("[truncated ") != std::string::npos);
}

TEST_CASE("a log writer whose reader is gone stops keeping lines") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[0]);
    std::signal(SIGPIPE, SIG_IGN);
    LogWriter w(p[1]);
    w.write_line("event=one");
    CHECK(w.broken());
    w.write_line("event=two");
    CHECK(w.pending() == 0);
    ::close(p[1]);
}

TEST_CASE("add_line keeps a turn's lines for one write at flush, and writes by itself once "
          "log_batch_bytes wait") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    REQUIRE(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
    {
        LogWriter w(p[1]);
        w.add_line("event=one");
        w.add_line("event=two\nevent=forged"); // bounded and kept one line, as write_line does
        CHECK(read_all(p[0]).empty());         // nothing written before the flush
        CHECK(w.pending() > 0);
        CHECK(w.flush());
        const std::string got = read_all(p[0]);
        CHECK(got.rfind("event=one\nevent=two", 0) == 0);
        CHECK(std::count(got.begin(), got.end(), '\n') == 2);

        // Without a flush, at most log_batch_bytes (plus one line) wait.
        const std::string line = "event=burst value=" + std::string(1000, 'x');
        std::string burst;
        for (std::size_t i = 0; i < 2 * log_batch_bytes / line.size(); ++i) {
            w.add_line(line);
            CHECK(w.pending() < log_batch_bytes + line.size() + 1);
            burst += read_all(p[0]);
        }
        CHECK(burst.size() >= log_batch_bytes);
        CHECK(burst.size() % (line.size() + 1) == 0); // whole lines only
    }
    ::close(p[1]);
    ::close(p[0]);
}
