// SPDX-License-Identifier: ISC
// filter/config/config.*, filter/config/: the schema table, the loader it drives, and
// `check-config --print` output that loads back into the same configuration.
#include "filter/config/config.hpp"

// The settings header must not drag the resolver's or the TOML parser's headers into its
// readers (issue 16: config.hpp pulled Boost.Asio into everything that reads settings).
#if defined(BOOST_ASIO_VERSION) || defined(ARES_VERSION) || defined(TOML_LIB_MAJOR)
#error "filter/config/config.hpp includes Asio, c-ares or toml++"
#endif

#include "filter/config/config_file.hpp"
#include "filter/config/schema.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/catch.hpp"

#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace arcf::filter;
using arcf::test::Contains;

namespace {

/// A private directory for the files of one test, removed with its files at the end.
struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/filter-arc-config-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw std::runtime_error("mkdtemp");
        path = tmpl;
    }
    ~TempDir() {
        for (const auto& f : files)
            std::remove(f.c_str());
        ::rmdir(path.c_str());
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
        std::string p = path + "/" + name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), mode);
        files.push_back(p);
        return p;
    }
    std::string path;
    std::vector<std::string> files;
};

std::string load_error(const std::string& path) {
    try {
        load_config(path);
    } catch (const ConfigError& e) {
        return e.message;
    }
    return "(loaded)";
}

/// load(print(load(x))) == load(x), for both styles of output. print() shows every setting of
/// the schema, so equal prints mean equal settings; a few are compared directly as well.
void require_round_trip(TempDir& d, const std::string& text) {
    Config first = load_config(d.write("first.toml", text));
    for (auto style : {PrintStyle::bare, PrintStyle::annotated}) {
        std::string printed = print_config(first, style);
        INFO(printed);
        Config again = load_config(d.write("again.toml", printed));
        CHECK(print_config(again, PrintStyle::bare) == print_config(first, PrintStyle::bare));
        CHECK(again.engine.policy.mode == first.engine.policy.mode);
        CHECK(again.engine.authserv_id == first.engine.authserv_id);
        CHECK(again.resolver.ares.servers == first.resolver.ares.servers);
        CHECK(again.engine.policy.keys.size() == first.engine.policy.keys.size());
        CHECK(again.engine.policy.default_domain == first.engine.policy.default_domain);
        CHECK(again.engine.policy.trusted_sealers == first.engine.policy.trusted_sealers);
        CHECK(again.engine.seal.signed_headers == first.engine.seal.signed_headers);
    }
}

} // namespace

TEST_CASE("schema: each setting named once, described, and loadable") {
    std::set<std::pair<std::string_view, std::string_view>> seen;
    std::set<std::string_view> known_tables(tables().begin(), tables().end());
    for (const auto& s : schema()) {
        INFO(s.name());
        CHECK(seen.insert({s.table, s.key}).second);
        CHECK(known_tables.count(s.table) == 1);
        CHECK(!s.doc.empty());
        CHECK(find_setting(s.table, s.key) == &s);
        if (s.kind == Kind::key_tables)
            continue;
        CHECK(s.set != nullptr);
        if (s.kind == Kind::choice)
            CHECK(choices(s).size() >= 2);
        if (s.kind == Kind::integer)
            CHECK(s.min <= s.max);
    }
    CHECK(seen.size() >= 40);
}

TEST_CASE("schema: every integer setting refuses a value outside its range, naming it") {
    TempDir d;
    for (const auto& s : schema()) {
        if (s.kind != Kind::integer || s.table == "seal" || s.table == "seal.keys")
            continue;
        INFO(s.name());
        std::string head = s.table.empty() ? "" : "[" + std::string(s.table) + "]\n";
        if (s.min > 0) {
            auto p = d.write("low.toml",
                             head + std::string(s.key) + " = " + std::to_string(s.min - 1) + "\n");
            CHECK_THAT(load_error(p), Contains(s.name() + ": " + range_text(s)));
        }
        if (s.max < static_cast<std::uint64_t>(INT64_MAX)) {
            auto p = d.write("high.toml",
                             head + std::string(s.key) + " = " + std::to_string(s.max + 1) + "\n");
            CHECK_THAT(load_error(p), Contains(s.name() + ": " + out_of_range_text(s, s.max + 1)));
        }
        auto p = d.write("neg.toml", head + std::string(s.key) + " = -1\n");
        CHECK_THAT(load_error(p), Contains(s.name() + ": must be a non-negative integer"));
    }
}

