// SPDX-License-Identifier: ISC
// The --help texts of filter-arc and of each command: options with their defaults, the exit
// statuses (sysexits(3), filter/cli/cli.hpp) and one example. One entry per command that
// main.cpp dispatches; filter-arc(8) says the same (tests/docs/man_test.py checks both ways).
#include "filter/cli/help.hpp"

#include <array>

namespace arcf::filter {

namespace {

constexpr std::string_view overview =
    R"(usage: filter-arc [-c FILE] [--on-config-error defer|pass] [--pidfile FILE]
       filter-arc check-config [-c FILE] [--user NAME] [--print] [--schema]
       filter-arc exim [-c FILE] [--on-config-error defer|pass]
       filter-arc reload [--pidfile FILE] [--timeout SECONDS]
       filter-arc stats [-c FILE] [STATE-FILE]
       filter-arc sealers [-c FILE] [--suggest] [--min-messages N] [--min-pass-rate PERCENT]
                          [--min-rescued N] [STATE-FILE]
       filter-arc keygen --domain D --selector S [--type rsa|ed25519] [--bits N] [--out FILE]
       filter-arc keygen --record --key FILE [--domain D --selector S]
       filter-arc testkey -c FILE [--dns-server HOST:PORT | --dns-zone FILE] [--timeout SECONDS]
       filter-arc verify [-c FILE] [--dns-zone FILE | --dns-server HOST:PORT] [--timeout SECONDS]
                         [--now UNIXTIME] [--authserv-id ID] [--min-key-bits N]
                         [--no-oldest-pass] [--explain] [--json] [FILE|-]
       filter-arc seal -c FILE [--dns-zone FILE | --dns-server HOST:PORT] [--timeout SECONDS]
                       [--now UNIXTIME] [FILE|-]
       filter-arc seal --domain D --selector S --key FILE [--authserv-id ID] [--dns-zone FILE |
                       --dns-server HOST:PORT] [--timeout SECONDS] [--now UNIXTIME]
                       [--headers h1:h2:...] [--oversign] [--canon HEADER/BODY]
                       [--min-key-bits N] [FILE|-]
       filter-arc --help | --version

ARC (RFC 8617) verifier and sealer, with SPF, DKIM and DMARC in the same pass.
Without a command, filter-arc is an OpenSMTPD filter: smtpd starts it from smtpd.conf,
  filter "arc" proc-exec "filter-arc -c /etc/filter-arc/filter-arc.toml --pidfile /run/filter-arc/filter-arc.pid"
and talks the filter protocol on its standard input and output (it is not run by hand).

Commands:
  check-config  load a configuration as the filter would and print it as TOML
  exim          the Exim transport filter: one message on stdin, the same plus our fields out
  reload        make the running filter reload its configuration and print the result
  stats         print the counters of the statistics state file as a table
  sealers       rank the ARC sealers seen; suggest lines for trusted-sealers-file
  keygen        make a sealing key (or take one) and print the DNS TXT record to publish
  testkey       compare every configured key with the TXT record DNS publishes
  verify        verify one message and print the Authentication-Results the filter would add
  seal          verify one message, then add an ARC set as the filter would

Options (filter mode):
  -c, --config FILE   the configuration, filter-arc.toml(5); default: the built-in
                      defaults (verify only, the system resolver)
  --on-config-error defer|pass
                      while the configuration (or a key) cannot be loaded: defer every
                      message with 451 4.3.5, or pass it verified but not sealed;
                      default: defer. The filter never exits on such a mistake (smtpd
                      would stop with it); it logs event=config-error until a reload fixes it
  --pidfile FILE      write the pid (locked) and each reload's result (FILE with .pid
                      replaced by .status) for 'filter-arc reload'; default: none

Exit status (filter mode):
  0   smtpd closed our standard input
  70  internal error

Example:
  filter-arc check-config -c /etc/filter-arc/filter-arc.toml

Run 'filter-arc COMMAND --help' for a command's options, defaults, exit status and an example.
Manual: filter-arc(8); settings: filter-arc.toml(5).
)";

constexpr std::string_view check_config =
    R"(usage: filter-arc check-config [-c FILE] [--user NAME] [--print] [--schema]

