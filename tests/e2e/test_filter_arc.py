#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""End-to-end tests of `filter-arc -c CONFIG` as an OpenSMTPD proc-exec filter (issue 5).

  /usr/bin/python3 tests/e2e/test_filter_arc.py BUILD/filter/filter-arc     (as root)
  FILTER_ARC_E2E_COMMAND=filter-arc ... test_filter_arc.py /usr/bin/filter-arc   (installed
      package, tests/package: smtpd.conf says proc-exec "filter-arc -c ...", and the test checks
      that smtpd runs the binary /usr/bin/filter-arc resolves to)

Exit 0: all cases passed; 1: a case failed; 77: skipped (no smtpd, not root, or the binary has
no filter mode yet: "filter mode not available").

Each run makes fresh RSA keys and a zone, serves the zone from tests/tools/dns_responder.py on
loopback (with per-name faults), starts smtpd through smtpd_harness.py with filter-arc in front
of the listener, and checks what lands in the Maildir with two independent ARC verifiers,
dkimpy and Mail::DKIM (tests/interop/peer_verify.py and peer_verify.pl, fed the same zone).

Cases:
  1 an unsigned message arrives with Authentication-Results ...; arc=none and an ARC set i=1
    (cv=none) that both peers verify as pass (also without Date/Message-ID, which smtpd adds
    after the filter on a loopback listener)
  2 a valid 2-hop chain (made with `filter-arc seal` twice) arrives sealed at i=3 with cv=pass
  3 a broken chain (body changed after hop 1) arrives with a cv=fail seal at i=2
  4 a dot-leading line, a lone ".", `|`, 8-bit UTF-8 and a 900-byte line survive byte for byte
  5 a key lookup answered with SERVFAIL, or not at all, gets 421 (the default tempfail reply)
    or the configured 451, nothing is delivered, smtpd stays up and takes the next message
  6 50 concurrent sessions with interleaved DATA are all delivered and verify
  7 malformed ARC headers, hostile messages and hostile DNS answers never stop smtpd
  8 SPF (RFC 7208) of the loopback client: MAIL FROM domains publishing "ip4:127.0.0.1 -all"
    and "ip4:192.0.2.1 -all" give spf=pass and spf=fail in both our A-R and our AAR (the
    sender of the other cases publishes nothing: spf=none); an SPF lookup answered with
    SERVFAIL defers the message (421), nothing is delivered
  9 SPF, DKIM and DMARC computed by the filter (issue 8): a message whose MAIL FROM and From
    domain publishes "ip4:127.0.0.1 -all" and "p=reject", signed by dkimpy (rsa-sha256 and
    ed25519-sha256, d= that domain), gets spf=pass, two dkim=pass and dmarc=pass in our A-R,
    the same results in our AAR (i=1), and an ARC set both peers verify; From a p=reject
    domain without DKIM and with an unaligned (passing) MAIL FROM: dmarc=fail
    policy.dmarc=reject, still delivered and sealed
 10 a 2,500-byte body line. smtpd 7.4+ (protocol 0.7) stores filter output lines whole: the
    message is sealed, stored byte for byte and verifies (filter-arc verify, dkimpy,
    Mail::DKIM). smtpd 6.8 (protocol 0.6) cuts every line a filter writes at 1,997 bytes: the
    line is stored cut at 1,997, the message is not sealed and the log line says why. Each
    variant SKIPs on the other protocol, with the reason.
 11 SMTP AUTH (protocol 0.7 only: `link-auth|result|username`, the user name last so that it
    may contain '|'). A second smtpd with a STARTTLS + AUTH listener and a filter that seals
    only trusted clients (seal.when = "trusted", trusted-networks without 127.0.0.1): the
    session that authenticated as "arc|e2e" is sealed (trust-authenticated), no SPF is checked
    for it (log spf=skipped spf_reason="authenticated session", no spf= in the A-R), and the
    seal verifies; the same listener without AUTH, or after a refused AUTH, is not sealed and
    gets spf=none. On 6.8 it SKIPs (0.6 sends `username|result`; tests/filter/engine_test.cpp
    feeds that order).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import smtpd_harness as H  # noqa: E402

PY = "/usr/bin/python3"
RESPONDER = os.path.join(ROOT, "tests", "tools", "dns_responder.py")
PEER_PY = os.path.join(ROOT, "tests", "interop", "peer_verify.py")
PEER_PL = os.path.join(ROOT, "tests", "interop", "peer_verify.pl")

AUTHSERV_ID = "arc-e2e.example.test"
SEAL_DOMAIN, SEAL_SELECTOR = "arc.example.test", "e2e"
SENDER, RCPT = "sender@example.org", "arctest@example.test"
# Upstream sealers of the fixtures: name -> (domain, selector). The DNS faults are per name.
HOPS = {
    "hop1": ("hop1.example.net", "s2026"),
    "hop2": ("hop2.example.net", "s2026"),
    "servfail": ("servfail.example.net", "s1"),
    "drop": ("drop.example.net", "s1"),
    "malformed": ("malformed.example.net", "s1"),
    "garbage": ("garbage.example.net", "s1"),
    "truncate": ("truncate.example.net", "s1"),
    "badkey": ("badkey.example.net", "s1"),
}
FAULTS = {"servfail": "servfail", "drop": "drop", "malformed": "malformed",
          "garbage": "garbage", "truncate": "truncate"}
# SPF (case 8): MAIL FROM domains and their records; the client is smtpd's peer 127.0.0.1.
SPF_RECORDS = {"spf-pass.example.org": "v=spf1 ip4:127.0.0.1 -all",
               "spf-fail.example.org": "v=spf1 ip4:192.0.2.1 -all"}
SPF_SERVFAIL = "spf-servfail.example.org"
# Sender authentication (case 9): a domain that passes everything, its DKIM selectors (signed
# by dkimpy), and a p=reject domain that publishes no SPF record and signs nothing.
AUTH_DOMAIN = "auth-pass.example.org"
AUTH_SELECTORS = {"rsa": "rsa2026", "ed25519": "ed2026"}
DMARC_FAIL_DOMAIN = "dmarc-reject.example.net"
AUTH_RECORDS = {AUTH_DOMAIN: "v=spf1 ip4:127.0.0.1 -all",
                f"_dmarc.{AUTH_DOMAIN}": "v=DMARC1; p=reject",
                f"_dmarc.{DMARC_FAIL_DOMAIN}": "v=DMARC1; p=reject"}
TEMPFAIL_451 = "451 4.7.0 e2e: ARC key lookup failed, try again later"

results: list[tuple[str, bool, str]] = []
skipped: list[tuple[str, str]] = []  # (case, reason): cases for the other filter protocol


# ---- filter configuration ---------------------------------------------------------------------

