#!/usr/bin/python3
"""Issue 15 class 3 and 8, through the filter-arc process:
- a key path that is a FIFO, /dev/zero as the trusted-sealers file, a huge configuration file:
  check-config exits non-zero quickly with a message naming the path; a SIGHUP with such a file
  keeps the running configuration and the filter goes on answering;
- a stderr nobody reads: the filter keeps answering smtpd while its log lines are dropped
  and counted (never blocks in write(2)), and no log line is longer than 4096 bytes.

Usage: test_hostile_files.py /path/to/filter-arc
"""
import fcntl
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()


def run(*args, timeout=10):
    """Runs filter-arc; a hang is reported as rc None (the process is killed)."""
    start = time.time()
    try:
        p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.time() - start
    except subprocess.TimeoutExpired:
        return None, "", "(timed out)", time.time() - start


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def keygen(d, domain, selector):
    path = os.path.join(d, f"{selector}.{domain}.key")
    rc, _, err, _ = run("keygen", "--domain", domain, "--selector", selector, "--type",
                        "ed25519", "--out", path)
    assert rc == 0, err
    return path


def check_config_cases(d, key):
    fifo = os.path.join(d, "key.fifo")
    os.mkfifo(fifo, 0o600)
    big = os.path.join(d, "big.toml")
    write(big, "# padding\n" * 200000)  # 2 MB of comments
    cases = [
        ("a FIFO as the key file",
         f'[seal]\ndomain = "a.example"\nselector = "s1"\nkey = "{fifo}"\n', fifo, "FIFO"),
        ("/dev/zero as the trusted-sealers file",
         'trusted-sealers-file = "/dev/zero"\n', "/dev/zero", "character device"),
        ("a directory as the trusted-sealers file",
         f'trusted-sealers-file = "{d}"\n', d, "directory"),
    ]
    for name, text, path, what in cases:
        cfg = os.path.join(d, "hostile.toml")
        write(cfg, text)
        rc, _, err, took = run("check-config", "-c", cfg)
        check(rc is not None and rc != 0 and took < 5 and path in err and what in err,
              f"check-config refuses {name} quickly ({took:.1f}s): {err.strip()!r}")
    rc, _, err, took = run("check-config", "-c", big)
    check(rc is not None and rc != 0 and took < 5 and big in err and "limit" in err,
          f"check-config refuses a 2 MB configuration file: {err.strip()!r}")
    rc, _, err, took = run("seal", "--domain", "a.example", "--selector", "s", "--key", fifo,
                           "/dev/null")
    check(rc is not None and rc != 0 and took < 5 and fifo in err and "FIFO" in err,
          f"seal refuses a FIFO as the key file: {err.strip()!r}")
    rc, _, err, took = run("check-config", "-c", fifo)
    check(rc is not None and rc != 0 and took < 5 and fifo in err and "FIFO" in err,
          f"check-config refuses a FIFO as the configuration file: {err.strip()!r}")
    return fifo


class Filter:
    def __init__(self, args, stderr):
        self.p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=stderr)

    def send(self, line, timeout=10):
        """Writes one line; a filter that stopped reading raises TimeoutError (never hangs)."""
        data = (line + "\n").encode()
        fd = self.p.stdin.fileno()
        end = time.time() + timeout
        while data:
            _, w, _ = select.select([], [fd], [], max(0, end - time.time()))
            if not w:
                raise TimeoutError("the filter stopped reading its input")
            n = os.write(fd, data[:4096])
            data = data[n:]

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
        return buf.decode(errors="replace")

    def handshake(self):
        for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
            self.send(line)
        return "register|ready" in self.read_until(lambda b: b"register|ready\n" in b)

    def message(self, session):
        for l in ["Received: from x by y", "From: a@a.example", "Subject: t", "", "body"]:
            self.send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{l}")
        self.send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|.")
        return self.read_until(lambda b: f"{session}|e43f4b5e888d8c53|.\n".encode() in b)

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def reload_cases(d, key, fifo):
    good = os.path.join(d, "good.toml")
    base = f'authserv-id = "mx.a.example"\n[seal]\ndomain = "a.example"\nselector = "s1"\n'
    write(good, base + f'key = "{key}"\n')
    errlog = open(os.path.join(d, "reload.log"), "w+")
    f = Filter(["-c", good], errlog)
    try:
        check(f.handshake(), "handshake")
        check("d=a.example; s=s1;" in f.message("0000000000000001"), "sealed before the reload")
        for n, (name, text) in enumerate([
                ("a FIFO key path", base + f'key = "{fifo}"\n'),
                ("/dev/zero sealers file",
                 'trusted-sealers-file = "/dev/zero"\n' + base + f'key = "{key}"\n')]):
            write(good, text)
            f.p.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            out = f.message(f"00000000000000{n + 2:02d}")
            check("d=a.example; s=s1;" in out,
                  f"SIGHUP with {name}: the filter still answers with the old configuration")
            check(f.p.poll() is None, f"SIGHUP with {name}: the filter is still running")
        errlog.seek(0)
        log = errlog.read()
        check(log.count("event=reload status=failed") == 2 and fifo in log and "/dev/zero" in log,
              "both failed reloads are logged with the path")
    finally:
        f.stop()


def unread_stderr(d):
    """stderr is a pipe nobody reads: smtpd stops reading after a line over 64 KiB."""
    r, w = os.pipe()
    f = Filter([], w)
    os.close(w)
    try:
        check(f.handshake(), "handshake with an unread stderr")
        # Each unparseable line is logged (about 200 bytes): far more than the pipe and the
        # log buffer hold.
        junk = "x" * 150
        start = time.time()
        try:
            for i in range(4000):
                f.send(f"garbage-{i}-{junk}")
            out = f.message("00000000000000aa")
        except TimeoutError as e:
            out = str(e)
        took = time.time() - start
        check("00000000000000aa|e43f4b5e888d8c53|." in out and took < 10,
              f"the filter answers while nobody reads its stderr ({took:.1f}s)")
        check(f.p.poll() is None, "the filter is still running")
        # The reader comes back: lines are whole, bounded, and the drops are counted.
        fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
        got = b""
        end = time.time() + 5
        while time.time() < end:
            try:
                chunk = os.read(r, 1 << 20)
                if not chunk:
                    break
                got += chunk
            except BlockingIOError:
                if b"log_dropped=" in got:
                    break
                f.send("garbage-after")
                time.sleep(0.1)
        lines = got.split(b"\n")
        check(max(len(x) for x in lines) <= 4096,
              f"no log line over 4096 bytes (longest {max(len(x) for x in lines)})")
        check(b"event=log-dropped log_dropped=" in got, "the dropped lines are counted in the log")
    finally:
        f.stop()
        os.close(r)


def main():
    with tempfile.TemporaryDirectory() as d:
        key = keygen(d, "a.example", "s1")
        fifo = check_config_cases(d, key)
        reload_cases(d, key, fifo)
        unread_stderr(d)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