Loads FILE as the filter and the Exim mode would (key files and trusted-sealers file
included) and prints the effective configuration as TOML, with notes as comments. The
output loads back into the same configuration. Warnings (an Ed25519 sealing key, ...) go
to standard error. Run it after every edit: a filter that cannot load its file defers mail.
Files are read as the user the filter runs as: run as root, it checks as NAME, else as the
user of the filter-arc line in /etc/smtpd.conf (its 'user' option, else opensmtpd).

Options:
  -c, --config FILE   the configuration file; default: none, print the built-in defaults
  --user NAME         read every file as this user (root only); default: see above
  --print             the effective configuration only, without comments
  --schema            every setting, one per line, tab-separated: table, key, type,
                      default, allowed values, description

Exit status:
  0   the configuration is valid
  64  usage error
  78  the configuration does not load (the message names the file, line and setting)

Example:
  filter-arc check-config -c /etc/filter-arc/filter-arc.toml
)";

constexpr std::string_view exim =
    R"(usage: filter-arc exim [-c FILE] [--on-config-error defer|pass]

The transport_filter of an Exim transport: reads one message (LF line ends) on standard
input and writes it with our Authentication-Results and, per the configuration, a new ARC
set on top. The connection facts come from the X-ARC-Context header field the transport
adds (etc/exim4/filter-arc.conf.example); the log goes to syslog (facility mail), never
to standard error.

Options:
  -c, --config FILE   the configuration file; default: the built-in defaults (verify only)
  --on-config-error defer|pass
                      while the configuration cannot be loaded: exit 75 (Exim defers),
                      or pass the message verified but not sealed; default: defer

Exit status:
  0   the message was written
  75  anything else (temporary DNS failure, configuration that does not load, usage
      error, ...): Exim defers the message and retries it

Example (in an Exim transport):
  transport_filter = /usr/bin/filter-arc exim -c /etc/filter-arc/filter-arc.toml
)";

constexpr std::string_view reload =
    R"(usage: filter-arc reload [--pidfile FILE] [--timeout SECONDS]

Sends SIGHUP to the filter-arc that holds FILE (it runs with --pidfile FILE on smtpd.conf's
proc-exec line), waits for it to reload, and prints the result. The process must hold the
pidfile's lock and be filter-arc (/proc/PID/cmdline).

Options:
  --pidfile FILE      the filter's pidfile; default: /run/filter-arc/filter-arc.pid
  --timeout SECONDS   how long to wait for the result; default: 5

Exit status:
  0   reloaded: the new configuration is in force
  1   the new configuration was refused (the filter keeps the running one, or stays
      degraded; the message says why)
  64  usage error
  69  no running filter-arc holds FILE
  75  no result within the timeout
  77  not permitted to signal it

Example:
  filter-arc reload --pidfile /run/filter-arc/filter-arc.pid
)";

constexpr std::string_view stats =
    R"(usage: filter-arc stats [-c FILE] [STATE-FILE]

Prints the counters of the filter's state file as a table: messages, arc= verdicts, seal
decisions, actions and why messages were deferred, DNS temporary failures, forged
Authentication-Results removed, SPF/DKIM/DMARC results and every ARC sealer seen (the
newest ARC-Seal's d=). The smtpd filter writes the file every [stats] interval, on SIGUSR1
and at exit; the Exim mode adds every delivery to it.

Options:
  -c, --config FILE   the configuration whose [stats] state-file to read
  STATE-FILE          the file; default: [stats] state-file of -c FILE, else
                      /var/lib/filter-arc/stats.json

Exit status:
  0   the table was printed
  64  usage error
  66  no readable state file
  78  the file of -c does not load

Example:
  filter-arc stats -c /etc/filter-arc/filter-arc.toml
)";

constexpr std::string_view sealers =
    R"(usage: filter-arc sealers [-c FILE] [--suggest] [--min-messages N] [--min-pass-rate PERCENT]
                          [--min-rescued N] [STATE-FILE]

