#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Cross-mode equivalence (issue 16, "Done when"): one corpus of messages through every mode of
the filter-arc binary with the same settings, and the same added header fields and log fields
must come out.

Corpus (each message as it reaches our MTA: its own Received: field first, which is the trust
boundary of RFC 8601 §5): plain; ARC chains of 1, 2 and 3 sets; two broken chains (body changed
after the last seal, an ARC-Seal edited); DKIM-signed (RFC 6376, by dkimpy); a forged
Authentication-Results with our authserv-id below the boundary; SPF pass and SPF fail.

Modes:
  smtpd  `filter-arc -c CFG`, the OpenSMTPD filter protocol (0.6) on stdin: one session per
         message (link-connect with the client address, HELO, MAIL FROM), data-lines, commit.
  exim   `filter-arc exim -c CFG`, the message on stdin with the X-ARC-Context header Exim's
         transport adds (the connection facts); run without Exim, its syslog caught on a socket
         of our own (a private /dev in a mount namespace, as tests/exim does; needs root).
  seal   `filter-arc seal` with the same domain, selector, key, authserv-id and DNS server.
  verify `filter-arc verify` with the same authserv-id and DNS server.

Two settings:
  A "envelope": the configuration's defaults (SPF, DKIM, DMARC on) and the client's envelope:
    smtpd and exim must agree (all messages, SPF pass/fail included).
  B "message only": [authentication] spf = false, and no client address in any mode, because
    the command line has no envelope: smtpd, exim, `seal -c FILE` and `verify -c FILE` (the
    same configuration file) must all agree.

Compared: every added field, byte for byte, except the values of t= and b= in
ARC-Message-Signature and ARC-Seal (signing time and signature; Ed25519 signatures are
deterministic, but the time is not). bh= is NOT excepted: the same body must hash the same.
`verify` adds nothing to the message: its Authentication-Results line must equal the one the
filter adds. Log fields: the key=value pairs of the per-message log line, except the fields
that name the mode's own plumbing (MODE_FIELDS below: smtpd's session and msgid, Exim's mode,
the size each mode counts in its own framing); the CLI's log line is read from its stderr.

Nothing is marked as expected to fail: on the code before issue 16 the seal/verify checks fail
(the command line has its own pipeline: no Received boundary, no scrubbing, no sender
authentication, no log line). Each failure names the case and the differing fields.