TEST_CASE("range texts") {
    CHECK(range_text(*find_setting("limits", "max-arc-sets")) == "1..50 (RFC 8617 §4.2.1)");
    CHECK(range_text(*find_setting("dns", "tries")) == "at least 1");
    const Setting& timeout = *find_setting("dns", "timeout-ms");
    CHECK(out_of_range_text(timeout, 0) == "at least 1");
    CHECK(out_of_range_text(timeout, 1ULL << 32) == "at most 4294967295");
}

TEST_CASE("unknown settings: a key of another table says where it belongs (TOML scoping)") {
    TempDir d;
    std::string key = d.write("k.key", arcf::tests::keys::ed25519_pkcs8);
    SECTION("a [seal] setting after a [[seal.keys]] table (issue 20)") {
        auto p = d.write("c.toml", "[seal]\n[[seal.keys]]\ndomain = \"a.example\"\n"
                                   "selector = \"s\"\nkey = \"" +
                                       key + "\"\ndomain-from = \"header-from\"\n");
        std::string err = load_error(p);
        CHECK_THAT(err, Contains(":6: seal.keys.domain-from: unknown setting"));
        CHECK_THAT(err, Contains("domain-from is a [seal] setting placed after a [[seal.keys]]"));
        CHECK_THAT(err, Contains("above the first [[seal.keys]]"));
    }
    SECTION("a top-level setting after a table header") {
        auto p = d.write("c.toml", "[dns]\ntries = 3\nmode = \"verify\"\n");
        std::string err = load_error(p);
        CHECK_THAT(err, Contains(":3: dns.mode: unknown setting; mode is a top-level setting"));
        CHECK_THAT(err, Contains("above the first table header"));
    }
    SECTION("a top-level setting after a [[seal.keys]] table") {
        auto p = d.write("c.toml", "[[seal.keys]]\ndomain = \"a.example\"\nselector = \"s\"\n"
                                   "key = \"" +
                                       key + "\"\ntrusted-networks = []\n");
        CHECK_THAT(load_error(p), Contains(":5: seal.keys.trusted-networks: unknown setting; "
                                           "trusted-networks is a top-level setting: TOML puts "
                                           "every key below a [[seal.keys]] header"));
    }
    SECTION("a table's setting at the top level") {
        auto p = d.write("c.toml", "timeout-ms = 100\n");
        CHECK_THAT(load_error(p),
                   Contains(":1: timeout-ms: unknown setting; timeout-ms is a [dns] setting"));
    }
    SECTION("a setting of another table") {
        auto p = d.write("c.toml", "[dns]\nmax-arc-sets = 3\n");
        CHECK_THAT(load_error(p), Contains("dns.max-arc-sets: unknown setting; max-arc-sets is "
                                           "a [limits] setting, not a [dns] one"));
    }
    SECTION("a name no table has") {
        auto p = d.write("c.toml", "[seal]\nsign = true\n");
        std::string err = load_error(p);
        CHECK_THAT(err, Contains(":2: seal.sign: unknown setting"));
        CHECK(err.find(';') == std::string::npos);
    }
}

