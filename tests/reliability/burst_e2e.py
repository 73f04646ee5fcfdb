#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Many messages finishing at once, end to end: 100 sessions send 300 kB messages with their
data-lines interleaved (as 100 concurrent clients cause), then every final "." in one burst.
The filter hands lines to its engine only while less than 4 MB of output waits for smtpd, and
all spools share one 16 MB memory budget (the rest go to disk): so its memory stays bounded by
those, not by the 100 messages (~45 MB of output) it returns, and every message comes back
intact.

Usage: burst_e2e.py /path/to/filter-arc SOURCE_ROOT
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
check = fp.Checks()

SESSIONS, LINES = 100, 3000


def hwm_kb(pid):
    """The process's peak resident set so far (VmHWM)."""
    return fp.proc_number(pid, "status", "VmHWM")


def asan(pid):
    """Whether the filter runs with AddressSanitizer (its runtime is mapped)."""
    with open(f"/proc/{pid}/maps") as maps:
        return "libasan" in maps.read()


def message():
    head = ["Received: from client.example.org (client [192.0.2.7])",
            "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
            "From: Sender <sender@example.org>", "To: rcpt@example.test",
            "Subject: burst", "Message-ID: <burst@example.org>", ""]
    return head + [f"{i:06d} " + "b" * 92 for i in range(LINES)]


def main():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1").lstrip(":")
    with fp.sealing_filter(BIN, ROOT, "filter-arc-burst-", env=env) as (f, _):
        f.send(fp.HANDSHAKE)
        time.sleep(0.5)
        base = hwm_kb(f.p.pid)

        msg = message()
        sessions = [fp.session_id(2000 + i) for i in range(SESSIONS)]
        opening = []
        for s in sessions:
            opening += fp.session_lines(s, [])[:-1]  # connect .. rcpt, no data yet
        f.send(opening)
        # Data-lines round-robin, in slices.
        prefix = [f"filter|0.6|1795918548.5|smtp-in|data-line|{s}|{fp.TOK}|" for s in sessions]
        for start in range(0, len(msg), 200):
            f.send([p + line for line in msg[start:start + 200] for p in prefix])
        # The burst: every message ends in the same read.
        f.send([p + "." for p in prefix])
        done = f.wait_for(lambda b: b.count(f"|{fp.TOK}|.\n".encode()) >= SESSIONS, 120)
        peak = hwm_kb(f.p.pid)
        check(done, f"all {SESSIONS} messages came back after the burst")
        f.send([fp.commit_line(s) for s in sessions] + [fp.disconnect_line(s) for s in sessions])
        f.wait_for(lambda b: b.count(b"filter-result|") >= SESSIONS, 60)

        per, bad = fp.parse_output(f.output())
        intact = sealed = 0
        for s in sessions:
            added, ok = fp.split_added(per.get(s, {"data": []})["data"], msg)
            intact += ok
            sealed += any(a.startswith("ARC-Seal: i=1;") for a in added)
        check(not bad, "the output is well-formed")
        check(intact == SESSIONS, f"every message came through intact ({intact}/{SESSIONS})")
        check(sealed == SESSIONS, f"and sealed ({sealed}/{SESSIONS})")
        # Measured: +21 MB, and +60 MB when the engine gets every line at once; under
        # AddressSanitizer (redzones, shadow, quarantine) +57 and +110 MB.
        bound = 40 * 1024 * (2 if asan(f.p.pid) else 1)
        check(peak - base < bound,
              f"memory stays bounded: RSS {base // 1024} MB at start, peak {peak // 1024} MB "
              f"for {SESSIONS * LINES * 100 // 1000000} MB of messages in flight "
              f"(at most {bound // 1024} MB more)")
        check(f.finish() == 0, "exit 0 at EOF")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
