// SPDX-License-Identifier: ISC
// verify --json: every string is valid JSON and ASCII, whatever bytes the message held.
#include "filter/cli/cli.hpp"
#include "tests/catch.hpp"

#include <string>

using arcf::filter::json_escape;

TEST_CASE("json_escape: quotes, backslashes and control bytes", "[cli]") {
    CHECK(json_escape("a\"b\\c") == "a\\\"b\\\\c");
    CHECK(json_escape("\r\n\t") == "\\r\\n\\t");
    CHECK(json_escape(std::string("\x01\x1f\x7f", 3)) == "\\u0001\\u001f\\u007f");
    CHECK(json_escape(std::string("x\0y", 3)) == "x\\u0000y");
}

TEST_CASE("json_escape: bytes outside ASCII, valid UTF-8 or not, one escape each", "[cli]") {
    // A lone 0xff is not UTF-8: written raw it made the whole output invalid JSON.
    CHECK(json_escape("ex\xff"
                      "ample.org") == "ex\\u00ffample.org");
    CHECK(json_escape("\xc3\xa9") == "\\u00c3\\u00a9");
    for (int b = 0; b < 256; ++b) {
        std::string out = json_escape(std::string(1, static_cast<char>(b)));
        for (char c : out)
            CHECK(static_cast<unsigned char>(c) >= 0x20);
        for (char c : out)
            CHECK(static_cast<unsigned char>(c) < 0x7f);
    }
}
