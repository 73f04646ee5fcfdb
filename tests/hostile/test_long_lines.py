#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 1 (issue 15): body lines smtpd cannot read back.

smtpd 6.8 reads a filter's output into a 64 KiB buffer; a client body line of about 65,500
bytes, echoed with the `filter-dataline|SESSION|TOKEN|` prefix, no longer fits, smtpd's lookup
process spins and every later session hangs. A 2,500-byte line fits, but smtpd cuts every line
a filter writes at 1,997 bytes (protocol notes §12), so a seal computed over the long line no
longer verifies after the cut.

Cases (one smtpd each, the ordinary message of another session sent while the attack runs):
  a  one body line of 65,500 bytes
  b  one body line of 2,500 bytes
Properties: ordinary mail is delivered within hostile_lib.ORDINARY_DEADLINE_S; smtpd and the
filter live on; the attack is accepted (250) or deferred (4xx), never left hanging; what we
added is <= 998 octets a line; when the attack is delivered with our seal, the seal verifies
(filter-arc verify and dkimpy), whatever the fix did with the long line.

  /usr/bin/python3 tests/hostile/test_long_lines.py BUILD/filter/filter-arc   (as root)
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

LINE_LENGTHS = {"a": 65_500, "b": 2_500}
# The attack's own SMTP transaction: generous, but bounded (a hang is a failure, not a wait).
ATTACK_TIMEOUT_S = 30.0


def one(exe: str, label: str, length: int, ck: L.Checks) -> None:
    with L.Rig(exe, f"line{length}") as rig:
        body = b"before\n" + (b"x" * length) + b"\nafter\n"
        attack = L.message(f"long line {length}", body)
        res, ordinary = L.run_with_ordinary(
            rig, lambda: rig.send(attack, timeout=ATTACK_TIMEOUT_S))
        tag = f"{label} ({length}-byte line)"
        # Protocol 0.7 (smtpd 7.4+): a line over 64,950 bytes cannot be echoed safely and is
        # refused at commit with 550 5.6.0 (README limits table); 0.6 echoes it cut at 1,997.
        refusal = length > 64_950 and L.H.filter_protocol() == "0.7"
        ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res, allow_5xx=refusal) and \
            (res.code < 500 or res.message.startswith("5.6.0"))
        ck(ok, f"{tag}: the attack got 250 or 4xx{' or 550 5.6.0' if refusal else ''}, never a "
               f"hang ({res!r})")
        L.check_ordinary(ck, rig, ordinary)
        if ok and res.code == 250:
            got = rig.wait_delivered(res)
            ck(got is not None, f"{tag}: the accepted attack message was delivered")
            if got is not None:
                L.check_lines(ck, got, tag)
                if L.our_results(got) and b"ARC-Seal:" in got:
                    ours, theirs = rig.arc_verdict(got)
                    ck(ours == "pass" and theirs == "pass",
                       f"{tag}: the delivered attack message's seal verifies (filter-arc "
                       f"verify: {ours}, dkimpy: {theirs})")
        # A later ordinary session must still work (a spinning smtpd hangs every later one).
        L.check_ordinary(ck, rig, rig.ordinary("after"), "ordinary message after the attack")
        L.check_alive(ck, rig)


def run(exe: str) -> int:
    ck = L.Checks("hostile class 1: body lines smtpd cannot read back")
    for label, length in LINE_LENGTHS.items():
        ck.guard(one, exe, label, length, ck)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
