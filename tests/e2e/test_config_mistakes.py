#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Issue 19 item 1, through a real smtpd: a configuration or key mistake never takes smtpd down.

ONE smtpd start with one listener per mistake, each with its own filter-arc process and config:

    unreadable    the key is root's, mode 0600: user opensmtpd cannot read it
    readable      the key is mode 0644 (group and others can read it)
    missing-key   the key file does not exist
    missing-conf  -c names a file that does not exist
    syntax        filter-arc.toml has a TOML syntax error
    fifo          a FIFO sits at the key path (it must never block the filter)
    pass          as "unreadable", with --on-config-error pass

Each filter must complete the handshake (smtpd serves at all only then), log
`event=config-error ... reason=... action=defer|pass` at start, and answer every message:
451 at the end of DATA (defer; the session stays open), or 250 with the message unchanged apart
from our Authentication-Results (pass: verify only, no ARC-Seal). Then each file is fixed and the
filter reloaded: with `filter-arc reload --pidfile` (which must report status=ok and exit 0), or,
for one, with SIGHUP to the pid in its pidfile. One degraded filter first gets a reload with a
file that is still broken (`filter-arc reload` exits 1; the log says kept=degraded). After the
fix, the next message on every listener is sealed (ARC-Seal i=1, d=fwd.example) and smtpd has
run throughout.

On the old code (before start-up safety) the first filter to exit takes smtpd down at start
("lost processor"), so the harness fails to start it.

