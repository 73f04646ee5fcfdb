#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 4 (issue 15): CPU per message must be bounded.

One process serves every session, so CPU spent on one message delays all others. The attack is
a LEGAL message that is as expensive as we can make it on the old code:
  * a 3072-bit RSA key whose published public exponent is e' = 65537 + lambda(n) (a ~3070-bit
    exponent that is equivalent to 65537, so signatures made with the private key VERIFY under
    it, yet every verification costs a full-size modular exponentiation);
  * DKIM selector many._domainkey.cpu.example.net holding 50 TXT records: 49 with the same
    modulus and a wrong huge exponent (each verification fails after the full cost), the
    working one last;
  * 10 DKIM-Signatures (made by dkimpy) with d=cpu.example.net s=many;
  * an ARC chain of CHAIN_SETS sets (made with `filter-arc seal`; for building it the sealer
    sees e = 65537), sealed by hop.example.net whose published key has the huge exponent too.
Properties: the filter's CPU time (utime+stime from /proc/PID/stat) for the attack message stays
within CPU_BUDGET_S; the ordinary message of another session is delivered within the deadline;
smtpd and the filter alive; the attack accepted or deferred (4xx); lines we added <= 998.

  /usr/bin/python3 tests/hostile/test_cpu.py BUILD/filter/filter-arc   (as root)
"""

import base64
import math
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

# Budget: the filter's CPU for the whole attack message (and the ordinary one beside it). With
# normal keys this message costs ~0.05 s; on the old code ~10-30 s.
CPU_BUDGET_S = 2.0
# An ASan+UBSan debug build (CI) runs our own code several times slower (OpenSSL's is not
# instrumented): the budget is scaled by this factor there.
ASAN_FACTOR = 3.0
CHAIN_SETS = 40        # ARC sets in the attack chain (the limit is 50)
DKIM_SIGNATURES = 10
RECORDS = 50           # TXT records at the DKIM selector
DKIM_DOMAIN, DKIM_SELECTOR = "cpu.example.net", "many"
HOP_DOMAIN, HOP_SELECTOR = "hop.example.net", "hop"
ATTACK_TIMEOUT_S = 90.0


def genrsa(path: str, bits: int) -> None:
    r = subprocess.run(["/usr/bin/openssl", "genrsa", "-out", path, str(bits)],
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())


def primes(path: str) -> tuple[int, int, int]:
    """(n, p, q) of an RSA private key file."""
    r = subprocess.run(["/usr/bin/openssl", "rsa", "-in", path, "-noout", "-text"],
                       capture_output=True, text=True, timeout=30)
    out = {}
    for name in ("modulus", "prime1", "prime2"):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", r.stdout)
        out[name] = int(re.sub(r"[\s:]", "", m.group(1)), 16)
    return out["modulus"], out["prime1"], out["prime2"]


def build(rig: L.Rig, work: str, exe: str) -> bytes:
    """The attack message (CRLF)."""
    import dkim
    key = os.path.join(work, "cpu.key")
    genrsa(key, 3072)
    n, p, q = primes(key)
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    good_e = 65537 + lam
    assert good_e < n
    good = L.rsa_record_with_exponent(n, good_e)
    bad = [L.rsa_record_with_exponent(n, good_e + 2 * (j + 1)) for j in range(RECORDS - 1)]
    rig.records[f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}"] = bad + [good]
    rig.records[f"{HOP_SELECTOR}._domainkey.{HOP_DOMAIN}"] = good
    # DKIM signatures (RFC 6376), then the chain on top, as on a real path.
    with open(key, "rb") as f:
        pem = f.read()
    msg = L.H.to_crlf(L.message("cpu attack", b"A costly but legal message.\n" * 20))
    for i in range(DKIM_SIGNATURES):
        sig = dkim.sign(msg, DKIM_SELECTOR.encode(), DKIM_DOMAIN.encode(), pem,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        msg = sig + msg
    # the sealer verifies the chain so far against a zone where e = 65537 (fast to build)
    build_zone = os.path.join(work, "build.zone")
    pub = subprocess.run(["/usr/bin/openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"],
                         capture_output=True, timeout=30).stdout
    with open(build_zone, "w") as f:
        f.write(L.T.zone_line(f"{HOP_SELECTOR}._domainkey.{HOP_DOMAIN}",
                              "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()) + "\n")
    src = os.path.join(work, "chain.eml")
    for i in range(CHAIN_SETS):
        with open(src, "wb") as f:
            f.write(b"Authentication-Results: mx.%d.hop.example.net; spf=pass "
                    b"smtp.mailfrom=sender@example.org\r\n" % i + msg)
        r = subprocess.run([exe, "seal", "--domain", HOP_DOMAIN, "--selector", HOP_SELECTOR,
                            "--key", key, "--authserv-id", f"mx.{i}.hop.example.net",
                            "--dns-zone", build_zone, src], capture_output=True, timeout=60)
        if r.returncode != 0 or not r.stdout:
            raise RuntimeError(f"filter-arc seal (set {i + 1}) failed: {r.stderr.decode()}")
        msg = r.stdout
    return msg


def run(exe: str) -> int:
    ck = L.Checks("hostile class 4: CPU per message is bounded")

    class CpuRig(L.Rig):
        def prepare(self):
            t0 = time.monotonic()
            self.attack = build(self, self.work, exe)
            L.log(f"built the attack ({len(self.attack)} octets, {CHAIN_SETS} sets, "
                  f"{DKIM_SIGNATURES} DKIM signatures, {RECORDS} records) in "
                  f"{time.monotonic() - t0:.1f} s")

    def go():
        # the DNS deadline per message is generous: the budget under test is CPU, not DNS
        with CpuRig(exe, "cpu", config={"dns": {"message-deadline-ms": 20000,
                                                "timeout-ms": 3000}}) as rig:
            cpu0 = rig.cpu_s()
            t0 = time.monotonic()
            res, ordinary = L.run_with_ordinary(
                rig, lambda: rig.send(rig.attack, timeout=ATTACK_TIMEOUT_S), delay=0.3,
                attack_timeout=ATTACK_TIMEOUT_S + 10)
            took = time.monotonic() - t0
            cpu = rig.cpu_s() - cpu0
            limit = CPU_BUDGET_S * (ASAN_FACTOR if L.sanitized(exe) else 1.0)
            ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res)
            ck(ok, f"the attack got 250 or 4xx, never a hang ({res!r}, {took:.1f} s)")
            ck(0 <= cpu <= limit, f"filter CPU for the attack {cpu:.2f} s <= budget {limit} s")
            L.check_ordinary(ck, rig, ordinary)
            if ok and res.code == 250:
                got = rig.wait_delivered(res)
                ck(got is not None, "the accepted attack message was delivered")
                if got is not None:
                    L.check_lines(ck, got, "attack message")
            L.check_alive(ck, rig)

    ck.guard(go)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
