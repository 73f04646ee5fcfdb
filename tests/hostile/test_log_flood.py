#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 3 (issue 15): the log can block the loop.

filter-arc writes one key=value line per message to stderr, which smtpd reads and relays. Log
values had no length limit and the writes block: smtpd stops reading a filter's stderr after a
line over 64 KiB, the filter then blocks in write(2), and all mail stops.

The attack: messages whose logged values are huge, sent REPEATS times:
  * dkim: two DKIM-Signatures whose d= are ~40 KB domains of short labels (one line each,
    which smtpd takes): ~80 KB in the dkim= value;
  * header_from: From: x@<~40 KB domain>;
  * spf_reason: MAIL FROM a domain whose SPF record (our loopback DNS, over TCP) is
    "v=spf1 <~50 KB unknown mechanism> -all".
Properties: ordinary mail of another session is delivered within the deadline during and after
the flood; smtpd and the same filter process alive; each attack message accepted or deferred
(4xx), never left hanging; every header line we added <= 998 octets; no line of the filter in
smtpd's log is longer than 64 KiB.

  /usr/bin/python3 tests/hostile/test_log_flood.py BUILD/filter/filter-arc   (as root)
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

REPEATS = 6
ATTACK_TIMEOUT_S = 15.0  # per attack message
FLOOD_DOMAIN = "flood.example.org"
# smtpd 6.8 stops reading a filter's stderr after a line over 64 KiB (protocol notes §12).
SMTPD_STDERR_LINE = 64 * 1024


def huge_domain(n: int) -> str:
    labels = []
    size = 0
    while size < n:
        labels.append("l%d" % len(labels))
        size += len(labels[-1]) + 1
    return ".".join(labels) + ".example"


def attack_message(i: int) -> bytes:
    # each DKIM-Signature line stays well under the 64 KiB smtpd takes (and we echo); the two
    # d= values together make the dkim= log value ~80 KB
    sigs = b"".join(
        (f"DKIM-Signature: v=1; a=rsa-sha256; d=k{k}.{huge_domain(40_000)}; s=s1; "
         "c=relaxed/relaxed; h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
         "b=AAAA\n").encode() for k in range(2))
    return L.message(f"log flood {i}", extra=sigs,
                     from_hdr=f"x@{huge_domain(40_000)}".encode())


def run(exe: str) -> int:
    ck = L.Checks("hostile class 3: the log must never block the loop")
    spf = "v=spf1 " + "x" * 50_000 + " -all"

    def body(rig: L.Rig) -> None:
        def flood():
            replies = []
            for i in range(REPEATS):
                r = rig.send(attack_message(i), mail_from=f"attacker@{FLOOD_DOMAIN}",
                             timeout=ATTACK_TIMEOUT_S)
                replies.append(r)
                if not L.attack_reply_ok(r):
                    break
            return replies

        res, ordinary = L.run_with_ordinary(rig, flood, delay=1.0)
        ok = isinstance(res, list) and len(res) == REPEATS and all(
            L.attack_reply_ok(r) for r in res)
        ck(ok, f"all {REPEATS} flood messages got 250 or 4xx, none hung "
           f"({[(r.code, r.stage) for r in res] if isinstance(res, list) else res!r})")
        L.check_ordinary(ck, rig, ordinary, "ordinary message during the flood")
        if isinstance(res, list):
            for r in res[:1]:
                got = rig.wait_delivered(r) if r.code == 250 else None
                if got is not None:
                    L.check_lines(ck, got, "a delivered flood message")
        L.check_ordinary(ck, rig, rig.ordinary("after flood"), "ordinary message after the flood")
        longest = max((len(x) for x in rig.filter_log().split("\n")), default=0)
        ck(longest <= SMTPD_STDERR_LINE,
           f"no log line over {SMTPD_STDERR_LINE} octets reached smtpd's log (longest {longest})")
        L.check_alive(ck, rig)

    def go():
        with L.Rig(exe, "logflood", records={FLOOD_DOMAIN: spf}) as rig:
            body(rig)

    ck.guard(go)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
