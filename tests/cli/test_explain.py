#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`filter-arc verify --explain [--json]` (issue 20 item 3): chains sealed with `filter-arc seal`
and keys from a zone file, then broken the way mailing lists break them; the report must name
the right hop and cause, in text and in JSON (same data), and the exit status is verify's.

Cases: a trailing footer, a Subject tag, a line break put inside a signed field (relaxed
header canonicalization: a fold at white space would not break it), a body changed in the
middle, and a three-hop chain whose hop 2 broke (a footer added after it; hop 3, our own
sealer, sealed cv=fail).

Usage: test_explain.py /path/to/filter-arc
"""
import json
import os
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()
NOW = 1796612400  # 2026-12-07 03:00:00 UTC

MESSAGE = (b"From: Alice <alice@origin.example>\n"
           b"To: lunch@list.example\n"
           b"Subject: Lunch at noon\n"
           b"Date: Mon, 07 Dec 2026 03:00:00 +0000\n"
           b"Message-ID: <1@origin.example>\n"
           b"\n"
           b"Hi all,\n"
           b"lunch at noon?\n"
           b"\n"
           b"Alice\n")
FOOTER = b"-- \nlunch mailing list\nhttps://list.example/lunch\n"


def run(args, data=None):
    return subprocess.run([BIN] + args, input=data, capture_output=True, timeout=60)


def main():
    with tempfile.TemporaryDirectory() as d:
        zone = os.path.join(d, "zone")
        with open(zone, "wb") as z:
            for dom, sel in (("one.example", "s1"), ("two.example", "s2"), ("three.example", "s3")):
                p = run(["keygen", "--domain", dom, "--selector", sel, "--bits", "1024",
                         "--out", os.path.join(d, dom + ".key")])
                check(p.returncode == 0, f"keygen {dom}")
                z.write(p.stdout)

        def seal(msg, dom, sel, offset):
            p = run(["seal", "--domain", dom, "--selector", sel, "--key",
                     os.path.join(d, dom + ".key"), "--authserv-id", "mx." + dom, "--dns-zone",
                     zone, "--now", str(NOW + offset), "-"], msg)
            check(p.returncode == 0, f"sealed by {dom} (exit {p.returncode})")
            return p.stdout

        def explain(msg, name):
            p = run(["verify", "--dns-zone", zone, "--now", str(NOW + 600), "--explain", "-"], msg)
            check(p.returncode == 0, f"{name}: verify --explain exits 0 (exit {p.returncode})")
            text = p.stdout.decode()
            print(f"--- {name}\n{text}")
            p = run(["verify", "--dns-zone", zone, "--now", str(NOW + 600), "--explain", "--json",
                     "-"], msg)
            check(p.returncode == 0, f"{name}: verify --explain --json exits 0")
            try:
                data = json.loads(p.stdout)
            except ValueError as e:
                check(False, f"{name}: the JSON parses ({e}): {p.stdout[:300]!r}")
                data = {}
            check(p.stdout.count(b"\n") == 1, f"{name}: the JSON is one line")
            return text, data.get("explain", {})

        def causes(ex, hop):
            hops = ex.get("hops", [])
            return [f["cause"] for f in hops[hop - 1]["findings"]] if len(hops) >= hop else []

        one = seal(MESSAGE, "one.example", "s1", 0)

        text, ex = explain(one, "intact")
        check(ex.get("broken", "x") is None and ex.get("arc") == "pass", "intact: not broken")
        check("t=2026-12-07 03:00:00 UTC" in text, "intact: t= shown as UTC time")
        check("signed fields (h=):  from:to:subject:date:message-id" in text, "intact: h= shown")

        text, ex = explain(one + FOOTER, "footer")
        check("Broken at hop 1 [ams-body-hash]" in text, "footer: hop 1, body hash")
        check(f"a footer of 3 lines / {len(FOOTER)} bytes was probably added after hop 1" in text,
              "footer: its size")
        check(ex.get("broken", {}).get("hop") == 1, "footer: JSON hop 1")
        check(causes(ex, 1) == ["footer"], f"footer: JSON cause {causes(ex, 1)}")
        f = ex["hops"][0]["findings"][0] if causes(ex, 1) else {}
        check(f.get("lines") == 3 and f.get("bytes") == len(FOOTER) and
              f.get("likelihood") == "probably", f"footer: JSON size and likelihood {f}")

        text, ex = explain(one.replace(b"Subject: Lunch", b"Subject: [lunch] Lunch"), "subject tag")
        check("Broken at hop 1 [ams-header-signature]" in text, "subject tag: hop 1, header")
        check('a Subject tag "[lunch] " was probably added after hop 1' in text, "subject tag: tag")
        check(causes(ex, 1) == ["subject-tag"], f"subject tag: JSON cause {causes(ex, 1)}")

        text, ex = explain(one.replace(b"Message-ID: <1@origin.example>",
                                       b"Message-ID: <1@origin.\n\texample>"), "re-folded")
        check("Broken at hop 1 [ams-header-signature]" in text, "re-folded: hop 1, header")
        check(causes(ex, 1) == ["refolded"], f"re-folded: JSON cause {causes(ex, 1)}")
        check("Message-ID field was probably re-folded after hop 1" in text, "re-folded: field")

        text, ex = explain(one.replace(b"lunch at noon?", b"lunch at one?"), "middle")
        check("Broken at hop 1 [ams-body-hash]" in text, "middle: hop 1, body hash")
        check("the body probably changed in the middle after hop 1" in text, "middle: text")
        check(causes(ex, 1) == ["body-changed"], f"middle: JSON cause {causes(ex, 1)}")

        two = seal(one, "two.example", "s2", 60)
        three = seal(two + FOOTER, "three.example", "s3", 120)
        check(b"cv=fail" in three, "hop 3 sealed cv=fail")
        text, ex = explain(three, "three hops")
        check("Broken at hop 2 [ams-body-hash]" in text, "three hops: hop 2 named")
        check(ex.get("broken", {}).get("hop") == 2 and
              ex.get("broken", {}).get("part") == "ams-body-hash", "three hops: JSON hop 2")
        check("footer" in causes(ex, 2), f"three hops: footer at hop 2 {causes(ex, 2)}")
        hops = ex.get("hops", [])
        check(len(hops) == 3 and hops[2]["ams"]["signature"] == "pass" and
              hops[2]["seal"]["signature"] == "pass", "three hops: hop 3 itself verifies")

        # Without --explain nothing changes: the verdict line alone.
        p = run(["verify", "--dns-zone", zone, "--now", str(NOW + 600), "-"], one + FOOTER)
        check(p.stdout.count(b"\n") == 1 and p.stdout.startswith(b"Authentication-Results:"),
              "without --explain: one line")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
