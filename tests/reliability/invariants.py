#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Invariants over every test message (the ARC suite's validation and signing messages, the
interop messages, and edge cases), through both modes of the filter-arc binary:

  * OpenSMTPD mode (protocol over pipes, sessions interleaved in groups): each message comes
    back as our added header fields followed by the data-lines exactly as sent, then "."; each
    commit gets exactly one filter-result; every output line is one smtpd accepts.
  * Exim mode (one process per message, LF and CRLF): stdout is our added header fields followed
    by the input byte for byte (minus X-ARC-Context), or nothing with exit 75 on a deferral.

Usage: invariants.py /path/to/filter-arc SOURCE_ROOT ARC_SUITE_DIR
"""

import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
SUITE = os.path.abspath(sys.argv[3])
check = fp.Checks()


def corpus():
    msgs, keys = fp.suite_messages(SUITE)
    out = [(cid, text) for cid, text in msgs]
    mdir = os.path.join(ROOT, "tests", "interop", "messages")
    for f in sorted(os.listdir(mdir)):
        with open(os.path.join(mdir, f), "rb") as fh:
            out.append(("interop-" + f, fh.read().decode("utf-8", "surrogateescape")))
    base = "From: a@example.org\nTo: b@example.test\nSubject: edge\n"
    out += [
        ("dots", base + "\n.\n..\n.x\n...\n"),
        ("pipes", "Subject: a|b|c\nFrom: x|y@example.org\n\n|\n||\na|b\n"),
        ("eight-bit", base + "X-Name: J\u00fcrgen \u65e5\u672c\n\nGr\u00fc\u00dfe\n"),
        ("long-line-900", base + "\n" + "y" * 900 + "\n"),
        ("long-line-1500", base + "\n" + "z" * 1500 + "\n"),
        ("headers-only", base),
        ("no-final-eol", base + "\nlast line without end"),
        ("empty-body", base + "\n"),
        ("trailing-blank-lines", base + "\nx\n\n\n\n"),
        ("folded-and-spaces", "Subject: a\n \tfolded  \nFrom :  a@example.org \n\n \t\n"),
        ("forged-other-ar", "Authentication-Results: other.example; arc=pass\n" + base + "\nb\n"),
        ("bad-arc-headers", "ARC-Seal: i=1; garbage\nARC-Seal: i=x\n" + base + "\nb\n"),
        ("leading-folded-line", "\t; dkim=pass header.d=bank.example\n" + base + "\nb\n"),
    ]
    return out, keys


def lines_of(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def smtpd_mode(cfg, d, messages):
    f = fp.Filter([BIN, "-c", cfg], os.path.join(d, "smtpd.stderr"))
    f.send(fp.HANDSHAKE)
    group = 25
    sessions = []
    for g in range(0, len(messages), group):
        batch = messages[g:g + group]
        streams = []
        for i, (cid, text) in enumerate(batch):
            s = fp.session_id(g + i)
            sessions.append((s, cid, lines_of(text)))
            streams.append(fp.session_lines(s, lines_of(text)))
        # Interleave the sessions' lines one by one.
        out, k = [], 0
        while any(k < len(st) for st in streams):
            out += [st[k] for st in streams if k < len(st)]
            k += 1
        f.send(out)
        ends = [f"filter-dataline|{fp.session_id(g + i)}|{fp.TOK}|.\n".encode()
                for i in range(len(batch))]
        f.wait_for(lambda b: all(e in b for e in ends), 60)
        f.send([fp.commit_line(fp.session_id(g + i)) for i in range(len(batch))] +
               [fp.disconnect_line(fp.session_id(g + i)) for i in range(len(batch))])
    f.wait_for(lambda b: b.count(b"filter-result|") >= len(messages), 60)
    rc = f.finish()
    per, bad = fp.parse_output(f.output())
    check(rc == 0 and not bad, f"smtpd mode: exit {rc}, every output line well-formed "
                               f"({len(bad)} bad: {bad[:2]})")
    broken, unanswered, sealed, deferred = [], [], 0, 0
    for s, cid, lines in sessions:
        e = per.get(s, {"data": [], "results": []})
        if len(e["results"]) != 1:
            unanswered.append(cid)
            continue
        if e["results"][0] != "proceed":
            deferred += 1
        added, ok = fp.split_added(e["data"], lines)
        if not ok or e["data"].count(".") != 1:
            broken.append(cid)
        if any(l.startswith("ARC-Seal:") for l in added):
            sealed += 1
    check(not unanswered, f"smtpd mode: each of {len(sessions)} commits answered exactly once "
                          f"(not: {unanswered[:5]})")
    check(not broken, f"smtpd mode: every message is the input plus our header fields "
                      f"(not: {broken[:5]})")
    check(sealed >= len(sessions) // 2 and deferred == 0,
          f"smtpd mode: {sealed} sealed, {deferred} deferred (DNS works, so none)")


def exim_one(cfg, data):
    p = subprocess.run([BIN, "exim", "-c", cfg], input=data, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def exim_mode(cfg, messages):
    jobs = []
    for n, (cid, text) in enumerate(messages):
        jobs.append((cid, text.encode("utf-8", "surrogateescape")))
        if n % 8 == 0:
            jobs.append((cid + " (CRLF)", text.replace("\r\n", "\n").replace("\n", "\r\n")
                         .encode("utf-8", "surrogateescape")))
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        results = list(pool.map(lambda j: exim_one(cfg, j[1]), jobs))
    broken, sealed, runs = [], 0, len(jobs)
    for (cid, data), (rc, out, err) in zip(jobs, results):
        if rc == 75 and out == b"":
            continue
        if rc != 0 or err or not out.endswith(data):
            broken.append(f"{cid} (rc {rc})")
            continue
        added = out[:len(out) - len(data)]
        eol = b"\r\n" if data.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
        lines = added.split(eol)
        if lines and lines[-1] == b"":
            lines.pop()
        if not all(fp.ADDED.match(l.decode("utf-8", "replace")) or l[:1] in (b" ", b"\t")
                   for l in lines) or (b"\r" in added and eol == b"\n"):
            broken.append(cid + " (added block)")
        if added.startswith(b"ARC-Seal:"):
            sealed += 1
    check(not broken, f"exim mode: {runs} runs, every output is our header fields + the input "
                      f"byte for byte (not: {broken[:5]})")
    check(sealed >= runs // 2, f"exim mode: {sealed} of {runs} sealed")
    # The private context header is taken out, wherever it is and however folded.
    # (Exim's snippet encodes every value, etc/exim4/filter-arc.conf.example.)
    text = b"From: a@example.org\nX-ARC-Context: v=2; from=;\n helo=Y2xpZW50LmV4YW1wbGU=;" \
           b" auth=; rcpt=; ip=MTkyLjAuMi45\nSubject: s\n\nbody\n"
    rc, out, err = exim_one(cfg, text)
    want = b"From: a@example.org\nSubject: s\n\nbody\n"
    check(rc == 0 and out.endswith(want) and b"X-ARC-Context" not in out
          and b"smtp.remote-ip=192.0.2.9" in out,
          "exim mode: X-ARC-Context removed, the rest byte for byte, its ip used")


def main():
    d = tempfile.mkdtemp(prefix="filter-arc-inv-", dir="/var/tmp")
    dns = None
    try:
        messages, suite_keys = corpus()
        key, rec = fp.keygen(BIN, d, "seal.reliability.test", "s1")
        zone = os.path.join(d, "zone")
        records = dict(suite_keys)
        records["s1._domainkey.seal.reliability.test"] = rec
        with open(zone, "w") as f:
            f.write(fp.zone_text(records))
        dns = fp.Dns(ROOT, zone)
        cfg = os.path.join(d, "filter.toml")
        fp.write(cfg, fp.config_text(key, dns.port))
        print(f"{len(messages)} messages")
        smtpd_mode(cfg, d, messages)
        exim_mode(cfg, messages)
    finally:
        if dns:
            dns.stop()
        shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