# The one place that knows the TOML schema of `filter-arc -c` (filter/config/config.cpp). Test code
# only uses the flat names on the left.
CONFIG_KEYS = {
    "authserv_id": ("", "authserv-id"),
    "domain": ("seal", "domain"),
    "selector": ("seal", "selector"),
    "key_file": ("seal", "key"),
    "dns_servers": ("dns", "servers"),          # "127.0.0.1:PORT" or a list of them
    "dns_timeout_ms": ("dns", "timeout-ms"),
    "dns_tries": ("dns", "tries"),
    "message_deadline_ms": ("dns", "message-deadline-ms"),
    "tempfail_reply": ("smtpd", "tempfail-reply"),
    "auth_spf": ("authentication", "spf"),
    "auth_dkim": ("authentication", "dkim"),
    "auth_dmarc": ("authentication", "dmarc"),
    "auth_temperror": ("authentication", "temperror"),
    "trusted_networks": ("", "trusted-networks"),
    "trust_authenticated": ("", "trust-authenticated"),
    "seal_when": ("seal", "when"),
}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def write_filter_config(path: str, **settings) -> str:
    """Writes the filter's TOML config from flat settings (see CONFIG_KEYS); None = leave out."""
    sections: dict[str, list[str]] = {}
    for key, value in settings.items():
        if value is None:
            continue
        if key not in CONFIG_KEYS:
            raise KeyError(f"write_filter_config: unknown setting {key}")
        section, name = CONFIG_KEYS[key]
        if key == "dns_servers" and isinstance(value, str):
            value = [value]
        sections.setdefault(section, []).append(f"{name} = {_toml_value(value)}")
    out = ["# filter-arc e2e test configuration (generated)"] + sections.pop("", [])
    for section, lines in sections.items():
        out += ["", f"[{section}]"] + lines
    H.write_private(path, "\n".join(out) + "\n", 0o644)
    return path


# ---- helpers -------------------------------------------------------------------------------------

def case(name, protocols=("0.6", "0.7"), skip_reason=""):
    """A test case; it runs only when smtpd speaks one of `protocols` and SKIPs otherwise."""
    def wrap(fn):
        def run(*a, **kw):
            proto = H.filter_protocol()
            if proto not in protocols:
                why = (f"smtpd {H.smtpd_version() or '?'} speaks filter protocol {proto}"
                       f"{': ' + skip_reason if skip_reason else ''}")
                skipped.append((name, why))
                print(f"SKIP {name}: {why}", flush=True)
                return
            t0 = time.monotonic()
            try:
                fn(*a, **kw)
                results.append((name, True, ""))
                print(f"ok   {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception as e:  # noqa: BLE001 - report every case
                results.append((name, False, str(e)))
                print(f"FAIL {name}: {e}", flush=True)
                traceback.print_exc()
        return run
    return wrap


def run(cmd, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, **kw)


def filter_mode_available(exe: str) -> bool:
    try:
        r = run([exe, "--help"], timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    text = (r.stdout + r.stderr).decode(errors="replace")
    return bool(re.search(r"(^|[\s\[])-c\b", text)) and "filter" in text.lower()


def missing_tools() -> list[str]:
    missing = []
    for path in (RESPONDER, PEER_PY, PEER_PL, "/usr/bin/openssl", "/usr/bin/perl"):
        if not os.path.exists(path):
            missing.append(path)
    if run([PY, "-c", "import dkim"]).returncode != 0:
        missing.append("python3-dkim (import dkim)")
    if run([PY, "-c", "import nacl.signing"]).returncode != 0:
        missing.append("python3-nacl (ed25519 DKIM keys of case 9)")
    if run(["/usr/bin/perl", "-MMail::DKIM::ARC::Verifier", "-MNet::DNS::Resolver::Mock",
            "-e", "1"]).returncode != 0:
        missing.append("libmail-dkim-perl / libnet-dns-resolver-mock-perl")
    return missing


def make_key(path: str) -> str:
    """RSA 2048 private key at path; returns the DKIM key record (RFC 6376 §3.6.1)."""
    r = run(["/usr/bin/openssl", "genrsa", "-out", path, "2048"])
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())
    r = run(["/usr/bin/openssl", "rsa", "-in", path, "-pubout", "-outform", "DER"])
    import base64
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(r.stdout).decode()


def make_ed25519_key() -> tuple[bytes, str]:
    """(private key as dkimpy takes it: base64 of the 32-byte seed, DKIM key record)."""
    import base64
    import nacl.signing
    key = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(key)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(key.verify_key)).decode())


def zone_line(owner: str, text: str) -> str:
    raw = text.encode()
    parts = " ".join('"%s"' % raw[i:i + 255].decode() for i in range(0, len(raw), 255))
    return f"{owner}. 300 IN TXT {parts}"


def tags(value: bytes) -> dict[str, str]:
    """Tag=value list (RFC 6376 §3.2) of an unfolded header value, whitespace removed."""
    out = {}
    for part in value.decode(errors="replace").split(";"):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = re.sub(r"\s+", "", v)
    return out


def arc_seals(msg: bytes) -> list[dict[str, str]]:
    return [tags(v) for v in H.header_values(msg, "ARC-Seal")]


def our_auth_results(msg: bytes) -> list[str]:
    return [v.decode(errors="replace") for v in H.header_values(msg, "Authentication-Results")
            if v.split(b";", 1)[0].strip() == AUTHSERV_ID.encode()]


def message(subject: str, body: bytes = b"Hello.\n", extra: bytes = b"",
            date: bool = True, msgid: bool = True) -> bytes:
    """A plain LF message; the unique Message-ID (or X-E2E-Id) lets a test find it again."""
    token = f"{subject.replace(' ', '-')}.{time.time_ns()}"
    head = (b"From: Sender <sender@example.org>\n"
            b"To: Recipient <" + RCPT.encode() + b">\n"
            b"Subject: " + subject.encode() + b"\n")
    if date:
        head += b"Date: Sun, 29 Nov 2026 02:00:00 +0000\n"
    if msgid:
        head += f"Message-ID: <{token}@example.org>\n".encode()
    else:
        head += f"X-E2E-Id: {token}\n".encode()
    return head + extra + b"\n" + body


def body_of(msg: bytes) -> bytes:
    return H.split_message(msg.replace(b"\r\n", b"\n"))[1]


