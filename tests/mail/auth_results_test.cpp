// SPDX-License-Identifier: ISC
// Authentication-Results parsing as real providers write them (RFC 8601 §2.2).
#include "tests/catch.hpp"

#include <string>
#include <vector>

#include "mail/auth_results.hpp"

using namespace arcf;

TEST_CASE("auth_results: methods, reasons, properties, comments", "[auth_results][rfc8601]") {
    auto ar = mail::parse_authentication_results(
        " mx.google.com;\r\n       dkim=pass header.i=@example.org header.s=sel header.b=abc;\r\n"
        "       spf=pass (google.com: domain of a@example.org designates 192.0.2.1 as permitted "
        "sender) smtp.mailfrom=a@example.org;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
        "header.from=example.org");
    REQUIRE(ar);
    CHECK(ar->authserv_id == "mx.google.com");
    REQUIRE(ar->results.size() == 3);
    CHECK(ar->results[0].method == "dkim");
    CHECK(ar->results[0].properties.size() == 3);
    CHECK(ar->results[1].properties.at(0).value == "a@example.org");
    CHECK(ar->results[2].result == "pass");
    CHECK(ar->results[2].properties.at(0).ptype == "header");
    CHECK(ar->results[2].properties.at(0).property == "from");
}

TEST_CASE("auth_results: authres-version, no authserv-id, none, unknown methods",
          "[auth_results][rfc8601]") {
    auto ms =
        mail::parse_authentication_results(" mx.microsoft.com 1; spf=pass smtp.mailfrom=x.example");
    REQUIRE(ms);
    CHECK(ms->version == "1");
    CHECK(ms->results.at(0).method == "spf");
    auto noid = mail::parse_authentication_results(" ; spf=none");
    REQUIRE(noid);
    CHECK(noid->authserv_id.empty());
    auto none = mail::parse_authentication_results(" example.org; none");
    REQUIRE(none);
    CHECK(none->results.empty());
    auto odd = mail::parse_authentication_results(
        " example.org; x-new/2=maybe reason=\"a;b\" policy.x=\"q\"");
    REQUIRE(odd);
    CHECK(odd->results.at(0).method == "x-new");
    CHECK(odd->results.at(0).method_version == "2");
    CHECK(odd->results.at(0).reason == "a;b");
}

TEST_CASE("auth_results: format_resinfo never lets a value break the header", "[auth_results]") {
    mail::ResInfo r;
    r.method = "dkim";
    r.result = "pass";
    r.reason = "bad \"quote\" and\r\nline";
    r.properties.push_back({"header", "d", "x;y"});
    r.properties.push_back({"smtp", "remote-ip", "2001:db8::1"});
    std::string s = mail::format_resinfo(r);
    CHECK(s.find('\r') == std::string::npos);
    CHECK(s.find('\n') == std::string::npos);
    CHECK(s == "dkim=pass reason=\"bad \\\"quote\\\" andline\" header.d=\"x;y\" "
               "smtp.remote-ip=\"2001:db8::1\"");
    CHECK(mail::format_value("a@example.org") == "a@example.org");
}