TEST_CASE("without a key to seal with, the filter only verifies") {
    TempDir d;
    // config.cpp used to assign the mode to itself here ("nothing to seal with: verify only").
    CHECK(default_config().engine.policy.mode == Mode::verify);
    CHECK(load_config(d.write("a.toml", "")).engine.policy.mode == Mode::verify);
    CHECK(load_config(d.write("b.toml", "mode = \"both\"\n")).engine.policy.mode == Mode::verify);
    CHECK(load_config(d.write("c.toml", "mode = \"verify\"\n")).engine.policy.mode == Mode::verify);
    // "seal" without a key would add nothing at all: an error, not a silent no-op.
    CHECK_THAT(load_error(d.write("d.toml", "\n\nmode = \"seal\"\n")),
               Contains(":3: mode: \"seal\" needs a [seal] table with a key"));
    std::string key = d.write("k.key", arcf::tests::keys::ed25519_pkcs8);
    std::string seal = "[seal]\ndomain = \"a.example\"\nselector = \"s\"\nkey = \"" + key + "\"\n";
    CHECK(load_config(d.write("e.toml", seal)).engine.policy.mode == Mode::both);
    CHECK(load_config(d.write("f.toml", "mode = \"seal\"\n" + seal)).engine.policy.mode ==
          Mode::seal);
}

TEST_CASE("check-config --print loads back into the same configuration") {
    TempDir d;
    std::string ed = d.write("ed.key", arcf::tests::keys::ed25519_pkcs8);
    std::string rsa = d.write("rsa.key", arcf::tests::keys::rsa2048_pkcs8, 0640);
    std::string sealers = d.write("sealers.txt", "lists.example.org\n# c\nForwarder.Example\n");
    SECTION("the defaults") {
        require_round_trip(d, "");
        Config c = default_config();
        Config again = load_config(d.write("again.toml", print_config(c)));
        CHECK(print_config(again) == print_config(c));
    }
    SECTION("every setting away from its default") {
        require_round_trip(
            d, "authserv-id = \"mx.a.example\"\n"
               "trusted-authserv-ids = [\"mx2.a.example\", \"we \\\"quote\\\" \\\\ this\"]\n"
               "mode = \"seal\"\n"
               "trusted-networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"
               "trust-authenticated = false\n"
               "trusted-sealers-file = \"" +
                   sealers +
                   "\"\n"
                   "scrub-forged-results = false\n"
                   "[authentication]\nspf = false\ndkim = false\ndmarc = false\n"
                   "temperror = \"record\"\n"
                   "[dns]\nservers = [\"127.0.0.1:5353\", \"[::1]:53\"]\ntimeout-ms = 700\n"
                   "tries = 4\nmessage-deadline-ms = 9000\ncache-entries = 5\n"
                   "cache-bytes = 4096\n"
                   "[limits]\nmin-rsa-bits = 2048\nmax-rsa-bits = 4096\nmax-key-records = 2\n"
                   "max-key-operations = 99\nspool-memory-bytes = 1000\n"
                   "max-message-bytes = 100000\nmax-header-fields = 77\n"
                   "max-header-bytes = 9999\nmax-arc-sets = 7\n"
                   "[smtpd]\ntempfail-reply = \"451 4.7.0 later\"\n"
                   "[seal]\ndomain = \"A.example\"\nselector = \"s1\"\nkey = \"" +
                   ed +
                   "\"\nwhen = \"recipient-domains\"\n"
                   "recipient-domains = [\"gmail.com\"]\ndomain-from = \"recipient\"\n"
                   "default-domain = \"b.example\"\nheaders = [\"from\", \"subject\"]\n"
                   "oversign = true\ncanonicalization = \"simple\"\n"
                   "allow-readable-keys = true\n"
                   "[[seal.keys]]\ndomain = \"b.example\"\nselector = \"s2\"\nkey = \"" +
                   rsa + "\"\nalgorithm = \"rsa-sha256\"\n");
    }
    SECTION("the printed form is the one the man page documents") {
        Config c = load_config(d.write(
            "c.toml", "[seal]\nallow-readable-keys = true\n[[seal.keys]]\ndomain = \"b.example\"\n"
                      "selector = \"s2\"\nkey = \"" +
                          rsa + "\"\n"));
        std::string out = print_config(c);
        CHECK_THAT(out, Contains("\n[seal]\nwhen = \"all\"\n"));
        CHECK_THAT(out, Contains("\n[[seal.keys]]\ndomain = \"b.example\"\nselector = \"s2\"\n"));
        CHECK_THAT(out, Contains("\nservers = []\n"));
        CHECK(out.find('#') == std::string::npos);
        CHECK_THAT(describe(c), Contains("# 2048 bits"));
    }
}

