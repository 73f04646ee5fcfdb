#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A turn's output leaves in one write: 30 sessions' messages arrive in one read, and the answers
(30 sealed messages, then 30 commit results) and the 30 log lines go out in a few writes, not
in one or more per message. Every write is a system call and, on smtpd's side, a wake-up; with
one per message the filter spent about a tenth of its time on them. Counted with the write
system calls of /proc/PID/io (syscw), which also covers stderr. SPF and DMARC are off, so no
DNS answer arriving late spreads the messages over several turns, and the whole burst (about
50 KB) fits in the pipe, so the filter reads it at once.

Usage: batch_e2e.py /path/to/filter-arc SOURCE_ROOT
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
check = fp.Checks()

SESSIONS = 30
# The messages complete as their "." is read: no lookups (the seal key is our own).
NO_LOOKUPS = "[authentication]\nspf = false\ndmarc = false\n"


def write_calls(pid):
    """The write system calls (write, writev, ...) the process has made so far."""
    return fp.proc_number(pid, "io", "syscw")


def message(n):
    return ["Received: from client.example.org (client [192.0.2.7])",
            "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
            "From: Sender <sender@example.org>", "To: rcpt@example.test",
            f"Subject: batch {n}", f"Message-ID: <batch{n}@example.org>", ""] + [
                f"line {i} of message {n}" for i in range(4)]


def main():
    with fp.sealing_filter(BIN, ROOT, "filter-arc-batch-", extra=NO_LOOKUPS) as (f, _):
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
        # Measured: 6 writes (16 under AddressSanitizer with other tests beside it); 61 when
        # each message, answer and log line was written alone.
        check(writes < SESSIONS,
              f"{writes} write calls for {SESSIONS} messages, their answers and log lines "
              f"(fewer than one per message)")
        check(f.finish() == 0, "exit 0 at EOF")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
