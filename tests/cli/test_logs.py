#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""filter-arc's log lines as a process (issue 19 item 2): event=start once smtpd's handshake is
complete (with the protocol smtpd speaks) and after a good reload; the per-message line names
the sealing key (seal_d=, seal_s=); with [log] destination = "syslog" the lines arrive as
datagrams on a socket of ours standing in for /dev/log, with the facility, tag and a priority
per line, and nothing on stderr.

Usage: test_logs.py /path/to/filter-arc
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()
# No statistics file: the default one (/var/lib/filter-arc) may not exist here, and a failed
# write adds a line of its own (tests/cli/test_stats_files.py covers those).
NO_AUTH = "[authentication]\nspf = false\ndkim = false\ndmarc = false\n[stats]\nstate-file = \"\"\n"


def keygen(d, domain, selector):
    path = os.path.join(d, f"{selector}.{domain}.key")
    p = subprocess.run([BIN, "keygen", "--domain", domain, "--selector", selector, "--type",
                        "ed25519", "--out", path], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return path


class Filter:
    """The filter on pipes, its stderr in a file."""

    def __init__(self, d, config, name):
        self.err = open(os.path.join(d, name + ".stderr"), "w+")
        self.p = subprocess.Popen([BIN, "-c", config], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)

    def send(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def read_until(self, token, timeout=10):
        buf = b""
        end = time.time() + timeout
        while time.time() < end and token.encode() not in buf:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
        return buf.decode()

    def stderr_lines(self):
        self.err.seek(0)
        return self.err.read().splitlines()

    def message(self, session):
        for line in ["From: a@a.example", "Subject: t", "", "body", "."]:
            self.send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{line}")
        return self.read_until(f"{session}|e43f4b5e888d8c53|.\n")

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def wait_for(pred, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def stderr_mode(d, key):
    cfg = os.path.join(d, "stderr.toml")
    with open(cfg, "w") as f:
        f.write(NO_AUTH + f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{key}"\n'
                '[dns]\nservers = ["127.0.0.1:1"]\n')
    f = Filter(d, cfg, "stderr")
    try:
        f.send("config|smtpd-version|6.8.0p2")
        f.send("config|smtp-session-timeout|300")
        time.sleep(0.3)
        check(not any("event=start" in l for l in f.stderr_lines()),
              "no start line before the handshake is complete")
        f.send("config|subsystem|smtp-in")
        f.send("config|admd|vm")
        f.send("config|ready")
        out = f.read_until("register|ready\n")
        check("register|ready" in out, "handshake over pipes")
        start = wait_for(lambda: [l for l in f.stderr_lines() if l.startswith("event=start")])
        check(len(start) == 1, "one start line after config|ready")
        line = start[0] if start else ""
        print("  " + line)
        check(re.match(r"event=start version=\S+ trigger=handshake protocol=0\.6 "
                       r"smtpd=6\.8\.0p2 config=\S+stderr\.toml mode=both ", line) is not None,
              "start line: version, trigger, protocol 0.6 (derived), smtpd release, config, mode")
        check(" keys=a.example/s1/ed25519-sha256 " in line and " default_key=a.example " in line,
              "start line: the key")
        check(" resolvers=127.0.0.1:1 " in line and " limits=deadline:30000ms," in line
              and line.endswith(" log=stderr"), "start line: resolvers, limits, log")

        out = f.message("0000000000000001")
        msg = wait_for(lambda: [l for l in f.stderr_lines() if l.startswith("session=")])
        check(bool(msg) and " seal_d=a.example seal_s=s1 " in msg[0],
              "the message line names the sealing key")

        f.p.send_signal(signal.SIGHUP)
        again = wait_for(lambda: [l for l in f.stderr_lines() if "trigger=reload" in l])
        check(len(again) == 1 and " protocol=0.6 smtpd=6.8.0p2 " in again[0],
              "a good reload logs the start line again, with the protocol")
    finally:
        f.close()


def protocol_07(d):
    cfg = os.path.join(d, "verify.toml")
    with open(cfg, "w") as f:
        f.write(NO_AUTH)
    f = Filter(d, cfg, "p07")
    try:
        for line in ["config|smtpd-version|7.6.0-portable", "config|protocol|0.7",
                     "config|smtp-session-timeout|300", "config|subsystem|smtp-in",
                     "config|admd|vm", "config|ready"]:
            f.send(line)
        f.read_until("register|ready\n")
        start = wait_for(lambda: [l for l in f.stderr_lines() if l.startswith("event=start")])
        check(bool(start) and " protocol=0.7 smtpd=7.6.0-portable " in start[0]
              and " mode=verify " in start[0] and " keys=" not in start[0]
              and " resolvers=system " in start[0],
              "smtpd 7.6: protocol 0.7 from config|protocol; verify only, system resolver")
    finally:
        f.close()


def syslog_mode(d, key):
    path = os.path.join(d, "log.sock")
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    daemon.bind(path)
    daemon.settimeout(5)
    cfg = os.path.join(d, "syslog.toml")
    with open(cfg, "w") as f:
        f.write(NO_AUTH + f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{key}"\n'
                f'[log]\ndestination = "syslog"\nfacility = "local3"\ntag = "arc-test"\n'
                f'syslog-socket = "{path}"\n')
    f = Filter(d, cfg, "syslog")
    got = []
    try:
        for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
            f.send(line)
        f.read_until("register|ready\n")
        f.message("0000000000000001")
        while len(got) < 2:
            got.append(daemon.recv(8192).decode())
        f.close()
        got.append(daemon.recv(8192).decode())
    except (socket.timeout, OSError) as e:
        print(f"  receive: {e}")
    finally:
        f.close()
        daemon.close()
    for g in got:
        print("  " + g)
    pid = f.p.pid
    # local3 (19) * 8 + notice (5) = 157; + info (6) = 158 (RFC 5424 §6.2.1).
    check(len(got) == 3, "three datagrams: start, the message, stop")
    check(len(got) > 0 and re.match(rf"<157>\w{{3}} [ \d]\d \d\d:\d\d:\d\d arc-test\[{pid}\]: "
                                    r"event=start .* log=syslog:local3$", got[0]) is not None,
          "start line: <157> (local3.notice), RFC 3164 header, our tag and pid")
    check(len(got) > 1 and got[1].startswith("<158>") and "]: session=0000000000000001 " in got[1]
          and " action=deliver " in got[1], "message line: <158> (local3.info)")
    check(len(got) > 2 and got[2].startswith("<157>") and "event=stop reason=eof" in got[2],
          "stop line: notice")
    check(f.stderr_lines() == [], "nothing on stderr with destination = syslog")


EXIM_PROBE = r"""
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(5)
p = subprocess.run([sys.argv[1], "exim", "-c", sys.argv[2]], capture_output=True,
                   input=b"From: a@example.org\nSubject: x\n\nbody\n")
print(p.returncode, s.recv(8192).decode())
"""


def exim_mode(d):
    """The Exim mode logs through syslog(3), which writes to /dev/log: in a private mount
    namespace with a tmpfs on /dev, /dev/log is our socket (root only; skipped otherwise)."""
    cfg = os.path.join(d, "exim.toml")
    with open(cfg, "w") as f:
        f.write(NO_AUTH + '[log]\nfacility = "local2"\ntag = "arc-exim"\n')
    probe = os.path.join(d, "probe.py")
    with open(probe, "w") as f:
        f.write(EXIM_PROBE)
    try:
        r = subprocess.run(["unshare", "--mount", "sh", "-c",
                            f'mount -t tmpfs none /dev && exec "{sys.executable}" "{probe}" '
                            f'"{BIN}" "{cfg}"'], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"skip the Exim check: {e}")
        return
    if r.returncode != 0 and "mount" in r.stderr:
        print("skip the Exim check (no private mount namespace): " + r.stderr.strip())
        return
    print("  " + r.stdout.strip())
    # local2 (18) * 8 + info (6) = 150.
    check(re.match(r"0 <150>\w{3} [ \d]\d \d\d:\d\d:\d\d arc-exim\[\d+\]: mode=exim .* "
                   r"action=deliver$", r.stdout.strip()) is not None,
          "Exim mode: syslog(3) with [log] facility and tag (local2.info, arc-exim)")


def main():
    with tempfile.TemporaryDirectory() as d:
        key = keygen(d, "a.example", "s1")
        stderr_mode(d, key)
        protocol_07(d)
        syslog_mode(d, key)
        exim_mode(d)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
