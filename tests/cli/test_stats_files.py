#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The statistics files and tools (issue 19 items 3 and 4) without smtpd:

  * Exim mode (a process per delivery) adds each delivery to [stats] state-file under its lock:
    3 deliveries, then 8 at once, count 11 (no lost update); the file is valid JSON (python's
    json) and the Prometheus file passes tests/tools/prom_check.py; a state file that is not
    ours is kept as FILE.bad and counting starts anew.
  * `filter-arc stats FILE` prints the counters; a missing file exits 66.
  * `filter-arc sealers` on a state file with three sealers of different quality ranks them;
    `--suggest` prints lines that `check-config` accepts as trusted-sealers-file, and with that
    file configured the sealer shows as trusted.
  * the smtpd mode over pipes (no smtpd): the counters are written every [stats] interval and
    on SIGUSR1; a reload (SIGHUP) takes new [stats] settings and keeps the counters; a file that
    cannot be written is logged once, not every interval; the filter keeps working.
  * prom_check.py itself flags broken exposition text (a checker that cannot fail is no check).

Usage: test_stats_files.py /path/to/filter-arc
"""

import json
import os
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.dont_write_bytecode = True

from checks import Checks  # noqa: E402
import prom_check  # noqa: E402

check = Checks()

MESSAGE = (b"From: Sender <sender@example.org>\n"
           b"To: rcpt@example.test\n"
           b"Subject: stats\n"
           b"Message-ID: <stats@example.org>\n"
           b"\n"
           b"Hello.\n")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=60, **kw)


def config(work, extra=""):
    path = os.path.join(work, "filter-arc.toml")
    with open(path, "w") as f:
        f.write('authserv-id = "mx.example.test"\n' + extra +
                "\n[authentication]\nspf = false\ndkim = false\ndmarc = false\n"
                '\n[dns]\nservers = ["127.0.0.1:9"]\ntimeout-ms = 300\ntries = 1\n'
                f'\n[stats]\nstate-file = "{work}/state/stats.json"\n'
                f'prometheus-file = "{work}/state/filter-arc.prom"\n')
    return path


def exim_mode(exe, cfg):
    r = run([exe, "exim", "-c", cfg], input=MESSAGE)
    return r.returncode, r.stdout


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_exim_merge(exe, work):
    cfg = config(work)
    state = os.path.join(work, "state", "stats.json")
    prom = os.path.join(work, "state", "filter-arc.prom")
    os.makedirs(os.path.dirname(state))
    for _ in range(3):
        code, out = exim_mode(exe, cfg)
        check(code == 0 and b"Hello." in out, f"exim mode delivers (exit {code})")
    j = load(state)
    check(j.get("format") == "filter-arc-stats" and j.get("mode") == "exim",
          f"state file is ours, mode exim: {j.get('format')} {j.get('mode')}")
    c = j.get("counters", {})
    check(c.get("messages") == 3 and c.get("arc", {}).get("none") == 3
          and c.get("action", {}).get("deliver") == 3,
          f"3 deliveries counted: messages={c.get('messages')} arc={c.get('arc')}")
    # 8 processes at once: the lock serialises read-add-write, so nothing is lost.
    procs = [subprocess.Popen([exe, "exim", "-c", cfg], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL) for _ in range(8)]
    for p in procs:
        p.communicate(MESSAGE, timeout=60)
    c = load(state)["counters"]
    check(c.get("messages") == 11, f"11 after 8 parallel deliveries: {c.get('messages')}")
    with open(prom, encoding="utf-8") as f:
        text = f.read()
    problems = prom_check.check(text)
    check(not problems, f"the Prometheus file passes prom_check: {problems[:3]}")
    check("\nfilter_arc_messages_total 11\n" in text, "filter_arc_messages_total 11")
    leftovers = [n for n in os.listdir(os.path.dirname(state))
                 if n not in ("stats.json", "stats.json.lock", "filter-arc.prom")]
    check(not leftovers, f"no temporary files left: {leftovers}")
    mode = os.stat(state).st_mode & 0o777
    check(mode == 0o644, f"state file mode 0644: {oct(mode)}")

    r = run([exe, "stats", state])
    out = r.stdout.decode()
    check(r.returncode == 0 and "messages" in out and " 11\n" in out and "exim" in out,
          f"`filter-arc stats FILE` prints the table (exit {r.returncode})")
    r = run([exe, "stats", "-c", cfg])
    check(r.returncode == 0 and " 11\n" in r.stdout.decode(), "`stats -c CONFIG` finds the file")
    r = run([exe, "stats", os.path.join(work, "missing.json")])
    check(r.returncode == 66 and b"missing.json" in r.stderr,
          f"a missing state file: exit 66 naming it ({r.returncode})")

    with open(state, "w") as f:
        f.write('{"something": "else"}\n')
    code, _ = exim_mode(exe, cfg)
    check(code == 0, "a foreign state file does not hold up the delivery")
    check(os.path.exists(state + ".bad") and load(state)["counters"]["messages"] == 1,
          "a foreign state file is kept as .bad and counting starts anew")
    r = run([exe, "stats", state + ".bad"])
    check(r.returncode == 66 and b"not a filter-arc statistics file" in r.stderr,
          f"`stats` refuses a file that is not ours: {r.stderr.decode().strip()}")


def sealer(messages, passed, failed, dfap, rescued, overridden=0):
    return {"messages": messages, "chain_pass": passed, "chain_fail": failed,
            "dmarc_fail_arc_pass": dfap, "dmarc_rescued": rescued,
            "dmarc_overridden": overridden}


def test_sealers(exe, work):
    state = os.path.join(work, "three.json")
    doc = {"format": "filter-arc-stats", "version": 1, "mode": "smtpd",
           "started": 1796000000, "written": 1796003600,
           "counters": {"messages": 62},
           "sealers": {"lists.good.example": sealer(30, 30, 0, 12, 12),
                       "fair.example": sealer(25, 20, 5, 4, 0),
                       "bad.example": sealer(5, 1, 4, 1, 1),
                       "(other)": sealer(2, 0, 2, 0, 0)}}
    with open(state, "w") as f:
        json.dump(doc, f, indent=2)
    r = run([exe, "sealers", state])
    out = r.stdout.decode()
    rows = [l.split()[1] for l in out.splitlines() if l[:4].strip().isdigit()]
    check(r.returncode == 0 and rows == ["lists.good.example", "bad.example", "fair.example"],
          f"ranked by DMARC failures rescued, then pass rate: {rows}")
    r = run([exe, "sealers", "--suggest", state])
    sug = r.stdout.decode()
    lines = [l for l in sug.splitlines() if l and not l.startswith("#")]
    check(r.returncode == 0 and lines == ["lists.good.example"],
          f"--suggest: only the good sealer passes the default threshold: {lines}")
    check("# not suggested: fair.example" in sug and "never rescued a DMARC failure" in sug
          and "# not suggested: bad.example" in sug and "fewer than 20 messages" in sug,
          "--suggest says why the others are not suggested")
    trusted = os.path.join(work, "trusted-sealers")
    with open(trusted, "w") as f:
        f.write(sug)
    cfg = config(work, f'trusted-sealers-file = "{trusted}"\n')
    r = run([exe, "check-config", "-c", cfg])
    check(r.returncode == 0,
          f"check-config accepts the --suggest output as trusted-sealers-file ({r.returncode}:"
          f" {r.stderr.decode().strip()})")
    r = run([exe, "sealers", "-c", cfg, state])
    row = [l for l in r.stdout.decode().splitlines() if "lists.good.example" in l]
    check(r.returncode == 0 and row and row[0].rstrip().endswith("yes"),
          f"with the file configured the sealer shows as trusted: {row}")
    r = run([exe, "sealers", "-c", cfg, "--suggest", state])
    check("# already trusted: lists.good.example" in r.stdout.decode(),
          "--suggest names an already trusted sealer as a comment")
    r = run([exe, "sealers", "--suggest", "--min-messages", "5", "--min-pass-rate", "0", state])
    lines = [l for l in r.stdout.decode().splitlines() if l and not l.startswith("#")]
    check(lines == ["lists.good.example", "bad.example"],
          f"the threshold options are applied: {lines}")
    r = run([exe, "sealers", "--min-pass-rate", "101", state])
    check(r.returncode == 64, f"--min-pass-rate over 100: usage error ({r.returncode})")


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_smtpd_mode(exe, work):
    d = os.path.join(work, "smtpd")
    os.makedirs(os.path.join(d, "state"))
    state = os.path.join(d, "state", "stats.json")
    cfg = os.path.join(d, "filter-arc.toml")

    def write_cfg(state_file, interval):
        with open(cfg, "w") as f:
            f.write('authserv-id = "mx.example.test"\n'
                    "[authentication]\nspf = false\ndkim = false\ndmarc = false\n"
                    f'[stats]\nstate-file = "{state_file}"\ninterval = {interval}\n')

    write_cfg(state, 1)
    errlog = open(os.path.join(d, "stderr.log"), "w+")
    p = subprocess.Popen([exe, "-c", cfg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=errlog)

    def send(line):
        p.stdin.write((line + "\n").encode())
        p.stdin.flush()

    def read_until(marker, timeout=10):
        buf = b""
        end = time.time() + timeout
        while time.time() < end and marker not in buf:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
        return buf

    def messages():
        try:
            return load(state)["counters"]["messages"]
        except (OSError, ValueError, KeyError):
            return None

    def log():
        errlog.seek(0)
        return errlog.read()

    try:
        for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
            send(line)
        check(b"register|ready" in read_until(b"register|ready\n"), "handshake over pipes")
        for n, session in enumerate(("0000000000000001", "0000000000000002")):
            for l in ["Received: from x by y", "From: a@example.org", "Subject: t", "", "body",
                      "."]:
                send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{l}")
            read_until(f"{session}|e43f4b5e888d8c53|.\n".encode())
            if n == 0:
                check(wait_for(lambda: messages() == 1, 4),
                      f"written within the 1 s interval: messages={messages()}")
        os.unlink(state)
        p.send_signal(signal.SIGUSR1)
        check(wait_for(lambda: messages() == 2, 3) and "event=stats status=written" in log(),
              f"SIGUSR1 writes at once and says so: messages={messages()}")
        missing = os.path.join(d, "no-such-dir", "stats.json")
        write_cfg(missing, 1)
        p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "event=reload status=ok" in log(), 3), "reload ok")
        time.sleep(3.5)  # three intervals with a file that cannot be written
        failed = [l for l in log().splitlines() if "event=stats status=failed" in l]
        check(len(failed) == 1 and "no-such-dir" in failed[0],
              f"a failing write is logged once, with the path: {failed}")
        write_cfg(state, 0)
        os.unlink(state)
        p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: log().count("event=reload status=ok") == 2, 3), "second reload")
        p.send_signal(signal.SIGUSR1)
        check(wait_for(lambda: messages() == 2, 3) and "event=stats status=ok" in log(),
              "after a reload the counters go on and recovery is logged")
        p.stdin.close()
        check(p.wait(10) == 0 and "event=stop" in log(), "the filter exits normally at EOF")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        errlog.close()


def test_prom_checker():
    good = ("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b\\\"c\"} 1\n")
    check(not prom_check.check(good), "prom_check accepts valid text")
    for bad, why in (
            ("x_total 1\n", "no TYPE/HELP"),
            ("# HELP x X.\n# TYPE x counter\nx 1\n", "counter without _total"),
            ("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b\\q\"} 1\n", "bad escape"),
            ("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b\"} 1\nx_total{a=\"b\"} 2\n",
             "a series twice"),
            ("# HELP x_total X.\n# TYPE x_total counter\nx_total -1\n", "negative counter"),
            ("# HELP x_total X.\n# TYPE x_total counter\nx_total 1", "no final LF"),
            ("# HELP x_total X.\n# TYPE x_total countr\nx_total 1\n", "unknown type"),
            ("# HELP g G.\n# TYPE g gauge\ng 1\n# HELP h H.\n# TYPE h gauge\nh 1\ng 2\n",
             "samples not contiguous"),
    ):
        check(prom_check.check(bad), f"prom_check rejects: {why}")


def main():
    if len(sys.argv) != 2:
        print("usage: test_stats_files.py /path/to/filter-arc")
        return 2
    exe = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="filter-arc-stats.")
    try:
        test_prom_checker()
        test_exim_merge(exe, work)
        test_smtpd_mode(exe, work)
        test_sealers(exe, work)
    finally:
        if check.fails:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
