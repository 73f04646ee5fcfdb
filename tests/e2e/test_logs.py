#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""End to end through a real OpenSMTPD (issue 19 item 2): where our log lines land.

  /usr/bin/python3 tests/e2e/test_logs.py BUILD/filter/filter-arc        (as root)

One smtpd start, two filter-arc processes: "arc" (the listener's filter, [log] destination =
"stderr") and "arcsys" (declared only, so smtpd starts it and runs the handshake with it;
destination = "syslog" to a datagram socket of this test standing in for /dev/log, facility
local5, tag arc-e2e). Checks:
  * smtpd's log has "arc: event=start ... trigger=handshake protocol=P smtpd=V" with the
    protocol smtpd speaks (0.6 for 6.x, 0.7 for 7.4 on), and the key;
  * a message is sealed and its line names seal_d=/seal_s=;
  * the syslog socket received arcsys's start line as <173> (local5 = 21, notice = 5:
    21 * 8 + 5, RFC 5424 §6.2.1) with our tag and the same protocol, and nothing of arcsys
    reached smtpd's log.
Exit 0 pass, 1 fail, 77 skip (no smtpd, not root).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "tools"))
import smtpd_harness as H  # noqa: E402
from checks import Checks  # noqa: E402

check = Checks()
NO_AUTH = "[authentication]\nspf = false\ndkim = false\ndmarc = false\n"


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def main() -> int:
    H.run_or_skip()
    exe = os.path.abspath(sys.argv[1])
    work = H.make_workdir("filter-arc-e2e-logs.")
    staged = H.stage(exe, work)
    key = os.path.join(work, "seal.key")
    r = subprocess.run([staged, "keygen", "--domain", "logs.example", "--selector", "log2026",
                        "--out", key], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print("FAIL keygen: " + r.stderr)
        return 1
    pw = H.pwd.getpwnam(H.SMTPD_USER)
    os.chown(key, pw.pw_uid, pw.pw_gid)
    os.chmod(key, 0o600)
    sock_path = os.path.join(work, "log.sock")
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    daemon.bind(sock_path)
    os.chmod(sock_path, 0o666)  # the filter runs as opensmtpd
    daemon.settimeout(0.2)
    seal = f'[seal]\ndomain = "logs.example"\nselector = "log2026"\nkey = "{key}"\n'
    cfg = H.write_private(os.path.join(work, "stderr.toml"), NO_AUTH + seal, 0o644)
    cfg_sys = H.write_private(
        os.path.join(work, "syslog.toml"),
        NO_AUTH + seal + f'[log]\ndestination = "syslog"\nfacility = "local5"\n'
        f'tag = "arc-e2e"\nsyslog-socket = "{sock_path}"\n', 0o644)
    datagrams: list[str] = []

    def receive():
        try:
            while True:
                datagrams.append(daemon.recv(8192).decode(errors="replace"))
        except (socket.timeout, BlockingIOError):
            pass
        return [d for d in datagrams if "event=start" in d]

    try:
        with H.Smtpd(f"{staged} -c {cfg}", workdir=os.path.join(work, "mx"),
                     filters_config=f'filter "arcsys" proc-exec "{staged} -c {cfg_sys}"') as mx:
            start = wait_for(lambda: re.findall(r"arc: (event=start [^\n]*)", mx.log()))
            line = start[0] if start else ""
            print("  smtpd log: arc: " + line)
            m = re.search(r" trigger=handshake protocol=(\S+) smtpd=(\S+) ", line)
            release = m.group(2) if m else ""
            want = "0.6" if re.match(r"6\.|7\.[0-3]\.", release) else "0.7"
            check(m is not None and m.group(1) == want,
                  f"start line in smtpd's log after the handshake, protocol {want} for {release}")
            check(" keys=logs.example/log2026/rsa-sha256/2048 " in line, "start line: the key")

            msg = (b"From: <sender@example.org>\r\nTo: <arctest@example.test>\r\n"
                   b"Subject: logs\r\n\r\nHello.\r\n")
            reply = mx.send("sender@example.org", "arctest@example.test", msg)
            check(reply.code == 250, f"message accepted ({reply.code})")
            per = wait_for(lambda: re.findall(r"arc: (session=[^\n]*)", mx.log()))
            if per:
                print("  smtpd log: arc: " + per[0])
            check(bool(per) and " seal_d=logs.example seal_s=log2026 " in per[0],
                  "the message line names the sealing key")

            got = wait_for(receive)
            for d in got:
                print("  syslog socket: " + d)
            check(bool(got) and re.match(r"<173>\w{3} [ \d]\d \d\d:\d\d:\d\d arc-e2e\[\d+\]: "
                                         rf"event=start .*protocol={re.escape(want)} ", got[0])
                  is not None, "arcsys: start line as local5.notice with our tag, via syslog")
            check("arcsys: " not in mx.log(), "arcsys wrote nothing to smtpd's log")
            check(mx.alive(), "smtpd alive")
    finally:
        daemon.close()
        if not os.environ.get("FILTER_ARC_E2E_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
