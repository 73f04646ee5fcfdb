# SPDX-License-Identifier: ISC
"""Helpers for the reliability scripts: filter-arc as a process (the OpenSMTPD protocol over
pipes, with a reader thread so a test can also stop reading), the loopback DNS responder of
tests/tools, keys and configuration files, and the ARC suite's messages."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402,F401  (re-exported: fp.Checks)

TOK = "e43f4b5e888d8c53"
COMMIT = "e43f4b628180a9ae"
HANDSHAKE = ["config|smtpd-version|6.8.0p2", "config|smtp-session-timeout|300",
             "config|subsystem|smtp-in", "config|admd|mx.example.test", "config|ready"]
OUTPUT_LINE = re.compile(r"^(register\|.*|filter-result\|[0-9a-f]{16}\|[0-9a-f]{16}\|"
                         r"(proceed|reject\|[45][0-9][0-9] [^|\r]*)|"
                         r"filter-dataline\|[0-9a-f]{16}\|[0-9a-f]{16}\|.*)$")


def session_id(n):
    return f"{0x63df94b5 + n:016x}"


def proc_number(pid, name, key):
    """The number after `key:` in /proc/PID/NAME (status: VmRSS, VmHWM in kB; io: syscw, ...);
    0 when the process or the line is gone."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    return proc_number(pid, "status", "VmRSS")


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def keygen(binary, d, domain, selector, kind="ed25519"):
    path = os.path.join(d, f"{selector}.{domain}.key")
    p = subprocess.run([binary, "keygen", "--domain", domain, "--selector", selector, "--type",
                        kind, "--out", path], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    # Printed as a zone line: <name>. IN TXT ( "part" "part" ... ); the record is the parts joined.
    rec = "".join(re.findall(r'"([^"]*)"', p.stdout))
    return path, rec


def zone_text(records):
    """records: {owner: txt}. Long values split into 255-byte strings."""
    out = []
    for owner, txt in records.items():
        parts = " ".join('"' + txt[i:i + 250].replace('"', '\\"') + '"'
                         for i in range(0, len(txt), 250))
        out.append(f"{owner}. 300 IN TXT ( {parts} )")
    return "\n".join(out) + "\n"


class Dns:
    """tests/tools/dns_responder.py on a loopback port."""

    def __init__(self, root, zone_file, faults=()):
        cmd = [sys.executable, os.path.join(root, "tests", "tools", "dns_responder.py"),
               "--zone", zone_file, "--port", "0", "--watch-stdin"]
        for f in faults:
            cmd += ["--fault", f]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.p.stdout.readline().strip())

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def config_text(key_file, dns_port, domain="seal.reliability.test", selector="s1", extra=""):
    return (f'authserv-id = "mx.reliability.test"\n'
            f'[seal]\ndomain = "{domain}"\nselector = "{selector}"\nkey = "{key_file}"\n'
            f'[dns]\nservers = ["127.0.0.1:{dns_port}"]\ntimeout-ms = 1000\ntries = 1\n'
            f'message-deadline-ms = 3000\n' + extra)


