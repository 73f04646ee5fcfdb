#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""End-to-end tests of the trust boundary and the configuration of `filter-arc -c CONFIG`
through a real OpenSMTPD 6.8 (issue 6).

  /usr/bin/python3 tests/e2e/test_trust_boundary.py BUILD/filter/filter-arc     (as root)
  FILTER_ARC_E2E_COMMAND=filter-arc ... test_trust_boundary.py /usr/bin/filter-arc  (installed
      package: smtpd.conf says proc-exec "filter-arc -c ...", as in test_filter_arc.py)

Exit 0: all cases passed; 1: a case failed; 77: skipped (no smtpd, not root, or the binary has
no filter mode: "filter mode not available"), exactly like test_filter_arc.py, whose helpers
(keys, zone lines, case bookkeeping) this file reuses. Stored messages are verified in-process
with dkimpy (tests/interop/peer_verify.py, DNS answers from the run's zone); at the end
Mail::DKIM (peer_verify.pl) checks all of them in one batch and must agree.

The trust boundary: smtpd's own `Received:` is the first data-line it hands the filters. Fields
above it were added inside our MTA (by a filter earlier in the chain), fields below it came from
the client. Authentication-Results bearing our or a trusted authserv-id below it are forged and
removed; those above it with such an id are copied into the ARC-Authentication-Results (AAR).

smtpd runs four times, once per configuration:
  A  chain { "pre", "arc" }: "pre" (ar_prepend_filter.py) adds
     `Authentication-Results: upstream.example.test; spf=pass smtp.mailfrom=...` above the
     boundary; filter-arc trusts upstream.example.test, seals when="trusted" with
     trusted-networks = ["127.0.0.0/8"], domain-from = "header-from", keys for one.example and
     two.example                                              -> cases 1, 1b, 2a, 3, 4a
  B  as A without trusted-authserv-ids                        -> case 2b
  C  no chain, when="trusted" with trusted-networks = ["192.0.2.0/24"]    -> case 4b
  D  no chain, one inline key (old.example); its config is then broken and later replaced, each
     time followed by SIGHUP to the filter process of this smtpd        -> case 5

Cases (each checks the delivered Maildir files):
  1  client-supplied Authentication-Results with our authserv-id (also in mixed case and folded)
     and with the trusted upstream id are gone from the stored message and the AAR, a foreign
     one stays, the log says forged_ar_removed=3, and the stored message verifies
  1b an Authentication-Results with our id hidden behind a bare CR in another field: that field
     is gone (issue 15 class 7), the next one stays, the stored message verifies
  2a the results of the trusted upstream id (added above the boundary) are in the AAR
  2b with that id not trusted they are not (and the client's copy of it is not "forged")
  3  two signing domains seal with their own keys (domain-from = "header-from")
  4a when = "trusted", client 127.0.0.1 in trusted-networks: sealed
  4b when = "trusted", trusted-networks = ["192.0.2.0/24"]: Authentication-Results, no ARC set
  5  SIGHUP with a broken config: `event=reload status=failed`, the same filter process goes on
     sealing with the old key, smtpd stays up; SIGHUP with a valid config for another
     domain/key: the next message is sealed with it
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(ROOT, "tests", "interop"))

import test_filter_arc as T  # noqa: E402  (keys, zone lines, case bookkeeping)

H = T.H
case = T.case
results = T.results

PY = "/usr/bin/python3"
PRE_FILTER = os.path.join(HERE, "ar_prepend_filter.py")
AUTHSERV_ID = T.AUTHSERV_ID                      # "arc-e2e.example.test"
UPSTREAM_ID = "upstream.example.test"            # a filter before ours, same ADMD
SENDER, RCPT = T.SENDER, T.RCPT
# key name -> (signing domain, selector)
KEYS = {
    "one": ("one.example", "s1"),
    "two": ("two.example", "s2"),
    "old": ("old.example", "old2026"),
    "new": ("new.example", "new2026"),
}


# ---- fixture and configuration ----------------------------------------------------------------

class Keys:
    """RSA keys (owned by opensmtpd, 0600) and the zone holding their records, for the peers."""

    def __init__(self, work: str):
        self.work = work
        key_dir = os.path.join(work, "keys")
        os.makedirs(key_dir)
        os.chmod(key_dir, 0o755)
        pw = H.pwd.getpwnam(H.SMTPD_USER)
        self.path: dict[str, str] = {}
        records = {}
        for name, (domain, selector) in KEYS.items():
            p = os.path.join(key_dir, f"{name}.key")
            records[f"{selector}._domainkey.{domain}"] = T.make_key(p)
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o600)
            self.path[name] = p
        self.zone = os.path.join(work, "zone")
        with open(self.zone, "w") as f:
            f.write("; filter-arc e2e trust boundary zone (generated)\n$TTL 300\n")
            for owner, text in sorted(records.items()):
                f.write(T.zone_line(owner, text) + "\n")
        os.chmod(self.zone, 0o644)
        self._txt = None
        # every verified message with dkimpy's verdict, for the Mail::DKIM cross-check
        self.checked: list[tuple[str, bytes, str]] = []

    def dkimpy(self, msgs: list[bytes], label: str) -> list[str]:
        """dkimpy's ARC verdict (pass, fail, none) for each message, answered from the zone."""
        import interop_lib
        import peer_verify
        if self._txt is None:
            with open(self.zone, encoding="utf-8") as f:
                self._txt = interop_lib.parse_zone(f.read())
        out = []
        for i, m in enumerate(msgs):
            v = peer_verify.verify(m, self._txt)
            self.checked.append((f"{label}#{i}", m, v.verdict))
            out.append(v.verdict if v.verdict == "pass" else f"{v.verdict} ({v.reason})")
        return out

    def table_entry(self, name: str) -> dict:
        domain, selector = KEYS[name]
        return {"domain": domain, "selector": selector, "key": self.path[name]}