Usage: test_config_mistakes.py /path/to/filter-arc
"""
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smtpd_harness as H  # noqa: E402

DOMAIN = "fwd.example"
SELECTOR = "s1"
MESSAGE = (b"From: Sender <sender@example.org>\r\nTo: rcpt@example.test\r\n"
           b"Subject: start-up safety\r\nMessage-ID: <m1@example.org>\r\n"
           b"Date: Mon, 07 Dec 2026 04:00:00 +0000\r\n\r\nbody line\r\n")

CASES = ["unreadable", "readable", "missing-key", "missing-conf", "syntax", "fifo", "pass"]
# What each start-up line's reason must say.
REASONS = {
    "unreadable": r"Permission denied \(user opensmtpd\)",
    "readable": r"is readable by group or others",
    "missing-key": r"No such file or directory \(user opensmtpd\)",
    "missing-conf": r"missing-conf\.toml: No such file or directory \(user opensmtpd\)",
    "syntax": r"syntax\.toml:\d+: ",
    "fifo": r"a FIFO, not a regular file \(user opensmtpd\)",
    "pass": r"Permission denied \(user opensmtpd\)",
}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def config_text(key):
    # No DNS is needed: sender authentication is off, and a message without a chain is sealed
    # with i=1 cv=none without any lookup.
    return ("[authentication]\nspf = false\ndkim = false\ndmarc = false\n"
            f'[seal]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey = "{key}"\n')


def chown_smtpd(path):
    pw = pwd.getpwnam(H.SMTPD_USER)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def main():
    binary = os.path.abspath(sys.argv[1])
    reason = H.skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        return H.SKIP
    H.ensure_setup()
    work = H.make_workdir("filter-arc-mistakes.")
    exe = H.stage(binary, work)
    keys = os.path.join(work, "keys")
    run = os.path.join(work, "run")
    for d in (keys, run):
        os.mkdir(d)
        os.chmod(d, 0o755)
    chown_smtpd(run)
    good_key = os.path.join(work, "good.key")
    r = subprocess.run([binary, "keygen", "--domain", DOMAIN, "--selector", SELECTOR,
                        "--out", good_key], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pem = open(good_key, "rb").read()

    cfg, key, pidfile, port = {}, {}, {}, {}
    for c in CASES:
        key[c] = os.path.join(keys, f"{c}.key")
        cfg[c] = os.path.join(work, f"{c}.toml")
        pidfile[c] = os.path.join(run, f"{c}.pid")
        if c != "missing-conf":
            H.write_private(cfg[c], config_text(key[c]) if c != "syntax" else
                            config_text(key[c]) + "[seal\n", 0o644)
        if c in ("unreadable", "pass"):
            H.write_private(key[c], pem, 0o600)  # root's: opensmtpd cannot read it
        elif c == "readable":
            H.write_private(key[c], pem, 0o644, owner=H.SMTPD_USER)
        elif c in ("syntax", "missing-conf"):
            H.write_private(key[c], pem, 0o600, owner=H.SMTPD_USER)
        elif c == "fifo":
            os.mkfifo(key[c], 0o600)
            chown_smtpd(key[c])

    def command(c):
        extra = " --on-config-error pass" if c == "pass" else ""
        return f"{exe} -c {cfg[c]} --pidfile {pidfile[c]}{extra}"

    # The first case is the harness's own listener; the others get listeners of their own.
    filters, listens = [], []
    for c in CASES[1:]:
        port[c] = H.free_port()
        name = "f_" + c.replace("-", "_")
        filters.append(f'filter "{name}" proc-exec "{command(c)}"')
        listens.append(f'listen on 127.0.0.1 port {port[c]} hostname "mx.example.test" '
                       f'filter "{name}"')
    mx = H.Smtpd(command(CASES[0]), workdir=work, start_timeout=60,
                 filters_config="\n".join(filters + listens))
    started = time.monotonic()
    with mx:
        port[CASES[0]] = mx.port
        print(f"smtpd with {len(CASES)} degraded filters up in "
              f"{time.monotonic() - started:.1f} s")
        check(mx.alive(), "smtpd is running with every filter misconfigured")

        log = mx.log()
        for c in CASES:
            action = "pass" if c == "pass" else "defer"
            lines = [l for l in log.splitlines() if "event=config-error" in l and cfg[c] in l]
            check(any(re.search(REASONS[c], l) and f"action={action}" in l for l in lines),
                  f"{c}: start-up line event=config-error ... action={action} says why "
                  f"({lines[0].split(': ', 1)[-1] if lines else 'no line'})")

        # Every message while degraded: 451 at the end of DATA (defer), or passed unchanged.
        for c in CASES:
            reply = mx.send("sender@example.org", "rcpt@example.test", MESSAGE, port=port[c])
            if c == "pass":
                check(reply.code == 250, f"pass: accepted ({reply})")
            else:
                check(reply.code == 451 and reply.stage == "dot" and "4.3.5" in reply.message,
                      f"{c}: deferred with 451 4.3.5 at the end of DATA ({reply})")
        passed = mx.delivered(timeout=20)
        check(len(passed) == 1, f"pass: exactly one message delivered ({len(passed)})")
        if passed:
            m = passed[0]
            check(not H.header_values(m, "ARC-Seal"), "pass: not sealed")
            ar = b" ".join(H.header_values(m, "Authentication-Results"))
            check(b"arc=none" in ar, f"pass: our Authentication-Results arc=none ({ar[:80]!r})")
            check(m.endswith(b"body line\n"), "pass: body unchanged")
        log = mx.log()
        check(re.search(r"config_error=.*action=defer", log) is not None,
              "deferred messages' log lines carry config_error= and action=defer")
        check(mx.alive(), "smtpd still running after the degraded messages")

        # A reload with a file that is still broken: refused, still degraded, exit 1.
        r = subprocess.run([binary, "reload", "--pidfile", pidfile["syntax"]],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "status=failed" in r.stdout,
              f"syntax: reload of a still broken file exits 1 ({r.returncode} {r.stdout.strip()} "
              f"{r.stderr.strip()})")
        time.sleep(0.3)
        check("kept=degraded" in mx.log(), "the log says kept=degraded")

        # Fix every file, then reload.
        for c in CASES:
            if c in ("unreadable", "pass"):
                chown_smtpd(key[c])
            elif c == "readable":
                os.chmod(key[c], 0o600)
            elif c == "missing-key":
                H.write_private(key[c], pem, 0o600, owner=H.SMTPD_USER)
            elif c == "missing-conf":
                H.write_private(cfg[c], config_text(key[c]), 0o644)
            elif c == "syntax":
                H.write_private(cfg[c], config_text(key[c]), 0o644)
            elif c == "fifo":
                os.unlink(key[c])
                H.write_private(key[c], pem, 0o600, owner=H.SMTPD_USER)
        for c in CASES:
            if c == "fifo":
                # The plain way: SIGHUP to the pid in the pidfile, then the status file.
                pid = int(open(pidfile[c]).read().split()[0])
                status = pidfile[c][:-4] + ".status"
                os.kill(pid, signal.SIGHUP)
                deadline = time.monotonic() + 10
                line = ""
                while time.monotonic() < deadline:
                    line = open(status).read() if os.path.exists(status) else ""
                    if "reloads=1 " in line:
                        break
                    time.sleep(0.05)
                check("status=ok" in line, f"fifo: SIGHUP to pid {pid}: {line.strip()}")
                continue
            t0 = time.monotonic()
            r = subprocess.run([binary, "reload", "--pidfile", pidfile[c]],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 0 and "status=ok" in r.stdout,
                  f"{c}: filter-arc reload exit {r.returncode} in "
                  f"{time.monotonic() - t0:.2f} s: {r.stdout.strip()} {r.stderr.strip()}")
        time.sleep(0.3)
        log = mx.log()
        check(log.count("recovered=yes") == len(CASES),
              f"every filter logs event=reload status=ok ... recovered=yes "
              f"({log.count('recovered=yes')})")

        # Normal service: the next message on every listener is sealed.
        before = set(mx.accepted)
        for c in CASES:
            reply = mx.send("sender@example.org", "rcpt@example.test", MESSAGE, port=port[c])
            check(reply.code == 250, f"{c}: accepted after the reload ({reply})")
        by_id = mx.delivered_by_id(timeout=30)
        new = [m for qid, msgs in by_id.items() if qid not in before for m in msgs]
        sealed = [m for m in new if any(f"d={DOMAIN}".encode() in v and b"i=1" in v
                                        for v in H.header_values(m, "ARC-Seal"))]
        check(len(sealed) == len(CASES),
              f"every listener seals again: {len(sealed)} of {len(new)} new messages sealed")
        check(mx.alive(), "smtpd ran throughout")
        sample = [l for l in mx.log().splitlines()
                  if "event=config-error" in l or "recovered=yes" in l][:2]
        print("log sample:\n  " + "\n  ".join(sample))
    if failures:
        print(f"{len(failures)} check(s) failed; files kept in {work}")
        return 1
    if not mx.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
