#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The --help texts are real (issue 20), and testkey says when there is nothing to test.

    /usr/bin/python3 tests/docs/cli_help_test.py BUILD/filter/filter-arc

Checks:
  * `filter-arc --help` lists the commands; for each, `filter-arc CMD --help` and
    `filter-arc CMD -h` exit 0 and print the same text, which has a usage line, an
    "Options:" block in which every option is described, an "Exit status:" block and an
    "Example:" whose filter-arc command uses only options of that usage; `--help` after
    other arguments (`verify --json --help`) prints it too.
  * An unknown command exits 64 with one line on standard error.
  * `testkey -c FILE` for a FILE without [seal] keys exits 78 (not 0) and says on standard
    error that there is nothing to test and that a [seal] section is missing.
Exit status: 0 when all hold, 1 otherwise.
"""

import os
import re
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30)


def options_in(text):
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", text))


def main():
    top = run("--help")
    check(top.returncode == 0, "filter-arc --help exits 0")
    block = top.stdout.split("\nCommands:\n", 1)
    check(len(block) == 2, "filter-arc --help has a Commands: list")
    listed = block[1].split("\n\n", 1)[0] if len(block) == 2 else ""
    commands = re.findall(r"^  ([a-z][a-z-]+)  ", listed, re.M)
    check(len(commands) >= 6, f"commands listed: {commands}")
    commands = commands or ["check-config", "exim", "keygen", "testkey", "verify", "seal"]
    for cmd in commands:
        r = run(cmd, "--help")
        h = run(cmd, "-h")
        check(r.returncode == 0 and h.returncode == 0 and r.stdout == h.stdout,
              f"{cmd}: --help and -h exit 0 with the same text")
        text = r.stdout
        check(text.startswith(f"usage: filter-arc {cmd}"), f"{cmd}: starts with its usage")
        usage = text.split("\n\n", 1)[0]
        opts = re.search(r"^Options:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
        check(opts is not None, f"{cmd}: has an Options: block")
        if opts:
            described = set()  # the first column of each option line: "-c, --config FILE"
            for ln in opts.group(1).split("\n"):
                if re.match(r"^  -", ln):
                    described |= options_in(re.split(r"\s{2,}", ln.strip())[0])
            missing = options_in(usage.replace(f"filter-arc {cmd}", "")) - described - {"-"}
            check(not missing, f"{cmd}: every option of the usage is described "
                               f"(missing: {sorted(missing)})")
        codes = re.search(r"^Exit status:\n((?:  .*\n)+)", text, re.M)
        check(codes is not None and re.search(r"^  0 ", codes.group(1), re.M) is not None,
              f"{cmd}: has an Exit status: block starting with 0")
        example = re.search(r"^Example[^:]*:\n((?:  .*\n)+)", text, re.M)
        check(example is not None, f"{cmd}: has an Example:")
        if example:
            used = options_in(example.group(1).split(f"filter-arc {cmd}", 1)[-1])
            check(used <= options_in(usage),
                  f"{cmd}: the example uses only its options ({sorted(used)})")
    r = run("verify", "--json", "--help")
    check(r.returncode == 0 and r.stdout.startswith("usage: filter-arc verify"),
          "verify --json --help prints verify's help")

    r = run("no-such-command")
    check(r.returncode == 64 and len(r.stderr.strip().split("\n")) == 1
          and "no-such-command" in r.stderr, f"unknown command: exit 64, one line ({r.stderr!r})")

    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "verify-only.toml")
        with open(conf, "w", encoding="utf-8") as f:
            f.write('mode = "verify"\n[dns]\nservers = ["127.0.0.1:9"]\n')
        r = run("testkey", "-c", conf)
        check(r.returncode == 78, f"testkey without [seal] keys exits 78 (got {r.returncode})")
        check("nothing to test" in r.stderr and "[seal]" in r.stderr and not r.stdout,
              f"testkey without keys says why on stderr: {r.stderr.strip()!r}")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} FILTER_ARC_BINARY", file=sys.stderr)
        sys.exit(2)
    BIN = os.path.abspath(sys.argv[1])
    sys.exit(main())