TEST_CASE("an Ed25519 sealing key draws a warning, an RSA one none (issue 20)") {
    TempDir d;
    std::string ed = d.write("ed.key", arcf::tests::keys::ed25519_pkcs8);
    std::string rsa = d.write("rsa.key", arcf::tests::keys::rsa2048_pkcs8);
    Config c = load_config(d.write(
        "c.toml", "[seal]\ndomain = \"a.example\"\nselector = \"s\"\nkey = \"" + rsa +
                      "\"\n[[seal.keys]]\ndomain = \"b.example\"\nselector = \"s\"\nkey = \"" + ed +
                      "\"\n"));
    REQUIRE(c.warnings.size() == 1);
    CHECK_THAT(c.warnings[0], Contains(":8: seal.keys.key: b.example seals with an Ed25519 key"));
    CHECK(load_config(d.write("r.toml", "[seal]\ndomain = \"a.example\"\nselector = \"s\"\n"
                                        "key = \"" +
                                            rsa + "\"\n"))
              .warnings.empty());
}

namespace {

/// A [[seal.keys]] table; `state` empty: not written.
std::string key_table(const std::string& domain,
                      const std::string& selector,
                      const std::string& file,
                      const std::string& state = "") {
    return "[[seal.keys]]\ndomain = \"" + domain + "\"\nselector = \"" + selector + "\"\nkey = \"" +
           file + "\"\n" + (state.empty() ? "" : "state = \"" + state + "\"\n");
}

} // namespace

