#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""End-to-end test of the statistics and the sealer report through a real OpenSMTPD (issue 19
items 3 and 4). One smtpd start.

  /usr/bin/python3 tests/e2e/test_statistics.py BUILD/filter/filter-arc     (as root)

Three ARC sealers of different quality send mail (chains built with `filter-arc seal`, keys
served by tests/tools/dns_responder.py, as in test_filter_arc.py):
  lists.good.example  3 messages From victim.example (DMARC p=reject, no DKIM: DMARC fails
                      here); each chain passes and the sealer's AAR recorded dmarc=pass for
                      victim.example, so trusting it would rescue the DMARC failure
  fair.example        (in trusted-sealers-file) 3 messages: one From victim.example whose AAR
                      vouches for nothing (DMARC fails, chain passes, no rescue), one intact,
                      one changed after sealing (chain fails)
  bad.example         2 messages, both changed after sealing (chains fail)
plus one message without ARC. Then SIGUSR1 to the filter process (by PID, found as smtpd's
descendant running our binary): the state file must hold exactly those counters, be valid JSON
(python's json) and the Prometheus file valid exposition text (tests/tools/prom_check.py).
`filter-arc stats` prints them; `filter-arc sealers --suggest --min-messages 3` ranks the
three (good, fair, bad) and suggests only lists.good.example, in lines that `check-config`
(as the filter's user) accepts as trusted-sealers-file.

Exit 0: passed; 1: a check failed; 77: skipped (no smtpd, not root, no filter mode).
"""

from __future__ import annotations

import json
import os
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
sys.path.insert(2, os.path.join(ROOT, "tests", "tools"))

import test_filter_arc as T  # noqa: E402  (keys, zone lines, delivery helpers)
import test_trust_boundary as TB  # noqa: E402  (filter_pid, wait_log, check_config)
import prom_check  # noqa: E402
from checks import Checks  # noqa: E402

H = T.H
PY = "/usr/bin/python3"
AUTHSERV_ID = "stats-e2e.example.test"
RCPT = T.RCPT
SEALERS = {"good": "lists.good.example", "fair": "fair.example", "bad": "bad.example"}
SELECTOR = "s1"
check = Checks()


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=60, **kw)


def message(subject: str, from_domain: str) -> bytes:
    return (f"From: Someone <someone@{from_domain}>\n"
            f"To: <{RCPT}>\n"
            f"Subject: {subject}\n"
            "Date: Mon, 07 Dec 2026 04:00:00 +0000\n"
            f"Message-ID: <{subject.replace(' ', '-')}.{time.time_ns()}@{from_domain}>\n"
            "\n"
            f"Hello, {subject}.\n").encode()


class Fixture:
    def __init__(self, work: str, exe: str):
        self.work, self.exe = work, exe
        key_dir = os.path.join(work, "keys")
        os.makedirs(key_dir)
        self.keys, records = {}, {}
        for name, domain in SEALERS.items():
            self.keys[name] = os.path.join(key_dir, f"{name}.key")
            records[f"{SELECTOR}._domainkey.{domain}"] = T.make_key(self.keys[name])
        # The sealers' own view: keys only (no DMARC record, so their own dmarc= is none).
        self.seal_zone = self.write_zone("seal-zone", records)
        records["_dmarc.victim.example"] = "v=DMARC1; p=reject"
        self.zone = self.write_zone("zone", records)
        self.dns = None

    def write_zone(self, name: str, records: dict) -> str:
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("$TTL 300\n")
            for owner, text in sorted(records.items()):
                f.write(T.zone_line(owner, text) + "\n")
        os.chmod(path, 0o644)
        return path

    def start_dns(self) -> int:
        port_file = os.path.join(self.work, "dns.port")
        self.dns = subprocess.Popen(
            [PY, T.RESPONDER, "--zone", self.zone, "--port", "0", "--port-file", port_file,
             "--watch-stdin", "--max-lifetime", "600"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("dns_responder did not report its port")

    def stop_dns(self) -> None:
        if self.dns is not None and self.dns.poll() is None:
            self.dns.terminate()
            self.dns.wait(5)
        self.dns = None

    def sealed(self, name: str, subject: str, from_domain: str, vouch: bool,
               broken: bool) -> bytes:
        """What sealer `name` forwards: its Authentication-Results (dmarc=pass for the author
        domain when `vouch`), its ARC set; `broken`: changed after sealing."""
        domain = SEALERS[name]
        results = (f"dmarc=pass header.from={from_domain}" if vouch
                   else "spf=pass smtp.mailfrom=list@elsewhere.example")
        msg = f"Authentication-Results: mx.{domain}; {results}\n".encode() + \
            message(subject, from_domain)
        src = os.path.join(self.work, f"in.{time.time_ns()}.eml")
        with open(src, "wb") as f:
            f.write(msg)
        r = run([self.exe, "seal", "--domain", domain, "--selector", SELECTOR,
                 "--key", self.keys[name], "--authserv-id", f"mx.{domain}",
                 "--dns-zone", self.seal_zone, src])
        if r.returncode != 0:
            raise RuntimeError(f"filter-arc seal ({name}): {r.stderr.decode()}")
        return r.stdout + (b"A footer added after sealing.\n" if broken else b"")


# (sealer or None, subject, From domain, vouch, broken)
TRAFFIC = [
    ("good", "good one", "victim.example", True, False),
    ("good", "good two", "victim.example", True, False),
    ("good", "good three", "victim.example", True, False),
    ("fair", "fair dmarc", "victim.example", False, False),
    ("fair", "fair intact", "plain.example", False, False),
    ("fair", "fair broken", "plain.example", False, True),
    ("bad", "bad one", "plain.example", False, True),
    ("bad", "bad two", "plain.example", False, True),
    (None, "no arc", "plain.example", False, False),
]

EXPECTED_COUNTERS = {
    "messages": 9,
    "arc": {"pass": 5, "fail": 3, "none": 1},
    "seal": {"not_configured": 9},
    "action": {"deliver": 9},
    "deferred": {},
    "dns_temporary": 0,
    "forged_ar_removed": 0,
    "dmarc": {"fail": 4, "none": 5},
    "dmarc_fail_arc_pass": 4,
    "dmarc_arc_override": 0,
}
EXPECTED_SEALERS = {
    "lists.good.example": {"messages": 3, "chain_pass": 3, "chain_fail": 0,
                           "dmarc_fail_arc_pass": 3, "dmarc_rescued": 3, "dmarc_overridden": 0},
    "fair.example": {"messages": 3, "chain_pass": 2, "chain_fail": 1,
                     "dmarc_fail_arc_pass": 1, "dmarc_rescued": 0, "dmarc_overridden": 0},
    "bad.example": {"messages": 2, "chain_pass": 0, "chain_fail": 2,
                    "dmarc_fail_arc_pass": 0, "dmarc_rescued": 0, "dmarc_overridden": 0},
}


def config(work: str, dns_port: int, trusted: str, state_dir: str) -> str:
    path = os.path.join(work, "filter-arc.toml")
    with open(path, "w") as f:
        f.write(f'authserv-id = "{AUTHSERV_ID}"\nmode = "verify"\n'
                f'trusted-sealers-file = "{trusted}"\n'
                f'\n[dns]\nservers = ["127.0.0.1:{dns_port}"]\ntimeout-ms = 2000\n'
                f'\n[stats]\nstate-file = "{state_dir}/stats.json"\n'
                f'prometheus-file = "{state_dir}/filter-arc.prom"\ninterval = 0\n')
    os.chmod(path, 0o644)
    return path


def main() -> int:
    H.run_or_skip()
    if len(sys.argv) != 2:
        print("usage: test_statistics.py PATH/TO/filter-arc")
        return 2
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK) or not T.filter_mode_available(exe):
        print(f"SKIP: filter mode not available ({exe})")
        return H.SKIP
    t0 = time.monotonic()
    work = H.make_workdir("filter-arc-e2e-stats.")
    fx = Fixture(work, exe)
    try:
        staged = H.stage(exe, work)
        msgs = [(s, fx.sealed(s, subj, dom, v, b) if s else message(subj, dom), dom)
                for s, subj, dom, v, b in TRAFFIC]
        port = fx.start_dns()
        trusted = os.path.join(work, "trusted-sealers")
        with open(trusted, "w") as f:
            f.write("# the operator already trusts fair.example\nfair.example\n")
        os.chmod(trusted, 0o644)
        state_dir = os.path.join(work, "state")
        os.makedirs(state_dir)
        pw = H.pwd.getpwnam(H.SMTPD_USER)
        os.chown(state_dir, pw.pw_uid, pw.pw_gid)  # the filter's user writes there
        cfg = config(work, port, trusted, state_dir)
        TB.check_config(staged, cfg)
        command = os.environ.get("FILTER_ARC_E2E_COMMAND") or staged
        with H.Smtpd(f"{command} -c {cfg}", workdir=os.path.join(work, "mx")) as mx:
            print(f"smtpd up on port {mx.port} ({time.monotonic() - t0:.1f} s)", flush=True)
            for sealer, msg, dom in msgs:
                reply = mx.send(f"sender@{dom}", RCPT, msg)
                T.delivered_one(mx, reply)
            pid = TB.filter_pid(mx, staged)
            since = len(mx.log())
            mx.signal_descendant(pid, signal.SIGUSR1)
            written = TB.wait_log(mx, r"event=stats status=written", since)
            check(written is not None, f"SIGUSR1: {written and written.strip()[:160]}")
            problems = T.log_problems(mx.log())
            check(not problems and mx.alive(), f"smtpd alive, log clean: {problems}")
            log_tail = H._tail(mx.log(), 40)
        with open(os.path.join(state_dir, "stats.json"), encoding="utf-8") as f:
            state = json.load(f)  # valid JSON, or this raises
        counters = state["counters"]
        for k, want in EXPECTED_COUNTERS.items():
            check(counters.get(k) == want, f"counters.{k} = {want} (got {counters.get(k)})")
        check(sum(counters.get("spf", {}).values()) == 9, f"spf results: {counters.get('spf')}")
        check(state["sealers"] == EXPECTED_SEALERS, f"per sealer: {state['sealers']}")
        with open(os.path.join(state_dir, "filter-arc.prom"), encoding="utf-8") as f:
            prom = f.read()
        problems = prom_check.check(prom)
        check(not problems, f"Prometheus file valid: {problems[:3]}")
        check('filter_arc_sealer_dmarc_rescued_total{sealer="lists.good.example"} 3\n' in prom,
              "Prometheus: lists.good.example rescued 3")

        r = run([exe, "stats", os.path.join(state_dir, "stats.json")])
        print(r.stdout.decode(), flush=True)
        check(r.returncode == 0, "`filter-arc stats` prints the table")
        r = run([exe, "sealers", "-c", cfg, "--suggest", "--min-messages", "3"])
        suggest = r.stdout.decode()
        print(suggest, flush=True)
        lines = [line for line in suggest.splitlines() if line and not line.startswith("#")]
        check(r.returncode == 0 and lines == ["lists.good.example"],
              f"--suggest suggests only lists.good.example: {lines}")
        ranked = [l.split()[1] for l in run([exe, "sealers", "-c", cfg]).stdout.decode()
                  .splitlines() if l[:4].strip().isdigit()]
        print("ranking: " + " ".join(ranked))
        check(ranked == ["lists.good.example", "fair.example", "bad.example"],
              f"ranked good, fair, bad: {ranked}")
        check("# already trusted: fair.example" in suggest, "fair.example shown as trusted")
        new_trusted = os.path.join(work, "trusted-sealers.suggested")
        with open(new_trusted, "w") as f:
            f.write(suggest)
        os.chmod(new_trusted, 0o644)
        cfg2 = os.path.join(work, "filter-arc-2.toml")
        with open(cfg, encoding="utf-8") as f:
            text = f.read().replace(trusted, new_trusted)
        with open(cfg2, "w") as f:
            f.write(text)
        os.chmod(cfg2, 0o644)
        try:
            TB.check_config(staged, cfg2)
            check(True, "check-config (as the filter's user) accepts the suggested lines")
        except RuntimeError as e:
            check(False, f"check-config refuses the suggested lines: {e}")
        if check.fails:
            print("---- smtpd log (tail) ----\n" + log_tail)
    except (H.SmtpdError, RuntimeError) as e:
        check(False, f"set-up / smtpd: {e}")
    finally:
        fx.stop_dns()
        if check.fails or os.environ.get("FILTER_ARC_E2E_KEEP"):
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"({time.monotonic() - t0:.1f} s)")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