@contextlib.contextmanager
def sealing_filter(binary, root, prefix, env=None, extra=""):
    """A filter-arc process sealing for seal.reliability.test (an Ed25519 key, its record served
    by a loopback DNS responder), in a private directory under /var/tmp, `extra` added to its
    configuration; yields (filter, dir).
    The process and the responder are stopped by PID and the directory removed afterwards."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    dns = None
    f = None
    try:
        key, rec = keygen(binary, d, "seal.reliability.test", "s1")
        zone = os.path.join(d, "zone")
        with open(zone, "w") as z:
            z.write(zone_text({"s1._domainkey.seal.reliability.test": rec}))
        dns = Dns(root, zone)
        cfg = os.path.join(d, "filter.toml")
        write(cfg, config_text(key, dns.port, extra=extra))
        f = Filter([binary, "-c", cfg], os.path.join(d, "stderr"), env=env)
        yield f, d
    finally:
        if f:
            f.kill()
        if dns:
            dns.stop()
        shutil.rmtree(d, ignore_errors=True)


class Filter:
    """One filter-arc process in OpenSMTPD mode. Output is collected by a thread unless
    reading is paused; stderr goes to a file."""

    def __init__(self, cmd, stderr_path, env=None, read=True):
        self.errf = open(stderr_path, "w+")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.errf, env=env)
        self.buf = bytearray()
        self.lock = threading.Condition()
        self.reading = threading.Event()
        if read:
            self.reading.set()
        self.eof = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        fd = self.p.stdout.fileno()
        while True:
            self.reading.wait()
            chunk = os.read(fd, 1 << 20)
            with self.lock:
                if not chunk:
                    self.eof = True
                    self.lock.notify_all()
                    return
                self.buf += chunk
                self.lock.notify_all()

    def pause_reading(self):
        self.reading.clear()

    def resume_reading(self):
        self.reading.set()

    def send(self, lines):
        data = "".join(l + "\n" for l in lines).encode("utf-8", "surrogateescape")
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass

    def wait_for(self, pred, timeout=30):
        end = time.time() + timeout
        with self.lock:
            while not pred(self.buf):
                left = end - time.time()
                if left <= 0 or self.eof:
                    return pred(self.buf)
                self.lock.wait(left)
            return True

    def output(self):
        with self.lock:
            return bytes(self.buf)

    def stderr(self):
        self.errf.flush()
        with open(self.errf.name, errors="replace") as f:
            return f.read()

    def finish(self, timeout=30):
        self.close_stdin()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.resume_reading()
        self.t.join(timeout=10)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.resume_reading()


def session_lines(session, message_lines, version="0.6", ip="192.0.2.7", msgid="35163a36"):
    """Protocol lines of one whole transaction (connect .. end of data), dot-stuffed."""
    r = f"report|{version}|1795918548.1|smtp-in|"
    out = [r + f"link-connect|{session}|client.example|pass|{ip}:59658|127.0.0.1:25",
           r + f"tx-begin|{session}|{msgid}",
           r + f"tx-mail|{session}|{msgid}|ok|<a@example.org>",
           r + f"tx-rcpt|{session}|{msgid}|ok|<b@example.test>"]
    out += data_lines(session, message_lines, version)
    return out


def data_lines(session, message_lines, version="0.6"):
    f = f"filter|{version}|1795918548.5|smtp-in|data-line|{session}|{TOK}|"
    return [f + ("." + l if l.startswith(".") else l) for l in message_lines] + [f + "."]


def commit_line(session, version="0.6"):
    return f"filter|{version}|1795918548.6|smtp-in|commit|{session}|{COMMIT}|"


def disconnect_line(session, version="0.6"):
    return f"report|{version}|1795918548.7|smtp-in|link-disconnect|{session}"


def parse_output(data):
    """(per-session {'data': [...], 'results': [...]}, list of malformed lines)."""
    per, bad = {}, []
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        bad.append("unterminated: " + lines[-1][:80])
        lines.pop()
    for l in lines:
        if not OUTPUT_LINE.match(l):
            bad.append(l[:200])
            continue
        if l.startswith("register|"):
            continue
        kind, s, _tok, rest = l.split("|", 3)
        e = per.setdefault(s, {"data": [], "results": []})
        (e["data"] if kind == "filter-dataline" else e["results"]).append(rest)
    return per, bad


ADDED = re.compile(r"^(ARC-Seal|ARC-Message-Signature|ARC-Authentication-Results|"
                   r"Authentication-Results):")


def split_added(datalines, message_lines):
    """(added lines, ok): ok when datalines == added + stuffed(message_lines) + ['.'] and the
    added lines are only our header fields."""
    stuffed = [("." + l if l.startswith(".") else l) for l in message_lines] + ["."]
    n = len(datalines) - len(stuffed)
    if n < 0 or datalines[n:] != stuffed:
        return datalines, False
    added = datalines[:n]
    for i, l in enumerate(added):
        if not (ADDED.match(l) or (i > 0 and l[:1] in (" ", "\t"))):
            return added, False
    return added, True


def suite_messages(suite_dir):
    """[(id, message text with LF)] from the ARC suite, and its TXT records {owner: txt}."""
    import yaml
    msgs, keys = [], {}
    for fname in ("arc-draft-validation-tests.yml", "arc-draft-sign-tests.yml"):
        path = os.path.join(suite_dir, "tests", fname)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc:
                    continue
                for owner, txt in (doc.get("txt-records") or {}).items():
                    keys[owner] = "".join(str(txt).split("\n"))
                for cid, case in (doc.get("tests") or {}).items():
                    if isinstance(case.get("message"), str):
                        msgs.append((cid, case["message"]))
    return msgs, keys