class Fixture:
    """Keys, zone, sealed upstream messages and the DNS responder of one run."""

    def __init__(self, work: str, exe: str):
        self.work = work
        self.exe = exe
        self.keys: dict[str, str] = {}
        records: dict[str, str] = {}
        key_dir = os.path.join(work, "keys")
        os.makedirs(key_dir)
        os.chmod(key_dir, 0o755)
        self.seal_key = os.path.join(key_dir, "seal.key")
        records[f"{SEAL_SELECTOR}._domainkey.{SEAL_DOMAIN}"] = make_key(self.seal_key)
        # the filter (user opensmtpd) reads its private key; nobody else needs to
        pw = H.pwd.getpwnam(H.SMTPD_USER)
        os.chown(self.seal_key, pw.pw_uid, pw.pw_gid)
        os.chmod(self.seal_key, 0o600)
        upstream = os.path.join(key_dir, "upstream.key")
        record = make_key(upstream)
        for name, (domain, selector) in HOPS.items():
            self.keys[name] = upstream
            records[f"{selector}._domainkey.{domain}"] = record
        records["s1._domainkey.badkey.example.net"] = "v=DKIM1; k=rsa; p=!!notbase64!!"
        records.update(SPF_RECORDS)
        records.update(AUTH_RECORDS)
        # DKIM keys of AUTH_DOMAIN (RFC 6376 §3.6.1, RFC 8463 §4): algorithm -> (selector, key)
        self.dkim: dict[str, tuple[str, bytes]] = {}
        rsa_key = os.path.join(key_dir, "dkim-rsa.key")
        records[f"{AUTH_SELECTORS['rsa']}._domainkey.{AUTH_DOMAIN}"] = make_key(rsa_key)
        with open(rsa_key, "rb") as f:
            self.dkim["rsa"] = (AUTH_SELECTORS["rsa"], f.read())
        ed_private, ed_record = make_ed25519_key()
        records[f"{AUTH_SELECTORS['ed25519']}._domainkey.{AUTH_DOMAIN}"] = ed_record
        self.dkim["ed25519"] = (AUTH_SELECTORS["ed25519"], ed_private)
        self.records = records
        self.zone = os.path.join(work, "zone")
        with open(self.zone, "w") as f:
            f.write("; filter-arc e2e zone (generated)\n$TTL 300\n")
            for owner, text in sorted(records.items()):
                f.write(zone_line(owner, text) + "\n")
        os.chmod(self.zone, 0o644)
        self.dns: subprocess.Popen | None = None
        self.dns_port = 0

    # -- DNS
    def start_dns(self) -> None:
        port_file = os.path.join(self.work, "dns.port")
        self.stats_file = os.path.join(self.work, "dns.stats")
        args = [PY, RESPONDER, "--zone", self.zone, "--port", "0", "--port-file", port_file,
                "--stats-file", self.stats_file, "--watch-stdin", "--max-lifetime", "900"]
        for name, mode in FAULTS.items():
            domain, selector = HOPS[name]
            args += ["--fault", f"{selector}._domainkey.{domain}={mode}"]
        args += ["--fault", f"{SPF_SERVFAIL}/txt=servfail"]
        self.dns_log = open(os.path.join(self.work, "dns.log"), "wb")
        self.dns = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=self.dns_log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.dns.poll() is not None:
                raise RuntimeError(f"dns_responder exited: {self.dns.returncode}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.dns_port = int(text)
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("dns_responder did not report its port")

    def dns_queries(self, name: str, wait: float = 2.0) -> int:
        """How often the responder was asked for name (0 if never, after waiting up to wait s)."""
        deadline = time.monotonic() + wait
        count = 0
        while self.dns is not None and self.dns.poll() is None:
            try:
                os.kill(self.dns.pid, signal.SIGUSR1)  # rewrite the stats file now
            except ProcessLookupError:
                break
            time.sleep(0.05)
            try:
                with open(self.stats_file) as f:
                    for line in f:
                        w = line.split()
                        if len(w) >= 2 and w[0] == name.lower():
                            count = int(w[1])
            except (OSError, ValueError):
                pass
            if count or time.monotonic() > deadline:
                break
        return count

    def stop_dns(self) -> None:
        if self.dns is None:
            return
        if self.dns.poll() is None:
            self.dns.terminate()
            try:
                self.dns.wait(5)
            except subprocess.TimeoutExpired:
                self.dns.kill()
                self.dns.wait()
        try:
            self.dns.stdin.close()
        except OSError:
            pass
        self.dns_log.close()
        self.dns = None

    # -- upstream chains
    def seal(self, msg: bytes, hop: str, authserv_id: str) -> bytes:
        domain, selector = HOPS[hop]
        src = os.path.join(self.work, f"seal-in.{time.time_ns()}.eml")
        with open(src, "wb") as f:
            f.write(msg)
        r = run([self.exe, "seal", "--domain", domain, "--selector", selector,
                 "--key", self.keys[hop], "--authserv-id", authserv_id,
                 "--dns-zone", self.zone, src])
        if r.returncode != 0 or not r.stdout:
            raise RuntimeError(f"filter-arc seal ({hop}) failed: {r.stderr.decode()}")
        return r.stdout

    def hop(self, msg: bytes, hop: str) -> bytes:
        """What a forwarder `hop` does: add its Authentication-Results, then seal."""
        authserv = f"mx.{HOPS[hop][0]}"
        ar = f"Authentication-Results: {authserv}; spf=pass smtp.mailfrom={SENDER}\n".encode()
        return self.seal(ar + msg, hop, authserv)


def peer_verdicts(zone: str, msgs: list[bytes], work: str) -> list[tuple[str, str]]:
    """[(dkimpy verdict, Mail::DKIM verdict)] for each message, verified from the zone file."""
    out_dir = os.path.join(work, f"verify.{time.time_ns()}")
    os.makedirs(out_dir)
    paths = []
    for i, m in enumerate(msgs):
        p = os.path.join(out_dir, f"{i:03d}.eml")
        with open(p, "wb") as f:
            f.write(m)
        paths.append(p)
    verdicts: dict[str, dict[str, str]] = {p: {} for p in paths}
    procs = {label: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for label, cmd in (("py", [PY, PEER_PY, zone] + paths),
                                ("pl", ["/usr/bin/perl", PEER_PL, zone] + paths))}
    for label, proc in procs.items():  # both peers run at the same time
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"peer_verify ({label}) failed: {err.decode()[-2000:]}")
        for line in out.decode().splitlines():
            f = line.split("\t")
            if f and f[0] in verdicts:
                verdicts[f[0]][label] = f[1] + ("" if f[1] == "pass" else f" ({f[-1]})")
    return [(verdicts[p].get("py", "?"), verdicts[p].get("pl", "?")) for p in paths]


def assert_pass(fx: Fixture, msgs: list[bytes]) -> None:
    bad = [(i, v) for i, v in enumerate(peer_verdicts(fx.zone, msgs, fx.work))
           if v != ("pass", "pass")]
    assert not bad, f"peer verdicts not pass: {bad[:5]}"


def delivered_one(mx: H.Smtpd, reply: H.Reply, timeout: float = 15) -> bytes:
    assert reply.code == 250 and reply.queue_id, f"not accepted: {reply!r}"
    got = mx.delivered_by_id(timeout=timeout).get(reply.queue_id)
    assert got and len(got) == 1, f"accepted {reply.queue_id} was not delivered"
    return got[0]


def in_maildir(mx: H.Smtpd, marker: bytes) -> bool:
    return any(marker in m for m in mx.maildir_messages())


def top_seal(msg: bytes) -> dict[str, str]:
    seals = arc_seals(msg)
    assert seals, "no ARC-Seal in the delivered message"
    return max(seals, key=lambda t: int(t.get("i", "0")) if t.get("i", "").isdigit() else 0)


# ---- cases ------------------------------------------------------------------------------------

@case("1 unsigned message: A-R arc=none, ARC set i=1 that dkimpy and Mail::DKIM verify")
def case_unsigned(mx: H.Smtpd, fx: Fixture):
    sent = [message("unsigned"), message("unsigned without date", date=False, msgid=False)]
    got = [delivered_one(mx, mx.send(SENDER, RCPT, m)) for m in sent]
    for m in got:
        ar = our_auth_results(m)
        assert len(ar) == 1 and re.search(r"\barc=none\b", ar[0]), f"A-R: {ar}"
        # example.org publishes no SPF record in our zone: SPF is checked, the result is none.
        assert re.search(r";\s*spf=none\s+smtp\.mailfrom=sender@example\.org\b", ar[0]), \
            f"A-R: {ar}"
        s = top_seal(m)
        assert s.get("i") == "1" and s.get("cv") == "none", f"ARC-Seal {s}"
        assert s.get("d") == SEAL_DOMAIN and s.get("s") == SEAL_SELECTOR, f"ARC-Seal {s}"
        aar = [v for v in H.header_values(m, "ARC-Authentication-Results")]
        assert len(aar) == 1 and re.search(rb"i=\s*1\s*;", aar[0]) and b"arc=none" in aar[0], aar
    assert H.header_values(got[1], "Date"), "smtpd did not add Date (listener not 'local'?)"
    assert_pass(fx, got)