TEST_CASE("auth_results: format_value quotes every RFC 2045 tspecial, space and control, and "
          "nothing else",
          "[auth_results][rfc2045][rfc8601]") {
    // RFC 2045 §5.1 tspecials; '/' and '@' and '.' are left to the callers (method versions,
    // addresses and domains, RFC 8601 §2.2 pvalue).
    for (char c : std::string_view("()<>,;:\\\"[]?= \t")) {
        const std::string v = std::string("a") + c + "b";
        INFO(v);
        CHECK(mail::format_value(v).front() == '"');
    }
    for (char c : std::string_view("/@.-_+!#$%&'*^`{|}~")) {
        const std::string v = std::string("a") + c + "b";
        INFO(v);
        CHECK(mail::format_value(v) == v);
    }
    CHECK(mail::format_value("") == "\"\"");
    CHECK(mail::format_value("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}

TEST_CASE("auth_results: format_resinfo writes method version, comment and the omitted note",
          "[auth_results][rfc8601]") {
    mail::ResInfo r;
    r.method = "dkim";
    r.method_version = "1";
    r.result = "pass";
    r.comment = "ok (fine)";
    r.properties.push_back({"header", "d", "example.org"});
    r.properties.push_back({"header", "b", std::string(600, 'x')});
    r.properties.push_back({"header", "s", std::string(600, 'y')});
    CHECK(mail::format_resinfo(r) ==
          "dkim/1=pass (ok [fine]) header.d=example.org (2 properties omitted: too long)");
    r.method = "bad method";
    r.result = "bad;result";
    r.properties.resize(1);
    CHECK(mail::format_resinfo(r) == "x-invalid/1=neutral (ok [fine]) header.d=example.org");
}

// Issue 15 class 2: the write budgets (mail::WriteBudget). RFC 5322 §2.1.1 allows 998 octets per
// line and we fold only between words, so no word may come near that.
TEST_CASE("auth_results: format_resinfo leaves out values too long to write, and says so",
          "[auth_results][issue15]") {
    mail::ResInfo r;
    r.method = "dkim";
    r.result = "fail";
    r.properties = {{"header", "d", std::string(600, 'd')},
                    {"header", "s", "sel"},
                    {"header", "a", std::string(70000, 'a')},
                    {"header", std::string(100, 'p'), "x"}};
    mail::WriteStats st;
    std::string s = mail::format_resinfo(r, &st);
    CHECK(s == "dkim=fail header.s=sel (3 properties omitted: too long)");
    CHECK(st.values_omitted == 3);
    // A value of exactly max_value octets is written.
    r.properties = {{"header", "d", std::string(mail::WriteBudget::max_value, 'd')}};
    CHECK(mail::format_resinfo(r).size() == 19 + mail::WriteBudget::max_value);
}

TEST_CASE("auth_results: long reasons and comments are shortened, marked with ...",
          "[auth_results][issue15]") {
    mail::ResInfo r;
    r.method = "spf";
    r.result = "permerror";
    r.reason = std::string(1000, 'x');
    r.comment = std::string(1000, 'y');
    mail::WriteStats st;
    std::string s = mail::format_resinfo(r, &st);
    CHECK(s == "spf=permerror (" + std::string(253, 'y') + "...) reason=" + std::string(253, 'x') +
                   "...");
    CHECK(st.values_omitted == 2);
    // Never inside a UTF-8 sequence: the cut backs off to the sequence's first octet.
    r.comment.clear();
    r.reason = std::string(252, 'x') + "\xC3\xBC" + "tail";
    s = mail::format_resinfo(r);
    CHECK(s == "spf=permerror reason=" + std::string(252, 'x') + "...");
}

TEST_CASE("auth_results: many properties stay within one resinfo budget",
          "[auth_results][issue15]") {
    mail::ResInfo r;
    r.method = "x-many";
    r.result = "pass";
    for (int i = 0; i < 1000; ++i)
        r.properties.push_back({"header", "p" + std::to_string(i), std::string(40, 'v')});
    mail::WriteStats st;
    std::string s = mail::format_resinfo(r, &st);
    CHECK(s.size() <= mail::WriteBudget::max_resinfo);
    CHECK(st.values_omitted > 900);
    CHECK(s.find("properties omitted: too long)") != std::string::npos);
}

TEST_CASE("auth_results: format_results bounds results per method and in total",
          "[auth_results][issue15]") {
    std::vector<mail::ResInfo> list;
    mail::ResInfo arc_r{"arc", "", "pass", std::nullopt, {}, "", ""};
    list.push_back(arc_r);
    for (int i = 0; i < 30; ++i)
        list.push_back(mail::ResInfo{"dkim",
                                     "",
                                     "pass",
                                     std::nullopt,
                                     {{"header", "d", "d" + std::to_string(i) + ".example"}},
                                     "",
                                     ""});
    list.push_back(mail::ResInfo{"dmarc", "", "pass", std::nullopt, {}, "", ""});
    mail::WriteStats st;
    auto out = mail::format_results(list, &st);
    REQUIRE(out.size() == 1 + mail::WriteBudget::max_per_method + 1);
    CHECK(out.front() == "arc=pass");
    CHECK(out.back() == "dmarc=pass (14 results omitted: over budget)");
    CHECK(st.results_omitted == 14);
    // The total: resinfos of ~1000 octets each; later ones that no longer fit are left out.
    std::vector<mail::ResInfo> big;
    for (int i = 0; i < 60; ++i) {
        mail::ResInfo r{"m" + std::to_string(i), "", "pass", std::string(200, 'r'), {}, "", ""};
        for (int k = 0; k < 3; ++k)
            r.properties.push_back({"header", "p" + std::to_string(k), std::string(250, 'v')});
        big.push_back(r);
    }
    st = {};
    out = mail::format_results(big, &st);
    std::size_t total = 0;
    for (const auto& s : out)
        total += s.size() + 2;
    CHECK(total <= mail::WriteBudget::max_results);
    CHECK(out.size() + st.results_omitted == 60);
    CHECK(st.results_omitted > 0);
}

namespace {

// The field as it reads unfolded (RFC 5322 §2.2.3), with the CRLF TAB we fold with back to the
// space it replaced.
std::string unfold(std::string s) {
    for (auto p = s.find("\r\n\t"); p != std::string::npos; p = s.find("\r\n\t", p))
        s.replace(p, 3, " ");
    return s;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto p = s.find("\r\n"); p != std::string::npos; p = s.find("\r\n", start)) {
        out.push_back(s.substr(start, p - start));
        start = p + 2;
    }
    out.push_back(s.substr(start));
    return out;
}

} // namespace

TEST_CASE("auth_results: fold_results_field folds between words only",
          "[auth_results][fold][rfc5322]") {
    // Short: one line, unchanged.
    CHECK(mail::fold_results_field("Authentication-Results", "mx.example; arc=none") ==
          "Authentication-Results: mx.example; arc=none");
    // A comment and a quoted-string are single words even with spaces inside.
    std::string value = "mx.example; arc=fail (a reason with many words in it that is long enough "
                        "to pass the column) smtp.remote-ip=192.0.2.1; dmarc=fail reason=\"one "
                        "two \\\" three four five six seven eight nine ten eleven twelve\" "
                        "header.from=example.org";
    std::string folded = mail::fold_results_field("Authentication-Results", value);
    CHECK(unfold(folded) == "Authentication-Results: " + value);
    CHECK(folded ==
          "Authentication-Results: mx.example; arc=fail\r\n"
          "\t(a reason with many words in it that is long enough to pass the column)\r\n"
          "\tsmtp.remote-ip=192.0.2.1; dmarc=fail\r\n"
          "\treason=\"one two \\\" three four five six seven eight nine ten eleven twelve\"\r\n"
          "\theader.from=example.org");
}

TEST_CASE("auth_results: fold_results_field keeps lines within 78, never over 998",
          "[auth_results][fold][rfc5322]") {
    // Words of every length up to the longest a budget lets through (a property name and a
    // value of max_value octets), in a field of about 40 KB.
    std::string value = "mx.example;";
    for (std::size_t n = 1; n < 40; ++n) {
        value += " dkim=pass header.d=" + std::string(n * 13 % 600, 'd') + ".example";
        value += " (" + std::string(n * 7 % 250, 'c') + " x)";
        value += n % 2 ? ";" : "";
    }
    std::string folded = mail::fold_results_field("ARC-Authentication-Results", value);
    CHECK(unfold(folded) == "ARC-Authentication-Results: " + value);
    auto lines = lines_of(folded);
    REQUIRE(lines.size() > 40);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& l = lines[i];
        CHECK(l.size() <= 998);
        CHECK(l.find("\r") == std::string::npos);
        CHECK(l.find('\n') == std::string::npos);
        if (i > 0)
            CHECK(l.rfind("\t", 0) == 0);
        // Over 78 only when the line is one word that is too long by itself.
        if (l.size() > 78) {
            std::string word = i == 0 ? l.substr(l.find(' ') + 1) : l.substr(1);
            const bool one_word = word.find(' ') == std::string::npos ||
                                  (word.front() == '(' && word.back() == ')') ||
                                  (word.front() == '(' && word.find(')') == word.size() - 2);
            CHECK(one_word);
        }
    }
}