Every ARC sealer of the state file (the newest ARC-Seal's d= of each message), ranked by
DMARC failures rescued, then pass rate, then messages: messages, chains that passed, how
often DMARC failed although the chain passed, how often the sealer's
ARC-Authentication-Results vouched for the author domain so that trusting it would rescue
the DMARC failure (RFC 8617 section 7.2.1), and, with -c, whether it is already in
trusted-sealers-file.

Options:
  -c, --config FILE        the configuration: its [stats] state-file and its
                           trusted-sealers-file
  --suggest                print candidate lines for trusted-sealers-file, the evidence
                           as comments (check-config accepts the output)
  --min-messages N         suggest only sealers with at least N messages; default: 20
  --min-pass-rate PERCENT  ... whose chains passed in at least PERCENT of them; default: 95
  --min-rescued N          ... that rescued at least N DMARC failures; default: 1
  STATE-FILE               as for 'filter-arc stats'

Exit status:
  0   the report was printed
  64  usage error
  66  no readable state file
  78  the file of -c does not load

Example:
  filter-arc sealers -c /etc/filter-arc/filter-arc.toml --suggest
)";

constexpr std::string_view keygen =
    R"(usage: filter-arc keygen --domain D --selector S [--type rsa|ed25519] [--bits N] [--out FILE]
       filter-arc keygen --record --key FILE [--domain D --selector S]

Makes a private key (PEM, created with mode 0600, never overwritten) and prints its DNS
TXT record, as one zone-file line, on standard output. Publish the record, name the key in
the [seal] section of the configuration, and check both with testkey. With --record it
makes nothing: it prints the record of an existing key (a zone-file line, then the value
as one string for DNS web panels), e.g. to publish the next key of a rotation.

Options:
  --domain D          the signing domain (d=); required
  --selector S        the selector (s=); the record goes at S._domainkey.D; required
  --type rsa|ed25519  the key type; default: rsa. Seal with RSA: few ARC verifiers (none
                      of the large mailbox providers) accept ed25519-sha256 seals
  --bits N            RSA key size, 1024..8192; default: 2048
  --out FILE          the private key file; default: S.D.key in the current directory
  --record            print the record of the key in --key instead of making one
  --key FILE          the existing private key (PEM, RSA or Ed25519) for --record

Exit status:
  0   the key was written and its record printed
  64  usage error
  65  the --key file is not a usable key
  66  the key file cannot be created (it exists already, or the directory is missing),
      or the --key file cannot be read
  70  the key could not be generated or written

Example:
  filter-arc keygen --domain example.org --selector arc2026 --out /etc/filter-arc/keys/example.org.key
)";

constexpr std::string_view testkey =
    R"(usage: filter-arc testkey -c FILE [--dns-server HOST:PORT | --dns-zone FILE] [--timeout SECONDS]

For every signing key of the configuration, fetches the TXT record at
SELECTOR._domainkey.DOMAIN and compares it with the private key. Prints one line per key:
match, mismatch, missing, malformed or temporary.

Options:
  -c, --config FILE       the configuration with the keys; required
  --dns-server HOST:PORT  ask this DNS server; default: the [dns] servers of the
                          configuration, else the system resolver
  --dns-zone FILE         read the records from this zone file instead of DNS
  --timeout SECONDS       how long to wait for the answers; default: 5

Exit status:
  0   every key matches its published record
  1   a record is missing, malformed or publishes another key
  64  usage error
  75  a record could not be fetched (temporary DNS failure)
  78  the configuration does not load, or it has no signing keys (no [seal] section):
      nothing to test

Example:
  filter-arc testkey -c /etc/filter-arc/filter-arc.toml
)";

constexpr std::string_view verify =
    R"(usage: filter-arc verify [-c FILE] [--dns-zone FILE | --dns-server HOST:PORT] [--timeout SECONDS]
                         [--now UNIXTIME] [--authserv-id ID] [--min-key-bits N]
                         [--no-oldest-pass] [--explain] [--json] [FILE|-]

Verifies the ARC chain (RFC 8617), the DKIM signatures, SPF and DMARC of one message
(FILE, or standard input) through the filter's own pipeline, and prints the
Authentication-Results field the filter would add, unfolded; the filter's log line goes
to standard error. Without an envelope there is no SPF result.