def toml_config(top: dict, seal: dict | None = None, seal_keys: list[dict] = (),
                dns: dict | None = None) -> str:
    """A filter-arc TOML file: top-level settings, [seal], [[seal.keys]] and [dns]. Sender authentication (SPF, DKIM, DMARC) is off:
    these cases make no DNS lookup at all (test_filter_arc.py covers SPF end to end)."""
    v = T._toml_value
    out = ["# filter-arc e2e trust boundary configuration (generated)"]
    out += [f"{k} = {v(x)}" for k, x in top.items()]
    out += ["", "[authentication]", "spf = false", "dkim = false", "dmarc = false"]
    if dns:
        out += ["", "[dns]"] + [f"{k} = {v(x)}" for k, x in dns.items()]
    if seal is not None:
        out += ["", "[seal]"] + [f"{k} = {v(x)}" for k, x in seal.items()]
    for entry in seal_keys:
        out += ["", "[[seal.keys]]"] + [f"{k} = {v(x)}" for k, x in entry.items()]
    return "\n".join(out) + "\n"


def write_config(path: str, text: str) -> str:
    H.write_private(path, text, 0o644)
    return path


def check_config(exe: str, path: str) -> None:
    """`filter-arc check-config -c` as the user smtpd runs the filter as (checks key access)."""
    r = subprocess.run([exe, "check-config", "-c", path], user=H.SMTPD_USER, group=H.SMTPD_USER,
                       extra_groups=[], capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"filter-arc check-config -c {path}: {r.stderr.decode().strip()}")


# ---- message and log helpers ---------------------------------------------------------------

def message(subject: str, from_addr: str = "Sender <sender@example.org>",
            extra: bytes = b"") -> bytes:
    """A plain LF message; extra header lines go on top (below smtpd's Received: once sent)."""
    token = f"{subject.replace(' ', '-')}.{time.time_ns()}"
    return (extra +
            b"From: " + from_addr.encode() + b"\n"
            b"To: Recipient <" + RCPT.encode() + b">\n"
            b"Subject: " + subject.encode() + b"\n"
            b"Date: Sun, 29 Nov 2026 02:00:00 +0000\n" +
            f"Message-ID: <{token}@example.org>\n".encode() +
            b"\nHello " + subject.encode() + b".\n")


