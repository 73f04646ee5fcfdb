#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Soak: N messages (default 100,000) through one filter-arc process in OpenSMTPD mode, C
sessions at a time with their lines interleaved, RSS sampled as it runs. The mix: unsigned
messages (sealed at i=1), messages with one ARC set by another domain (a key lookup through the
loopback DNS server and the cache, sealed at i=2), messages that spill to disk, and messages
with a '.'/'|' heavy body. Every commit must be answered; the run fails when RSS keeps growing.

Usage: soak.py FILTER_ARC SOURCE_ROOT [--messages N] [--sessions C] [--wrap "valgrind ..."]
  --wrap runs the filter under a command (e.g. "valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99");
  with an ASan build (-Db_sanitize=address) LeakSanitizer checks at exit by itself.
Prints one line per sample ("messages=… rss_kb=…") and a summary.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402



END_OF_DATA = re.compile(rb"^filter-dataline\|[0-9a-f]+\|[0-9a-f]+\|\.$", re.M)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("root")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--sample", type=int, default=5000)
    ap.add_argument("--wrap", default="")
    ap.add_argument("--max-growth-kb", type=int, default=2048,
                    help="allowed RSS growth from 10%% of the run to its end")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)

    d = tempfile.mkdtemp(prefix="filter-arc-soak-", dir="/var/tmp")
    dns = None
    try:
        key, rec = fp.keygen(binary, d, "seal.reliability.test", "s1")
        hop_key, hop_rec = fp.keygen(binary, d, "hop.example", "h1")
        zone = os.path.join(d, "zone")
        with open(zone, "w") as f:
            f.write(fp.zone_text({"s1._domainkey.seal.reliability.test": rec,
                                  "h1._domainkey.hop.example": hop_rec}))
        plain = ["Received: from client.example.org (client [192.0.2.7])",
                 "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
                 "From: Sender <sender@example.org>", "To: rcpt@example.test",
                 "Subject: soak", "Message-ID: <soak@example.org>", "", "body", ""]
        p = subprocess.run([binary, "seal", "--domain", "hop.example", "--selector", "h1",
                            "--key", hop_key, "--dns-zone", zone, "-"],
                           input=("\r\n".join(plain) + "\r\n").encode(), capture_output=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        chained = p.stdout.decode().split("\r\n")[:-1]
        spill = plain[:-2] + [f"{i:05d} " + "s" * 90 for i in range(700)]  # ~67 kB
        dotty = plain[:-2] + [".", "..", "|", ".|.", "a|b|c"] * 20
        kinds = [plain, chained, spill, dotty]

        dns = fp.Dns(a.root, zone)
        cfg = os.path.join(d, "soak.toml")
        fp.write(cfg, fp.config_text(key, dns.port,
                                     extra="[limits]\nspool-memory-bytes = 32768\n"))
        cmd = shlex.split(a.wrap) + [binary, "-c", cfg]
        errf = open(os.path.join(d, "stderr"), "w+")
        # For ASan builds: leak checking at exit on, and a small quarantine of freed memory so
        # that RSS shows live memory (other builds ignore the variable).
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ("detect_leaks=1:quarantine_size_mb=1:" +
                               env.get("ASAN_OPTIONS", "")).rstrip(":")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                env=env)
        pid = proc.pid
        if a.wrap:
            time.sleep(1.0)  # find the filter under the wrapper (valgrind execs in place)

        counts = {"results": 0, "reject": 0, "bad": 0, "sealed": 0, "dots": 0}
        cv = threading.Condition()

        def reader():
            rest = b""
            fd = proc.stdout.fileno()
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                block = data[:cut]
                r = block.count(b"filter-result|")
                rj = block.count(b"|reject|")
                sealed = block.count(b"|ARC-Seal: i=")
                bad = 0
                # A message handed back whole ends with its "." data line.
                dots = len(END_OF_DATA.findall(block))
                for line in block.split(b"\n")[:-1]:
                    if not (line.startswith(b"filter-dataline|") or
                            line.startswith(b"filter-result|") or line.startswith(b"register|")):
                        bad += 1
                with cv:
                    counts["results"] += r
                    counts["reject"] += rj
                    counts["bad"] += bad
                    counts["sealed"] += sealed
                    counts["dots"] += dots
                    cv.notify_all()

        t = threading.Thread(target=reader, daemon=True)
        t.start()

        def send(lines):
            proc.stdin.write("".join(l + "\n" for l in lines).encode())

        send(fp.HANDSHAKE)
        samples = []
        start = time.time()
        sent = 0
        n, c = a.messages, a.sessions
        while sent < n:
            batch = min(c, n - sent)
            streams = []
            for i in range(batch):
                s = fp.session_id((sent + i) % 100000)
                streams.append(fp.session_lines(s, kinds[(sent + i) % len(kinds)]))
            out, k = [], 0
            longest = max(len(st) for st in streams)
            while k < longest:
                out += [st[k] for st in streams if k < len(st)]
                k += 1
            ids = [fp.session_id((sent + i) % 100000) for i in range(batch)]
            send(out)
            proc.stdin.flush()
            # As smtpd does: commit only once the message came back (sender authentication
            # and key lookups finish asynchronously).
            with cv:
                while counts["dots"] < sent + batch and proc.poll() is None:
                    cv.wait(1.0)
            send([fp.commit_line(s) for s in ids] + [fp.disconnect_line(s) for s in ids])
            proc.stdin.flush()
            sent += batch
            # Keep at most two batches in flight.
            with cv:
                while counts["results"] < sent - 2 * c and proc.poll() is None:
                    cv.wait(5)
            if sent % a.sample < batch or sent == n:
                rss = fp.rss_kb(pid)
                samples.append((sent, rss))
                print(f"messages={sent} rss_kb={rss} elapsed_s={time.time() - start:.1f}",
                      flush=True)
        with cv:
            end = time.time() + 120
            while counts["results"] < n and time.time() < end and proc.poll() is None:
                cv.wait(5)
        final_rss = fp.rss_kb(pid)
        proc.stdin.close()
        rc = proc.wait(timeout=600)
        t.join(timeout=30)
        elapsed = time.time() - start
        errf.seek(0)
        log = errf.read()
        leak = "LeakSanitizer" in log or "definitely lost: 0 bytes" not in log and "definitely lost" in log
        # Growth: the largest RSS in the last 10 % of the run against the largest in 10-20 %
        # (the first 10 % is warm-up: caches, allocator arenas).
        early = [r for m, r in samples if n // 10 <= m <= n // 5] or [samples[0][1]]
        late = [r for m, r in samples if m >= n - n // 10] or [final_rss]
        base, end_rss = max(early), max(late + [final_rss])
        peak = max(r for _, r in samples)
        growth = end_rss - base
        chained = sum(1 for i in range(n) if i % len(kinds) == 1)
        counts["sealed"] -= chained  # their existing ARC-Seal i=1 is replayed too
        # Under a wrapper (valgrind) RSS is the tool's; only its verdict counts.
        ok = (counts["results"] == n and counts["bad"] == 0 and counts["reject"] == 0 and
              rc == 0 and not leak and (a.wrap or growth <= a.max_growth_kb))
        print(f"soak: {n} messages in {elapsed:.0f} s ({n / elapsed:.0f}/s), {c} sessions at a time; "
              f"answered {counts['results']}, sealed {counts['sealed']}, deferred "
              f"{counts['reject']}, malformed lines {counts['bad']}; RSS max at 10-20% {base} kB, "
              f"peak {peak} kB, max in the last 10% {end_rss} kB (growth {growth} kB); exit {rc}; "
              f"leaks {'REPORTED' if leak else 'none'}")
        if a.wrap:
            print("\n".join(l for l in log.splitlines()
                            if "ERROR SUMMARY" in l or "lost:" in l or "heap blocks" in l))
        if leak or rc != 0:
            print("\n".join(l for l in log.splitlines()
                            if "Sanitizer" in l or "lost" in l or "ERROR" in l)[:4000])
        print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
        return 0 if ok else 1
    finally:
        if dns:
            dns.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
