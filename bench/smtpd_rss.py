#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Peak RSS of filter-arc through a real OpenSMTPD (issue 21): one smtpd (the e2e harness,
tests/e2e/smtpd_harness.py: loopback, a port it picks, stopped by PID), one filter-arc process
sealing; messages of growing size sent one after another, and after each the filter's VmHWM
(its high-water mark so far) read from /proc. Not a test: run as root by hand or from
`scripts/bench --smtpd-rss`.

    bench/smtpd_rss.py BUILD/filter/filter-arc [SIZE_MIB ...]     (default: 1 10 30 50)

Prints one line per message: "SMTPD_RSS size_mib=N peak_rss_kb=K delivered=yes|no".
"""

import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import smtpd_harness as H  # noqa: E402


def message(size: int, seed: int) -> bytes:
    """About `size` bytes of ordinary text lines (CRLF), a unique Message-ID."""
    rnd = random.Random(seed)
    words = [b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot", b"golf", b"hotel"]
    head = (b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.test>\r\n"
            b"Subject: rss " + str(size).encode() + b"\r\nMessage-ID: <rss-" +
            str(seed).encode() + b"@example.org>\r\nDate: Tue, 14 May 2024 09:12:30 +0000\r\n\r\n")
    lines, total = [head], len(head)
    while total < size:
        line = b" ".join(rnd.choice(words) for _ in range(12)) + b"\r\n"
        lines.append(line)
        total += len(line)
    return b"".join(lines)


def vmhwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    H.run_or_skip()
    exe = os.path.abspath(sys.argv[1])
    sizes = [int(s) for s in sys.argv[2:]] or [1, 10, 30, 50]
    work = H.make_workdir("filter-arc-smtpd-rss.")
    try:
        return measure(exe, sizes, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(exe: str, sizes: list[int], work: str) -> int:
    staged = H.stage(exe, work)
    key = os.path.join(work, "seal.key")
    subprocess.run([staged, "keygen", "--domain", "bench.test", "--selector", "s1", "--out", key],
                   check=True, capture_output=True)
    # The filter runs as smtpd's user and refuses a key others can read.
    pw = H.pwd.getpwnam(H.SMTPD_USER)
    os.chown(key, pw.pw_uid, pw.pw_gid)
    os.chmod(key, 0o600)
    cfg = H.write_private(os.path.join(work, "filter-arc.toml"),
                          'authserv-id = "mx.example.test"\n'
                          '[seal]\ndomain = "bench.test"\nselector = "s1"\n'
                          f'key = "{key}"\n'
                          "[authentication]\nspf = false\ndkim = false\ndmarc = false\n", 0o644)
    # smtpd's default size limit is 35 MiB.
    extra = f"smtp max-message-size {max(sizes) + 8}M"
    with H.Smtpd(f"{staged} -c {cfg}", workdir=os.path.join(work, "mx"),
                 extra_config=extra) as mx:
        filters = [p for p in mx.descendants()
                   if os.path.realpath(f"/proc/{p}/exe") == os.path.realpath(staged)]
        if len(filters) != 1:
            print(f"smtpd_rss: expected one filter-arc process, found {filters}")
            return 1
        pid = filters[0]
        print(f"SMTPD_RSS size_mib=0 peak_rss_kb={vmhwm_kb(pid)} smtpd={H.smtpd_version()} "
              f"protocol={H.filter_protocol()}", flush=True)
        for n, mib in enumerate(sizes):
            reply = mx.send("bob@example.org", "alice@example.test",
                            message(mib * 1024 * 1024, n), timeout=600)
            got = mx.delivered(timeout=120) if reply.code == 250 else []
            sealed = any(b"ARC-Seal: i=1;" in m for m in got)
            print(f"SMTPD_RSS size_mib={mib} peak_rss_kb={vmhwm_kb(pid)} reply={reply.code} "
                  f"delivered={'yes' if got else 'no'} sealed={'yes' if sealed else 'no'}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
