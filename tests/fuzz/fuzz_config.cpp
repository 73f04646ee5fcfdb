// SPDX-License-Identifier: ISC
// Fuzz target: the TOML configuration (filter/config/config.hpp, toml++). The input is the file;
// key files it may name exist under /tmp/filter-arc-fuzz/ (see the corpus). Only ConfigError may
// come out of load_config, and whatever loads prints as TOML that loads back into the same
// configuration (`check-config --print`).
#include "filter/config/config.hpp"
#include "tests/arc/test_keys.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text/ascii.hpp"

using namespace arcf;
using arcf::fuzz::check;

namespace {

void write_file(const std::string& path, std::string_view text) {
    std::string tmp = path + "." + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr)
        return;
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    ::chmod(tmp.c_str(), 0600);
    std::rename(tmp.c_str(), path.c_str());
}

// The files a configuration can refer to, made once per process.
int setup() {
    std::filesystem::create_directories("/tmp/filter-arc-fuzz");
    write_file("/tmp/filter-arc-fuzz/ed25519.key", tests::keys::ed25519_pkcs8);
    write_file("/tmp/filter-arc-fuzz/rsa2048.key", tests::keys::rsa2048_pkcs8);
    write_file("/tmp/filter-arc-fuzz/rsa512.key", tests::keys::rsa512_pkcs8);
    write_file("/tmp/filter-arc-fuzz/sealers.txt", "lists.example.org\n# comment\nbad..name\n");
    write_file("/tmp/filter-arc-fuzz/sealers-ok.txt", "lists.example.org\nforwarder.example\n");
    // The configuration text goes through a memory file: no disk writes per input.
    return ::memfd_create("filter-arc-fuzz-config", 0);
}

/// Replaces the contents of memory file `fd` with `text`; its path for load_config.
std::string put(int fd, std::string_view text) {
    if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0)
        return {};
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0)
            return {};
        off += static_cast<std::size_t>(n);
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int fd = setup();
    std::string_view text = fuzz::as_text(data, size);
    // Paths the fuzzer could reach that block or never end are not configuration bugs to find.
    for (std::string_view bad : {"/dev/", "/proc/", "/sys/"})
        if (text.find(bad) != std::string_view::npos)
            return 0;
    std::string path = put(fd, text);
    if (path.empty())
        return 0;
    try {
        filter::Config c = filter::load_config(path);
        std::string d = filter::describe(c);
        check(d.find("mode = ") != std::string::npos, "describe() without the mode");
        check(c.engine.max_arc_sets >= 1 && c.engine.max_arc_sets <= 50,
              "max-arc-sets out of range");
        check(filter::is_valid_reject_reply(c.engine.tempfail_reply),
              "invalid tempfail reply accepted", c.engine.tempfail_reply);
        for (const auto& k : filter::all_seal_keys(c))
            check(k != nullptr && text::is_domain_name(k->domain), "bad key loaded");
        // Rotation: the pipeline's keys are exactly the active ones, one per domain.
        std::size_t active = 0;
        for (const auto& k : c.seal_keys) {
            if (k.state != filter::KeyState::active)
                continue;
            ++active;
            auto it = c.engine.policy.keys.find(k.key->domain);
            check(it != c.engine.policy.keys.end() && it->second == k.key,
                  "an active key does not seal", k.key->domain);
        }
        check(active == c.engine.policy.keys.size(), "a domain without one active key");
        // check-config --print round-trips: load(print(load(x))) == load(x).
        static const int fd2 = ::memfd_create("filter-arc-fuzz-printed", 0);
        std::string printed = filter::print_config(c);
        std::string again_path = put(fd2, printed);
        if (!again_path.empty()) {
            filter::Config again;
            try {
                again = filter::load_config(again_path);
            } catch (const filter::ConfigError& e) {
                check(false, "printed configuration does not load", e.message + "\n" + printed);
            }
            check(filter::print_config(again) == printed, "printed configuration differs", printed);
        }
        // The engine accepts whatever the loader produced.
        filter::Engine e(c.engine);
        (void)e;
    } catch (const filter::ConfigError& e) {
        check(!e.message.empty(), "empty configuration error");
    }
    return 0;
}