@case("2 valid 2-hop chain arrives sealed at i=3 with cv=pass")
def case_two_hops(mx: H.Smtpd, fx: Fixture):
    chain = fx.hop(fx.hop(message("two hops"), "hop1"), "hop2")
    assert sorted(int(t["i"]) for t in arc_seals(chain)) == [1, 2], "fixture is not a 2-hop chain"
    assert_pass(fx, [chain])
    m = delivered_one(mx, mx.send(SENDER, RCPT, chain))
    s = top_seal(m)
    assert s.get("i") == "3" and s.get("cv") == "pass", f"ARC-Seal {s}"
    ar = our_auth_results(m)
    assert len(ar) == 1 and re.search(r"\barc=pass\b", ar[0]), f"A-R: {ar}"
    assert_pass(fx, [m])


@case("3 broken chain arrives with a cv=fail seal")
def case_broken(mx: H.Smtpd, fx: Fixture):
    chain = fx.hop(message("broken", b"original body\n"), "hop1")
    broken = chain + b"a footer added after the seal\n"
    m = delivered_one(mx, mx.send(SENDER, RCPT, broken))
    s = top_seal(m)
    assert s.get("i") == "2" and s.get("cv") == "fail", f"ARC-Seal {s}"
    ar = our_auth_results(m)
    assert len(ar) == 1 and re.search(r"\barc=fail\b", ar[0]), f"A-R: {ar}"
    v = peer_verdicts(fx.zone, [m], fx.work)[0]
    assert v[0].startswith("fail") and v[1].startswith("fail"), f"peers: {v}"


TRICKY_BODY = (b"first line\n"
               b".leading dot\n"
               b"..two leading dots\n"
               b".\n"
               b"pipe|inside|line||\n"
               b"|starts with a pipe\n"
               + "Grüße, ñandú, 日本語 \U0001F600\n".encode("utf-8") +
               b"trailing spaces   \n"
               b"\ttab-leading line\n"
               + b"x" * 900 + b"\n"
               b"\n"
               b"last line\n")


@case("4 dot lines, '|', 8-bit, 900-byte line survive byte for byte (and verify)")
def case_tricky(mx: H.Smtpd, fx: Fixture):
    sent = message("tricky", TRICKY_BODY, b"MIME-Version: 1.0\n"
                   b"Content-Type: text/plain; charset=utf-8\n"
                   b"Content-Transfer-Encoding: 8bit\n")
    m = delivered_one(mx, mx.send(SENDER, RCPT, sent))
    assert body_of(m) == body_of(sent), "body changed in transit"
    head, _ = H.split_message(m)
    assert head.endswith(H.split_message(sent)[0]), "client headers changed in transit"
    assert top_seal(m).get("i") == "1"
    assert_pass(fx, [m])


def _tempfail_checks(mx: H.Smtpd, fx: Fixture, expect_code: int, expect_text: str | None):
    for hop in ("servfail", "drop"):
        chain = fx.hop(message(f"dns {hop}"), hop)
        marker = H.header_values(chain, "Message-ID")[0]
        t0 = time.monotonic()
        r = mx.send(SENDER, RCPT, chain, timeout=60)
        took = time.monotonic() - t0
        assert r.code == expect_code and r.stage == "dot", f"{hop}: {r!r} after {took:.1f} s"
        if expect_text:  # smtplib gives the text after the code
            assert f"{r.code} {r.message}" == expect_text, f"{hop}: {r!r}"
        domain, selector = HOPS[hop]
        assert fx.dns_queries(f"{selector}._domainkey.{domain}") > 0, \
            f"{hop}: the filter never asked for the key"
        assert mx.alive(), f"smtpd died after the {hop} tempfail"
        nxt = mx.send(SENDER, RCPT, message(f"after {hop}"))
        delivered_one(mx, nxt)  # delivered after it, so a leaked copy would be there by now
        assert not in_maildir(mx, marker), f"{hop}: the tempfailed message was delivered"


@case("5a key DNS SERVFAIL / no answer -> 421 (default), nothing delivered, smtpd goes on")
def case_tempfail_default(mx: H.Smtpd, fx: Fixture):
    _tempfail_checks(mx, fx, 421, None)


@case("5b key DNS SERVFAIL / no answer -> the configured 451, session and smtpd go on")
def case_tempfail_451(mx: H.Smtpd, fx: Fixture):
    _tempfail_checks(mx, fx, 451, TEMPFAIL_451)


@case("6 50 concurrent sessions with interleaved DATA all delivered and verifying")
def case_concurrent(mx: H.Smtpd, fx: Fixture):
    n = 50
    sent = [message(f"concurrent {i}",
                    b"".join(b"session %d line %d .|%s\n" % (i, k, b"." * (k % 3))
                             for k in range(40)))
            for i in range(n)]
    replies: list[H.Reply | None] = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        replies[i] = mx.send(SENDER, RCPT, sent[i], helo=f"client{i}.example.org",
                             line_delay=0.001, sync=barrier, timeout=60)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    bad = [(i, r) for i, r in enumerate(replies) if r is None or r.code != 250]
    assert not bad, f"{len(bad)} not accepted, e.g. {bad[:3]}"
    assert not barrier.broken, "the sessions did not all reach DATA together"
    got = mx.delivered_by_id(timeout=30)
    missing = [i for i, r in enumerate(replies) if len(got.get(r.queue_id, [])) != 1]
    assert not missing, f"not delivered: {missing}"
    msgs = [got[r.queue_id][0] for r in replies]
    for i, m in enumerate(msgs):
        assert body_of(m) == body_of(sent[i]), f"session {i}: body mixed up or changed"
        assert top_seal(m).get("i") == "1", f"session {i}: {top_seal(m)}"
    assert_pass(fx, msgs)


# Hostile messages without any ARC header of their own: when accepted, what is delivered must
# either carry no seal of ours or one that verifies (never a set broken by smtpd's changes).
CLEAN = {"dot-leading header", "no header/body separator", "body only", "5000-byte header line",
         "3000-byte body line", "NUL byte", "2000 header fields", "2 MB body"}


