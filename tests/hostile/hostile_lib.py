# SPDX-License-Identifier: ISC
"""The hostile-input tier (issue 15): one attack through a real OpenSMTPD 6.8 running the
build's filter-arc, while a second client sends an ordinary message, and checks of properties
that hold whatever the fix looks like:

  * the ordinary message is delivered within ORDINARY_DEADLINE_S, sealed, and verifies
    (`filter-arc verify` against the test zone, and dkimpy);
  * smtpd and the same filter process (PID and start time) are still running afterwards;
  * every header line we added (the lines above smtpd's own `Received:`) is at most 998 octets
    (RFC 5322 §2.1.1), and a delivered message we sealed over a chain that was valid verifies;
  * no Authentication-Results bearing our authserv-id from the client survives;
  * the filter's peak RSS (/proc/PID/status VmHWM) and CPU time (/proc/PID/stat utime+stime)
    stay inside the budget each test states at its top;
  * the attack itself gets 250 or a 4xx (or a 5xx where the test allows it), never a hang.

It reuses the existing harnesses (imported, not copied): tests/e2e/smtpd_harness.py (smtpd,
Maildir, process tracking), tests/e2e/test_filter_arc.py (RSA keys, zone lines, tag parsing),
tests/reliability/filterproc.py (the loopback DNS responder of tests/tools) and
tests/interop/peer_verify.py (dkimpy). Every wait has a deadline; processes are stopped by
the PID this code (or the harness) started.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for sub in ("e2e", "reliability", "interop"):
    sys.path.insert(0, os.path.join(ROOT, "tests", sub))

import smtpd_harness as H  # noqa: E402
import test_filter_arc as T  # noqa: E402  (make_key, zone_line, tags)
import filterproc  # noqa: E402  (Dns: tests/tools/dns_responder.py on loopback)

SKIP = 77
PY = "/usr/bin/python3"
AUTHSERV_ID = "mx.hostile.test"
SEAL_DOMAIN, SEAL_SELECTOR = "seal.hostile.test", "h1"
SENDER, RCPT = "sender@example.org", "victim@example.test"
ORDINARY_SENDER = "friend@example.org"

# The ordinary message of another session must be in the Maildir this long after it was sent,
# whatever the attack does (the issue: "delivered within a few seconds").
ORDINARY_DEADLINE_S = 10.0
# Every rig, whatever the attack: the filter's peak RSS at the end (VmHWM). Its footprint is
# ~10 MiB; the spool budget, the output pacing and one message's DNS answers add a few MiB.
# Tests with a tighter budget of their own check that as well. Not checked under ASan.
GENERAL_RSS_MIB = 64
# RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF.
MAX_LINE = 998


# ---- small helpers ----------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, flush=True)


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(start time in ticks, utime+stime in seconds) of pid, None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(rest[19]), (int(rest[11]) + int(rest[12])) / ticks


def vm_kib(pid: int, field: str = "VmHWM") -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


@functools.lru_cache(maxsize=None)
def sanitized(exe: str) -> bool:
    """True for an ASan build (RLIMIT_AS and RSS budgets mean nothing there). Decided from the
    binary only: meson test (1.3 and later, Debian 13) sets ASAN_OPTIONS for every test."""
    try:
        r = subprocess.run(["/usr/bin/ldd", exe], capture_output=True, timeout=10)
        if b"libasan" in r.stdout:
            return True
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except (OSError, subprocess.SubprocessError):
        return False


def message(subject: str, body: bytes = b"Hello.\n", extra: bytes = b"",
            from_hdr: bytes = b"Sender <sender@example.org>") -> bytes:
    """An LF message with a unique Message-ID; extra header lines go on top."""
    token = f"{subject.replace(' ', '-')}.{time.time_ns()}"
    return (extra + b"From: " + from_hdr + b"\n"
            b"To: Victim <" + RCPT.encode() + b">\n"
            b"Subject: " + subject.encode() + b"\n"
            b"Date: Sun, 06 Dec 2026 22:00:00 +0000\n" +
            f"Message-ID: <{token}@example.org>\n".encode() + b"\n" + body)


def header_lines(msg: bytes) -> list[bytes]:
    head, _ = H.split_message(msg)
    return re.split(rb"\r?\n", head.rstrip(b"\r\n"))


def added_lines(msg: bytes) -> list[bytes]:
    """Header lines above smtpd's own Received: (ours; smtpd's Return-Path/Delivered-To too)."""
    out = []
    for line in header_lines(msg):
        if line.lower().startswith(b"received:"):
            break
        out.append(line)
    return out


def fields(msg: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, unfolded value) of every header field."""
    out: list[list] = []
    for line in header_lines(msg):
        if line[:1] in (b" ", b"\t") and out:
            out[-1][1] += b" " + line.strip()
            continue
        k, sep, v = line.partition(b":")
        if sep:
            out.append([k.strip().decode(errors="replace").lower(), v.strip()])
    return [(k, v) for k, v in out]


