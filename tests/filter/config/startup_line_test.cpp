// SPDX-License-Identifier: ISC
// filter/config/startup_line: the event=start line (issue 19 item 2), bounded.
#include "filter/config/startup_line.hpp"
#include "filter/pipeline/log.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/catch.hpp"

#include <memory>
#include <string>

using namespace arcf;
using namespace arcf::filter;
using arcf::test::Contains;

namespace {

std::shared_ptr<const arc::SealKey>
key(const std::string& domain, const std::string& selector, const char* pem) {
    auto k = mail::PrivateKey::from_pem(pem);
    REQUIRE(k);
    return std::make_shared<const arc::SealKey>(arc::SealKey{domain, selector, std::move(*k)});
}

Config sealing_config(std::size_t extra_keys = 0) {
    Config c = default_config();
    auto& p = c.engine.policy;
    p.keys["fwd.example"] = key("fwd.example", "arc2026", tests::keys::rsa2048_pkcs8);
    p.keys["lists.example"] = key("lists.example", "ed", tests::keys::ed25519_pkcs8);
    for (std::size_t i = 0; i < extra_keys; ++i) {
        const std::string d = "domain" + std::to_string(1000 + i) + ".example";
        p.keys[d] = key(d, "selector2026", tests::keys::ed25519_pkcs8);
    }
    p.default_domain = "fwd.example";
    p.mode = Mode::both;
    c.resolver.ares.servers = "127.0.0.1:5353,[::1]:53";
    return c;
}

const StartFacts facts{"0.1.0", "handshake", "0.6", "6.8.0p2"};

} // namespace

TEST_CASE("start line: version, config, mode, protocol, keys, resolvers and limits", "[log]") {
    const Config c = sealing_config();
    const std::string line = start_line(facts, start_summary(c, "/etc/filter-arc/filter-arc.toml"));
    CHECK(line.rfind("event=start version=0.1.0 trigger=handshake protocol=0.6 smtpd=6.8.0p2 "
                     "config=/etc/filter-arc/filter-arc.toml mode=both seal_when=all ",
                     0) == 0);
    CHECK(log_field(line, "keys") ==
          "fwd.example/arc2026/rsa-sha256/2048,lists.example/ed/ed25519-sha256");
    CHECK(log_field(line, "default_key") == "fwd.example");
    CHECK(log_field(line, "resolvers") == "127.0.0.1:5353,[::1]:53");
    CHECK(log_field(line, "dns") ==
          "timeout:2000ms,tries:2,cache:" + std::to_string(c.resolver.cache_options.max_entries));
    CHECK(log_field(line, "limits") ==
          "deadline:30000ms,message:64MiB,spool:1MiB,headers:1000/1MiB,sets:50,key_ops:256");
    CHECK(log_field(line, "log") == "stderr");
    CHECK(severity_of(line) == Severity::notice);
}

TEST_CASE("start line: the built-in defaults verify only, with the system resolver", "[log]") {
    Config c = default_config();
    c.log.destination = LogOptions::Destination::syslog;
    c.log.facility = 19;
    const std::string line =
        start_line(StartFacts{"0.1.0", "reload", "", ""}, start_summary(c, ""));
    CHECK_THAT(line, Contains(" trigger=reload protocol=unknown smtpd=unknown config=built-in "
                              "mode=verify resolvers=system "));
    CHECK(log_field(line, "keys").empty());
    CHECK(log_field(line, "log") == "syslog:local3");
}

TEST_CASE("start line: a long key list ends in +N more and the line stays bounded", "[log]") {
    const Config c = sealing_config(500);
    const std::string keys = start_key_list(c);
    CHECK(keys.size() <= max_start_keys_bytes);
    CHECK_THAT(keys, Contains(" more"));
    // Every key counted once: the ones shown plus N.
    const auto plus = keys.rfind(",+");
    REQUIRE(plus != std::string::npos);
    const std::size_t more = std::stoul(keys.substr(plus + 2));
    std::size_t shown = 1;
    for (std::size_t i = 0; i < plus; ++i)
        shown += keys[i] == ',';
    CHECK(shown + more == 502);
    const std::string line = start_line(facts, start_summary(c, "/etc/filter-arc.toml"));
    CHECK(line.size() <= max_log_line);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(log_field(line, "keys") == keys);

    // Not even one key fits: only the count.
    CHECK(start_key_list(c, 10) == "+502 more");
    // Exactly the keys there are: no mark.
    CHECK(start_key_list(sealing_config(), 1000).find("more") == std::string::npos);
}

TEST_CASE("start line: sizes the short way", "[log]") {
    CHECK(size_text(64u * 1024 * 1024) == "64MiB");
    CHECK(size_text(512u * 1024) == "512KiB");
    CHECK(size_text(1000) == "1000");
    CHECK(size_text(0) == "0");
}
