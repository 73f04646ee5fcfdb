// SPDX-License-Identifier: ISC
// Shared pieces of the command-line tools: argument scanning, input, key sources, exit codes.
#pragma once

#include "arc/chain.hpp"
#include "dns/answer.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::filter {

// sysexits(3) codes, which MTAs understand.
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 64;
inline constexpr int exit_dataerr = 65;
inline constexpr int exit_noinput = 66;
inline constexpr int exit_software = 70;
inline constexpr int exit_tempfail = 75;
inline constexpr int exit_config = 78;

/// Thrown only while parsing arguments (startup); caught in main and turned into exit 64.
struct UsageError {
    std::string message;
};

/// A minimal getopt_long-style scanner: "--name value", "--name=value", flags, positionals.
class Args {
  public:
    Args(std::vector<std::string> argv,
         std::vector<std::string> with_value,
         std::vector<std::string> flags);
    std::optional<std::string> value(std::string_view name) const;
    bool flag(std::string_view name) const;
    const std::vector<std::string>& positional() const { return positional_; }

  private:
    std::vector<std::pair<std::string, std::string>> values_;
    std::vector<std::string> flags_;
    std::vector<std::string> positional_;
};

std::uint64_t parse_unsigned(std::string_view what, std::string_view text);

/// Reads a file ("-" = stdin) completely; false with a message on error.
bool read_input(const std::string& path, std::string& out, std::string& error);

/// Where keys come from for the CLI: a zone file, or live DNS.
using KeySource = std::function<std::vector<dns::TxtAnswer>(const std::vector<std::string>&)>;

struct KeySourceOptions {
    std::optional<std::string> zone_file;
    std::optional<std::string> dns_server;
    unsigned timeout_ms = 5000;
};
/// Throws UsageError when the zone file cannot be read or parsed.
KeySource make_key_source(const KeySourceOptions& opts);

/// Lookups of any type (SPF needs A, AAAA, MX, PTR too) from the same places, in parallel
/// under the deadline; one answer per question, in order.
using RecordSource = std::function<std::vector<dns::Answer>(const std::vector<dns::Question>&)>;
RecordSource make_record_source(const KeySourceOptions& opts);

/// `s` as the inside of a JSON string, ASCII only: bytes outside 0x20..0x7e as \u00XX.
std::string json_escape(std::string_view s);
std::string default_authserv_id();

int run_verify(std::vector<std::string> args);
int run_check_config(std::vector<std::string> args);
int run_seal(std::vector<std::string> args);
int run_keygen(std::vector<std::string> args);
int run_testkey(std::vector<std::string> args);
int run_exim(std::vector<std::string> args);
int run_stats(std::vector<std::string> args);
int run_sealers(std::vector<std::string> args);
int run_reload(std::vector<std::string> args);

} // namespace arcf::filter
