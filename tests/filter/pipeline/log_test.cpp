// SPDX-License-Identifier: ISC
#include "filter/pipeline/log.hpp"
#include "tests/catch.hpp"

using namespace arcf::filter;

TEST_CASE("log values: one plain word stays as it is, anything else is quoted and escaped") {
    CHECK(log_value("pass") == "pass");
    CHECK(log_value("") == "\"\"");
    CHECK(log_value("two words") == "\"two words\"");
    // A value cannot end early and inject a fake key=value pair.
    CHECK(log_value("x\" auth=admin") == "\"x\\\" auth=admin\"");
    CHECK(log_value("a=b") == "\"a=b\"");
    CHECK(log_value("back\\slash") == "\"back\\\\slash\"");
    // A newline would start a fake log line; control bytes, DEL and 8-bit bytes are shown as hex.
    CHECK(log_value("x\ny") == "\"x\\x0ay\"");
    CHECK(log_value("tab\there") == "\"tab\\x09here\"");
    CHECK(log_value("\x7f\xc3\xa9") == "\"\\x7f\\xc3\\xa9\"");
}

TEST_CASE("log values are cut at the value limit and the cut is marked") {
    std::string big(70000, 'a');
    auto v = log_value(big);
    CHECK(v.size() < max_log_value + 40);
    CHECK(v.front() == '"');
    CHECK(v.back() == '"');
    CHECK(v.find("...[truncated " + std::to_string(70000 - max_log_value) + "]\"") !=
          std::string::npos);
    CHECK(log_value(std::string(max_log_value, 'b')) == std::string(max_log_value, 'b'));
    CHECK(quote_log("abcdef", 3) == "\"abc...[truncated 3]\"");
}

TEST_CASE("LogLine joins key=value pairs, each value escaped") {
    LogLine l;
    l.add("event", "exim").add("reason", "bad; ip=1.2.3.4 arc=pass").add("sets", 3ULL);
    CHECK(l.str() == "event=exim reason=\"bad; ip=1.2.3.4 arc=pass\" sets=3");
}

TEST_CASE("a whole log line is bounded and stays one line") {
    CHECK(bound_log_line("event=x a=b") == "event=x a=b");
    CHECK(bound_log_line("a\nb\r") == "a\\x0ab\\x0d");
    std::string big = "event=x v=" + std::string(100000, 'z');
    auto b = bound_log_line(big);
    CHECK(b.size() <= max_log_line);
    CHECK(b.find('\n') == std::string::npos);
    CHECK(b.rfind("...[truncated ") != std::string::npos);
    // Exactly at the limit: kept whole, no mark.
    std::string at(max_log_line, 'q');
    CHECK(bound_log_line(at) == at);
    std::string over(max_log_line + 1, 'q');
    auto o = bound_log_line(over);
    CHECK(o.size() <= max_log_line);
    CHECK(o.find("[truncated") != std::string::npos);
    // Escapes count against the limit too.
    std::string ctl(max_log_line, '\n');
    CHECK(bound_log_line(ctl).size() <= max_log_line);
}
