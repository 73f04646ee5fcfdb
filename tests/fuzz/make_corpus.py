#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*) from the ARC
test suite (read in place), the interop test messages and the example configurations.

Usage: tests/fuzz/make_corpus.py [--suite DIR]

Seeds are rewritten from scratch on every run; files named regress-* (inputs that once found a
bug, kept as regression tests) and any other files are left alone. Needs python3-yaml.
"""

import argparse
import hashlib
import os
import struct
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

S1 = "63df94b518cddfac"
S2 = "63df94cb4d35e174"
TOK = "e43f4b5e888d8c53"
COMMIT = "e43f4b628180a9ae"


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class Writer:
    def __init__(self):
        self.counts = {}
        self.seen = set()

    def clear(self, target):
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.unlink(os.path.join(d, f))

    def add(self, target, name, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        key = (target, hashlib.sha1(data).hexdigest())
        if key in self.seen:
            return
        self.seen.add(key)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
        with open(os.path.join(CORPUS, target, "seed-" + safe), "wb") as f:
            f.write(data)
        self.counts[target] = self.counts.get(target, 0) + 1


def load_suite(suite):
    cases = []  # (scenario index, id, dict)
    keys = {}
    for fname in ("arc-draft-validation-tests.yml", "arc-draft-sign-tests.yml"):
        path = os.path.join(suite, "tests", fname)
        with open(path, encoding="utf-8") as f:
            for n, doc in enumerate(yaml.safe_load_all(f)):
                if not doc:
                    continue
                for owner, txt in (doc.get("txt-records") or {}).items():
                    keys[owner] = "".join(str(txt).split("\n"))
                for cid, case in (doc.get("tests") or {}).items():
                    cases.append((fname, cid, case))
    return cases, keys


def arc_values(message):
    """(name, value) of each header field of a message, unfolded with CRLF kept."""
    out = []
    head = crlf(message).split("\r\n\r\n", 1)[0]
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + "\r\n" + line)
        elif ":" in line:
            name, value = line.split(":", 1)
            out.append((name, value))
    return out


def transcript(sessions, version="0.6", extra_end=""):
    """A protocol stream: handshake, then per session connect/tx/data/commit/disconnect."""
    out = ["config|smtpd-version|6.8.0p2", "config|smtp-session-timeout|300",
           "config|subsystem|smtp-in", "config|admd|mx.example.test", "config|ready"]
    t = "1795918548.1"

    def rep(s, ev, params=None):
        return f"report|{version}|{t}|smtp-in|{ev}|{s}" + ("" if params is None else "|" + params)

    for s, _lines in sessions:
        out.append(rep(s, "link-connect", "client.example|pass|192.0.2.7:59658|127.0.0.1:25"))
        out.append(rep(s, "link-identify", "EHLO|client.example"))
        out.append(rep(s, "tx-begin", "35163a36"))
        out.append(rep(s, "tx-mail", "35163a36|ok|<a@example.org>"))
        out.append(rep(s, "tx-rcpt", "35163a36|ok|<b@example.test>"))
    # Interleave the data lines of the sessions.
    iters = [(s, iter(lines)) for s, lines in sessions]
    while iters:
        nxt = []
        for s, it in iters:
            line = next(it, None)
            if line is None:
                out.append(f"filter|{version}|{t}|smtp-in|data-line|{s}|{TOK}|.")
                continue
            if line.startswith("."):
                line = "." + line
            out.append(f"filter|{version}|{t}|smtp-in|data-line|{s}|{TOK}|{line}")
            nxt.append((s, it))
        iters = nxt
    out.append("!a0o")
    out.append("!a0o")
    out.append("!d0")
    for s, _ in sessions:
        out.append(f"filter|{version}|{t}|smtp-in|commit|{s}|{COMMIT}|")
        out.append(rep(s, "link-disconnect"))
    return "\n".join(out) + "\n" + extra_end


def dns_packet(qname, rcode=0, answers=(), cname=None, soa=False, tc=False, qid=0x1234,
               compress=True):
    def name(n):
        b = b""
        for label in n.rstrip(".").split("."):
            if label:
                b += bytes([len(label)]) + label.encode()
        return b + b"\0"

    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    ancount = len(answers) + (1 if cname else 0)
    pkt = struct.pack(">HHHHHH", qid, flags, 1, ancount, 1 if soa else 0, 0)
    pkt += name(qname) + struct.pack(">HH", 16, 1)
    owner = b"\xc0\x0c" if compress else name(qname)
    if cname:
        rdata = name(cname)
        pkt += owner + struct.pack(">HHIH", 5, 1, 300, len(rdata)) + rdata
        owner = name(cname)
    for txt in answers:
        chunks = [txt[i:i + 255] for i in range(0, len(txt), 255)] or [""]
        rdata = b"".join(bytes([len(c)]) + c.encode() for c in chunks)
        pkt += owner + struct.pack(">HHIH", 16, 1, 3600, len(rdata)) + rdata
    if soa:
        rdata = name("ns.example.org") + name("hostmaster.example.org") + struct.pack(
            ">IIIII", 1, 3600, 600, 86400, 120)
        pkt += name("example.org") + struct.pack(">HHIH", 6, 1, 300, len(rdata)) + rdata
    return pkt


DMARC_SEEDS = (
    "v=DMARC1; p=reject",
    "v=DMARC1; p=quarantine; sp=reject; np=none; adkim=s; aspf=r; pct=50; "
    "rua=mailto:agg@example.com,mailto:x@example.net!10m; ruf=mailto:f@example.com; fo=1:d; "
    "rf=afrf; ri=3600",
    "v=DMARC1; rua=mailto:dmarc@example.com",
    "v=DMARC1; p=bogus; sp=; pct=101; adkim=x;; junk; p=none",
    "V = DMARC1 ; P = Reject ;",
    "v=DMARC2; p=reject",
    "Joe User <user@Mail.Example.COM>",
    "\"evil@bad.example\" <user@example.com> (comment <x@y>)",
    "Team: a@example.com, b@example.net;",
    "Joe <@relay.example,@other.example:user@example.com>",
    "J\u00f6rg <j@b\u00fccher.example>",
    "a@good.example <evil@bad.example>",
    "undisclosed-recipients:;",
    "user@[192.0.2.1]",
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default=os.path.join(ROOT, "tests", "data", "arc-test-suite"))
    args = ap.parse_args()
    cases, keys = load_suite(args.suite)
    w = Writer()
    targets = ["fuzz_header", "fuzz_tag_list", "fuzz_key_record", "fuzz_auth_results",
               "fuzz_arc_headers", "fuzz_verify", "fuzz_seal", "fuzz_protocol", "fuzz_engine",
               "fuzz_policy", "fuzz_dns_txt", "fuzz_zone_file", "fuzz_config", "fuzz_dmarc"]
    for t in targets:
        w.clear(t)

    interop = []
    mdir = os.path.join(ROOT, "tests", "interop", "messages")
    for f in sorted(os.listdir(mdir)):
        with open(os.path.join(mdir, f), "rb") as fh:
            interop.append((f, fh.read().decode("utf-8", "surrogateescape")))

    messages = []
    for fname, cid, case in cases:
        msg = case.get("message")
        if isinstance(msg, str):
            messages.append((cid, msg))

    # Whole messages: every validation case for verify (each differs in its ARC headers); a
    # spread for the others.
    for cid, msg in messages:
        w.add("fuzz_verify", cid, crlf(msg))
    for name, msg in interop:
        w.add("fuzz_verify", "interop-" + name, msg)
        w.add("fuzz_header", "interop-" + name, msg)
    for i, (cid, msg) in enumerate(messages):
        if i % 6 == 0:
            w.add("fuzz_header", cid, crlf(msg) if i % 12 == 0 else msg)
        if i % 5 == 0:
            w.add("fuzz_seal", cid, bytes([i % 256]) + crlf(msg).encode())
    for name, msg in interop:
        w.add("fuzz_seal", "interop-" + name, b"\x3f" + msg.encode("utf-8", "surrogateescape"))
    w.add("fuzz_header", "empty", "")
    w.add("fuzz_header", "no-separator", "From: a\r\nSubject: b")
    w.add("fuzz_header", "bare-cr", "From: a\rb\r\n\tc\r\n\r\nbody\r\r\n \t \r\n\r\n")

    # Header values: ARC fields, Authentication-Results, tag-lists.
    values = {"arc": [], "ar": [], "tags": []}
    for cid, msg in messages:
        for name, value in arc_values(msg):
            lname = name.strip().lower()
            if lname in ("arc-seal", "arc-message-signature", "arc-authentication-results"):
                values["arc"].append((cid + "-" + lname, value))
            if lname in ("arc-seal", "arc-message-signature", "dkim-signature"):
                values["tags"].append((cid + "-" + lname, value))
            if lname in ("authentication-results", "arc-authentication-results"):
                v = value
                if lname == "arc-authentication-results" and ";" in v:
                    v = v.split(";", 1)[1]
                values["ar"].append((cid + "-" + lname, v))
    for kind, target, cap in (("arc", "fuzz_arc_headers", 70), ("tags", "fuzz_tag_list", 30),
                              ("ar", "fuzz_auth_results", 30)):
        seen = set()
        for name, v in values[kind]:
            if v in seen or len(seen) >= cap:
                continue
            seen.add(v)
            w.add(target, name, v)
    for v in ("a=b; c=d;", "v=1; a=\r\n\tx", "a=b;;c=d", "9a=x", "a=;", "b=YWJj; bh=  AA==  ",
              "YWJjZA==", "YW Jj\r\n ZA=="):
        w.add("fuzz_tag_list", "hand-" + v, v)
    for v in ("mx.example; none", "mx.example 1; dkim=pass (good sig) header.d=example.org "
              "header.s=\"sel\\\"x\"; spf=fail reason=\"bad (x)\" smtp.mailfrom=a@b.example",
              "; arc=pass", "(c (nested) \\) x) mx; dmarc/1=pass policy.dmarc=reject",
              "mx; x=y (unterminated", "mx; arc=fail \"unterminated"):
        w.add("fuzz_auth_results", "hand-" + v, v)
    for v in ("i=1; a=rsa-sha256; cv=none; d=example.org; s=dummy; t=12345; b=YWJj",
              "i=50; a=ed25519-sha256; b=YWJj; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; "
              "c=relaxed; d=a.b; s=s; h=from:to::subject; l=0; x=999999999999",
              "i=1;lists.example.org; arc=none", " \r\n\ti=02 ; x", "arc-seal", "1", "50", "51"):
        w.add("fuzz_arc_headers", "hand-" + v, v)

    # Key records.
    for owner, txt in sorted(keys.items()):
        w.add("fuzz_key_record", owner, txt)
    for v in ("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
              "v=DKIM1; p=", "k=rsa; h=sha1:sha256; s=email:*; t=y:s; p=AAAA",
              "p=YWJj\0v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
              "v=DKIM2; p=x", "t=s; v=DKIM1; p=x"):
        w.add("fuzz_key_record", "hand-" + v, v)

    # Protocol lines.
    proto = [
        "config|smtpd-version|6.8.0p2", "config|ready", "config|admd|mx.example.test",
        f"report|0.6|1795918548.1|smtp-in|link-connect|{S1}|client|pass|192.0.2.7:59658|127.0.0.1:25",
        f"report|0.7|1.0|smtp-in|link-connect|{S1}|client|pass|[2001:db8::1]:1|[::1]:25",
        f"report|0.6|1.0|smtp-in|link-connect|{S1}|local|pass|unix:/var/run/smtpd.sock|unix:x",
        f"report|0.6|1.0|smtp-in|link-disconnect|{S1}",
        f"report|0.7|1.0|smtp-in|link-auth|{S1}|pass|user|with|bars",
        f"report|0.6|1.0|smtp-in|tx-rcpt|{S1}|35163a36|ok|<b|x@example.test>",
        f"filter|0.6|1.0|smtp-in|data-line|{S1}|{TOK}|pipe|inside|line",
        f"filter|0.6|1.0|smtp-in|data-line|{S1}|{TOK}|",
        f"filter|0.6|1.0|smtp-in|commit|{S1}|{COMMIT}|",
        f"filter|0.4|1.0|smtp-in|commit|{S1}|{COMMIT}|",
        f"filter|0.6|1.0|smtp-in|helo|{S1}|{COMMIT}|client.example",
        "451 4.7.0 try again later", "421 4.7.0 ARC verification temporarily failed",
        "[::1]:25", "192.0.2.1:25", "garbage", "",
        # The field orders of 0.4/0.5 (address before result) and 0.6 (user before result).
        f"report|0.5|1.0|smtp-in|tx-mail|{S1}|35163a36|<a|b@example.org>|ok",
        f"report|0.6|1.0|smtp-in|link-auth|{S1}|user|with|bars|pass",
        f"report|0.7.1|1.0|smtp-in|tx-begin|{S1}|35163a36",
        f"filter|0.5|1.0|smtp-in|data-line|{S1}|{TOK}|x",
        f"report|0.6|1.0|smtp-in|tx-mail|{S1}|35163a36|ok",
        f"filter|x.y|1.0|smtp-in|commit|{S1}|{COMMIT}|",
    ]
    for i, l in enumerate(proto):
        w.add("fuzz_protocol", f"{i:02d}", l)

    # Engine transcripts.
    by_id = dict(messages)
    plain = crlf(by_id.get("cv_base1", "From: a@example.org\n\nbody\n")).split("\r\n")
    chain1 = [l for l in crlf(by_id.get("cv_pass_i1_1", by_id.get("cv_base1"))).split("\r\n")]
    chain2 = [l for l in crlf(by_id.get("cv_pass_i2_1", by_id.get("cv_base1"))).split("\r\n")]
    w.add("fuzz_engine", "plain", transcript([(S1, plain)]))
    w.add("fuzz_engine", "chain1", transcript([(S1, chain1)]))
    w.add("fuzz_engine", "two-sessions", transcript([(S1, chain1), (S2, chain2)]))
    w.add("fuzz_engine", "v07", transcript([(S1, chain2)], version="0.7"))
    w.add("fuzz_engine", "v04", transcript([(S1, plain)], version="0.4"))
    w.add("fuzz_engine", "v05", transcript([(S1, plain)], version="0.5"))
    w.add("fuzz_engine", "malformed-fields",
          f"config|ready\nreport|0.6|1|smtp-in|link-auth|{S1}|alice\n"
          f"report|0.7|1|smtp-in|tx-rcpt|{S1}|35163a36|ok\nfilter|x.y|1|smtp-in|commit|{S1}|{COMMIT}|\n"
          f"filter|0.6|1|smtp-in|commit|{S1}|{COMMIT}|\nreport|0.6|1|smtp-in|link-disconnect|{S1}\n")
    w.add("fuzz_engine", "dots-pipes", transcript([(S1, ["From: a@b.example", "Subject: x|y", "",
                                                       ".", "..", ".x", "a|b|c", ""])]))
    t = transcript([(S1, chain1)]).replace("!a0o\n!a0o\n", "!d0\n!a0t\n!x1\n")
    w.add("fuzz_engine", "deadline-first", t)
    t = transcript([(S1, chain2)]).replace("!a0o\n!a0o\n", "!a1t\n!r\n!a0n\n")
    w.add("fuzz_engine", "temp-reload", t)
    t = transcript([(S1, chain1)])
    cut = t.index("|.\n")
    w.add("fuzz_engine", "rollback", t[:cut] + f"\nreport|0.6|1.0|smtp-in|tx-rollback|{S1}|35163a36\n"
          + t[cut:])
    w.add("fuzz_engine", "disconnect-mid", t[:cut] + f"\nreport|0.6|1.0|smtp-in|link-disconnect|{S1}\n"
          "!a0o\n!d0\n")
    big = ["From: a@b.example", "Subject: big", ""] + ["x" * 900] * 80
    w.add("fuzz_engine", "spill-too-large", transcript([(S1, big), (S2, chain1)]))
    w.add("fuzz_engine", "garbage", "config|ready\nnot a protocol line\n|\nfilter|0.6|1|smtp-in|"
          f"commit|zz|{COMMIT}|\n!a\n!d\n!x\n")

    # DNS response packets for dummy._domainkey.example.org.
    q = "dummy._domainkey.example.org"
    rec = keys.get(q, "v=DKIM1; p=YWJj")
    w.add("fuzz_dns_txt", "ok", dns_packet(q, answers=[rec]))
    w.add("fuzz_dns_txt", "ok-long", dns_packet(q, answers=[rec * 3], compress=False))
    w.add("fuzz_dns_txt", "two-rr", dns_packet(q, answers=[rec, "v=DKIM1; p="]))
    w.add("fuzz_dns_txt", "cname", dns_packet(q, answers=[rec], cname="keys.example.net"))
    w.add("fuzz_dns_txt", "nxdomain", dns_packet(q, rcode=3, soa=True))
    w.add("fuzz_dns_txt", "nodata", dns_packet(q, soa=True))
    w.add("fuzz_dns_txt", "servfail", dns_packet(q, rcode=2))
    w.add("fuzz_dns_txt", "truncated", dns_packet(q, answers=[rec], tc=True)[:40])
    w.add("fuzz_dns_txt", "other-name", dns_packet("other._domainkey.example.org", answers=[rec]))
    w.add("fuzz_dns_txt", "pointer-loop", dns_packet(q)[:-4] + b"\xc0\x0c" + b"\0\x10\0\x01")

    # Zone files.
    zone = ["$ORIGIN example.org.\n$TTL 300\n"]
    for owner, txt in sorted(keys.items()):
        zone.append(f'{owner}. IN TXT ( "{txt[:200]}"\n   "{txt[200:]}" )\n')
    w.add("fuzz_zone_file", "suite", "".join(zone))
    w.add("fuzz_zone_file", "relative", '$ORIGIN example.org.\n@ 60 IN SOA ns host 1 2 3 4 5\n'
          'dummy._domainkey TXT "v=DKIM1; p=YWJj" ; comment\nwww A 192.0.2.1\n')
    w.add("fuzz_zone_file", "escapes", 'a.example. TXT "q\\"uote\\\\ \\065\\255" "x"\n')
    w.add("fuzz_zone_file", "broken", 'a.example. TXT ( "unbalanced\n')
    w.add("fuzz_zone_file", "empty", "")

    # Policy parsers: "network\naddress-or-from".
    for i, v in enumerate(("192.0.2.0/24\n192.0.2.7", "2001:db8::/32\n[2001:db8::1]",
                           "10.0.0.0/8\n::ffff:10.1.2.3", "::1\nJohn <j@Example.ORG>",
                           "0.0.0.0/0\n\"a@b\" <c@d.example>, e@f", "1.2.3.4/33\nx@y. ",
                           "fe80::/10%eth0\n(comment@x) a@b.example")):
        w.add("fuzz_policy", f"{i:02d}", v)

    # DMARC: policy records and From values (one input serves both parsers).
    for i, v in enumerate(DMARC_SEEDS):
        w.add("fuzz_dmarc", f"{i:02d}", v)

    # Configurations: the shipped examples with test keys, and edge cases.
    key = "/tmp/filter-arc-fuzz/ed25519.key"
    for f in sorted(os.listdir(os.path.join(ROOT, "etc", "examples"))):
        with open(os.path.join(ROOT, "etc", "examples", f), encoding="utf-8") as fh:
            text = fh.read()
        text = text.replace("/etc/filter-arc/keys/announce.example.org.key", key)
        import re
        text = re.sub(r'key = "/etc/filter-arc/keys/[^"]*"', 'key = "/tmp/filter-arc-fuzz/rsa2048.key"',
                      text)
        w.add("fuzz_config", "example-" + f, text)
    with open(os.path.join(ROOT, "etc", "filter-arc.toml"), encoding="utf-8") as fh:
        w.add("fuzz_config", "filter-arc.toml", fh.read())
    w.add("fuzz_config", "full", f'''authserv-id = "mx.example.org"
trusted-authserv-ids = ["a.example", "b.example"]
mode = "both"
trusted-networks = ["127.0.0.0/8", "::1", "192.0.2.0/24"]
trusted-sealers-file = "/tmp/filter-arc-fuzz/sealers-ok.txt"
scrub-forged-results = false
[seal]
domain = "example.org"
selector = "s1"
key = "{key}"
when = "recipient-domains"
recipient-domains = ["example.net"]
domain-from = "envelope-from"
headers = ["from", "to", "list-*"]
oversign = true
canonicalization = "simple/relaxed"
[dns]
servers = ["127.0.0.1:5353"]
timeout-ms = 500
tries = 1
message-deadline-ms = 2000
cache-entries = 10
[limits]
min-rsa-bits = 1024
max-rsa-bits = 4096
spool-memory-bytes = 1000
max-message-bytes = 100000
max-header-fields = 10
max-header-bytes = 1000
max-arc-sets = 50
[smtpd]
tempfail-reply = "451 4.7.0 later"
''')
    w.add("fuzz_config", "bad-sealers", 'trusted-sealers-file = "/tmp/filter-arc-fuzz/sealers.txt"\n')
    w.add("fuzz_config", "small-rsa", f'[seal]\ndomain="a.example"\nselector="s"\n'
          'key="/tmp/filter-arc-fuzz/rsa512.key"\n')
    w.add("fuzz_config", "two-keys", f'[seal]\n[[seal.keys]]\ndomain="a.example"\nselector="s"\nkey="{key}"\n'
          f'algorithm="rsa-sha256"\n[[seal.keys]]\ndomain="A.example"\nselector="s"\nkey="{key}"\n')
    w.add("fuzz_config", "syntax", 'mode = "both\n[limits\nmax-arc-sets = 51\n')
    w.add("fuzz_config", "types", 'mode = 1\ntrusted-networks = "x"\n[dns]\ntries = -1\n')

    total = 0
    for t in targets:
        n = w.counts.get(t, 0)
        total += n
        print(f"{t}: {n} seeds")
    print(f"total: {total} seeds")


if __name__ == "__main__":
    sys.exit(main())
