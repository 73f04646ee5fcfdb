#!/usr/bin/python3
"""filter-arc as a process: configuration errors name file, line and setting; check-config
prints the effective configuration; SIGHUP reloads atomically (a broken file keeps the old
configuration running); the filter protocol works over pipes.

Start-up safety (issue 19): a filter whose configuration cannot be loaded still completes the
handshake, logs event=config-error, defers every message with 451 4.3.5 at commit, and comes
back to normal service on a good reload; `filter-arc reload --pidfile` signals it and reports
the result; `check-config --user` opens the files as another user.

Usage: test_config_and_reload.py /path/to/filter-arc
"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def keygen(d, domain, selector):
    path = os.path.join(d, f"{selector}.{domain}.key")
    rc, out, err = run("keygen", "--domain", domain, "--selector", selector, "--type", "ed25519",
                       "--out", path)
    assert rc == 0, err
    return path


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def config_errors(d, key):
    seal = f'[seal]\ndomain = "a.example"\nselector = "s"\nkey = "{key}"\n'
    cases = [
        ("unknown top-level key", "bogus = 1\n", ":1: bogus: unknown setting"),
        ("unknown key in a section", seal + "sign = true\n", ":5: seal.sign: unknown setting"),
        ("wrong type", '[dns]\ntimeout-ms = "fast"\n',
         ":2: dns.timeout-ms: must be a non-negative integer"),
        ("bad enum", 'mode = "sometimes"\n', ':1: mode: must be one of "verify", "seal", "both"'),
        ("bad network", 'trusted-networks = ["10.0.0.0/40"]\n',
         ':1: trusted-networks: "10.0.0.0/40" is not'),
        ("bad reply", '[smtpd]\ntempfail-reply = "250 ok"\n',
         ":2: smtpd.tempfail-reply: must be a 4xx"),
        ("toml syntax", 'authserv-id = "unterminated\n', ":1:"),
        ("missing key file",
         '[seal]\ndomain = "a.example"\nselector = "s"\nkey = "/nonexistent.key"\n',
         ":4: seal.key: cannot read /nonexistent.key"),
        ("max-arc-sets bound", "[limits]\nmax-arc-sets = 51\n",
         ":2: limits.max-arc-sets: 1..50"),
        ("max-key-records bound", "[limits]\nmax-key-records = 0\n",
         ":2: limits.max-key-records: at least 1"),
        ("max-rsa-bits bound", "[limits]\nmax-rsa-bits = 16385\n",
         ":2: limits.max-rsa-bits: at most 16384"),
        ("recipient-domains without list", seal + 'when = "recipient-domains"\n',
         ':5: seal.when: "recipient-domains" needs seal.recipient-domains'),
        ("bad temperror", '[authentication]\ntemperror = "ignore"\n',
         ':2: authentication.temperror: must be one of "defer", "record"'),
        ("unknown authentication method", "[authentication]\nspf = true\narc = false\n",
         ":3: authentication.arc: unknown setting"),
        ("method switch not a boolean", '[authentication]\nspf = "yes"\n',
         ":2: authentication.spf: must be true or false"),
        ("a [seal] setting after [[seal.keys]] (TOML scoping)",
         f'[seal]\n[[seal.keys]]\ndomain = "a.example"\nselector = "s"\nkey = "{key}"\n'
         'domain-from = "header-from"\n',
         ":6: seal.keys.domain-from: unknown setting; domain-from is a [seal] setting placed "
         "after a [[seal.keys]] table"),
        ("mode seal without a key", 'mode = "seal"\n',
         ':1: mode: "seal" needs a [seal] table with a key'),
    ]
    for name, text, expect in cases:
        path = os.path.join(d, "bad.toml")
        write(path, text)
        rc, out, err = run("check-config", "-c", path)
        check(rc == 78 and (path + expect) in err,
              f"check-config rejects {name}: {err.strip()!r}")


def print_round_trip(d, key_a, key_b):
    """check-config's output, with and without --print, is TOML that loads back into the same
    configuration: --print of the reloaded output is the same text."""
    configs = {
        "defaults": None,
        "two keys and every table": (
            f'authserv-id = "mx.a.example"\ntrusted-authserv-ids = ["x \\"y\\""]\n'
            f'[dns]\nservers = ["127.0.0.1:5353"]\ntries = 3\n[limits]\nmax-arc-sets = 9\n'
            f'[smtpd]\ntempfail-reply = "451 4.7.0 later"\n'
            f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{key_a}"\n'
            f'when = "trusted"\ndefault-domain = "b.example"\n'
            f'[[seal.keys]]\ndomain = "b.example"\nselector = "s2"\nkey = "{key_b}"\n'),
    }
    for name, text in configs.items():
        args = []
        if text is not None:
            path = os.path.join(d, "rt.toml")
            write(path, text)
            args = ["-c", path]
        rc, printed, err = run("check-config", *args, "--print")
        check(rc == 0 and "#" not in printed, f"check-config --print ({name}): {err.strip()!r}")
        for flag in ([], ["--print"]):
            rc, out, _ = run("check-config", *args, *flag)
            again = os.path.join(d, "again.toml")
            write(again, out)
            rc2, reprinted, err2 = run("check-config", "-c", again, "--print")
            check(rc == 0 and rc2 == 0 and reprinted == printed,
                  f"check-config {' '.join(flag) or '(annotated)'} output loads back into "
                  f"the same configuration ({name}) {err2.strip()!r}")
    rc, out, _ = run("check-config", "--help")
    check(rc == 0 and "--print" in out and "--schema" in out and "78" in out,
          "check-config --help lists its options and exit statuses")
    rc, out, _ = run("check-config", "--schema")
    rows = [line.split("\t") for line in out.splitlines()]
    check(rc == 0 and len(rows) >= 40 and all(len(r) == 6 for r in rows)
          and ["seal", "when", "choice", '"all"'] == rows[[r[:2] for r in rows].index(
              ["seal", "when"])][:4],
          "check-config --schema prints the table: table, key, type, default, allowed, doc")


def shipped_seal_example(d, key_a, key_b):
    """Uncommenting the [seal] example of etc/filter-arc.toml in place gives a valid file
    (issue 20: the [[seal.keys]] example used to sit above the [seal] settings)."""
    etc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "etc",
                       "filter-arc.toml")
    lines = open(etc).read().split("\n")
    out, in_seal, in_list = [], False, False
    for line in lines:
        if line.startswith("#[seal]"):
            in_seal = True
        elif in_seal and not line.strip():
            in_seal = False
        if in_seal and (in_list or re.match(r"^#(\[|[a-z-]+ =)", line)):
            line = line[1:]  # a setting, a table header, or the next line of a list
            value = line.split("#", 1)[0]
            in_list = (in_list or re.match(r"^[a-z-]+ = \[", value)) and "]" not in value
        out.append(line)
    text = "\n".join(out)
    text = text.replace("/etc/filter-arc/keys/example.org.key", key_a)
    rsa = os.path.join(d, "lists.example.org.key")  # the example says algorithm = "rsa-sha256"
    rc, _, err = run("keygen", "--domain", "lists.example.org", "--selector", "arc2026",
                     "--type", "rsa", "--out", rsa)
    assert rc == 0, err
    text = text.replace("/etc/filter-arc/keys/lists.example.org.key", rsa)
    check("\n[[seal.keys]]\n" in text and "\nwhen = " in text,
          "the [seal] example of etc/filter-arc.toml can be uncommented")
    path = os.path.join(d, "shipped.toml")
    write(path, text)
    rc, out, err = run("check-config", "-c", path)
    check(rc == 0 and 'domain = "lists.example.org"' in out,
          f"the shipped [seal] example, uncommented in place, loads: {err.strip()!r}")


class Filter:
    """filter-arc in smtpd mode over pipes, its stderr in a file."""

    def __init__(self, d, *args, env=None):
        self.errlog = open(os.path.join(d, f"stderr.{len(os.listdir(d))}.log"), "w+")
        self.p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.errlog, env={**os.environ, **(env or {})})

    def send(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def read_until(self, pred, timeout=10):
        buf = b""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                if pred(buf):
                    break
        return buf.decode()

    def handshake(self):
        for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
            self.send(line)
        return self.read_until(lambda b: b"register|ready\n" in b)

    def message(self, session, timeout=10):
        """One message and its commit; the data-lines and the commit answer."""
        for l in ["Received: from x by y", "From: a@a.example", "Subject: t", "", "body"]:
            self.send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{l}")
        self.send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|.")
        self.send(f"filter|0.6|1.0|smtp-in|commit|{session}|e43f4b628180a9ae|")
        return self.read_until(lambda b: f"{session}|e43f4b628180a9ae|".encode() in b, timeout)

    def log(self):
        self.errlog.seek(0)
        return self.errlog.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def reload(*args):
    p = subprocess.run([BIN, "reload", *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def startup_safety(d, key_a):
    """A filter started with a configuration it cannot load keeps serving: defers, then
    recovers on a good reload (issue 19 item 1; the e2e test does the same through smtpd)."""
    run_dir = os.path.join(d, "run")
    os.mkdir(run_dir)
    pidfile = os.path.join(run_dir, "filter-arc.pid")
    cfg = os.path.join(d, "later.toml")
    # The repeat of the config-error line (every 60 s) shortened for the test.
    f = Filter(d, "-c", cfg, "--pidfile", pidfile, env={"FILTER_ARC_TEST_DEGRADED_LOG_MS": "300"})
    try:
        check("register|ready" in f.handshake(),
              "a filter whose config file is missing completes the handshake")
        out = f.message("00000000000000a1")
        check("|reject|451 4.3.5 " in out and "ARC-Seal" not in out,
              f"while degraded a message is deferred with 451 4.3.5 at commit: {out[-120:]!r}")
        log = f.log()
        check(re.search(r"event=config-error file=\S*later\.toml reason=\"cannot read \S*"
                        r"later\.toml: No such file or directory \(user \S+\)\" action=defer",
                        log) is not None, f"the start-up line says why: {log.strip()[:300]!r}")
        check("config_error=" in log and "action=defer" in log,
              "the message's log line carries config_error=")
        check(open(pidfile).read().strip() == str(f.p.pid), "the pidfile holds the filter's pid")

        # A second filter with the same pidfile runs without it (and says so).
        g = Filter(d, "--pidfile", pidfile)
        check("register|ready" in g.handshake(), "a second filter with the same pidfile runs")
        g.stop()
        check("locked by pid " + str(f.p.pid) in g.log(),
              f"... and logs that the pidfile is locked: {g.log().strip()[:200]!r}")
        check(os.path.exists(pidfile), "... and leaves the first filter's pidfile alone")

        # Still broken: reload exits 1, the filter stays degraded.
        write(cfg, "[seal\n")
        rc, out, err = reload("--pidfile", pidfile)
        check(rc == 1 and "status=failed" in out and "degraded=yes" in out,
              f"reload of a broken file while degraded exits 1: {rc} {out.strip()} {err.strip()}")
        check("kept=degraded action=defer" in f.log(), "the log says it stays degraded")
        check("|reject|451 4.3.5 " in f.message("00000000000000a2"), "... and it still defers")

        # While degraded the problem is logged again and again, with the newest reason and
        # how long it has lasted.
        def config_errors():
            return [l for l in f.log().splitlines() if l.startswith("event=config-error ")]

        first = len(config_errors())
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(
                "degraded_s=" in l for l in config_errors()[first:]):
            time.sleep(0.1)
        repeats = config_errors()[first:]
        check(len(repeats) >= 2 and "degraded_s=" in repeats[-1],
              f"a degraded filter repeats its config-error line: {repeats[-1:]!r}")
        check(all("later.toml" in l and "action=defer" in l for l in repeats)
              and "reason=\"cannot read" not in repeats[-1],
              f"... naming the file and the newest problem (the TOML error): {repeats[-1:]!r}")

        # Fixed: reload exits 0 and the next message is sealed.
        write(cfg, f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{key_a}"\n')
        t0 = time.monotonic()
        rc, out, err = reload("--pidfile", pidfile)
        took = time.monotonic() - t0
        check(rc == 0 and "status=ok" in out and "degraded=no" in out,
              f"reload of the fixed file exits 0 in {took:.2f}s: {out.strip()} {err.strip()}")
        check("event=reload status=ok" in f.log() and "recovered=yes" in f.log(),
              "the log says event=reload status=ok ... recovered=yes")
        after = len(config_errors())
        time.sleep(1.0)
        check(len(config_errors()) == after,
              f"once recovered the config-error line is not repeated: {config_errors()[after:]!r}")
        out = f.message("00000000000000a3")
        check("d=a.example; s=s1;" in out and out.rstrip().endswith("|proceed"),
              "after the reload the next message is sealed and accepted")

        # Broken again while running: the running configuration stays; reload exits 1.
        write(cfg, "bogus = 1\n")
        rc, out, err = reload("--pidfile", pidfile)
        check(rc == 1 and "status=failed" in out and "degraded=no" in out,
              f"a bad reload while running exits 1: {out.strip()}")
        check("d=a.example; s=s1;" in f.message("00000000000000a4"),
              "... and the running configuration still seals")
        check(f.stop() == 0, "EOF ends the degraded-then-recovered filter with status 0")
        check(not os.path.exists(pidfile), "the pidfile is removed at exit")
    finally:
        f.stop()
    rc, out, err = reload("--pidfile", pidfile)
    check(rc == 69 and "no such file" in err, f"reload without a running filter exits 69: {err!r}")
    write(pidfile, "1\n")
    rc, out, err = reload("--pidfile", pidfile)
    check(rc == 69 and "stale" in err, f"reload with a stale pidfile exits 69: {err!r}")

    # --on-config-error pass: verified, not sealed, accepted.
    f = Filter(d, "-c", os.path.join(d, "nowhere.toml"), "--on-config-error", "pass")
    try:
        f.handshake()
        out = f.message("00000000000000b1", timeout=45)  # DMARC asks the system resolver
        check("Authentication-Results: vm; arc=none" in out and "ARC-Seal" not in out
              and out.rstrip().endswith("|proceed"),
              f"--on-config-error pass: the message passes with our A-R only: {out[-200:]!r}")
        check("action=pass" in f.log(), "the start-up line says action=pass")
    finally:
        f.stop()
    # A mistake on the command line degrades too (smtpd would exit with us).
    f = Filter(d, "--on-config-error", "maybe")
    try:
        check("register|ready" in f.handshake(), "a bad option still completes the handshake")
        check("|reject|451 4.3.5 " in f.message("00000000000000c1"),
              "... and defers every message")
        check("command line: --on-config-error" in f.log(), "... and logs why")
    finally:
        f.stop()


def exim_startup_safety(d):
    """Exim mode, the same rules: defer = exit 75 with nothing on stdout or stderr (stderr
    would end up in the message); pass = the message copied through with our A-R only."""
    msg = b"From: a@a.example\nTo: b@b.example\nSubject: t\n\nbody\n"
    missing = os.path.join(d, "exim-missing.toml")
    p = subprocess.run([BIN, "exim", "-c", missing], input=msg, capture_output=True, timeout=60)
    check(p.returncode == 75 and p.stdout == b"" and p.stderr == b"",
          f"exim with a missing config defers (exit 75), silently: {p.returncode} {p.stderr!r}")
    p = subprocess.run([BIN, "exim", "-c", missing, "--on-config-error", "pass"], input=msg,
                       capture_output=True, timeout=60)
    out = p.stdout
    check(p.returncode == 0 and p.stderr == b"" and out.endswith(msg)
          and out.startswith(b"Authentication-Results: ") and b"arc=none" in out
          and b"ARC-Seal" not in out,
          f"exim --on-config-error pass copies the message with our A-R: {p.returncode} "
          f"{out[:120]!r} {p.stderr!r}")


def check_config_user(d, key_a):
    """check-config --user opens every file as that user (as root only)."""
    if os.geteuid() != 0:
        print("skip: check-config --user needs root")
        return
    try:
        import pwd
        pwd.getpwnam("nobody")
    except KeyError:
        print("skip: no user nobody")
        return
    os.chmod(d, 0o711)  # others may traverse it (its keys stay 0600)
    sub = os.path.join(d, "as-user")
    os.mkdir(sub)
    os.chmod(sub, 0o755)
    key = os.path.join(sub, "root.key")
    write(key, open(key_a).read(), 0o600)  # root's, 0600
    cfg = os.path.join(sub, "c.toml")
    write(cfg, f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{key}"\n')
    rc, out, err = run("check-config", "-c", cfg, "--user", "root")
    check(rc == 0, f"check-config as root reads the root-owned key: {err.strip()!r}")
    rc, out, err = run("check-config", "-c", cfg, "--user", "nobody")
    check(rc == 78 and f"seal.key: cannot read {key}: Permission denied (user nobody)" in err
          and "checking the files as user nobody" in err,
          f"check-config --user nobody cannot read it and says why: {err.strip()!r}")
    rc, out, err = run("check-config", "-c", cfg, "--user", "no-such-user-here")
    check(rc == 64 and "no such user" in err, "check-config --user of an unknown user: exit 64")

    # As root without --user: the user /etc/smtpd.conf runs filter-arc as (its `user` option),
    # seen through a private mount namespace with our own smtpd.conf bound over the real one.
    conf = os.path.join(sub, "smtpd.conf")
    write(conf, f'filter "arc" proc-exec "filter-arc -c {cfg}" user nobody\n'
                'listen on 127.0.0.1 filter "arc"\n')
    if not os.path.exists("/etc/smtpd.conf") or not shutil.which("unshare"):
        print("skip: no /etc/smtpd.conf or no unshare to stand in for it")
        return
    p = subprocess.run(["unshare", "--mount", "sh", "-c",
                        'mount --bind "$0" /etc/smtpd.conf && exec "$@"', conf,
                        BIN, "check-config", "-c", cfg], capture_output=True, text=True,
                       timeout=60)
    if "mount" in p.stderr and p.returncode not in (0, 78):
        print(f"skip: cannot bind-mount over /etc/smtpd.conf here: {p.stderr.strip()}")
        return
    check(p.returncode == 78 and "/etc/smtpd.conf runs filter-arc as user nobody" in p.stderr
          and "Permission denied (user nobody)" in p.stderr,
          f"check-config as root checks as smtpd.conf's filter user: {p.stderr.strip()!r}")


def main():
    with tempfile.TemporaryDirectory() as d:
        key_a = keygen(d, "a.example", "s1")
        key_b = keygen(d, "b.example", "s2")
        check(oct(os.stat(key_a).st_mode & 0o777) == "0o600", "keygen writes the key 0600")
        config_errors(d, key_a)
        print_round_trip(d, key_a, key_b)
        shipped_seal_example(d, key_a, key_b)
        startup_safety(d, key_a)
        exim_startup_safety(d)
        check_config_user(d, key_a)

        # A group-readable key is refused unless allowed.
        loose = os.path.join(d, "loose.key")
        write(loose, open(key_a).read(), 0o640)
        cfg = os.path.join(d, "loose.toml")
        write(cfg, f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{loose}"\n')
        rc, _, err = run("check-config", "-c", cfg)
        check(rc == 78 and "readable by group or others" in err, "group-readable key refused")
        write(cfg, f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{loose}"\n'
                   'allow-readable-keys = true\n')
        rc, out, err = run("check-config", "-c", cfg)
        check(rc == 0, "allow-readable-keys = true accepts it")

        # check-config prints the effective configuration, keys included.
        good = os.path.join(d, "good.toml")
        write(good, f'authserv-id = "mx.a.example"\n[seal]\ndomain = "a.example"\n'
                    f'selector = "s1"\nkey = "{key_a}"\n'
                    f'[[seal.keys]]\ndomain = "b.example"\nselector = "s2"\nkey = "{key_b}"\n')
        rc, out, err = run("check-config", "-c", good)
        check(rc == 0 and 'domain = "a.example"' in out and 'domain = "b.example"' in out
              and 'algorithm = "ed25519-sha256"' in out, "check-config lists both keys")
        check(rc == 0 and 'authserv-id = "mx.a.example"' in out,
              "check-config shows the authserv-id")
        check(rc == 0 and "[authentication]\nspf = true\ndkim = true\ndmarc = true\n"
              'temperror = "defer"' in out, "check-config shows the [authentication] defaults")
        check(rc == 0 and "\nmax-key-records = 3\nmax-key-operations = 256\n" in out
              and "\ncache-bytes = 8388608\n" in out,
              "check-config shows the issue-15 CPU and cache bounds")
        auth = os.path.join(d, "auth.toml")
        write(auth, '[authentication]\nspf = false\ntemperror = "record"\n')
        rc, out, err = run("check-config", "-c", auth)
        check(rc == 0 and "spf = false" in out and 'temperror = "record"' in out,
              "check-config reads [authentication]")

        # The filter over pipes: seal with a.example, then SIGHUP.
        write(good, f'authserv-id = "mx.a.example"\n[seal]\ndomain = "a.example"\n'
                    f'selector = "s1"\nkey = "{key_a}"\n')
        errlog = open(os.path.join(d, "stderr.log"), "w+")
        p = subprocess.Popen([BIN, "-c", good], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=errlog)
        try:
            def send(line):
                p.stdin.write((line + "\n").encode())
                p.stdin.flush()

            def read_until(pred, timeout=10):
                buf = b""
                end = time.time() + timeout
                while time.time() < end:
                    r, _, _ = select.select([p.stdout], [], [], 0.2)
                    if r:
                        chunk = os.read(p.stdout.fileno(), 65536)
                        if not chunk:
                            break
                        buf += chunk
                        if pred(buf):
                            break
                return buf.decode()

            for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
                send(line)
            out = read_until(lambda b: b"register|ready\n" in b)
            check("register|ready" in out, "handshake over pipes")

            def message(session):
                for l in ["Received: from x by y", "From: a@a.example", "Subject: t", "", "body"]:
                    send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{l}")
                send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|.")
                return read_until(lambda b: f"{session}|e43f4b5e888d8c53|.\n".encode() in b)

            out = message("0000000000000001")
            check("d=a.example; s=s1;" in out, "first message sealed by a.example")

            write(good, "[seal\nbroken")
            p.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            out = message("0000000000000002")
            check("d=a.example; s=s1;" in out,
                  "after a broken reload the old configuration still seals")
            errlog.seek(0)
            log = errlog.read()
            check("event=reload status=failed" in log and "good.toml" in log,
                  "the failed reload is logged with the file")

            write(good, f'authserv-id = "mx.b.example"\n[seal]\ndomain = "b.example"\n'
                        f'selector = "s2"\nkey = "{key_b}"\n')
            p.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            out = message("0000000000000003")
            check("d=b.example; s=s2;" in out and "mx.b.example" in out,
                  "after a good reload new messages use the new key and authserv-id")
            # A reload that changes [dns] replaces the resolver (filter/shell/resolver_set.hpp);
            # messages go on through the new one.
            write(good, f'authserv-id = "mx.b.example"\n[dns]\ntimeout-ms = 1500\n'
                        f'[seal]\ndomain = "b.example"\nselector = "s2"\nkey = "{key_b}"\n')
            p.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            out = message("0000000000000004")
            check("d=b.example; s=s2;" in out, "after a reload that changes [dns] messages seal")
            check(p.poll() is None, "the filter is still running")
            p.stdin.close()
            p.wait(timeout=10)
            check(p.returncode == 0, "EOF on stdin ends the filter with status 0")
            errlog.seek(0)
            log = errlog.read()
            check(log.count("event=reload status=ok") == 2, "both good reloads are logged")
            check("event=stop reason=eof" in log, "the stop reason is logged")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
