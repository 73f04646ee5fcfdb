#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 2 (issue 15): lines we generate ourselves.

Attacker-controlled values (DKIM-Signature d=/s=/a=, Authentication-Results values of a trusted
authserv-id, reasons) were copied into our Authentication-Results and ARC-Authentication-Results
unbounded: a 72 KB header line hangs smtpd; between 2 and 64 KB smtpd 6.8 cuts it and our own
seal no longer verifies. Every line we add must be <= 998 octets (RFC 5322 §2.1.1), folded.

Cases:
  a  one DKIM-Signature whose d=, s= and a= are each ~3.3 KB, folded over 900-octet lines
     (~10 KB: smtpd cuts what we add, the seal breaks)
  b  the same with ~24 KB each (~72 KB: smtpd hangs on the old code)
  c  (own smtpd, chain { "pre", "arc" }) an earlier filter of our ADMD (huge_ar_filter.py) adds
     an Authentication-Results of the trusted id upstream.hostile.test whose value is ~72 KB,
     folded; filter-arc trusts that id, so it copies those results into its AAR
Properties: ordinary mail delivered within the deadline while the attack runs; smtpd and filter
alive; the attack accepted or deferred (4xx); every header line we added <= 998 octets; a
delivered attack message carrying our seal verifies (filter-arc verify and dkimpy).

  /usr/bin/python3 tests/hostile/test_generated_lines.py BUILD/filter/filter-arc   (as root)
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM_ID = "upstream.hostile.test"
ATTACK_TIMEOUT_S = 30.0
FOLD = 900  # octets per folded line of the attacker's field (each line is RFC-conforming)


def folded(prefix: str, total: int) -> str:
    """prefix followed by total octets of 'a', folded every FOLD octets (CRLF + TAB)."""
    parts, left = [], total
    while left > 0:
        n = min(FOLD, left)
        parts.append("a" * n)
        left -= n
    return prefix + "\n\t".join(parts)


def dkim_attack(each: int) -> bytes:
    sig = ("DKIM-Signature: v=1; " + folded("a=rsa-sha256", each) + ";\n\t"
           + folded("d=evil", each) + ".example;\n\t" + folded("s=s", each) + ";\n\t"
           "c=relaxed/relaxed; h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
           "\n\tb=AAAA\n")
    return L.message(f"huge dkim tags {each}", extra=sig.encode())


def check_attack(ck: L.Checks, rig: L.Rig, res, tag: str) -> None:
    ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res)
    ck(ok, f"{tag}: the attack got 250 or 4xx, never a hang ({res!r})")
    if not ok or res.code != 250:
        return
    got = rig.wait_delivered(res)
    ck(got is not None, f"{tag}: the accepted attack message was delivered")
    if got is None:
        return
    L.check_lines(ck, got, tag)
    ck(bool(L.our_results(got)), f"{tag}: our Authentication-Results is there")
    if b"ARC-Seal:" in got:
        ours, theirs = rig.arc_verdict(got)
        ck(ours == "pass" and theirs == "pass",
           f"{tag}: our seal verifies (filter-arc verify: {ours}, dkimpy: {theirs})")


def dkim_cases(exe: str, ck: L.Checks) -> None:
    with L.Rig(exe, "gen-dkim") as rig:
        for label, each in (("a", 3_300), ("b", 24_000)):
            attack = dkim_attack(each)
            res, ordinary = L.run_with_ordinary(
                rig, lambda: rig.send(attack, timeout=ATTACK_TIMEOUT_S))
            tag = f"{label} (DKIM d=/s=/a= {each} octets each, {len(attack)} in all)"
            check_attack(ck, rig, res, tag)
            L.check_ordinary(ck, rig, ordinary, f"{tag}: ordinary message")
        L.check_alive(ck, rig)


def trusted_case(exe: str, ck: L.Checks) -> None:
    def chain(rig):
        script = L.H.stage(os.path.join(HERE, "huge_ar_filter.py"), rig.work)
        return {"filters_config": f'filter "pre" proc-exec "{L.PY} {script} {UPSTREAM_ID} 72000"\n'
                                  'filter "both" chain { "pre", "arc" }',
                "listen_filter": "both"}

    with L.Rig(exe, "gen-trusted", smtpd_opts=chain,
               config={"": {"trusted-authserv-ids": [UPSTREAM_ID]}}) as rig:
        attack = L.message("trusted huge A-R")
        res, ordinary = L.run_with_ordinary(
            rig, lambda: rig.send(attack, mail_from="attacker@example.org",
                                  timeout=ATTACK_TIMEOUT_S))
        check_attack(ck, rig, res, "c (trusted A-R of ~72 KB copied into the AAR)")
        L.check_ordinary(ck, rig, ordinary, "c: ordinary message")
        L.check_alive(ck, rig)


def run(exe: str) -> int:
    ck = L.Checks("hostile class 2: lines we generate ourselves")
    ck.guard(dkim_cases, exe, ck)
    ck.guard(trusted_case, exe, ck)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
