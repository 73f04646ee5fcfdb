#!/usr/bin/python3
"""Sums the results of a meson test run into the plain line "N passed, N failed".

A Catch2 binary counts as its number of test cases (from its own summary line);
any other meson test counts as one. Exits non-zero when anything failed or nothing ran.
"""
import json
import re
import sys

ALL_PASSED = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
SOME_FAILED = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def main() -> int:
    log, meson_rc = sys.argv[1], int(sys.argv[2])
    passed = failed = skipped = 0
    try:
        lines = open(log, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        res = t.get("result")
        if res == "SKIP":
            skipped += 1
            continue
        m_all = ALL_PASSED.findall(out)
        m_some = SOME_FAILED.findall(out)
        if res == "OK" and m_all:
            passed += int(m_all[-1])
        elif m_some:
            p, f = int(m_some[-1][1]), int(m_some[-1][2])
            passed += p
            failed += max(f, 1 if res != "OK" else 0)
        elif res == "OK":
            passed += 1
        else:
            failed += 1
    if passed + failed == 0:
        failed = 1  # nothing ran: that is a failure, not a success
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and meson_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
