#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A turn's output leaves in one write: 40 sessions' messages arrive in one burst, and the
answers (40 sealed messages, then 40 commit results) and the 40 log lines go out in a few
writes, not in one or more per message. Every write is a system call and, on smtpd's side, a
wake-up; with one per message the filter spent about a tenth of its time on them. Counted
with the write system calls of /proc/PID/io (syscw), which also covers stderr.

Usage: batch_e2e.py /path/to/filter-arc SOURCE_ROOT
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
check = fp.Checks()

SESSIONS = 40


def write_calls(pid):
    """The write system calls (write, writev, ...) the process has made so far."""
    with open(f"/proc/{pid}/io") as io:
        for line in io:
            if line.startswith("syscw:"):
                return int(line.split()[1])
    return 0


def message(n):
    return ["Received: from client.example.org (client [192.0.2.7])",
            "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
            "From: Sender <sender@example.org>", "To: rcpt@example.test",
            f"Subject: batch {n}", f"Message-ID: <batch{n}@example.org>", ""] + [
                f"line {i} of message {n}: " + "t" * 60 for i in range(40)]


def main():
    d = tempfile.mkdtemp(prefix="filter-arc-batch-", dir="/var/tmp")
    dns = None
    f = None
    try:
        key, rec = fp.keygen(BIN, d, "seal.reliability.test", "s1")
        zone = os.path.join(d, "zone")
        with open(zone, "w") as z:
            z.write(fp.zone_text({"s1._domainkey.seal.reliability.test": rec}))
        dns = fp.Dns(ROOT, zone)
        cfg = os.path.join(d, "filter.toml")
        fp.write(cfg, fp.config_text(key, dns.port))
        f = fp.Filter([BIN, "-c", cfg], os.path.join(d, "stderr"))
        f.send(fp.HANDSHAKE)
        check(f.wait_for(lambda b: b"register|ready\n" in b, 30), "handshake answered")
        time.sleep(0.3)  # the start-up line is written

        sessions = [fp.session_id(3000 + i) for i in range(SESSIONS)]
        msgs = {s: message(i) for i, s in enumerate(sessions)}
        before = write_calls(f.p.pid)
        burst = []
        for s in sessions:
            burst += fp.session_lines(s, msgs[s])
        f.send(burst)
        done = f.wait_for(lambda b: b.count(f"|{fp.TOK}|.\n".encode()) >= SESSIONS, 60)
        check(done, f"all {SESSIONS} messages came back")
        f.send([fp.commit_line(s) for s in sessions] + [fp.disconnect_line(s) for s in sessions])
        answered = f.wait_for(lambda b: b.count(b"filter-result|") >= SESSIONS, 60)
        check(answered, f"all {SESSIONS} commits answered")
        logged = False
        for _ in range(50):  # the log lines of the last turn
            if f.stderr().count(" msgid=35163a36 ") >= SESSIONS:
                logged = True
                break
            time.sleep(0.1)
        check(logged, f"one log line per message ({SESSIONS})")
        writes = write_calls(f.p.pid) - before

        per, bad = fp.parse_output(f.output())
        intact = sealed = 0
        for s in sessions:
            added, ok = fp.split_added(per.get(s, {"data": []})["data"], msgs[s])
            intact += ok
            sealed += any(a.startswith("ARC-Seal: i=1;") for a in added)
        check(not bad, "the output is well-formed")
        check(intact == SESSIONS and sealed == SESSIONS,
              f"every message came back intact and sealed ({intact}, {sealed} of {SESSIONS})")
        # Measured: 11 writes; 84 when each message, answer and log line was written alone.
        check(writes <= SESSIONS // 2,
              f"{writes} write calls for {SESSIONS} messages, their answers and log lines "
              f"(at most {SESSIONS // 2})")
        check(f.finish() == 0, "exit 0 at EOF")
    finally:
        if f:
            f.kill()
        if dns:
            dns.stop()
        shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
