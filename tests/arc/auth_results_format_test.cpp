// SPDX-License-Identifier: ISC
// Unit tests for arc/auth_results_format.hpp: the arc= resinfo (RFC 8601 §2.2, RFC 8617 §6).
#include "arc/auth_results_format.hpp"
#include "tests/catch.hpp"

#include <string>

using namespace arcf;
using arc::ChainResult;
using arc::ChainStatus;

namespace {

ChainResult result(ChainStatus s, std::string reason, std::optional<std::uint32_t> oldest) {
    ChainResult r;
    r.status = s;
    r.reason = std::move(reason);
    r.oldest_pass = oldest;
    return r;
}

// The arc= result as our Authentication-Results writes it.
std::string ar_resinfo(const ChainResult& r, std::string_view remote_ip = {}) {
    return mail::format_resinfo(
        arc::arc_resinfo(r, remote_ip, arc::ArcResultFor::authentication_results));
}

} // namespace

TEST_CASE("auth_results_format: comment_safe removes ( ) \\ ; and control characters",
          "[auth_results_format][rfc8601]") {
    // Parentheses become brackets and ';' a comma, so the text stays readable.
    CHECK(mail::comment_safe("a(b)c\\d;e") == "a[b]c d,e");
    CHECK(mail::comment_safe("x\x01y\ty\r\nz\x7f") == "x y y  z ");
    CHECK(mail::comment_safe(std::string_view("nul\0end", 7)) == "nul end");
    const std::string safe = mail::comment_safe("ARC-Seal i=2: key (x);\\ gone\x1b[0m");
    CHECK(safe.find_first_of("();\\\x1b") == std::string::npos);
    CHECK(safe.size() == std::string("ARC-Seal i=2: key (x);\\ gone\x1b[0m").size());
}

TEST_CASE("auth_results_format: comment_safe keeps printable ASCII and UTF-8",
          "[auth_results_format][rfc8601]") {
    const std::string text = "ARC-Seal i=1: signature did not verify @ example.org [x] {y} \"q\"";
    CHECK(mail::comment_safe(text) == text);
    CHECK(mail::comment_safe("B\xC3\xBC"
                             "cher") == "B\xC3\xBC"
                                        "cher");
    CHECK(mail::comment_safe("") == "");
}

TEST_CASE("auth_results_format: chain status names", "[auth_results_format][rfc8617]") {
    CHECK(arc::to_string(ChainStatus::none) == "none");
    CHECK(arc::to_string(ChainStatus::pass) == "pass");
    CHECK(arc::to_string(ChainStatus::fail) == "fail");
    CHECK(arc::to_string(ChainStatus::temperror) == "temperror");
}

TEST_CASE("auth_results_format: header.oldest-pass is shown only on pass",
          "[auth_results_format][rfc8617]") {
    CHECK(ar_resinfo(result(ChainStatus::pass, "2 sets verified", 0)) ==
          "arc=pass (2 sets verified) header.oldest-pass=0");
    CHECK(ar_resinfo(result(ChainStatus::pass, "3 sets verified", 2)) ==
          "arc=pass (3 sets verified) header.oldest-pass=2");
    // Pass without a known oldest-pass (temporary failure on an older key): no property.
    CHECK(ar_resinfo(result(ChainStatus::pass, "1 set verified", std::nullopt)) ==
          "arc=pass (1 set verified)");
    // Never on other results, even if a value was computed.
    CHECK(ar_resinfo(result(ChainStatus::fail, "bad", 1)) == "arc=fail (bad)");
    CHECK(ar_resinfo(result(ChainStatus::temperror, "dns", 0)) == "arc=temperror (dns)");
    CHECK(ar_resinfo(result(ChainStatus::none, "no ARC sets", 0)) == "arc=none (no ARC sets)");
}

TEST_CASE("auth_results_format: reason comment is sanitised and omitted when empty",
          "[auth_results_format][rfc8601]") {
    CHECK(ar_resinfo(result(ChainStatus::fail, "key (a); b\\c", std::nullopt)) ==
          "arc=fail (key [a], b c)");
    CHECK(ar_resinfo(result(ChainStatus::none, "", std::nullopt)) == "arc=none");
}

TEST_CASE("auth_results_format: smtp.remote-ip property and full header value",
          "[auth_results_format][rfc8617]") {
    auto pass = result(ChainStatus::pass, "1 set verified", 0);
    CHECK(ar_resinfo(pass, "192.0.2.1") ==
          "arc=pass (1 set verified) header.oldest-pass=0 smtp.remote-ip=192.0.2.1");
    CHECK(arc::format_authentication_results("mx.example.org", pass, "2001:db8::1") ==
          "mx.example.org; arc=pass (1 set verified) header.oldest-pass=0 "
          "smtp.remote-ip=2001:db8::1");
    CHECK(arc::format_authentication_results("mx.example.org",
                                             result(ChainStatus::fail, "x", std::nullopt)) ==
          "mx.example.org; arc=fail (x)");
}

TEST_CASE("auth_results_format: the AAR's arc= result has no comment and quotes IPv6",
          "[auth_results_format][rfc8617]") {
    auto pass = result(ChainStatus::pass, "1 set verified", 0);
    auto aar = arc::arc_resinfo(pass, "2001:db8::1");
    CHECK(aar.raw == "arc=pass header.oldest-pass=0 smtp.remote-ip=\"2001:db8::1\"");
    CHECK(mail::format_resinfo(aar) == aar.raw);
    // Something that is not an address is quoted in the Authentication-Results too.
    CHECK(ar_resinfo(result(ChainStatus::none, "", std::nullopt), "a b") ==
          "arc=none smtp.remote-ip=\"a b\"");
}