def hostile_inputs(fx: Fixture) -> list[tuple[str, bytes, dict]]:
    """(name, message, send() options). Every one must leave smtpd alive with a real reply."""
    junk_set = (b"ARC-Seal: garbage;;;==; i=abc; cv=maybe; b=\n"
                b"ARC-Message-Signature: i=1; a=rsa-sha256; b=!!!; bh=***; h=from\n"
                b"ARC-Authentication-Results: i=1\n")
    many_sets = b"".join(b"ARC-Seal: i=%d; a=rsa-sha256; cv=pass; d=x.example; s=s; b=AAAA\n"
                         b"ARC-Message-Signature: i=%d; a=rsa-sha256; d=x.example; s=s; "
                         b"h=from; bh=AAAA; b=AAAA\n"
                         b"ARC-Authentication-Results: i=%d; x.example; arc=pass\n"
                         % (i, i, i) for i in range(1, 61))
    valid = fx.hop(message("dup instance"), "hop1")
    dup = b"".join(l + b"\n" for l in valid.split(b"\n") if l.startswith(b"ARC-Seal:")) + valid
    out = [
        ("ARC junk tags", message("arc junk", extra=junk_set), {}),
        ("ARC huge instance", message("arc huge i", extra=b"ARC-Seal: i=99999999999999999999999;"
                                      b" cv=none; a=rsa-sha256; d=a.example; s=s; b=AAAA\n"), {}),
        ("ARC empty values", message("arc empty", extra=b"ARC-Seal:\nARC-Message-Signature:\n"
                                     b"ARC-Authentication-Results:\n"), {}),
        ("ARC i=0 and negative", message("arc zero", extra=b"ARC-Seal: i=0; cv=none\n"
                                         b"ARC-Seal: i=-1; cv=none\n"), {}),
        ("60 ARC sets", message("arc sixty", extra=many_sets), {}),
        ("duplicate ARC-Seal i=1", dup, {}),
        ("folded ARC header with bare CR", message("bare cr", extra=b"ARC-Seal: i=1;\r cv=none;"
                                                   b"\n\td=a.example\n", body=b"a\rb\n"), {}),
        ("pipes in ARC tags", message("pipes", extra=b"ARC-Seal: i=1; a=rsa-sha256; cv=none; "
                                      b"d=hop|x; s=|; b=|||\nX|Weird|Name: v|a|l\n"), {}),
        ("dot-leading header", message("dot header", extra=b".X-Dot: leading dot header\n"), {}),
        ("no header/body separator", b"From: a@example.org\nSubject: no body\n", {}),
        ("body only", b"\njust a body\n.\nand a lone dot above\n", {}),
        ("5000-byte header line", message("long header", extra=b"X-Long: " + b"h" * 5000 + b"\n"),
         {}),
        ("3000-byte body line", message("long body line", b"b" * 3000 + b"\n"), {}),
        ("NUL byte", message("nul", b"before\x00after\n"), {}),
        ("2000 header fields", message("many headers",
                                       extra=b"".join(b"X-H%d: v\n" % i for i in range(2000))),
         {}),
        ("2 MB body", message("big", b"".join(b"%07d " % i + b"z" * 70 + b"\n"
                                                for i in range(26000))), {}),
        ("key record not base64", fx.hop(message("bad key record"), "badkey"), {}),
        ("malformed DNS answer", fx.hop(message("dns malformed"), "malformed"), {}),
        ("garbage DNS answer", fx.hop(message("dns garbage"), "garbage"), {}),
        ("client drops mid-DATA", message("aborted", b"line\n" * 200), {"abort_after": 400}),
    ]
    return out


@case("7 malformed ARC headers, hostile input and hostile DNS never stop smtpd")
def case_hostile(mx: H.Smtpd, fx: Fixture):
    problems = []
    accepted = []
    clean: list[tuple[str, H.Reply]] = []
    for name, msg, opts in hostile_inputs(fx):
        abort = opts.pop("abort_after", None)
        t0 = time.monotonic()
        if abort is not None:
            r = _send_and_abort(mx, msg, abort)
        else:
            r = mx.send(SENDER, RCPT, msg, timeout=30, **opts)
        verdict = f"{r.code} {r.message[:60]!r} ({time.monotonic() - t0:.1f} s)"
        if abort is None and not (r.code == 250 or 400 <= r.code < 600):
            problems.append(f"{name}: no SMTP reply ({r!r})")
        if not mx.alive():
            problems.append(f"{name}: smtpd died")
            print(f"     {name}: {verdict}  -> smtpd DIED", flush=True)
            break
        if r.code == 250:
            accepted.append(r)
            if name in CLEAN:
                clean.append((name, r))
        print(f"     {name}: {verdict}", flush=True)
    # the DNS answer was truncated over UDP: the filter must retry over TCP and then pass
    chain = fx.hop(message("dns truncate"), "truncate")
    r = mx.send(SENDER, RCPT, chain, timeout=30)
    if r.code == 250:
        m = delivered_one(mx, r)
        s = top_seal(m)
        if s.get("cv") != "pass":
            problems.append(f"truncated UDP answer: expected cv=pass after TCP retry, got {s}")
    else:
        problems.append(f"truncated UDP answer: {r!r}")
    assert mx.alive(), "smtpd died"
    got = mx.delivered_by_id(timeout=30)
    lost = [r.queue_id for r in accepted if r.queue_id not in got]
    if lost:
        problems.append(f"accepted but not delivered: {lost}")
    delivered_clean = [(name, got[r.queue_id][0]) for name, r in clean if r.queue_id in got]
    verdicts = peer_verdicts(fx.zone, [m for _, m in delivered_clean], fx.work)
    for (name, m), v in zip(delivered_clean, verdicts):
        ours = [t for t in arc_seals(m) if t.get("d") == SEAL_DOMAIN]
        want = ("pass", "pass") if ours else ("none", "none")
        note = "sealed" if ours else "not sealed"
        print(f"     {name}: delivered {note}, dkimpy {v[0]}, Mail::DKIM {v[1]}", flush=True)
        if tuple(x.split()[0] for x in v) != want:
            problems.append(f"{name}: delivered {note} but peers say {v}")
    final = mx.send(SENDER, RCPT, message("after hostile input"))
    m = delivered_one(mx, final)
    assert_pass(fx, [m])
    assert not problems, "; ".join(problems)


@case("8 SPF: spf=pass / spf=fail in the A-R and the AAR; an SPF SERVFAIL defers (421)")
def case_spf(mx: H.Smtpd, fx: Fixture):
    got = {}
    for domain, want in (("spf-pass.example.org", "pass"), ("spf-fail.example.org", "fail")):
        sender = f"user@{domain}"
        m = delivered_one(mx, mx.send(sender, RCPT, message(f"spf {want}")))
        resinfo = re.compile(r"\bspf=" + want + r"\s+smtp\.mailfrom=" + re.escape(sender) + r"\b")
        ar = our_auth_results(m)
        assert len(ar) == 1 and resinfo.search(ar[0]), f"{domain}: A-R {ar}"
        assert ar[0].index("arc=") < ar[0].index("spf="), f"{domain}: arc= not first: {ar}"
        aar = [v.decode(errors="replace") for v in H.header_values(m, "ARC-Authentication-Results")]
        assert len(aar) == 1 and resinfo.search(aar[0]), f"{domain}: AAR {aar}"
        assert fx.dns_queries(domain) > 0, f"{domain}: the filter never asked for its SPF record"
        got[want] = m
    assert_pass(fx, list(got.values()))  # the seal covers the AAR with our spf= result
    # A temporary DNS failure of the SPF lookup: deferred like an ARC temperror (default 421).
    marker_msg = message("spf servfail")
    marker = H.header_values(marker_msg, "Message-ID")[0]
    r = mx.send(f"user@{SPF_SERVFAIL}", RCPT, marker_msg, timeout=60)
    assert r.code == 421 and r.stage == "dot", f"SPF SERVFAIL: {r!r}"
    assert fx.dns_queries(SPF_SERVFAIL) > 0, "the filter never asked for the SPF record"
    assert mx.alive(), "smtpd died after the SPF tempfail"
    delivered_one(mx, mx.send(SENDER, RCPT, message("after spf servfail")))
    assert not in_maildir(mx, marker), "the SPF-tempfailed message was delivered"