Usage: test_cross_mode.py /path/to/filter-arc SOURCE_ROOT
"""

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
import filterproc as fp  # noqa: E402

check = fp.Checks()
AUTHSERV = "mx.xmode.test"
SEALER = ("xmode.test", "s1")

# Log fields that describe a mode's plumbing, not the message's verdict.
MODE_FIELDS = {
    "session",  # smtpd: the session id
    "msgid",    # smtpd: smtpd's message id
    "mode",     # exim: mode=exim
    "size",     # bytes as each mode frames them (data-lines vs LF text with X-ARC-Context)
}
# The per-message log line is the one that says what happened to the message.
ACTION = re.compile(r"(^|\s)action=")
ADDED_NAMES = ("Authentication-Results", "ARC-Authentication-Results", "ARC-Message-Signature",
               "ARC-Seal")


# ---- keys, zone, DNS ---------------------------------------------------------------------

def keygen(d, domain, selector, kind="ed25519"):
    return fp.keygen(BIN, d, domain, selector, kind)


class World:
    def __init__(self, d):
        self.d = d
        self.records = {}
        self.keys = {}
        for dom in ("a.example", "b.example", "c.example", SEALER[0]):
            path, rec = keygen(d, dom, "s1")
            self.keys[dom] = path
            self.records[f"s1._domainkey.{dom}"] = rec
        path, rec = keygen(d, "example.org", "dk", "rsa")
        self.dkim_key = path
        self.records["dk._domainkey.example.org"] = rec
        # RFC 7208: 192.0.2.7 may send for example.org; RFC 7489: p=none (never a reject).
        self.records["example.org"] = "v=spf1 ip4:192.0.2.7 -all"
        self.records["_dmarc.example.org"] = "v=DMARC1; p=none"
        self.zone = os.path.join(d, "zone")
        fp.write(self.zone, fp.zone_text(self.records))
        self.dns = fp.Dns(ROOT, self.zone)

    def stop(self):
        self.dns.stop()


# ---- the corpus --------------------------------------------------------------------------

PLAIN = ("From: Sender <sender@example.org>\n"
         "To: rcpt@example.test\n"
         "Subject: cross-mode\n"
         "Date: Mon, 07 Dec 2026 00:00:00 +0000\n"
         "Message-ID: <xmode-1@example.org>\n"
         "\n"
         "first body line\n"
         ".leading dot\n"
         "pipe|inside|line\n"
         "\n")

RECEIVED = ("Received: from client.example.org (client.example.org [{ip}])\n"
            "\tby mx.xmode.test with ESMTP id 35163a36\n"
            "\tfor <rcpt@example.test>; Mon, 07 Dec 2026 00:00:01 +0000\n")


def run(args, data=None, timeout=60):
    p = subprocess.run([BIN, *args], input=data, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def hop_seal(w, text, domain):
    """`text` sealed by a forwarder at `domain` (with a Received: field of its own on top)."""
    hop = (f"Received: from relay.{domain} (relay.{domain} [203.0.113.5])\n"
           f"\tby mx.{domain} with ESMTP; Mon, 07 Dec 2026 00:00:00 +0000\n")
    rc, out, err = run(["seal", "--domain", domain, "--selector", "s1", "--key", w.keys[domain],
                        "--authserv-id", "mx." + domain,
                        "--dns-server", f"127.0.0.1:{w.dns.port}", "-"],
                       (hop + text).encode())
    if rc != 0 or not out.startswith(b"ARC-Seal:"):
        raise RuntimeError(f"fixture: seal by {domain} failed: rc {rc} {err!r}")
    return out.decode()


def dkim_signed(w, text):
    import dkim  # Debian's python3-dkim (dkimpy), as the interop tests use
    with open(w.dkim_key, "rb") as f:
        key = f.read()
    msg = text.replace("\n", "\r\n").encode()
    sig = dkim.sign(msg, b"dk", b"example.org", key,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return (sig + msg).decode().replace("\r\n", "\n")


def replace_once(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def corpus(w):
    """[(case, message text below our Received: field, client ip, helo, mail from)]."""
    one = hop_seal(w, PLAIN, "a.example")
    two = hop_seal(w, one, "b.example")
    three = hop_seal(w, two, "c.example")
    body_changed = replace_once(two, "first body line", "first body line, changed")
    seal_edited = replace_once(two, "ARC-Seal: i=2;", "ARC-Seal: i=2;  ")
    seal_edited = re.sub(r"(ARC-Seal: i=2;[^\n]*\n(?:[ \t][^\n]*\n)*)",
                         lambda m: m.group(1).replace("cv=pass", "cv=none"), seal_edited, 1)
    forged = ("Authentication-Results: " + AUTHSERV + "; arc=pass; spf=pass "
              "smtp.mailfrom=sender@example.org; dkim=pass header.d=example.org\n" + PLAIN)
    ok = ("192.0.2.7", "client.example.org", "sender@example.org")
    bad = ("198.51.100.9", "client.example.org", "sender@example.org")
    return [
        ("plain", PLAIN, *ok),
        ("chain of 1 set", one, *ok),
        ("chain of 2 sets", two, *ok),
        ("chain of 3 sets", three, *ok),
        ("broken chain: body changed after the last seal", body_changed, *ok),
        ("broken chain: ARC-Seal i=2 edited", seal_edited, *ok),
        ("DKIM-signed", dkim_signed(w, PLAIN), *ok),
        ("forged A-R with our authserv-id below the boundary", forged, *ok),
        ("SPF pass", PLAIN, *ok),
        ("SPF fail", PLAIN, *bad),
    ]


# ---- settings ----------------------------------------------------------------------------

def config(w, d, name, spf):
    path = os.path.join(d, name + ".toml")
    fp.write(path,
             f'authserv-id = "{AUTHSERV}"\n'
             + f'[authentication]\nspf = {"true" if spf else "false"}\n'
             + f'[seal]\ndomain = "{SEALER[0]}"\nselector = "{SEALER[1]}"\n'
             + f'key = "{w.keys[SEALER[0]]}"\n'
             + f'[dns]\nservers = ["127.0.0.1:{w.dns.port}"]\ntimeout-ms = 1000\ntries = 2\n'
             + 'message-deadline-ms = 10000\n')
    return path


# ---- the modes ---------------------------------------------------------------------------

def split_fields(lines):
    """Header fields (name, [raw lines]) from a list of lines (no EOL)."""
    fields = []
    for l in lines:
        if l[:1] in (" ", "\t") and fields:
            fields[-1][1].append(l)
        else:
            fields.append((l.split(":", 1)[0], [l]))
    return fields


def split_output(out, inp):
    """(added lines, removed input fields) when `out` (lines) is our fields followed by `inp`
    (lines) minus whole Authentication-Results fields (scrubbed); else (None, None)."""
    n = 0
    while n < len(out) and (fp.ADDED.match(out[n]) or (n > 0 and out[n][:1] in (" ", "\t"))):
        n += 1
    added, rest = out[:n], out[n:]
    removed, i, j = [], 0, 0
    while i < len(inp):
        if j < len(rest) and rest[j] == inp[i]:
            i += 1
            j += 1
            continue
        if not inp[i].lower().startswith("authentication-results:"):
            return None, None
        k = i + 1
        while k < len(inp) and inp[k][:1] in (" ", "\t"):
            k += 1
        removed.append("\n".join(inp[i:k]))
        i = k
    if j != len(rest):
        return None, None
    return added, removed


def log_fields(line):
    """key=value pairs of one log line (values may be quoted with \\-escapes)."""
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)', line):
        out[m.group(1)] = m.group(2)
    return out


def smtpd_mode(cfg, d, cases, with_ip):
    """{case: (added lines, commit answer, log fields)} through one filter process."""
    f = fp.Filter([BIN, "-c", cfg], os.path.join(d, "smtpd.stderr"))
    f.send(fp.HANDSHAKE)
    results = {}
    for n, (case, text, ip, helo, mail_from) in enumerate(cases):
        s = fp.session_id(n)
        lines = (RECEIVED.format(ip=ip if with_ip else "127.0.0.1") + text).split("\n")[:-1]
        r = f"report|0.6|1795918548.1|smtp-in|"
        src = f"{ip}:59658" if with_ip else "unix:/var/run/smtpd.sock"
        f.send([r + f"link-connect|{s}|client.example|pass|{src}|127.0.0.1:25",
                r + f"link-identify|{s}|EHLO|{helo}",
                r + f"tx-begin|{s}|35163a36",
                r + f"tx-mail|{s}|35163a36|ok|{mail_from}",
                r + f"tx-rcpt|{s}|35163a36|ok|rcpt@example.test"]
               + fp.data_lines(s, lines))
        end = f"filter-dataline|{s}|{fp.TOK}|.\n".encode()
        f.wait_for(lambda b: end in b, 30)
        f.send([fp.commit_line(s)])
        f.wait_for(lambda b: f"filter-result|{s}|".encode() in b, 30)
        f.send([fp.disconnect_line(s)])
    rc = f.finish()
    per, bad = fp.parse_output(f.output())
    check(rc == 0 and not bad, f"smtpd mode: exit {rc}, every output line well-formed {bad[:2]}")
    logs = [l for l in f.stderr().split("\n") if "session=" in l and ACTION.search(l)]
    for n, (case, text, ip, helo, mail_from) in enumerate(cases):
        s = fp.session_id(n)
        lines = (RECEIVED.format(ip=ip if with_ip else "127.0.0.1") + text).split("\n")[:-1]
        e = per.get(s, {"data": [], "results": []})
        data = e["data"]
        ok = data[-1:] == ["."] and data.count(".") == 1
        out = [l[1:] if l.startswith(".") else l for l in data[:-1]]
        added, removed = split_output(out, lines) if ok else (None, None)
        log = [log_fields(l) for l in logs if f"session={s}" in l]
        results[case] = (added, e["results"], log[0] if len(log) == 1 else None, removed)
    return results


class Syslog:
    """A datagram socket standing in for /dev/log in a private mount namespace (root only)."""

    def __init__(self, d):
        self.dev = os.path.join(d, "dev")
        os.makedirs(self.dev, exist_ok=True)
        for n in ("null", "zero", "random", "urandom"):
            open(os.path.join(self.dev, n), "a").close()
        self.path = os.path.join(self.dev, "log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.records = []
        self.lock = threading.Lock()
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = re.sub(rb"^<\d+>", b"", data).decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.records.append(text)

    def command(self, args):
        """`args` run with this socket as /dev/log."""
        script = ('set -e; W="$0"; for n in null zero random urandom; do '
                  'mount --bind "/dev/$n" "$W/$n"; done; mount --rbind "$W" /dev; exec "$@"')
        return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script,
                self.dev, *args]

    def take(self, until="action=", timeout=5.0):
        """The records received so far, waiting (a while) for one that contains `until`: the
        datagrams are in the socket when the process exits, the reader may be behind."""
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if any(until in r for r in self.records):
                    break
            time.sleep(0.02)
        with self.lock:
            r, self.records = self.records, []
        return r

    def close(self):
        self.running = False
        self.t.join(timeout=2)
        self.sock.close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def exim_mode(cfg, cases, with_ip, syslog):
    results = {}
    for case, text, ip, helo, mail_from in cases:
        msg = RECEIVED.format(ip=ip if with_ip else "127.0.0.1") + text
        head, sep, body = msg.partition("\n\n")
        ctx = (f"X-ARC-Context: v=2; from={b64(mail_from)}; helo={b64(helo)}; auth=; "
               f"rcpt={b64('rcpt@example.test')}; ip={b64(ip) if with_ip else ''}\n")
        data = (head + "\n" + ctx + "\n" + body).encode()
        want = msg.encode()
        cmd = [BIN, "exim", "-c", cfg]
        if syslog:
            cmd = syslog.command(cmd)
        p = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
        logs = syslog.take() if syslog else []
        logs = [l for l in logs if ACTION.search(l)]
        added = removed = None
        if p.returncode == 0 and not p.stderr:
            added, removed = split_output(p.stdout.decode().split("\n")[:-1],
                                          want.decode().split("\n")[:-1])
        results[case] = (added, p.returncode,
                         log_fields(logs[0]) if len(logs) == 1 else None, removed)
    return results


def cli_mode(w, d, cases, with_ip, cfg):
    results = {}
    for n, (case, text, ip, helo, mail_from) in enumerate(cases):
        msg = RECEIVED.format(ip=ip if with_ip else "127.0.0.1") + text
        path = os.path.join(d, f"msg{n}.eml")
        with open(path, "w") as f:
            f.write(msg)
        # The configuration file of the filter modes: its authserv-id, [seal] key, DNS servers
        # and [authentication] settings.
        rc, out, err = run(["seal", "-c", cfg, path])
        added = removed = None
        if rc == 0:
            added, removed = split_output(out.decode().split("\n")[:-1], msg.split("\n")[:-1])
        logs = [l for l in err.decode("utf-8", "replace").split("\n") if ACTION.search(l)]
        vrc, vout, verr = run(["verify", "-c", cfg, path])
        results[case] = (added, rc, log_fields(logs[0]) if len(logs) == 1 else None, removed,
                         vout.decode("utf-8", "replace").split("\n")[:-1], vrc)
    return results


# ---- comparison --------------------------------------------------------------------------

def normalized(added):
    """{field name: [normalized raw field text]}: t= and b= values of AMS/AS blanked."""
    out = {}
    for name, raw in split_fields(added):
        text = "\n".join(raw)
        if name in ("ARC-Message-Signature", "ARC-Seal"):
            text = re.sub(r"(^|[;\s])t=\s*\d+", r"\1t=<t>", text)
            text = re.sub(r"(^|[;\s])b=[A-Za-z0-9+/=\s]*", r"\1b=<b>", text)
        out.setdefault(name, []).append(text)
    return out


def diff_fields(a, b, la, lb):
    """Short description of how the added fields of two modes differ ('' when equal)."""
    if a is None or b is None:
        return f"{la if a is None else lb}: no usable output"
    na, nb = normalized(a), normalized(b)
    parts = []
    for name in ADDED_NAMES:
        x, y = na.get(name), nb.get(name)
        if x != y:
            parts.append(f"{name}: {la}={x!r} {lb}={y!r}")
    for name in set(na) | set(nb):
        if name not in ADDED_NAMES:
            parts.append(f"unexpected field {name}")
    order_a = [name for name, _ in split_fields(a)]
    order_b = [name for name, _ in split_fields(b)]
    if not parts and order_a != order_b:
        parts.append(f"field order differs: {la}={order_a} {lb}={order_b}")
    return "; ".join(parts)


def diff_logs(a, b, la, lb):
    if a is None or b is None:
        return f"{la if a is None else lb}: no per-message log line"
    keys = (set(a) | set(b)) - MODE_FIELDS
    d = [f"{k}: {la}={a.get(k)!r} {lb}={b.get(k)!r}" for k in sorted(keys)
         if a.get(k) != b.get(k)]
    return "; ".join(d)


def our_ar(added):
    if added is None:
        return None
    for name, raw in split_fields(added):
        if name == "Authentication-Results":
            return raw[0] + "".join(" " + l.strip() for l in raw[1:])
    return None


def unfold_line(lines):
    return (lines[0] + "".join(" " + l.strip() for l in lines[1:])) if lines else None


def compare(setting, cases, sm, ex, cli):
    for case, *_ in cases:
        a, result, log_s, rm_s = sm[case]
        check(a is not None and result == ["proceed"],
              f"[{setting}] {case}: smtpd mode accepts it, input + our fields ({result})")
        if a is not None and log_s is not None:
            check(any(l.startswith("ARC-Seal:") for l in a),
                  f"[{setting}] {case}: smtpd mode sealed it (arc={log_s.get('arc')})")
        if ex is not None:
            b, rc, log_e, rm_e = ex[case]
            d = diff_fields(a, b, "smtpd", "exim")
            check(d == "", f"[{setting}] {case}: smtpd and exim add the same fields {d}")
            check(rm_s == rm_e, f"[{setting}] {case}: smtpd and exim remove the same fields: "
                                f"smtpd={rm_s} exim={rm_e}")
            if log_e is not None or log_s is None:
                d = diff_logs(log_s, log_e, "smtpd", "exim")
                check(d == "", f"[{setting}] {case}: smtpd and exim log the same fields {d}")
        if cli is not None:
            c, rc, log_c, rm_c, vlines, vrc = cli[case]
            d = diff_fields(a, c, "smtpd", "seal")
            check(d == "", f"[{setting}] {case}: smtpd and `filter-arc seal` add the same "
                           f"fields (seal exit {rc}) {d}")
            check(rm_s == rm_c, f"[{setting}] {case}: smtpd and `filter-arc seal` remove the "
                                f"same fields: smtpd={rm_s} seal={rm_c}")
            d = diff_logs(log_s, log_c, "smtpd", "seal")
            check(d == "", f"[{setting}] {case}: smtpd and `filter-arc seal` log the same "
                           f"fields {d}")
            va, sa = unfold_line(vlines), our_ar(a)
            check(va is not None and va == sa,
                  f"[{setting}] {case}: `filter-arc verify` prints the Authentication-Results "
                  f"the filter adds (verify exit {vrc}): verify={va!r} smtpd={sa!r}")


def main():
    d = tempfile.mkdtemp(prefix="filter-arc-xmode-", dir="/var/tmp")
    w = None
    syslog = None
    try:
        w = World(d)
        cases = corpus(w)
        if os.geteuid() == 0 and shutil.which("unshare"):
            try:
                syslog = Syslog(d)
                probe = subprocess.run(syslog.command(["true"]), capture_output=True, timeout=20)
                if probe.returncode != 0:
                    print("note: no private /dev here (" + probe.stderr.decode().strip()
                          + "): exim log fields not compared")
                    syslog.close()
                    syslog = None
            except OSError as e:
                print(f"note: no syslog socket ({e}): exim log fields not compared")
                syslog = None
        else:
            print("note: not root: exim log fields not compared (its log goes to syslog only)")
        print(f"{len(cases)} messages")

        cfg_a = config(w, d, "envelope", spf=True)
        sm = smtpd_mode(cfg_a, d, cases, with_ip=True)
        ex = exim_mode(cfg_a, cases, True, syslog)
        compare("A envelope", cases, sm, ex, None)
        # The SPF cases must show what they are about, in both modes.
        for case, want in (("SPF pass", "spf=pass"), ("SPF fail", "spf=fail")):
            check(sm[case][0] is not None and want in (our_ar(sm[case][0]) or ""),
                  f"[A envelope] {case}: our Authentication-Results says {want}")

        cfg_b = config(w, d, "message-only", spf=False)
        sm = smtpd_mode(cfg_b, d, cases, with_ip=False)
        ex = exim_mode(cfg_b, cases, False, syslog)
        cli = cli_mode(w, d, cases, False, cfg_b)
        compare("B message only", cases, sm, ex, cli)
    finally:
        if syslog:
            syslog.close()
        if w:
            w.stop()
        shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