TEST_CASE("rotation: one active and published keys per domain (issue 20)") {
    TempDir d;
    std::string rsa = d.write("rsa.key", arcf::tests::keys::rsa2048_pkcs8);
    std::string next = d.write("next.key", arcf::tests::keys::rsa1024_pkcs8);
    std::string ed = d.write("ed.key", arcf::tests::keys::ed25519_pkcs8);

    SECTION("the active key seals; the published one is configured but never seals") {
        Config c = load_config(
            d.write("c.toml", "[seal]\n" + key_table("a.example", "old", rsa, "published") +
                                  key_table("a.example", "new", next, "active") +
                                  key_table("b.example", "s", rsa)));
        REQUIRE(c.engine.policy.keys.size() == 2);
        CHECK(c.engine.policy.keys.at("a.example")->selector == "new");
        CHECK(c.engine.policy.keys.at("b.example")->selector == "s");
        CHECK(c.engine.policy.default_domain == "a.example");
        // choose_key (the pipeline's choice) only sees the active keys.
        Envelope env;
        auto k = choose_key(c.engine.policy, env, "");
        REQUIRE(k != nullptr);
        CHECK(k->selector == "new");
        // Every key, in file order, with its state.
        auto all = all_seal_keys(c);
        REQUIRE(all.size() == 3);
        CHECK(all[0]->selector == "old");
        CHECK(configured_key(c, all[0].get())->state == KeyState::published);
        CHECK(configured_key(c, all[0].get())->file == rsa);
        CHECK(configured_key(c, all[1].get())->state == KeyState::active);
        CHECK(configured_key(c, all[2].get())->state == KeyState::active);
    }
    SECTION("switching: the other key becomes active by editing the file") {
        Config c = load_config(
            d.write("c.toml", "[seal]\n" + key_table("a.example", "old", rsa, "active") +
                                  key_table("a.example", "new", next, "published")));
        CHECK(c.engine.policy.keys.at("a.example")->selector == "old");
        Config after = load_config(
            d.write("c.toml", "[seal]\n" + key_table("a.example", "old", rsa, "published") +
                                  key_table("a.example", "new", next, "active")));
        CHECK(after.engine.policy.keys.at("a.example")->selector == "new");
    }
    SECTION("the one-key form of [seal] is active; a published next key may join it") {
        Config c = load_config(
            d.write("c.toml", "[seal]\ndomain = \"a.example\"\nselector = \"old\"\nkey = \"" + rsa +
                                  "\"\n" + key_table("a.example", "new", next, "published")));
        CHECK(c.engine.policy.keys.at("a.example")->selector == "old");
        CHECK(all_seal_keys(c).size() == 2);
    }
    SECTION("two active keys for one domain: an error naming the domain and both keys") {
        std::string e =
            load_error(d.write("c.toml", "[seal]\n" + key_table("b.example", "s", rsa) +
                                             key_table("a.example", "old", rsa) +
                                             key_table("a.example", "new", next, "active")));
        CHECK_THAT(e, Contains("c.toml:10: seal.keys: 2 active keys for a.example (selector old "
                               "at "));
        CHECK_THAT(e, Contains("c.toml:6, selector new at "));
        CHECK_THAT(e, Contains("c.toml:10); exactly one key per domain seals: set state = "
                               "\"published\" on all but one"));
        // Today's files (one key per domain, no state) stay valid; the same domain twice
        // without states is the two-active case.
        CHECK_THAT(
            load_error(d.write("d.toml", "[seal]\ndomain = \"a.example\"\nselector = "
                                         "\"x\"\nkey = \"" +
                                             rsa + "\"\n" + key_table("a.example", "y", next))),
            Contains("2 active keys for a.example"));
    }
    SECTION("no active key for a domain: an error naming the domain and its keys") {
        std::string e = load_error(
            d.write("c.toml", "[seal]\n" + key_table("a.example", "old", rsa, "published") +
                                  key_table("a.example", "new", next, "published")));
        CHECK_THAT(e, Contains("c.toml:2: seal.keys: no active key for a.example (selector old "
                               "at "));
        CHECK_THAT(e, Contains("selector new at "));
        CHECK_THAT(e, Contains("set state = \"active\" on the key that seals"));
    }
    SECTION("the same selector twice for a domain is one DNS record: an error") {
        CHECK_THAT(
            load_error(d.write("c.toml", "[seal]\n" + key_table("a.example", "s", rsa) +
                                             key_table("A.example", "S", next, "published"))),
            Contains(
                "c.toml:6: seal.keys: a second key for S._domainkey.a.example (the first is at "));
    }
    SECTION("state is active or published") {
        CHECK_THAT(
            load_error(d.write("c.toml", "[seal]\n" + key_table("a.example", "s", rsa, "next"))),
            Contains("seal.keys.state: must be one of \"active\", \"published\""));
    }
    SECTION("a published Ed25519 key draws no warning; an active one does") {
        CHECK(load_config(d.write("c.toml", "[seal]\n" + key_table("a.example", "s", rsa) +
                                                key_table("a.example", "e", ed, "published")))
                  .warnings.empty());
        CHECK(load_config(d.write("d.toml", "[seal]\n" +
                                                key_table("a.example", "s", rsa, "published") +
                                                key_table("a.example", "e", ed)))
                  .warnings.size() == 1);
    }
    SECTION("check-config --print keeps every key and its state") {
        std::string text = "[seal]\n" + key_table("a.example", "old", rsa, "published") +
                           key_table("a.example", "new", next) + key_table("b.example", "s", ed);
        require_round_trip(d, text);
        Config c = load_config(d.write("c.toml", text));
        std::string out = print_config(c);
        CHECK_THAT(out, Contains("[[seal.keys]]\ndomain = \"a.example\"\nselector = \"old\"\nkey "
                                 "= \"" +
                                 rsa + "\"\nalgorithm = \"rsa-sha256\"\nstate = \"published\"\n"));
        CHECK_THAT(out, Contains("selector = \"new\"\nkey = \"" + next +
                                 "\"\nalgorithm = \"rsa-sha256\"\nstate = \"active\"\n"));
        Config again = load_config(d.write("again.toml", out));
        auto all = all_seal_keys(again);
        REQUIRE(all.size() == 3);
        CHECK(configured_key(again, all[0].get())->state == KeyState::published);
        CHECK(again.engine.policy.keys.at("a.example")->selector == "new");
    }
}
TEST_CASE("config and key files: only regular files, bounded, errors name path, errno and user",
          "[startup]") {
    TempDir d;
    const std::string user = running_user();
    const std::string rsa = arcf::tests::keys::rsa2048_pkcs8;
    auto seal_with = [&](const std::string& key) {
        return d.write("c.toml",
                       "[seal]\ndomain = \"a.example\"\nselector = \"s\"\nkey = \"" + key + "\"\n");
    };
    SECTION("a missing config file: errno text and user, no line number") {
        auto e = load_error(d.path + "/missing.toml");
        CHECK(e == "cannot read " + d.path + "/missing.toml: No such file or directory (user " +
                       user + ")");
    }
    SECTION("a FIFO at the key path is refused at once, never waited on") {
        std::string fifo = d.path + "/fifo.key";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        d.files.push_back(fifo);
        CHECK_THAT(load_error(seal_with(fifo)),
                   Contains(":4: seal.key: cannot read " + fifo +
                            ": a FIFO, not a regular file (user " + user + ")"));
    }
    SECTION("a directory as the config file") {
        CHECK_THAT(load_error(d.path), Contains("a directory, not a regular file"));
    }
    SECTION("a key over 64 KiB is refused unread") {
        std::string big = d.write("big.key", rsa + std::string(70 * 1024, '\n'));
        CHECK_THAT(load_error(seal_with(big)),
                   Contains("bytes, over the limit of 65536 bytes (user " + user + ")"));
    }
    SECTION("a world-readable key: an error, or with allow-readable-keys a warning") {
        std::string k = d.write("open.key", rsa, 0644);
        CHECK_THAT(load_error(seal_with(k)), Contains("is readable by group or others"));
        Config c = load_config(d.write("allowed.toml", "[seal]\ndomain = \"a.example\"\n"
                                                       "selector = \"s\"\nallow-readable-keys = "
                                                       "true\nkey = \"" +
                                                           k + "\"\n"));
        REQUIRE(c.warnings.size() == 1);
        CHECK_THAT(c.warnings[0], Contains("allowed by seal.allow-readable-keys"));
    }
}

