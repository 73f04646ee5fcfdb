#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Fault injection end to end: the filter-arc binary in OpenSMTPD mode over pipes, with a
loopback DNS server.

  * stdin closed in the middle of a message (and of a line): the filter exits 0 at once and has
    written only whole protocol lines;
  * stdout not read for a while (smtpd busy): the filter stops reading its input instead of
    buffering without bound, and answers everything once stdout drains;
  * the temporary directory full, or read-only, when a message spills (root only: a private
    mount namespace with a tiny tmpfs on /tmp): that message is deferred with 451, the next
    one goes through;
  * DNS answers that arrive after the message deadline: the message is deferred, the late
    answer changes nothing, the next message is fine;
  * a key file that disappears before a reload: the reload fails, the running configuration
    keeps sealing; once the file is back a reload succeeds;
  * a client line of 65,500 bytes (issue 15, class 1): no output line exceeds what smtpd reads
    back (2047 bytes before protocol 0.7, 65,000 from 0.7); 0.6 gets the line cut at 1997 bytes
    and "proceed", 0.7 only "." and a 550 at commit; the next message goes through; exit 0 at
    EOF.

Usage: faults_e2e.py /path/to/filter-arc SOURCE_ROOT
"""

import os
import atexit
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filterproc as fp  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
check = fp.Checks()

PLAIN = ["Received: from client.example.org (client [192.0.2.7])",
         "\tby mx.example.test (OpenSMTPD) with ESMTP id 35163a36",
         "From: Sender <sender@example.org>", "To: rcpt@example.test",
         "Subject: reliability", "Message-ID: <r@example.org>", "", "body line", ".dot line", ""]


def big_message(lines, width=100):
    return PLAIN[:-3] + [""] + [f"{i:06d} " + "x" * width for i in range(lines)]


def transaction(f, s, lines, wait=True, timeout=30):
    f.send(fp.session_lines(s, lines))
    if wait:
        f.wait_for(lambda b: f"filter-dataline|{s}|{fp.TOK}|.\n".encode() in b, timeout)
    f.send([fp.commit_line(s)])
    if wait:
        f.wait_for(lambda b: f"filter-result|{s}|{fp.COMMIT}|".encode() in b, timeout)
    f.send([fp.disconnect_line(s)])


def result_of(f, s):
    per, _ = fp.parse_output(f.output())
    return per.get(s, {"data": [], "results": []})


def start(cfg, d, name, read=True, wrapper=(), env=None, binary=None):
    f = fp.Filter(list(wrapper) + [binary or BIN, "-c", cfg], os.path.join(d, name + ".stderr"),
                  read=read, env=env)
    f.send(fp.HANDSHAKE)
    return f


def stdin_closed(cfg, d, slow_chain):
    # In the middle of a message's header.
    f = start(cfg, d, "eof1")
    s = fp.session_id(1)
    f.send(fp.session_lines(s, PLAIN)[:7])
    t0 = time.time()
    rc = f.finish(timeout=10)
    per, bad = fp.parse_output(f.output())
    check(rc == 0 and time.time() - t0 < 5, f"stdin closed mid-message: exit {rc} at once")
    check(not bad and s not in per, "stdin closed mid-message: only whole lines, none for it")
    # In the middle of a line.
    f = start(cfg, d, "eof2")
    f.p.stdin.write(b"filter|0.6|1.0|smtp-in|data-line|" + s.encode() + b"|" + fp.TOK.encode()
                    + b"|half a li")
    f.p.stdin.flush()
    rc = f.finish(timeout=10)
    per, bad = fp.parse_output(f.output())
    check(rc == 0 and not bad, f"stdin closed mid-line: exit {rc}, well-formed output")
    # While a message waits for a (slow) DNS answer.
    f = start(cfg, d, "eof3")
    f.send(fp.session_lines(s, slow_chain))
    time.sleep(0.3)
    t0 = time.time()
    rc = f.finish(timeout=10)
    per, bad = fp.parse_output(f.output())
    check(rc == 0 and not bad and time.time() - t0 < 5,
          f"stdin closed while a lookup is in flight: exit {rc} at once, well-formed output")
    check("internal-error" not in f.stderr(), "no internal error logged")


def stdout_unread(cfg, d):
    # Under ASan, keep its quarantine of freed memory small so RSS shows what is live.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8").lstrip(":")
    f = start(cfg, d, "busy", read=False, env=env)
    time.sleep(0.5)
    base = fp.rss_kb(f.p.pid)
    n, msg = 150, big_message(2000)  # 150 messages of ~210 kB: ~31 MB in, ~35 MB out
    sent = [0]
    done = threading.Event()

    def writer():
        try:
            for i in range(n):
                s = fp.session_id(1000 + i)
                f.send(fp.session_lines(s, msg) + [fp.commit_line(s), fp.disconnect_line(s)])
                sent[0] = i + 1
        except BrokenPipeError:
            pass
        done.set()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    # Wait until the writer stalls: the filter has stopped reading.
    last, still, peak = -1, 0.0, 0
    end = time.time() + 30
    while time.time() < end and not done.is_set():
        time.sleep(0.2)
        peak = max(peak, fp.rss_kb(f.p.pid))
        if sent[0] == last:
            still += 0.2
            if still >= 1.5:
                break
        else:
            last, still = sent[0], 0.0
    stalled = not done.is_set()
    check(stalled, f"with stdout unread the filter stops taking input (after {sent[0]} of {n} "
                   "messages)")
    # It holds at most ~4 MB of unwritten output (smtpd_shell.cpp) plus the message at hand.
    check(peak - base < 80 * 1024, f"memory stays bounded while stdout is not read: RSS "
                                   f"{base // 1024} MB at start, peak {peak // 1024} MB")
    f.resume_reading()
    done.wait(60)
    ok = f.wait_for(lambda b: b.count(b"filter-result|") >= n, 60)
    per, bad = fp.parse_output(f.output())
    answered = sum(1 for i in range(n) if per.get(fp.session_id(1000 + i), {}).get("results"))
    intact = sum(1 for i in range(n)
                 if fp.split_added(per.get(fp.session_id(1000 + i), {"data": []})["data"], msg)[1])
    check(ok and answered == n and not bad, f"once stdout drains all {n} commits are answered "
                                            f"({answered}), output well-formed")
    check(intact == n, f"every message came through intact ({intact}/{n})")
    rc = f.finish()
    check(rc == 0, "and the filter exits 0 at EOF")


def cfg_key_path(cfg_text):
    for line in cfg_text.splitlines():
        if line.strip().startswith("key ="):
            return line.split("=", 1)[1].strip().strip('"')
    return "/nonexistent/none"


def tmp_trouble(cfg_text, d):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("skip temporary-directory faults (needs root and unshare for a private /tmp)")
        return
    # A private tmpfs hides everything under /tmp, where this checkout, the binary and the
    # keys may live: run from a copy under /var/tmp instead.
    safe = tempfile.mkdtemp(prefix="filter-arc-tmpfault.", dir="/var/tmp")
    atexit.register(shutil.rmtree, safe, True)
    shutil.copytree(d, safe, dirs_exist_ok=True)
    binary = shutil.copy(BIN, os.path.join(safe, "filter-arc"))
    d = safe
    cfg = os.path.join(d, "spill.toml")
    fp.write(cfg, cfg_text.replace(os.path.dirname(cfg_key_path(cfg_text)), safe) +
             "[limits]\nspool-memory-bytes = 4096\n")
    for label, opts in (("full", "size=128k"), ("read-only", "ro,size=1m")):
        wrapper = ["unshare", "-m", "sh", "-c",
                   f"mount -t tmpfs -o {opts} tmpfs /tmp && exec \"$0\" \"$@\""]
        f = start(cfg, d, "tmp-" + label, wrapper=wrapper, binary=binary)
        s1, s2 = fp.session_id(1), fp.session_id(2)
        big = big_message(4000)  # ~420 kB: spills, and does not fit in 128 kB
        transaction(f, s1, big)
        transaction(f, s2, PLAIN)
        r1, r2 = result_of(f, s1), result_of(f, s2)
        check(r1["results"] == ["reject|451 4.7.0 Message authentication temporarily failed (DNS), try again "
                                "later"] or (r1["results"] and r1["results"][0].startswith("reject|4")),
              f"/tmp {label}: the spilling message is deferred ({r1['results']})")
        added, ok = fp.split_added(r2["data"], PLAIN)
        check(r2["results"] == ["proceed"] and ok and added,
              f"/tmp {label}: the next message goes through sealed")
        check("cannot spool" in f.stderr(), f"/tmp {label}: the log says why")
        rc = f.finish()
        check(rc == 0, f"/tmp {label}: exit 0 at EOF")


def late_dns(cfg_text, d, slow_chain):
    cfg = os.path.join(d, "late.toml")
    fp.write(cfg, cfg_text.replace("message-deadline-ms = 3000", "message-deadline-ms = 400"))
    f = start(cfg, d, "late")
    s1, s2 = fp.session_id(1), fp.session_id(2)
    t0 = time.time()
    transaction(f, s1, slow_chain)
    r1 = result_of(f, s1)
    check(r1["results"] and r1["results"][0].startswith("reject|4") and time.time() - t0 < 3,
          f"a lookup slower than the deadline defers the message ({r1['results']})")
    check(fp.split_added(r1["data"], slow_chain) == ([], True),
          "the deferred message is passed back unchanged, nothing added")
    time.sleep(1.5)  # the slow answer (1 s) arrives now, after the deadline
    transaction(f, s2, PLAIN)
    r2 = result_of(f, s2)
    check(r2["results"] == ["proceed"] and fp.split_added(r2["data"], PLAIN)[1],
          "after the late answer the next message is fine")
    _, bad = fp.parse_output(f.output())
    check(not bad and f.p.poll() is None, "no stray output, the filter still runs")
    check("deadline=hit" in f.stderr(), "the log says the deadline was hit")
    f.finish()


def key_gone(cfg_text, key, d):
    k2 = os.path.join(d, "reload.key")
    shutil.copy(key, k2)
    os.chmod(k2, 0o600)
    cfg = os.path.join(d, "reload.toml")
    fp.write(cfg, cfg_text.replace(key, k2))
    f = start(cfg, d, "reload")
    s = [fp.session_id(i) for i in range(1, 4)]
    transaction(f, s[0], PLAIN)
    check("ARC-Seal: i=1" in "\n".join(result_of(f, s[0])["data"]), "sealed before the reload")
    os.unlink(k2)
    f.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    transaction(f, s[1], PLAIN)
    check("ARC-Seal: i=1" in "\n".join(result_of(f, s[1])["data"]),
          "key file gone, reload refused: the running key still seals")
    log = f.stderr()
    check("event=reload status=failed" in log and "reload.key" in log,
          "the failed reload names the missing key file")
    shutil.copy(key, k2)
    os.chmod(k2, 0o600)
    f.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    transaction(f, s[2], PLAIN)
    check("event=reload status=ok" in f.stderr() and f.p.poll() is None,
          "with the file back the reload succeeds")
    check(f.finish() == 0, "exit 0 at EOF")


def long_lines(cfg, d):
    for version, limit, answer in (("0.6", 2047, "proceed"), ("0.7", 65000, "reject|550 ")):
        f = start(cfg, d, "long" + version)
        s1, s2 = fp.session_id(1), fp.session_id(2)
        f.send(fp.session_lines(s1, PLAIN[:-1] + ["L" * 65500, "after"], version))
        f.wait_for(lambda b: f"filter-dataline|{s1}|{fp.TOK}|.\n".encode() in b, 30)
        f.send([fp.commit_line(s1, version)])
        f.wait_for(lambda b: f"filter-result|{s1}|{fp.COMMIT}|".encode() in b, 30)
        f.send(fp.session_lines(s2, PLAIN, version))
        f.wait_for(lambda b: f"filter-dataline|{s2}|{fp.TOK}|.\n".encode() in b, 30)
        f.send([fp.commit_line(s2, version), fp.disconnect_line(s1, version),
                fp.disconnect_line(s2, version)])
        f.wait_for(lambda b: f"filter-result|{s2}|{fp.COMMIT}|".encode() in b, 30)
        rc = f.finish(timeout=10)
        out = f.output()
        longest = max(len(l) for l in out.split(b"\n"))
        per, bad = fp.parse_output(out)
        check(longest <= limit and not bad,
              f"{version}: a 65,500-byte client line, longest output line {longest} <= {limit}")
        r1 = per.get(s1, {"results": [""]})["results"]
        check(len(r1) == 1 and r1[0].startswith(answer), f"{version}: its commit gets {answer}")
        data1 = per.get(s1, {"data": []})["data"]
        if version == "0.6":
            check("L" * 1997 in data1, "0.6: the line comes back as smtpd 6.8 stores it")
        else:
            check(data1 == ["."], "0.7: only the final dot comes back")
        r2 = per.get(s2, {"results": [""]})["results"]
        check(r2 == ["proceed"], f"{version}: the next message goes through")
        check(rc == 0, f"{version}: exit 0 at EOF")


def main():
    d = tempfile.mkdtemp(prefix="filter-arc-faults-", dir="/var/tmp")
    dns = None
    try:
        key, rec = fp.keygen(BIN, d, "seal.reliability.test", "s1")
        slow_key, slow_rec = fp.keygen(BIN, d, "slow.example", "s1")
        zone = os.path.join(d, "zone")
        with open(zone, "w") as f:
            f.write(fp.zone_text({"s1._domainkey.seal.reliability.test": rec,
                                  "s1._domainkey.slow.example": slow_rec}))
        # A message with one ARC set by slow.example, whose key server answers after 1 s.
        plain_text = "\r\n".join(PLAIN) + "\r\n"
        p = subprocess.run([BIN, "seal", "--domain", "slow.example", "--selector", "s1", "--key",
                            slow_key, "--dns-zone", zone, "-"], input=plain_text.encode(),
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        slow_chain = p.stdout.decode().split("\r\n")
        if slow_chain[-1] == "":
            slow_chain.pop()
        dns = fp.Dns(ROOT, zone, faults=["s1._domainkey.slow.example=slow:1000"])
        cfg_text = fp.config_text(key, dns.port)
        cfg = os.path.join(d, "filter.toml")
        fp.write(cfg, cfg_text)

        stdin_closed(cfg, d, slow_chain)
        # smtpd sends commit only once it has the message back, which it cannot while it does
        # not read; this case sends commits blind, so nothing may wait for DNS: no sender
        # authentication (its lookups are asynchronous), no chain in the message.
        quiet = os.path.join(d, "quiet.toml")
        fp.write(quiet, fp.config_text(key, dns.port, extra="[authentication]\nspf = false\n"
                                                           "dkim = false\ndmarc = false\n"))
        stdout_unread(quiet, d)
        tmp_trouble(cfg_text, d)
        late_dns(cfg_text, d, slow_chain)
        key_gone(cfg_text, key, d)
        long_lines(quiet, d)
    finally:
        if dns:
            dns.stop()
        shutil.rmtree(d, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