def resinfos(value: str) -> list[str]:
    """The resinfos of an unfolded A-R or AAR value after its authserv-id (and the AAR's i=),
    whitespace collapsed; split at ';' outside comments and quoted-strings (RFC 8601 §2.2)."""
    parts, cur, depth, quoted, esc = [], "", 0, False, False
    for c in value:
        if esc:
            esc = False
        elif quoted:
            esc, quoted = c == "\\", c != '"'
        elif c == '"':
            quoted = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c == ";" and not depth:
            parts.append(cur)
            cur = ""
            continue
        cur += c
    parts.append(cur)
    parts = [re.sub(r"\s+", " ", p).strip() for p in parts]
    if parts and re.fullmatch(r"i=\d+", parts[0]):
        parts = parts[1:]
    return parts[1:]


def dmarc_note(text: str) -> str:
    """Pattern for the policy note of a dmarc= resinfo, as reason="..." or as a comment."""
    return r"(reason=\"" + re.escape(text) + r"\"|\(" + re.escape(text) + r"\)) "


def dkim_sign(fx: Fixture, msg: bytes) -> bytes:
    """msg (CRLF) with a DKIM-Signature of AUTH_DOMAIN per key on top, made by dkimpy; checked
    with dkimpy against our records first, so a bad fixture is not blamed on the filter."""
    import dkim
    signed = H.to_crlf(msg)
    for alg, (selector, key) in fx.dkim.items():
        sig = dkim.sign(signed, selector.encode(), AUTH_DOMAIN.encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        signature_algorithm=b"ed25519-sha256" if alg == "ed25519"
                        else b"rsa-sha256",
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        signed = sig + signed

    def txt(name, timeout=5):
        return fx.records.get(name.decode().rstrip("."), "").encode() or None

    d = dkim.DKIM(signed)
    for i in range(len(fx.dkim)):
        assert d.verify(idx=i, dnsfunc=txt), f"fixture: dkimpy rejects its own signature {i}"
    return signed


@case("9 SPF, DKIM, DMARC: pass/pass/pass and dmarc=fail p=reject, in the A-R and the AAR")
def case_sender_auth(mx: H.Smtpd, fx: Fixture):
    # 1: MAIL FROM and From in AUTH_DOMAIN; SPF passes for 127.0.0.1, two dkimpy signatures.
    sender = f"user@{AUTH_DOMAIN}"
    sent = dkim_sign(fx, message("sender auth pass").replace(
        b"From: Sender <sender@example.org>", f"From: Author <author@{AUTH_DOMAIN}>".encode()))
    good = delivered_one(mx, mx.send(sender, RCPT, sent))
    ar = our_auth_results(good)
    assert len(ar) == 1, f"A-R: {ar}"
    got = resinfos(ar[0])
    print(f"     pass A-R: {ar[0]}", flush=True)
    sigs = {tags(v)["s"]: tags(v) for v in H.header_values(sent, "DKIM-Signature")}
    want = [r"arc=none\b.*",
            r"spf=pass smtp\.mailfrom=" + re.escape(sender)]
    for alg in fx.dkim:  # in message order: the last one dkim_sign() added is on top
        selector = fx.dkim[alg][0]
        b8 = re.escape(sigs[selector]["b"][:8])
        # header.i: dkimpy writes i=@d, the default (RFC 6376 §3.5); reporting it is optional
        want.insert(2, r"dkim=pass header\.d=" + re.escape(AUTH_DOMAIN) +
                    r"( header\.i=@" + re.escape(AUTH_DOMAIN) + r")?" +
                    r" header\.s=" + re.escape(selector) +
                    r" header\.a=" + re.escape(sigs[selector]["a"]) + r" header\.b=" + b8 + r".*")
    want.append(r"dmarc=pass " + dmarc_note("p=reject sp=reject dis=none") + r"header\.from=" +
                re.escape(AUTH_DOMAIN) + r" policy\.dmarc=reject")
    assert len(got) == len(want) and all(re.fullmatch(w, g) for w, g in zip(want, got)), \
        f"A-R resinfos {got}, expected {want}"
    aar = [v.decode(errors="replace") for v in H.header_values(good, "ARC-Authentication-Results")]
    assert len(aar) == 1 and re.match(r"i=\s*1\s*;\s*" + re.escape(AUTHSERV_ID), aar[0]), \
        f"AAR: {aar}"
    print(f"     pass AAR: {aar[0]}", flush=True)
    # The AAR records the spf, dkim and dmarc results of our A-R as they are (RFC 8617
    # §4.1.1); its arc= resinfo is written without the A-R's comment.
    assert re.fullmatch(r"arc=none\b.*", resinfos(aar[0])[0]) and resinfos(aar[0])[1:] == got[1:], \
        f"AAR {resinfos(aar[0])} != A-R {got}"
    for name in (f"_dmarc.{AUTH_DOMAIN}", AUTH_DOMAIN,
                 *(f"{s}._domainkey.{AUTH_DOMAIN}" for s, _ in fx.dkim.values())):
        assert fx.dns_queries(name) > 0, f"the filter never asked for {name}"

    # 2: From a p=reject domain, no DKIM, MAIL FROM in another organization (SPF passes there,
    # unaligned, RFC 7489 §3.1.2): dmarc=fail, the policy asks for reject; the filter only
    # reports (delivery and sealing go on).
    sender = "user@spf-pass.example.org"
    sent = message("dmarc fail").replace(b"From: Sender <sender@example.org>",
                                         f"From: Author <author@{DMARC_FAIL_DOMAIN}>".encode())
    bad = delivered_one(mx, mx.send(sender, RCPT, sent))
    ar = our_auth_results(bad)
    assert len(ar) == 1, f"A-R: {ar}"
    print(f"     fail A-R: {ar[0]}", flush=True)
    got = resinfos(ar[0])
    want = [r"arc=none\b.*", r"spf=pass smtp\.mailfrom=" + re.escape(sender), r"dkim=none",
            r"dmarc=fail " + dmarc_note("p=reject sp=reject dis=reject") + r"header\.from=" +
            re.escape(DMARC_FAIL_DOMAIN) + r" policy\.dmarc=reject"]
    assert len(got) == len(want) and all(re.fullmatch(w, g) for w, g in zip(want, got)), \
        f"A-R resinfos {got}, expected {want}"
    aar = [v.decode(errors="replace") for v in H.header_values(bad, "ARC-Authentication-Results")]
    assert len(aar) == 1 and re.match(r"i=\s*1\s*;", aar[0]) and \
        re.fullmatch(r"arc=none\b.*", resinfos(aar[0])[0]) and resinfos(aar[0])[1:] == got[1:], \
        f"AAR {aar}, A-R {got}"
    print(f"     fail AAR: {aar[0]}", flush=True)
    assert fx.dns_queries(f"_dmarc.{DMARC_FAIL_DOMAIN}") > 0, "the filter never asked for DMARC"
    for m in (good, bad):
        s = top_seal(m)
        assert s.get("i") == "1" and s.get("cv") == "none" and s.get("d") == SEAL_DOMAIN, s
    assert_pass(fx, [good, bad])  # the seals cover the AARs with these results


# ---- protocol 0.6 / 0.7 differences (issue 17) ------------------------------------------------

# A body line longer than the 1,997 data bytes smtpd before 7.4 passes back from a filter
# (protocol notes §0 "Line length"), shorter than the 998-octet-free SMTP limit smtpd enforces.
LONG_LINE = b"".join(b"%04d:" % i + b"abcdefghijklmnopqrstuvwxyz"[i % 26:] for i in range(200))[:2500]
LONG_BODY = b"before the long line\n" + LONG_LINE + b"\nafter the long line\n"
CUT_AT = 1997
assert len(LONG_LINE) == 2500


def filter_log_line(mx: H.Smtpd, qid: str, timeout: float = 5.0) -> str:
    """The filter's one log line for smtpd message id qid (stderr, relayed into smtpd's log)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in mx.log().splitlines()
                 if "arc: session=" in l and f" msgid={qid} " in l]
        if lines or time.monotonic() > deadline:
            assert len(lines) == 1, f"expected one filter log line for {qid}, got {lines}"
            return lines[0]
        time.sleep(0.1)


def filter_arc_verify(fx: Fixture, msg: bytes) -> str:
    """`filter-arc verify --json` against the run's zone: the arc= value ("pass", ...)."""
    import json
    path = os.path.join(fx.work, f"verify.{time.time_ns()}.eml")
    with open(path, "wb") as f:
        f.write(msg)
    r = run([fx.exe, "verify", "--dns-zone", fx.zone, "--json", path])
    try:
        return json.loads(r.stdout.decode() or "{}").get("arc", f"error rc={r.returncode}")
    except ValueError:
        return f"error: {r.stdout[:200]!r} {r.stderr[:200]!r}"


@case("10 (protocol 0.7) a 2,500-byte body line is sealed, stored intact and verifies",
      protocols=("0.7",), skip_reason="smtpd before 7.4 cuts filter output lines at 1,997 "
      "bytes; the 0.6 variant of case 10 checks that")
def case_long_line_07(mx: H.Smtpd, fx: Fixture):
    sent = message("long line 0.7", LONG_BODY)
    r = mx.send(SENDER, RCPT, sent)
    m = delivered_one(mx, r)
    assert body_of(m) == body_of(sent), "the body (with its 2,500-byte line) changed in transit"
    s = top_seal(m)
    assert s.get("i") == "1" and s.get("cv") == "none" and s.get("d") == SEAL_DOMAIN, \
        f"not sealed by us: {s}"
    log = filter_log_line(mx, r.queue_id)
    assert " sealed=yes " in log, f"log: {log}"
    ours = filter_arc_verify(fx, m)
    assert ours == "pass", f"filter-arc verify: arc={ours}"
    assert_pass(fx, [m])  # dkimpy and Mail::DKIM


@case("10 (protocol 0.6) a 2,500-byte body line is stored cut at 1,997 and not sealed",
      protocols=("0.6",), skip_reason="smtpd 7.4+ stores the line whole; the 0.7 variant of "
      "case 10 checks that")
def case_long_line_06(mx: H.Smtpd, fx: Fixture):
    sent = message("long line 0.6", LONG_BODY)
    r = mx.send(SENDER, RCPT, sent)
    m = delivered_one(mx, r)
    want = body_of(sent).replace(LONG_LINE, LONG_LINE[:CUT_AT])
    assert body_of(m) == want, "the body is not the one smtpd 6.8 stores (line cut at 1,997)"
    assert not [t for t in arc_seals(m) if t.get("d") == SEAL_DOMAIN], \
        "sealed, but smtpd 6.8 cuts the line the seal covers"
    ar = our_auth_results(m)
    assert len(ar) == 1 and re.search(r"\barc=none\b", ar[0]), f"A-R: {ar}"
    log = filter_log_line(mx, r.queue_id)
    assert " sealed=no " in log and " seal=line_cut " in log, f"log: {log}"


# SMTP AUTH (case 11): the user name holds '|', which only protocol 0.7 can carry (user last).
AUTH_USER, AUTH_PASSWORD = "arc|e2e", "e2e-secret"
PKI_NAME = "mx.example.test"


def auth_listener(work: str) -> dict:
    """Smtpd() options for a STARTTLS listener offering AUTH against a one-user table
    (`user crypt(3)-hash`, table(5))."""
    d = os.path.join(work, "auth")
    os.makedirs(d, exist_ok=True)
    cert, key, creds = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "creds"))
    # An ECDSA key: smtpd 6.8 signs in a separate process whose RSA path fails (EVP lib) under
    # OpenSSL 3; its ECDSA path works.
    r = run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", f"/CN={PKI_NAME}", "-keyout", key, "-out", cert])
    if r.returncode != 0:
        raise RuntimeError(f"openssl req: {r.stderr.decode()[-500:]}")
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    r = run(["/usr/bin/openssl", "passwd", "-6", AUTH_PASSWORD])  # crypt(3) SHA-512
    if r.returncode != 0:
        raise RuntimeError(f"openssl passwd: {r.stderr.decode()[-500:]}")
    H.write_private(creds, f"{AUTH_USER}\t{r.stdout.decode().strip()}\n", 0o600)
    return dict(preamble=f'pki {PKI_NAME} cert "{cert}"\npki {PKI_NAME} key "{key}"\n'
                         f'table creds file:{creds}',
                # auth-optional: sessions without AUTH may send too (`auth` would refuse them)
                listen_options=f"tls pki {PKI_NAME} auth-optional <creds>")