TEST_CASE("load_config_or_defaults: a configuration that cannot be loaded degrades, never throws",
          "[startup]") {
    TempDir d;
    auto c = load_config_or_defaults(d.path + "/missing.toml", OnConfigError::defer);
    CHECK_THAT(c.engine.config_error, Contains("missing.toml: No such file or directory"));
    CHECK(c.engine.config_error_defer);
    CHECK(c.engine.policy.keys.empty()); // the built-in defaults: verify only
    auto p = load_config_or_defaults(d.write("bad.toml", "bogus = 1\n"), OnConfigError::pass);
    CHECK_THAT(p.engine.config_error, Contains(":1: bogus: unknown setting"));
    CHECK_FALSE(p.engine.config_error_defer);
    auto ok =
        load_config_or_defaults(d.write("ok.toml", "mode = \"verify\"\n"), OnConfigError::defer);
    CHECK(ok.engine.config_error.empty());
    CHECK(parse_on_config_error("pass") == OnConfigError::pass);
    CHECK(parse_on_config_error("defer") == OnConfigError::defer);
    CHECK_FALSE(parse_on_config_error("reject").has_value());
}

TEST_CASE("read_config_file: whole files of any size up to the limit, byte for byte") {
    // The buffer starts near the size fstat() reports and doubles: sizes around its start
    // (4096 past the file) and its doublings, and the limit itself, all read exactly.
    TempDir d;
    const std::size_t limit = 40000;
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096},
                             std::size_t{4097}, std::size_t{8193}, std::size_t{39999}, limit}) {
        std::string text(size, '\0');
        for (std::size_t i = 0; i < size; ++i)
            text[i] = static_cast<char>('a' + i % 26);
        const std::string p = d.write("f" + std::to_string(size), text);
        std::string out, err;
        INFO("size " << size);
        REQUIRE(read_config_file(p, out, err, nullptr, limit));
        CHECK(out == text);
        CHECK(err.empty());
    }
    std::string out, err;
    CHECK_FALSE(
        read_config_file(d.write("over", std::string(limit + 1, 'x')), out, err, nullptr, limit));
    CHECK_THAT(err, Contains("over the limit of 40000 bytes"));
    CHECK(out.empty());
}
