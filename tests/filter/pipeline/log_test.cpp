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

TEST_CASE("log: a line's fields are found past quoted values that look like fields", "[log]") {
    const std::string line =
        "session=1 reason=\"x action=deliver \\\" event=start\" action=defer empty=\"\"";
    CHECK(log_field(line, "session") == "1");
    CHECK(log_field(line, "action") == "defer");
    CHECK(log_field(line, "reason") == "x action=deliver \\\" event=start");
    CHECK(log_field(line, "empty").empty());
    CHECK(log_field(line, "event").empty());
    CHECK(log_field("", "event").empty());
    CHECK(log_field("reason=\"unterminated", "reason") == "unterminated");
}

TEST_CASE("log: each line's severity follows from its own fields", "[log]") {
    CHECK(severity_of("session=1 arc=pass action=deliver size=3") == Severity::info);
    CHECK(severity_of("session=1 arc=temperror action=defer size=3") == Severity::warning);
    CHECK(severity_of("session=1 arc=skipped action=reject size=3") == Severity::notice);
    CHECK(severity_of("event=start version=0.1.0 protocol=0.6") == Severity::notice);
    CHECK(severity_of("event=reload status=ok file=\"/x\"") == Severity::notice);
    CHECK(severity_of("event=reload status=failed reason=\"x\"") == Severity::err);
    CHECK(severity_of("event=start status=degraded reason=\"x\"") == Severity::err);
    CHECK(severity_of("event=internal-error reason=\"x\"") == Severity::err);
    CHECK(severity_of("event=replay-failed reason=\"x\" action=defer") == Severity::err);
    CHECK(severity_of("mode=exim error=\"/etc/x:0: cannot open\"") == Severity::err);
    CHECK(severity_of("event=protocol-error reason=\"x\"") == Severity::warning);
    CHECK(severity_of("event=log-dropped log_dropped=3") == Severity::warning);
    // An attacker's value cannot raise or lower it: quoted text is not a field.
    CHECK(severity_of("session=1 reason=\"action=defer event=internal-error\" action=deliver") ==
          Severity::info);
    CHECK(to_string(Severity::warning) == "warning");
    CHECK(static_cast<int>(Severity::err) == 3); // RFC 5424 §6.2.1 numbering
}