Options:
  -c, --config FILE       use this configuration's authserv-id, [dns] servers, sender
                          authentication and limits; default: the built-in defaults
  --dns-zone FILE         read keys and records from this zone file instead of DNS
  --dns-server HOST:PORT  ask this DNS server; default: the [dns] servers of -c FILE,
                          else the system resolver
  --timeout SECONDS       how long to wait for DNS answers; default: 5
  --now UNIXTIME          check expiry and timestamps against this time; default: now
  --authserv-id ID        the authserv-id of the printed field; default: the
                          configuration's, else the host name
  --min-key-bits N        smaller RSA keys do not verify; default: 1024 (limits.min-rsa-bits)
  --no-oldest-pass        leave out header.oldest-pass
  --explain               after the verdict, a per-hop report (oldest hop first): each
                          set's seal and message signature, where the chain broke (body
                          hash or header signature), and the likely cause (a footer added,
                          a Subject tag, a re-folded or duplicated field), as likelihoods;
                          at most 32 extra public-key operations
  --json                  print a JSON object (arc, sets, oldest_pass, reason, chain, dkim;
                          with --explain also "explain")

Exit status:
  0   a verdict was reached (whatever it is: pass, fail, none)
  64  usage error
  66  the message cannot be read
  70  internal error
  75  temporary failure (temperror: a key could not be fetched)
  78  the file of -c does not load

Example:
  filter-arc verify -c /etc/filter-arc/filter-arc.toml --explain message.eml
)";

constexpr std::string_view seal =
    R"(usage: filter-arc seal -c FILE [--dns-zone FILE | --dns-server HOST:PORT] [--timeout SECONDS]
                       [--now UNIXTIME] [FILE|-]
       filter-arc seal --domain D --selector S --key FILE [--authserv-id ID] [--dns-zone FILE |
                       --dns-server HOST:PORT] [--timeout SECONDS] [--now UNIXTIME]
                       [--headers h1:h2:...] [--oversign] [--canon HEADER/BODY]
                       [--min-key-bits N] [FILE|-]

Verifies the chain of one message (FILE, or standard input) once, then writes the message
with what the filter adds: with -c FILE, exactly what the filter of that configuration
adds (its mode, keys, policy, DNS servers), apart from what depends on the envelope;
otherwise a new ARC set signed with the given key. The log line goes to standard error;
a message the policy does not seal is written unchanged, with the reason on standard error.

Options:
  -c, --config FILE       seal as the filter of this configuration (the signing options
                          below are then refused)
  --domain D              the signing domain of the new set (d=)
  --selector S            its selector (s=)
  --key FILE              the private key (PEM, RSA or Ed25519)
  --authserv-id ID        the authserv-id of the ARC-Authentication-Results; default:
                          the host name
  --dns-zone FILE         read the keys of the existing chain from this zone file
  --dns-server HOST:PORT  ask this DNS server; default: the [dns] servers of -c FILE,
                          else the system resolver
  --timeout SECONDS       how long to wait for DNS answers; default: 5
  --now UNIXTIME          the time for verification and t=; default: now
  --headers h1:h2:...     the header fields to sign when present; default: the [seal]
                          headers default of filter-arc.toml(5)
  --oversign              sign each of them once more than it occurs; default: off
  --canon HEADER/BODY     relaxed or simple for each part; default: relaxed/relaxed
  --min-key-bits N        smaller RSA keys of the existing chain do not verify; default: 1024

Exit status:
  0   the message was written (sealed, or unchanged when the policy does not seal it)
  64  usage error
  65  the key file holds no usable key
  66  the message or the key file cannot be read
  70  internal error (the output could not be written)
  75  temporary failure (temperror): nothing was written
  78  the file of -c does not load

Example:
  filter-arc seal -c /etc/filter-arc/filter-arc.toml message.eml > sealed.eml
)";

constexpr std::array<CommandHelp, 10> table{{
    {"", overview},
    {"check-config", check_config},
    {"exim", exim},
    {"reload", reload},
    {"stats", stats},
    {"sealers", sealers},
    {"keygen", keygen},
    {"testkey", testkey},
    {"verify", verify},
    {"seal", seal},
}};

} // namespace

std::span<const CommandHelp> help_table() {
    return table;
}

const CommandHelp* find_help(std::string_view command) {
    for (const auto& entry : table)
        if (entry.command == command)
            return &entry;
    return nullptr;
}

} // namespace arcf::filter
