#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes tests/fuzz/corpus/fuzz_spf/seed-NNN: every TXT string of the OpenSPF suite's zone
data (SPF records and exp= explanation texts), de-duplicated, in file order.

    /usr/bin/python3 tests/fuzz/make_spf_corpus.py [tests/data/spf-test-suite/rfc7208-tests.yml]
"""
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = os.path.join(ROOT, "tests", "data", "spf-test-suite", "rfc7208-tests.yml")


def txt_strings(path):
    seen = []
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            for records in (doc or {}).get("zonedata", {}).values():
                for rr in records or []:
                    if not isinstance(rr, dict):
                        continue
                    for kind in ("TXT", "SPF"):
                        value = rr.get(kind)
                        if isinstance(value, list):  # one RR in several strings: joined (§3.3)
                            value = "".join(str(p) for p in value)
                        if isinstance(value, str) and value not in seen:
                            seen.append(value)
    return seen


def main():
    suite = sys.argv[1] if len(sys.argv) > 1 else SUITE
    out = os.path.join(HERE, "corpus", "fuzz_spf")
    os.makedirs(out, exist_ok=True)
    strings = txt_strings(suite)
    for i, s in enumerate(strings):
        with open(os.path.join(out, f"seed-{i:03d}"), "wb") as f:
            f.write(s.encode("utf-8"))
    print(f"{len(strings)} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
