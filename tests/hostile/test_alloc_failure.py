#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 5 (issue 15): an allocation failure must not stop the filter for good.

On the old code a std::bad_alloc during the replay was logged, but the shell never read from
smtpd again (and did not exit on EOF): every later session hung. Here the filter runs under
`prlimit --as=AS_LIMIT_MIB` (RLIMIT_AS), and the attack is a message whose processing needed a
lot of memory on the old code (a body of EMPTY_LINES_MIB of empty lines: ~26-30x its size).
Properties: the attack is accepted or deferred (4xx), never left hanging; the ordinary message
of another session, sent while the attack runs (its deadline counts from the attack's end: smtpd
itself needs that long to pass a million lines on, see hostile_lib.run_with_ordinary) and again
afterwards, is delivered within the deadline; smtpd and the same filter process alive.

SKIP (exit 77) under ASan: RLIMIT_AS cannot be used with its shadow memory.

  /usr/bin/python3 tests/hostile/test_alloc_failure.py BUILD/filter/filter-arc   (as root)
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

# The address-space limit: the filter's own footprint (VmSize 13.8 MiB at start, measured) plus
# room for the spool budget (1 MiB) and output pacing (4 MB), well below the ~56 MiB of RSS
# the old replay of this message needed (28x the message: 4 MiB of empty lines -> 112 MiB).
AS_LIMIT_MIB = 64
EMPTY_LINES_MIB = 2.0
# smtpd needs ~10-20 s to pass 1 M lines on (2 busy cores); a hang is cut off here.
ATTACK_TIMEOUT_S = 60.0
PRLIMIT = "/usr/bin/prlimit"


def run(exe: str) -> int:
    if L.sanitized(exe):
        L.log("SKIP: ASan build (libasan linked or built in): RLIMIT_AS cannot be used")
        return L.SKIP
    if not os.access(PRLIMIT, os.X_OK):
        L.log(f"SKIP: {PRLIMIT} missing (util-linux)")
        return L.SKIP
    ck = L.Checks("hostile class 5: an allocation failure must not stop the filter")

    def go():
        wrapper = [PRLIMIT, f"--as={AS_LIMIT_MIB * 1024 * 1024}", "--"]
        with L.Rig(exe, "alloc", wrapper=wrapper) as rig:
            L.log(f"filter VmSize at start {L.vm_kib(rig.filter_pid, 'VmSize') / 1024:.1f} MiB, "
                  f"RLIMIT_AS {AS_LIMIT_MIB} MiB")
            n = int(EMPTY_LINES_MIB * 1024 * 1024 / 2)
            data = L.H.to_crlf(L.message("alloc failure", b""))
            data += b"\r\n" * n + b".\r\n"
            res, ordinary = L.run_with_ordinary(
                rig, lambda: rig.send(data, raw=True, timeout=ATTACK_TIMEOUT_S), delay=2.0,
                attack_timeout=ATTACK_TIMEOUT_S + 10, after_attack=True)
            ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res)
            ck(ok, f"the attack got 250 or 4xx, never a hang ({res!r})")
            L.check_ordinary(ck, rig, ordinary, "ordinary message sent during the attack "
                             "(deadline from the attack's end)")
            L.check_ordinary(ck, rig, rig.ordinary("after"), "ordinary message after the attack")
            L.check_alive(ck, rig)

    ck.guard(go)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
