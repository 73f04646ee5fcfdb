// SPDX-License-Identifier: ISC
// filter/shell/pidfile.*: the locked pidfile, the status file `filter-arc reload` waits for,
// and the checks reload makes before it signals anything.
#include "filter/shell/pidfile.hpp"
#include "tests/catch.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace arcf::filter;
using arcf::test::Contains;

namespace {

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/filter-arc-pidfile-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw std::runtime_error("mkdtemp");
        path = tmpl;
    }
    ~TempDir() {
        for (const char* f : {"/x.pid", "/x.status", "/x.status.tmp", "/fifo.pid"})
            std::remove((path + f).c_str());
        ::rmdir(path.c_str());
    }
    std::string path;
};

std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("pidfile: locked for one process, removed at exit", "[pidfile]") {
    TempDir d;
    const std::string pid = d.path + "/x.pid";
    CHECK(status_path(pid) == d.path + "/x.status");
    CHECK(status_path("/run/f") == "/run/f.status");
    {
        PidFile a;
        REQUIRE(a.open(pid).empty());
        CHECK(a.held());
        CHECK(slurp(pid) == std::to_string(::getpid()) + "\n");
        // A second holder is refused and names the first; the file stays as it is.
        PidFile b;
        CHECK_THAT(b.open(pid), Contains("locked by pid " + std::to_string(::getpid())));
        CHECK_FALSE(b.held());
        CHECK(slurp(pid) == std::to_string(::getpid()) + "\n");

        REQUIRE(a.write_status("pid=1 reloads=2 status=failed reason=\"a \\\"b\\\" c\"").empty());
        std::string line = slurp(status_path(pid));
        CHECK(status_value(line, "reloads") == "2");
        CHECK(status_value(line, "status") == "failed");
        CHECK(status_value(line, "reason") == "a \"b\" c");
        CHECK(status_value(line, "none").empty());

        // Held, but by a process that is not filter-arc (this test): never signalled.
        LiveFilter f = live_filter(pid);
        CHECK(f.pid == 0);
        CHECK_THAT(f.error, Contains("not filter-arc"));
    }
    CHECK(::access(pid.c_str(), F_OK) != 0);
    CHECK(::access(status_path(pid).c_str(), F_OK) != 0);
    CHECK_THAT(live_filter(pid).error, Contains("no such file"));
    // A pidfile nobody holds is stale, whatever pid it names.
    std::ofstream(pid) << "1\n";
    CHECK_THAT(live_filter(pid).error, Contains("stale"));
}

TEST_CASE("pidfile: a FIFO at the path is refused, never waited on", "[pidfile]") {
    TempDir d;
    const std::string fifo = d.path + "/fifo.pid";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    PidFile p;
    CHECK_THAT(p.open(fifo), Contains("not a regular file"));
    CHECK_THAT(live_filter(fifo).error, Contains("not a regular file"));
}