@case("11 (protocol 0.7) an SMTP AUTH session is recognised: trusted, sealed, no SPF",
      protocols=("0.7",), skip_reason="link-auth is username|result before 0.7 (a user name "
      "with '|' cannot be told apart; tests/filter/engine_test.cpp feeds the 0.6 order), and "
      "smtpd 6.8's STARTTLS, which AUTH needs, fails on Debian 12 (EVP lib)")
def case_smtp_auth(mx: H.Smtpd, fx: Fixture):
    tls = dict(starttls=True, helo="client.example.org")
    # a: authenticated as a user whose name holds '|'
    sent = message("smtp auth")
    r = mx.send(SENDER, RCPT, sent, auth=(AUTH_USER, AUTH_PASSWORD), **tls)
    authed = delivered_one(mx, r)
    log = filter_log_line(mx, r.queue_id)
    s = top_seal(authed)
    assert s.get("i") == "1" and s.get("d") == SEAL_DOMAIN, \
        f"the authenticated session was not sealed (seal.when = trusted): {s}; log: {log}"
    assert " sealed=yes " in log and re.search(r' spf=skipped spf_reason="?authenticated session',
                                               log), f"log: {log}"
    ar = our_auth_results(authed)
    assert len(ar) == 1 and "spf=" not in ar[0], f"A-R of the authenticated session: {ar}"
    # b: the same listener, no AUTH; c: a refused AUTH, then the mail in the same session
    for label, opts in (("no AUTH", {}),
                        ("refused AUTH", dict(auth=(AUTH_USER, "wrong"), auth_may_fail=True))):
        r = mx.send(SENDER, RCPT, message(f"smtp {label}"), **tls, **opts)
        m = delivered_one(mx, r)
        log = filter_log_line(mx, r.queue_id)
        assert not arc_seals(m), f"{label}: sealed although not trusted; log: {log}"
        assert " sealed=no " in log and " spf=none " in log, f"{label}: log: {log}"
        ar = our_auth_results(m)
        assert len(ar) == 1 and re.search(r"\bspf=none\b", ar[0]), f"{label}: A-R {ar}"
    assert_pass(fx, [authed])


