// SPDX-License-Identifier: ISC
// Issue 15, class 6b: a header block that never ends is counted, not stored, past
// max-header-bytes (it used to take 31-250 MiB per session before the limit was checked).
#include "filter/pipeline/message_job.hpp"
#include "tests/catch.hpp"

#include <malloc.h>

using namespace arcf;

namespace {
// Bytes allocated: from the heap, and in blocks of their own (large strings are mmapped).
std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
} // namespace

TEST_CASE("message job: the header block is bounded while it is collected",
          "[message_job][issue15][limits]") {
    filter::JobOptions o;
    o.authserv_id = "mx.example.test";
    o.max_header_bytes = 64 * 1024;
    o.max_header_fields = 1000;
    SECTION("one field that never ends") {
        filter::MessageJob job(o);
        const std::size_t before = heap_in_use();
        job.add_line("Subject: start");
        const std::string fold = "\t" + std::string(998, 'x');
        for (int i = 0; i < 32 * 1024; ++i) // 32 MiB of continuation lines
            job.add_line(fold);
        CHECK(heap_in_use() - before < 4 * 1024 * 1024);
        job.add_line("");
        CHECK(job.headers_done());
        auto r = job.complete(nullptr);
        CHECK(r.chain.reason.find("limits") != std::string::npos);
    }
    SECTION("millions of fields") {
        filter::MessageJob job(o);
        const std::size_t before = heap_in_use();
        for (int i = 0; i < 1000 * 1000; ++i) // 20 MB of short fields
            job.add_line("X-Many-Fields: 123");
        CHECK(heap_in_use() - before < 4 * 1024 * 1024);
        job.add_line("");
        auto r = job.complete(nullptr);
        CHECK(r.chain.status == arc::ChainStatus::none);
        CHECK(r.chain.reason.find("limits") != std::string::npos);
    }
    SECTION("ARC fields past the limit still say a chain was claimed") {
        filter::MessageJob job(o);
        for (int i = 0; i < 2000; ++i)
            job.add_line("X-Many-Fields: 123");
        job.add_line("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA");
        job.add_line("");
        auto r = job.complete(nullptr);
        CHECK(r.chain.status != arc::ChainStatus::none);
    }
}
