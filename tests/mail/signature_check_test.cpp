// SPDX-License-Identifier: ISC
// Unit tests for mail/signature_check.hpp: the RFC 6376 §5.4.2 header selection of
// signed_header_data() against a plain reference on random and adversarial field lists.
#include "tests/catch.hpp"
#include "tests/support/xorshift.hpp"

#include <cctype>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "mail/canon.hpp"
#include "mail/header.hpp"
#include "mail/signature_check.hpp"
#include "mail/signature_tags.hpp"
#include "text/ascii.hpp"

using namespace arcf;
using mail::Canon;

namespace {

// RFC 6376 §5.4.2 read literally: each non-empty h= name takes the bottom-most instance of that
// name (without case) not taken yet; a name with none left adds nothing. Quadratic, obviously
// right.
std::string reference(const std::vector<mail::HeaderField>& headers,
                      const std::vector<std::string>& names,
                      Canon canon,
                      std::string_view signature) {
    std::vector<bool> used(headers.size(), false);
    std::string out;
    for (const auto& name : names) {
        if (name.empty())
            continue;
        for (std::size_t k = headers.size(); k-- > 0;) {
            if (used[k] || headers[k].name().empty() || !text::iequals(headers[k].name(), name))
                continue;
            used[k] = true;
            mail::append_canon_header(out, canon, headers[k].raw());
            break;
        }
    }
    mail::append_canon_header(out, canon, mail::strip_b_value(signature), false);
    return out;
}

// `s` with each letter's case flipped at random.
std::string mixed_case(std::string s, std::mt19937& rng) {
    for (auto& c : s)
        if (text::is_alpha(c) && (rng() & 1) != 0)
            c = static_cast<char>(c ^ 0x20);
    return s;
}

} // namespace

TEST_CASE("signed_header_data: same selection as the literal RFC 6376 §5.4.2 reading",
          "[signature_check][rfc6376][differential]") {
    // Few distinct names, so that instances repeat and h= asks for more than there are; a
    // malformed line (no colon, a name of "" ) and names that differ only in case or length.
    const std::vector<std::string> pool = {"From", "To",  "Subject", "Received",
                                           "X",    "X-A", "x-a ",    "DKIM-Signature",
                                           "Date", "A",   "AB",      "B"};
    std::mt19937 rng(21);
    for (int round = 0; round < 3000; ++round) {
        std::vector<mail::HeaderField> headers;
        const std::size_t fields = rng() % 24;
        for (std::size_t i = 0; i < fields; ++i) {
            switch (rng() % 8) {
            case 0:
                headers.emplace_back("no colon here " + std::to_string(i));
                break;
            case 1:
                headers.emplace_back(mixed_case(pool[rng() % pool.size()], rng) + " \t:  v " +
                                     std::to_string(i) + " \r\n\tfolded");
                break;
            default:
                headers.emplace_back(mixed_case(pool[rng() % pool.size()], rng) + ": " +
                                     std::to_string(i));
            }
        }
        std::vector<std::string> names;
        const std::size_t count = rng() % 30;
        for (std::size_t i = 0; i < count; ++i) {
            if (rng() % 10 == 0)
                names.emplace_back(); // h=a::b
            else if (rng() % 10 == 0)
                names.push_back("Absent" + std::to_string(rng() % 3));
            else
                names.push_back(mixed_case(pool[rng() % pool.size()], rng));
        }
        for (Canon canon : {Canon::simple, Canon::relaxed}) {
            const std::string sig = "ARC-Message-Signature: i=1; h=x; b=abc\r\n de; bh=q";
            INFO("round " << round);
            CHECK(mail::signed_header_data(headers, names, canon, sig) ==
                  reference(headers, names, canon, sig));
        }
    }
}

TEST_CASE("signed_header_data: many distinct names stay linear and exact",
          "[signature_check][hostile]") {
    // 5000 distinct names, each present twice and asked for three times: the table grows past
    // any small size and every name still finds its own instances, bottom first.
    std::vector<mail::HeaderField> headers;
    std::vector<std::string> names;
    for (int i = 0; i < 5000; ++i) {
        headers.emplace_back("N" + std::to_string(i) + ": top");
        names.push_back("n" + std::to_string(i));
        names.push_back("N" + std::to_string(i));
        names.push_back("n" + std::to_string(i));
    }
    for (int i = 0; i < 5000; ++i)
        headers.emplace_back("N" + std::to_string(i) + ": bottom");
    const std::string data = mail::signed_header_data(headers, names, Canon::relaxed, "S: b=x");
    CHECK(data == reference(headers, names, Canon::relaxed, "S: b=x"));
    CHECK(data.substr(0, 24) == "n0:bottom\r\nn0:top\r\nn1:bo");
}

TEST_CASE("signature tags: h= names are split at ':', trimmed of FWS and lower-cased",
          "[signature_check][rfc6376][issue21]") {
    // Compared with a plain split on lists of mixed case, FWS around names, empty items and a
    // trailing ':'.
    test::Rng rng{6376};
    const char* const names[] = {"From", "TO",  "x-Mixed-Case",  "ARC-Authentication-Results",
                                 "",     " \t", "\r\n Subject ", "a"};
    for (int round = 0; round < 2000; ++round) {
        std::string list;
        const std::size_t n = 1 + rng.below(6);
        for (std::size_t i = 0; i < n; ++i) {
            if (i != 0)
                list += ':';
            list += names[rng.below(sizeof names / sizeof names[0])];
        }
        std::vector<std::string> expect;
        std::size_t pos = 0;
        while (true) {
            const std::size_t c = list.find(':', pos);
            std::string item =
                list.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
            const auto first = item.find_first_not_of(" \t\r\n");
            item = first == std::string::npos
                       ? std::string()
                       : item.substr(first, item.find_last_not_of(" \t\r\n") - first + 1);
            for (char& ch : item)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (!item.empty() || c != std::string::npos || pos != 0)
                expect.push_back(item);
            if (c == std::string::npos)
                break;
            pos = c + 1;
        }
        INFO("h=" << list);
        REQUIRE(mail::parse_header_list(list) == expect);
    }
}