def _send_and_abort(mx: H.Smtpd, msg: bytes, after: int) -> H.Reply:
    """EHLO, MAIL, RCPT, DATA, then `after` bytes of the message and a hard close."""
    import socket
    payload = H.dot_stuff(H.to_crlf(msg))[:after]
    try:
        with H._connect_gate:
            s = socket.create_connection(("127.0.0.1", mx.port), timeout=15)
        with s:
            f = s.makefile("rb")
            f.readline()
            for cmd in (b"EHLO client.example.org", b"MAIL FROM:<%s>" % SENDER.encode(),
                        b"RCPT TO:<%s>" % RCPT.encode(), b"DATA"):
                s.sendall(cmd + b"\r\n")
                while True:
                    line = f.readline()
                    if not line or line[3:4] != b"-":
                        break
            s.sendall(payload)
            time.sleep(0.3)
    except OSError as e:
        return H.Reply(0, f"aborted with error {e}", "dot")
    time.sleep(0.5)
    return H.Reply(0, "aborted by client", "dot")


def log_problems(text: str) -> list[str]:
    bad = []
    for pat in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "lost processor",
                "fatal", "Invalid filter message"):
        if pat.lower() in text.lower():
            line = next(l for l in text.splitlines() if pat.lower() in l.lower())
            bad.append(line.strip()[:200])
    return bad


def check_filter_process(mx: H.Smtpd, exe: str) -> None:
    """With FILTER_ARC_E2E_COMMAND: the filter smtpd started is the binary exe resolves to."""
    want = os.path.realpath(exe)
    exes = set()
    for pid in H._descendants(mx.proc.pid):
        try:
            exes.add(os.readlink(f"/proc/{pid}/exe"))
        except OSError:
            pass
    ok = want in exes
    results.append((f"smtpd runs {mx.filter_command.split()[0]!r} as {want}", ok,
                    "" if ok else f"smtpd's processes run {sorted(exes)}"))
    print(f"{'ok  ' if ok else 'FAIL'} proc-exec {mx.filter_command.split()[0]!r} runs {want}",
          flush=True)


# ---- main ---------------------------------------------------------------------------------------

def main() -> int:
    H.run_or_skip()
    if len(sys.argv) != 2:
        print("usage: test_filter_arc.py PATH/TO/filter-arc")
        return 2
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK) or not filter_mode_available(exe):
        print(f"SKIP: filter mode not available ({exe} --help does not offer -c CONFIG)")
        return H.SKIP
    missing = missing_tools()
    if missing:
        print("FAIL: missing test tools (scripts/setup installs them): " + ", ".join(missing))
        return 1
    t0 = time.monotonic()
    work = H.make_workdir("filter-arc-e2e-arc.")
    keep = bool(os.environ.get("FILTER_ARC_E2E_KEEP"))
    fx = None
    finished = False
    try:
        fx = Fixture(work, exe)
        fx.start_dns()
        staged = H.stage(exe, work)
        # FILTER_ARC_E2E_COMMAND: what smtpd.conf's proc-exec names instead of that path, e.g.
        # "filter-arc" for the installed package (smtpd looks it up in its libexec directory).
        command = os.environ.get("FILTER_ARC_E2E_COMMAND") or staged
        common = dict(authserv_id=AUTHSERV_ID, domain=SEAL_DOMAIN, selector=SEAL_SELECTOR,
                      key_file=fx.seal_key, dns_servers=f"127.0.0.1:{fx.dns_port}",
                      dns_timeout_ms=500, dns_tries=2,
                      auth_spf=True, auth_dkim=True, auth_dmarc=True)
        cfg = write_filter_config(os.path.join(work, "filter-arc.toml"), **common)
        cfg451 = write_filter_config(os.path.join(work, "filter-arc-451.toml"),
                                     tempfail_reply=TEMPFAIL_451, **common)
        for c in (cfg, cfg451):  # as the user smtpd runs the filter as: also checks key access
            r = subprocess.run([staged, "check-config", "-c", c], user=H.SMTPD_USER,
                               group=H.SMTPD_USER, extra_groups=[], capture_output=True,
                               timeout=30)
            if r.returncode != 0:
                print(f"FAIL: filter-arc check-config -c {c}: {r.stderr.decode().strip()}")
                return 1
        print(f"fixtures ready in {time.monotonic() - t0:.1f} s (dns on 127.0.0.1:{fx.dns_port})",
              flush=True)

        with H.Smtpd(f"{command} -c {cfg}", workdir=os.path.join(work, "mx")) as mx:
            print(f"smtpd up on 127.0.0.1:{mx.port}", flush=True)
            if command != staged:
                check_filter_process(mx, exe)
            case_unsigned(mx, fx)
            case_two_hops(mx, fx)
            case_broken(mx, fx)
            case_tricky(mx, fx)
            case_tempfail_default(mx, fx)
            case_concurrent(mx, fx)
            case_hostile(mx, fx)
            case_spf(mx, fx)
            case_sender_auth(mx, fx)
            case_long_line_07(mx, fx)
            case_long_line_06(mx, fx)
            bad = log_problems(mx.log())
            if not mx.alive():
                bad.append(f"smtpd not alive at the end (exit {mx.exit_status})")
            if bad:
                results.append(("smtpd log clean and smtpd alive", False, "; ".join(bad)))
                print("FAIL smtpd log / liveness: " + "; ".join(bad))
            else:
                results.append(("smtpd log clean and smtpd alive", True, ""))
            if not all(ok for _, ok, _ in results):
                print("---- smtpd log (tail) ----\n" + H._tail(mx.log(), 80))

        with H.Smtpd(f"{command} -c {cfg451}", workdir=os.path.join(work, "mx451")) as mx:
            case_tempfail_451(mx, fx)
            if not mx.alive() or log_problems(mx.log()):
                results.append(("smtpd (451 config) log clean and alive", False,
                                "; ".join(log_problems(mx.log()))))

        if H.filter_protocol() == "0.7":
            # seal only trusted clients; loopback is not trusted, SMTP AUTH users are
            cfg_auth = write_filter_config(os.path.join(work, "filter-arc-auth.toml"),
                                           trusted_networks=["192.0.2.0/24"],
                                           trust_authenticated=True, seal_when="trusted",
                                           **common)
            with H.Smtpd(f"{command} -c {cfg_auth}", workdir=os.path.join(work, "mxauth"),
                         **auth_listener(work)) as mx:
                case_smtp_auth(mx, fx)
                if not mx.alive() or log_problems(mx.log()):
                    results.append(("smtpd (AUTH listener) log clean and alive", False,
                                    "; ".join(log_problems(mx.log()))))
        else:
            case_smtp_auth(None, fx)  # reports the SKIP and its reason
        finished = True
    except H.SmtpdError as e:
        results.append(("smtpd start", False, str(e)))
        print(f"FAIL: {e}")
        finished = True
    finally:
        if fx is not None:
            fx.stop_dns()
        failed = [n for n, ok, _ in results if not ok]
        if failed or keep or not finished:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = [n for n, ok, _ in results if not ok]
    for name, why in skipped:
        print(f"skipped: {name}: {why}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed"
          f"{f', {len(skipped)} skipped' if skipped else ''} ({time.monotonic() - t0:.1f} s)")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