def fields(msg: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, unfolded value) of every header field, top to bottom."""
    head, _ = H.split_message(msg)
    out: list[list] = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and out:
            out[-1][1] += b" " + line.strip()
            continue
        k, sep, v = line.partition(b":")
        if sep:
            out.append([k.strip().decode(errors="replace").lower(), v.strip()])
    return [(k, v) for k, v in out]


def ar_id(value: bytes) -> str:
    return value.split(b";", 1)[0].strip().decode(errors="replace").lower()


def results_of(msg: bytes, authserv_id: str) -> list[bytes]:
    """Authentication-Results values whose authserv-id is authserv_id (case-insensitive)."""
    return [v for k, v in fields(msg)
            if k == "authentication-results" and ar_id(v) == authserv_id.lower()]


def index_of(msg: bytes, pred) -> int:
    for i, (k, v) in enumerate(fields(msg)):
        if pred(k, v):
            return i
    return -1


def smtpd_received(k: str, v: bytes) -> bool:
    return k == "received" and b"(OpenSMTPD)" in v


def aar(msg: bytes) -> bytes:
    got = H.header_values(msg, "ARC-Authentication-Results")
    assert len(got) == 1, f"expected one ARC-Authentication-Results, got {got}"
    return got[0]


def arc_fields(msg: bytes) -> list[str]:
    return [k for k, _ in fields(msg) if k.startswith("arc-")]


def seal_tags(msg: bytes) -> tuple[dict, dict]:
    """(ARC-Seal tags, ARC-Message-Signature tags) of the only ARC set."""
    seals = T.arc_seals(msg)
    ams = [T.tags(v) for v in H.header_values(msg, "ARC-Message-Signature")]
    assert len(seals) == 1 and len(ams) == 1, f"expected one ARC set: {arc_fields(msg)}"
    return seals[0], ams[0]


def mailfrom_re(addr: str) -> bytes:
    return rb'\bspf=pass\s+smtp\.mailfrom="?' + re.escape(addr.encode()) + rb'"?'


def assert_verifies(kx: Keys, msgs: list[bytes], label: str) -> None:
    """dkimpy says pass for every stored message."""
    bad = [(i, v) for i, v in enumerate(kx.dkimpy(msgs, label)) if v != "pass"]
    assert not bad, f"dkimpy verdicts not pass: {bad}"


def send_one(mx: H.Smtpd, msg: bytes, mail_from: str = SENDER) -> tuple[bytes, str]:
    """Sends msg, returns (the stored message, filter-arc's log line for it)."""
    r = mx.send(mail_from, RCPT, msg)
    m = T.delivered_one(mx, r)
    return m, log_line_for(mx, r.queue_id)


def log_line_for(mx: H.Smtpd, queue_id: str, timeout: float = 5.0) -> str:
    """filter-arc's one line for the message with smtpd's queue id (msgid= in the line)."""
    pat = re.compile(r"^.*\bsession=\S+ msgid=" + re.escape(queue_id) + r"\b.*$", re.M)
    deadline = time.monotonic() + timeout
    while True:
        m = pat.search(mx.log())
        if m:
            return m.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no filter-arc log line with msgid={queue_id}")
        time.sleep(0.05)


def wait_log(mx: H.Smtpd, pattern: str, since: int, timeout: float = 10.0) -> str | None:
    """The first line after offset since that matches pattern (None after timeout s)."""
    pat = re.compile(r"^.*" + pattern + r".*$", re.M)
    deadline = time.monotonic() + timeout
    while True:
        m = pat.search(mx.log()[since:])
        if m:
            return m.group(0)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def filter_pid(mx: H.Smtpd, exe: str) -> int:
    """The filter-arc process this smtpd started: a descendant of smtpd whose executable is exe
    (matched by PID ancestry, never by name)."""
    want = os.path.realpath(exe)
    found = []
    for pid in mx.descendants():
        try:
            if os.path.realpath(os.readlink(f"/proc/{pid}/exe")) == want:
                found.append(pid)
        except OSError:
            pass
    assert len(found) == 1, f"expected one filter-arc below smtpd, found {found}"
    return found[0]


# ---- cases --------------------------------------------------------------------------------------

FORGED = (
    f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d=forged.example\n"
    # our id in mixed case, field name in mixed case, folded over three lines
    "AUTHENTICATION-results: ARC-E2E.Example.TEST;\n"
    "\tdkim=pass\n"
    "  header.d=forged.example\n"
    # the trusted upstream id, but from the client: forged as well
    f"Authentication-Results: {UPSTREAM_ID}; spf=pass smtp.mailfrom=someone@forged.example\n"
    # a foreign ADMD's results: not ours to remove
    "Authentication-Results: other.example; spf=fail\n"
).encode()


@case("1 forged A-R (ours, mixed case + folded, trusted id) removed, foreign kept, verifies")
def case_forged(mx: H.Smtpd, kx: Keys):
    sent = message("forged results", extra=FORGED)
    m, log = send_one(mx, sent)
    head, body = H.split_message(m)
    assert b"forged.example" not in head, \
        "a forged Authentication-Results (or its content) reached the stored message / AAR"
    ours = results_of(m, AUTHSERV_ID)
    assert len(ours) == 1 and re.search(rb"\barc=none\b", ours[0]) and b"dkim=" not in ours[0], \
        f"our Authentication-Results: {ours}"
    foreign = results_of(m, "other.example")
    assert foreign == [b"other.example; spf=fail"], f"foreign A-R: {foreign}"
    assert index_of(m, lambda k, v: k == "authentication-results" and ar_id(v) == "other.example") \
        > index_of(m, smtpd_received), "the foreign A-R is not below smtpd's Received:"
    upstream = results_of(m, UPSTREAM_ID)
    assert len(upstream) == 1 and re.search(mailfrom_re(SENDER), upstream[0]), \
        f"expected only the chain's {UPSTREAM_ID} A-R, got {upstream}"
    a = aar(m)
    assert b"dkim=pass" not in a and b"forged" not in a, f"forged results in the AAR: {a!r}"
    assert b"other.example" not in a and b"spf=fail" not in a, f"foreign results in AAR: {a!r}"
    assert re.search(mailfrom_re(SENDER), a), f"the chain's upstream results missing: {a!r}"
    assert re.search(r"\bforged_ar_removed=3\b", log), f"log line: {log}"
    assert body == H.split_message(sent)[1], "body changed in transit"
    assert_verifies(kx, [m], "case 1")
    print(f"     log: {log.strip()[:200]}", flush=True)


# Issue 15 class 7: smtpd stores a bare CR as is, and common parsers read it as a line break,
# so this carries our own "arc=pass" to them. filter-arc treats a bare CR in the header block as
# a line break when looking for forged results and removes the field carrying one.
BARE_CR = (f"X-Innocent: a\rAuthentication-Results: {AUTHSERV_ID}; arc=pass\n"
           "X-Kept: b\n").encode()


@case("1b a forged A-R behind a bare CR is removed with the field carrying it")
def case_bare_cr(mx: H.Smtpd, kx: Keys):
    sent = message("bare cr", extra=BARE_CR)
    m, log = send_one(mx, sent)
    head, body = H.split_message(m)
    assert b"arc=pass" not in head and b"X-Innocent" not in head, \
        f"the field hiding a forged Authentication-Results was stored: {head!r}"
    assert b"X-Kept: b" in head, "a field after it went missing"
    assert re.search(r"\bforged_ar_removed=1\b", log), f"log line: {log}"
    assert body == H.split_message(sent)[1], "body changed in transit"
    assert_verifies(kx, [m], "case 1b")


@case("2a results of the trusted upstream id (above the boundary) are in the AAR")
def case_upstream_trusted(mx: H.Smtpd, kx: Keys):
    sender = "list-bounces@example.org"
    m, log = send_one(mx, message("upstream trusted"), mail_from=sender)
    up = index_of(m, lambda k, v: k == "authentication-results" and ar_id(v) == UPSTREAM_ID)
    rcvd = index_of(m, smtpd_received)
    assert 0 <= up < rcvd, f"{UPSTREAM_ID} A-R (field {up}) not above smtpd's Received ({rcvd})"
    a = aar(m)
    assert re.search(mailfrom_re(sender), a), f"AAR lacks spf=pass smtp.mailfrom={sender}: {a!r}"
    assert re.search(rb"\barc=none\b", a) and AUTHSERV_ID.encode() in a, f"AAR: {a!r}"
    assert "forged_ar_removed" not in log, f"log line: {log}"
    assert_verifies(kx, [m], "case 2a")
    print(f"     AAR: {a.decode(errors='replace')}", flush=True)


@case("2b with the upstream id not trusted its results are not in the AAR")
def case_upstream_untrusted(mx: H.Smtpd, kx: Keys):
    sender = "list-bounces@example.org"
    client_up = f"Authentication-Results: {UPSTREAM_ID}; dkim=pass header.d=client.example\n"
    client_ours = f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d=client.example\n"
    m, log = send_one(mx, message("upstream not trusted",
                                  extra=(client_up + client_ours).encode()), mail_from=sender)
    up = results_of(m, UPSTREAM_ID)
    # the chain's one (above) is untouched; the client's one (below) is not ours to remove
    assert len(up) == 2 and re.search(mailfrom_re(sender), up[0]) and b"client.example" in up[1], \
        f"{UPSTREAM_ID} A-R in the stored message: {up}"
    ours = results_of(m, AUTHSERV_ID)
    assert len(ours) == 1 and b"client.example" not in ours[0], f"our A-R: {ours}"
    a = aar(m)
    assert b"spf=pass" not in a and b"mailfrom" not in a and b"dkim=" not in a, \
        f"untrusted results in the AAR: {a!r}"
    assert re.search(rb"\barc=none\b", a), f"AAR: {a!r}"
    assert re.search(r"\bforged_ar_removed=1\b", log), f"log line: {log}"
    assert_verifies(kx, [m], "case 2b")
    print(f"     AAR: {a.decode(errors='replace')}", flush=True)


@case("3 two signing domains seal with their own keys (domain-from = header-from)")
def case_two_domains(mx: H.Smtpd, kx: Keys):
    got = []
    for name, addr in (("one", "A <a@one.example>"), ("two", "b@two.example")):
        m, log = send_one(mx, message(f"from {name}", from_addr=addr))
        domain, selector = KEYS[name]
        seal, ams = seal_tags(m)
        assert (seal.get("d"), seal.get("s")) == (domain, selector), f"{name}: ARC-Seal {seal}"
        assert (ams.get("d"), ams.get("s")) == (domain, selector), f"{name}: AMS {ams}"
        assert seal.get("i") == "1" and seal.get("cv") == "none", f"{name}: ARC-Seal {seal}"
        assert "sealed=yes" in log, f"{name}: log line {log}"
        got.append(m)
    assert_verifies(kx, got, "case 3")


@case("4a when=trusted, 127.0.0.1 in trusted-networks: sealed")
def case_trusted_sealed(mx: H.Smtpd, kx: Keys):
    m, log = send_one(mx, message("trusted network"))
    seal, _ = seal_tags(m)
    # From: example.org has no key: the default domain (the first table entry) seals
    assert seal.get("d") == KEYS["one"][0], f"ARC-Seal {seal}"
    assert "sealed=yes" in log, f"log line: {log}"
    assert len(results_of(m, AUTHSERV_ID)) == 1
    assert_verifies(kx, [m], "case 4a")


@case("4b when=trusted, trusted-networks = [192.0.2.0/24]: A-R but no ARC set")
def case_untrusted_not_sealed(mx: H.Smtpd, kx: Keys):
    m, log = send_one(mx, message("untrusted network"))
    assert not arc_fields(m), f"ARC fields in an unsealed message: {arc_fields(m)}"
    ours = results_of(m, AUTHSERV_ID)
    assert len(ours) == 1 and re.search(rb"\barc=none\b", ours[0]), f"our A-R: {ours}"
    assert "sealed=no" in log and "policy" in log, f"log line: {log}"
    v = kx.dkimpy([m], "case 4b")
    assert [x.split()[0] for x in v] == ["none"], f"dkimpy: {v}"


@case("5 SIGHUP: a broken config keeps the old one running; a valid one takes over")
def case_reload(mx: H.Smtpd, kx: Keys, exe: str, cfg: str, new_config: str):
    pid = filter_pid(mx, exe)
    start = mx.descendants()[pid]
    print(f"     filter-arc pid {pid} (child of smtpd {mx.proc.pid} or its children)", flush=True)

    since = len(mx.log())
    with open(cfg, "wb") as f:  # garbage in place of the file the filter was started with
        f.write(b"[seal\nthis is = = not toml ]]]\n")
    mx.signal_descendant(pid, signal.SIGHUP)
    failed = wait_log(mx, r"event=reload status=failed", since)
    assert failed, "no `event=reload status=failed` in smtpd's log after SIGHUP (garbage)"
    print(f"     log: {failed.strip()[:160]}", flush=True)
    # valid TOML for the new domain, but its key file is missing: the whole reload fails too
    since = len(mx.log())
    write_config(cfg, new_config.replace(kx.path["new"], kx.path["new"] + ".missing"))
    mx.signal_descendant(pid, signal.SIGHUP)
    failed = wait_log(mx, r"event=reload status=failed", since)
    assert failed, "no `event=reload status=failed` after SIGHUP (missing key file)"
    print(f"     log: {failed.strip()[:160]}", flush=True)
    m, log = send_one(mx, message("after broken reload"))
    seal, ams = seal_tags(m)
    assert (seal.get("d"), seal.get("s")) == KEYS["old"], f"not the old key: ARC-Seal {seal}"
    assert ams.get("d") == KEYS["old"][0], f"AMS {ams}"
    assert "sealed=yes" in log, f"log line: {log}"
    assert mx.alive(), "smtpd died"
    assert mx.descendants().get(pid) == start, "the filter process was replaced"
    assert_verifies(kx, [m], "case 5 old key")

    since = len(mx.log())
    write_config(cfg, new_config)
    mx.signal_descendant(pid, signal.SIGHUP)
    ok = wait_log(mx, r"event=reload status=ok", since)
    assert ok, "no `event=reload status=ok` after SIGHUP with the valid config"
    m2, log2 = send_one(mx, message("after good reload"))
    seal2, ams2 = seal_tags(m2)
    assert (seal2.get("d"), seal2.get("s")) == KEYS["new"], f"not the new key: {seal2}"
    assert ams2.get("d") == KEYS["new"][0], f"AMS {ams2}"
    assert "sealed=yes" in log2, f"log line: {log2}"
    assert mx.alive() and mx.descendants().get(pid) == start, "smtpd or the filter restarted"
    assert_verifies(kx, [m2], "case 5 new key")


@case("Mail::DKIM agrees with dkimpy on every stored message")
def case_cross_check(kx: Keys):
    assert kx.checked, "nothing was verified"
    out_dir = os.path.join(kx.work, "verify")
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for i, (label, m, _) in enumerate(kx.checked):
        p = os.path.join(out_dir, f"{i:03d}.eml")
        with open(p, "wb") as f:
            f.write(m)
        paths[p] = i
    r = subprocess.run(["/usr/bin/perl", T.PEER_PL, kx.zone] + list(paths), capture_output=True,
                       timeout=120)
    assert r.returncode == 0, f"peer_verify.pl failed: {r.stderr.decode()[-1000:]}"
    got = {}
    for line in r.stdout.decode().splitlines():
        f = line.split("\t")
        if len(f) >= 2 and f[0] in paths:
            got[paths[f[0]]] = f[1]
    bad = [(label, dkimpy_v, got.get(i)) for i, (label, _, dkimpy_v) in enumerate(kx.checked)
           if got.get(i) != dkimpy_v]
    assert not bad, f"(message, dkimpy, Mail::DKIM) disagree: {bad}"
    print(f"     {len(kx.checked)} messages, verdicts "
          f"{sorted(set(v for _, _, v in kx.checked))}", flush=True)


# ---- main ---------------------------------------------------------------------------------------

def finish_smtpd(mx: H.Smtpd, label: str) -> None:
    bad = T.log_problems(mx.log())
    if not mx.alive():
        bad.append(f"smtpd not alive at the end (exit {mx.exit_status})")
    results.append((f"smtpd {label}: log clean and alive", not bad, "; ".join(bad)))
    if bad:
        print(f"FAIL smtpd {label}: " + "; ".join(bad), flush=True)
    if bad or not all(ok for _, ok, _ in results):
        print(f"---- smtpd {label} log (tail) ----\n" + H._tail(mx.log(), 60), flush=True)


def main() -> int:
    H.run_or_skip()
    if len(sys.argv) != 2:
        print("usage: test_trust_boundary.py PATH/TO/filter-arc")
        return 2
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK) or not T.filter_mode_available(exe):
        print(f"SKIP: filter mode not available ({exe} --help does not offer -c CONFIG)")
        return H.SKIP
    missing = T.missing_tools()
    if missing:
        print("FAIL: missing test tools (scripts/setup installs them): " + ", ".join(missing))
        return 1
    t0 = time.monotonic()
    work = H.make_workdir("filter-arc-e2e-trust.")
    keep = bool(os.environ.get("FILTER_ARC_E2E_KEEP"))
    finished = False
    try:
        kx = Keys(work)
        staged = H.stage(exe, work)
        pre = H.stage(PRE_FILTER, work, 0o644)
        # No message here claims an ARC chain, so nothing is looked up; a dead server with a
        # short timeout turns any unexpected lookup into a quick, visible tempfail.
        dns = {"servers": [f"127.0.0.1:{H.free_port()}"], "timeout-ms": 300, "tries": 1}
        base = {"authserv-id": AUTHSERV_ID, "mode": "both"}
        two = [kx.table_entry("one"), kx.table_entry("two")]
        trusted_seal = {"when": "trusted", "domain-from": "header-from"}
        cfg = {
            "a": toml_config({**base, "trusted-authserv-ids": [UPSTREAM_ID],
                              "trusted-networks": ["127.0.0.0/8"]}, trusted_seal, two, dns),
            "b": toml_config({**base, "trusted-networks": ["127.0.0.0/8"]}, trusted_seal, two,
                             dns),
            "c": toml_config({**base, "trusted-networks": ["192.0.2.0/24"]}, trusted_seal, two,
                             dns),
            "d": toml_config(base, {"when": "all", **kx.table_entry("old")}, [], dns),
            "d-new": toml_config(base, {"when": "all", **kx.table_entry("new")}, [], dns),
        }
        paths = {}
        for name, text in cfg.items():
            paths[name] = write_config(os.path.join(work, f"filter-arc-{name}.toml"), text)
            check_config(staged, paths[name])
        print(f"fixtures ready in {time.monotonic() - t0:.1f} s", flush=True)

        chain = (f'filter "pre" proc-exec "{PY} {pre} {UPSTREAM_ID}"\n'
                 'filter "both" chain { "pre", "arc" }')

        # FILTER_ARC_E2E_COMMAND: what proc-exec names instead of that path (installed package)
        command = os.environ.get("FILTER_ARC_E2E_COMMAND") or staged

        def smtpd(name: str, with_chain: bool) -> H.Smtpd:
            return H.Smtpd(f"{command} -c {paths[name]}", workdir=os.path.join(work, f"mx-{name}"),
                           filters_config=chain if with_chain else "",
                           listen_filter="both" if with_chain else None)

        with smtpd("a", True) as mx:
            print(f"smtpd A (chain pre+arc, {UPSTREAM_ID} trusted) up on port {mx.port}",
                  flush=True)
            case_forged(mx, kx)
            case_bare_cr(mx, kx)
            case_upstream_trusted(mx, kx)
            case_two_domains(mx, kx)
            case_trusted_sealed(mx, kx)
            finish_smtpd(mx, "A")
        with smtpd("b", True) as mx:
            print(f"smtpd B (chain pre+arc, {UPSTREAM_ID} not trusted) up", flush=True)
            case_upstream_untrusted(mx, kx)
            finish_smtpd(mx, "B")
        with smtpd("c", False) as mx:
            print("smtpd C (trusted-networks 192.0.2.0/24) up", flush=True)
            case_untrusted_not_sealed(mx, kx)
            finish_smtpd(mx, "C")
        live_cfg = os.path.join(work, "filter-arc-live.toml")
        shutil.copyfile(paths["d"], live_cfg)
        os.chmod(live_cfg, 0o644)
        with H.Smtpd(f"{command} -c {live_cfg}", workdir=os.path.join(work, "mx-d")) as mx:
            print("smtpd D (old.example, then SIGHUP) up", flush=True)
            case_reload(mx, kx, staged, live_cfg, cfg["d-new"])
            finish_smtpd(mx, "D")
        case_cross_check(kx)
        finished = True
    except (H.SmtpdError, RuntimeError) as e:
        results.append(("set-up / smtpd start", False, str(e)))
        print(f"FAIL: {e}")
        finished = True
    finally:
        failed = [n for n, ok, _ in results if not ok]
        if failed or keep or not finished:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = [n for n, ok, _ in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed "
          f"({time.monotonic() - t0:.1f} s)")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