def our_results(msg: bytes) -> list[bytes]:
    return [v for k, v in fields(msg) if k == "authentication-results"
            and v.split(b";", 1)[0].strip().lower() == AUTHSERV_ID.encode()]


def rsa_record_with_exponent(modulus: int, exponent: int) -> str:
    """A DKIM key record (RFC 6376 §3.6.1) whose RSA public key has the given exponent: a DER
    SubjectPublicKeyInfo built by hand (openssl will not write a key with a huge e)."""
    def der_len(n: int) -> bytes:
        if n < 0x80:
            return bytes([n])
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(b)]) + b

    def der_int(v: int) -> bytes:
        b = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return b"\x02" + der_len(len(b)) + b

    def seq(x: bytes) -> bytes:
        return b"\x30" + der_len(len(x)) + x

    rsa_key = seq(der_int(modulus) + der_int(exponent))
    alg = seq(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00")  # rsaEncryption, NULL
    spki = seq(alg + b"\x03" + der_len(len(rsa_key) + 1) + b"\x00" + rsa_key)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(spki).decode()


def toml_value(v) -> str:
    return T._toml_value(v)


# ---- the rig: keys, zone, DNS, smtpd with filter-arc -----------------------------------------

class Rig:
    """One smtpd + filter-arc with a fresh seal key and zone; use as a context manager.

    records: extra TXT records {owner: text or [texts]} (several texts = several records).
    config: {section: {key: value}} merged into the generated TOML ("" = top level).
    wrapper: a list of words put before the filter command (e.g. prlimit), run as opensmtpd.
    """

    def __init__(self, exe: str, name: str, records: dict | None = None,
                 config: dict | None = None, wrapper: list[str] | None = None,
                 seal_keys: list[dict] | None = None, extra_keys: dict | None = None,
                 dns_faults: list[str] | None = None, smtpd_opts: dict | None = None):
        self.exe = exe
        self.name = name
        self.records = dict(records or {})
        self.config = config or {}
        self.wrapper = wrapper or []
        self.seal_keys = seal_keys or []
        self.extra_keys = extra_keys or {}  # name -> (domain, selector): more RSA keys in zone
        self.dns_faults = dns_faults or []
        # more H.Smtpd arguments; a callable gets the rig and returns them (e.g. a chain
        # whose other filter must be staged into the work dir first)
        self.smtpd_opts = smtpd_opts or {}
        self.work = H.make_workdir(f"filter-arc-hostile-{name}.")
        self.mx: H.Smtpd | None = None
        self.dns = None
        self.filter_pid = 0
        self.filter_start = 0
        self.failed = False
        self.key_paths: dict[str, str] = {}

    # -- set-up
    def _key(self, name: str) -> str:
        path = os.path.join(self.work, "keys", f"{name}.key")
        rec = T.make_key(path)
        pw = H.pwd.getpwnam(H.SMTPD_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o600)
        self.key_paths[name] = path
        return rec

    def _zone(self, path: str, records: dict) -> None:
        with open(path, "w") as f:
            f.write("; hostile tier zone (generated)\n$TTL 300\n")
            for owner, texts in records.items():
                for text in ([texts] if isinstance(texts, str) else texts):
                    f.write(T.zone_line(owner, text) + "\n")
        os.chmod(path, 0o644)

    def config_text(self) -> str:
        sections: dict[str, dict] = {
            "": {"authserv-id": AUTHSERV_ID},
            "authentication": {"spf": True, "dkim": True, "dmarc": True,
                               "temperror": "record"},
            "seal": {"domain": SEAL_DOMAIN, "selector": SEAL_SELECTOR,
                     "key": self.key_paths["seal"]},
            "dns": {"servers": [f"127.0.0.1:{self.dns.port}"], "timeout-ms": 1000, "tries": 1,
                    "message-deadline-ms": 5000},
        }
        for sec, kv in self.config.items():
            sections.setdefault(sec, {}).update(kv)
        out = ["# filter-arc hostile tier configuration (generated)"]
        out += [f"{k} = {toml_value(v)}" for k, v in sections.pop("").items()]
        for sec, kv in sections.items():
            if kv is None:
                continue
            out += ["", f"[{sec}]"] + [f"{k} = {toml_value(v)}" for k, v in kv.items()]
        for entry in self.seal_keys:
            out += ["", "[[seal.keys]]"] + [f"{k} = {toml_value(v)}" for k, v in entry.items()]
        return "\n".join(out) + "\n"

    def __enter__(self) -> "Rig":
        try:
            os.makedirs(os.path.join(self.work, "keys"))
            os.chmod(os.path.join(self.work, "keys"), 0o755)
            self.small_records = {f"{SEAL_SELECTOR}._domainkey.{SEAL_DOMAIN}": self._key("seal")}
            for name, (domain, selector) in self.extra_keys.items():
                self.small_records[f"{selector}._domainkey.{domain}"] = self._key(name)
            self.zone = os.path.join(self.work, "zone")
            self.prepare()
            self._zone(self.zone, {**self.small_records, **self.records})
            # a small zone with our keys only, for the verifiers
            self.verify_zone = os.path.join(self.work, "verify.zone")
            self._zone(self.verify_zone, self.small_records)
            self.dns = filterproc.Dns(ROOT, self.zone, self.dns_faults)
            self.cfg = os.path.join(self.work, "filter.toml")
            H.write_private(self.cfg, self.config_text(), 0o644)
            exe = H.stage(self.exe, self.work)
            self.staged_exe = exe
            cmd = " ".join(self.wrapper + [exe, "-c", self.cfg])
            opts = self.smtpd_opts(self) if callable(self.smtpd_opts) else self.smtpd_opts
            self.mx = H.Smtpd(cmd, workdir=os.path.join(self.work, "smtpd"),
                              hostname="mx.example.test", keep=False, **opts)
            self._failures_at_start = _failures
            self.mx.__enter__()
            self.filter_pid = self._find_filter()
            st = proc_stat(self.filter_pid)
            self.filter_start = st[0] if st else 0
            return self
        except BaseException:
            self.failed = True
            self.__exit__(*sys.exc_info())
            raise

    def prepare(self) -> None:
        """Hook for tests: runs after the keys exist, before the zone is written and the DNS
        responder and smtpd start (may add to self.records)."""

    def _find_filter(self) -> int:
        want = os.path.realpath(self.staged_exe)
        deadline = time.monotonic() + 10
        while True:
            found = []
            for pid in self.mx.descendants():
                try:
                    if os.path.realpath(os.readlink(f"/proc/{pid}/exe")) == want:
                        found.append(pid)
                except OSError:
                    pass
            if len(found) == 1:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"expected one filter-arc below smtpd, found {found}")
            time.sleep(0.1)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None or _failures > getattr(self, "_failures_at_start", _failures):
            self.failed = True  # keep the work dir (smtpd.log has the filter's lines)
        try:
            if self.mx is not None:
                if self.failed:
                    self.mx.keep = True
                self.mx.__exit__(exc_type, exc, tb)
        finally:
            if self.dns is not None:
                self.dns.stop()
            if not self.failed and not os.environ.get("FILTER_ARC_E2E_KEEP"):
                import shutil
                shutil.rmtree(self.work, ignore_errors=True)
            else:
                log(f"kept {self.work}")
        return False

    # -- process checks
    def filter_alive(self) -> bool:
        st = proc_stat(self.filter_pid)
        if st is None or st[0] != self.filter_start:
            return False
        try:
            with open(f"/proc/{self.filter_pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            return state != b"Z"
        except OSError:
            return False

    def cpu_s(self) -> float:
        st = proc_stat(self.filter_pid)
        return st[1] if st else -1.0

    def hwm_mib(self) -> float:
        return vm_kib(self.filter_pid, "VmHWM") / 1024.0

    def filter_log(self) -> str:
        return self.mx.log()

    # -- sending
    def send(self, data: bytes, mail_from: str = SENDER, timeout: float = 60.0,
             raw: bool = False) -> H.Reply:
        return self.mx.send(mail_from, RCPT, data, timeout=timeout, raw=raw)

    def ordinary(self, subject: str = "ordinary") -> tuple[H.Reply, bytes | None, float]:
        """Sends an ordinary message; (reply, the delivered copy or None, seconds to delivery)."""
        t0 = time.monotonic()
        r = self.mx.send(ORDINARY_SENDER, RCPT, message(subject, b"An ordinary message.\n",
                                                       from_hdr=b"Friend <friend@example.org>"),
                         timeout=ORDINARY_DEADLINE_S + 5)
        if r.code != 250 or not r.queue_id:
            return r, None, time.monotonic() - t0
        left = max(0.5, ORDINARY_DEADLINE_S + 5 - (time.monotonic() - t0))
        got = self.mx.delivered_by_id(timeout=left).get(r.queue_id)
        return r, (got[0] if got else None), time.monotonic() - t0

    def wait_delivered(self, reply: H.Reply, timeout: float = 20.0) -> bytes | None:
        if reply.code != 250 or not reply.queue_id:
            return None
        got = self.mx.delivered_by_id(timeout=timeout).get(reply.queue_id)
        return got[0] if got else None

    # -- verification
    def arc_verdict(self, msg: bytes) -> tuple[str, str]:
        """(filter-arc verify's arc= value, dkimpy's verdict) for a delivered message."""
        path = os.path.join(self.work, f"verify.{time.time_ns()}.eml")
        with open(path, "wb") as f:
            f.write(msg)
        try:
            r = subprocess.run([self.exe, "verify", "--dns-zone", self.verify_zone, "--json",
                                path], capture_output=True, timeout=60)
            ours = json.loads(r.stdout.decode() or "{}").get("arc", f"error rc={r.returncode}")
        except (subprocess.SubprocessError, ValueError) as e:
            ours = f"error {e}"
        import peer_verify
        txt = {k.lower(): v.encode() for k, v in self.small_records.items()}
        theirs = peer_verify.verify(msg, txt).verdict
        return ours, theirs


# ---- checks ---------------------------------------------------------------------------------

_failures = 0  # failed checks so far in this process (a rig keeps its work dir when it saw one)


class Checks:
    def __init__(self, title: str):
        self.title = title
        self.fails: list[str] = []
        self.passes = 0
        log(f"== {title}")

    def __call__(self, cond: bool, what: str) -> bool:
        if cond:
            self.passes += 1
            log(f"ok   {what}")
        else:
            global _failures
            _failures += 1
            self.fails.append(what)
            log(f"FAIL {what}")
        return bool(cond)

    def guard(self, fn, *a, **kw):
        """Runs fn; an exception is a failed check (never an unhandled crash of the test)."""
        try:
            return fn(*a, **kw)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self(False, f"{getattr(fn, '__name__', 'step')} raised {type(e).__name__}: {e}")
            return None

    def summary(self) -> int:
        log(f"{self.title}: {self.passes} passed, {len(self.fails)} failed")
        for f in self.fails:
            log(f"  FAILED: {f}")
        return 1 if self.fails else 0


def attack_reply_ok(reply: H.Reply, allow_5xx: bool = False) -> bool:
    """The invariant for the attack itself: accepted, or deferred with a 4xx (or, where the
    test allows it, refused with a 5xx) — never a lost connection or a timeout."""
    if reply.code == 250:
        return True
    if 400 <= reply.code < 500:
        return True
    return allow_5xx and 500 <= reply.code < 600


def check_lines(ck: Checks, msg: bytes, label: str) -> None:
    long = [len(line) for line in added_lines(msg) if len(line) > MAX_LINE]
    ck(not long, f"{label}: every header line we added is <= {MAX_LINE} octets"
       + (f" (found {long[:5]})" if long else ""))


def check_no_forged(ck: Checks, msg: bytes, label: str, forged_marker: bytes) -> None:
    """No A-R with our authserv-id carries the attacker's marker (in any field, even one a
    parser only finds when it treats a bare CR as a line break)."""
    text = msg.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    head, _ = H.split_message(text)
    bad = []
    for line in fields(head + b"\n"):
        k, v = line
        if k == "authentication-results" and forged_marker in v:
            bad.append(v[:120])
    ck(not bad, f"{label}: no forged Authentication-Results ({forged_marker.decode()}) survives"
       + (f": {bad}" if bad else ""))


def check_ordinary(ck: Checks, rig: Rig, result, label: str = "ordinary message") -> None:
    reply, msg, took = result
    ck(reply.code == 250 and msg is not None and took <= ORDINARY_DEADLINE_S,
       f"{label} of another session delivered within {ORDINARY_DEADLINE_S:.0f} s "
       f"(reply {reply.code} {reply.message[:80]!r}, {'delivered' if msg else 'not delivered'} "
       f"after {took:.1f} s)")
    if msg is None:
        return
    check_lines(ck, msg, label)
    ck(any(b"arc=none" in v for v in our_results(msg)), f"{label}: our A-R says arc=none")
    ours, theirs = rig.arc_verdict(msg)
    ck(ours == "pass" and theirs == "pass",
       f"{label}: our seal verifies (filter-arc verify: {ours}, dkimpy: {theirs})")


def check_alive(ck: Checks, rig: Rig) -> None:
    ck(rig.mx.alive(), "smtpd still running")
    ck(rig.filter_alive(), f"the same filter process (pid {rig.filter_pid}) still running")
    if rig.filter_alive() and not sanitized(rig.exe):
        peak = rig.hwm_mib()
        ck(0 < peak <= GENERAL_RSS_MIB,
           f"filter peak RSS {peak:.1f} MiB <= {GENERAL_RSS_MIB} MiB (every rig)")


def run_with_ordinary(rig: Rig, attack, delay: float = 0.5, attack_timeout: float = 120.0,
                      after_attack: bool = False):
    """Runs attack() in a thread; delay s later sends the ordinary message from this thread.
    Returns (attack result or exception, ordinary result). Bounded: the attack thread is
    waited for at most attack_timeout s (its SMTP client has its own timeouts).

    after_attack=True is for attacks made of millions of lines: smtpd 6.8 itself hands every
    line to the filter process through its one `lookup` process (measured: 8.6 s of smtpd CPU
    against 0.9 s of filter CPU for 2 M empty lines), so no filter can get another session's
    message through before smtpd has passed those lines on. The ordinary message is still sent
    while the attack runs, but its deadline counts from the attack's end: it must not be stuck
    behind a filter that stopped serving."""
    box: dict = {}

    def worker():
        try:
            box["r"] = attack()
        except BaseException as e:  # noqa: BLE001
            traceback.print_exc()
            box["r"] = e
        box["end"] = time.monotonic()

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    time.sleep(delay)
    if not after_attack:
        ordinary = rig.ordinary()
        t.join(attack_timeout)
    else:
        t0 = time.monotonic()
        r = rig.mx.send(ORDINARY_SENDER, RCPT, message("ordinary", b"An ordinary message.\n",
                                                        from_hdr=b"Friend <friend@example.org>"),
                        timeout=attack_timeout)
        t.join(max(1.0, attack_timeout - (time.monotonic() - t0)))
        start = max(t0, box.get("end", t0))
        got = None
        if r.code == 250 and r.queue_id:
            left = max(0.5, start + ORDINARY_DEADLINE_S + 5 - time.monotonic())
            got = (rig.mx.delivered_by_id(timeout=left).get(r.queue_id) or [None])[0]
        ordinary = (r, got, time.monotonic() - start)
    if t.is_alive():
        box["r"] = TimeoutError(f"attack still running after {attack_timeout:.0f} s")
    return box.get("r"), ordinary


def main_wrapper(run) -> None:
    """Common entry: argv[1] = filter-arc binary; SKIP (77) without smtpd or root."""
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} BUILD/filter/filter-arc", file=sys.stderr)
        sys.exit(2)
    exe = os.path.abspath(sys.argv[1])
    reason = H.skip_reason()
    if reason:
        log(f"SKIP: {reason}")
        sys.exit(SKIP)
    if not T.filter_mode_available(exe):
        log("SKIP: filter mode not available")
        sys.exit(SKIP)
    import importlib.util
    if importlib.util.find_spec("dkim") is None:
        log("SKIP: python3-dkim (dkimpy) not installed")
        sys.exit(SKIP)
    sys.exit(run(exe))
