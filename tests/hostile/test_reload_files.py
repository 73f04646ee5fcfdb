#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 8 (issue 15, smtpd part): configuration files that are no regular files.

A key path that is a FIFO blocks open(2) forever; /dev/zero as trusted-sealers-file never ends.
Read by a SIGHUP reload inside the event loop, either stopped all mail on the old code. The
filter must refuse non-regular files (and cap what it reads), keep its old configuration and
go on serving.

Cases (one smtpd each; the filter gets SIGHUP by PID, checked against its start time):
  a  the config names a FIFO as a [[seal.keys]] key, then SIGHUP
  b  the config names /dev/zero as trusted-sealers-file, then SIGHUP
After each: an ordinary message is delivered within the deadline, sealed with the old key and
verifying; smtpd and the same filter process alive; the log mentions the reload (any wording
with "reload"); the filter's peak RSS stays within RELOAD_RSS_MIB (b: a file is read with a
size cap, never to its "end").

The filter runs under RLIMIT_AS (prlimit, AS_LIMIT_MIB) so the old code reading /dev/zero
fails instead of eating the machine's memory; under ASan, where RLIMIT_AS cannot be used, case b
is skipped (SKIP line).

  /usr/bin/python3 tests/hostile/test_reload_files.py BUILD/filter/filter-arc   (as root)
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

AS_LIMIT_MIB = 512
# Peak RSS after the reload: the filter's footprint (~10 MiB) plus a configuration file read
# with a size cap (a few MiB at most); the old code read /dev/zero until RLIMIT_AS stopped it.
RELOAD_RSS_MIB = 64
PRLIMIT = "/usr/bin/prlimit"
RELOAD_SETTLE_S = 1.0


def one(exe: str, ck: L.Checks, label: str, what: str, asan: bool) -> None:
    wrapper = [] if asan else [PRLIMIT, f"--as={AS_LIMIT_MIB * 1024 * 1024}", "--"]
    with L.Rig(exe, f"reload-{label}", wrapper=wrapper) as rig:
        good = rig.config_text()
        if label == "a":
            fifo = os.path.join(rig.work, "keys", "fifo.key")
            os.mkfifo(fifo, 0o600)
            pw = L.H.pwd.getpwnam(L.H.SMTPD_USER)
            os.chown(fifo, pw.pw_uid, pw.pw_gid)
            text = (good + f'\n[[seal.keys]]\ndomain = "fifo.example"\nselector = "f"\n'
                           f'key = "{fifo}"\n')
        else:
            text = 'trusted-sealers-file = "/dev/zero"\n' + good
        L.H.write_private(rig.cfg, text, 0o644)
        since = len(rig.filter_log())
        rig.mx.signal_descendant(rig.filter_pid, signal.SIGHUP)
        time.sleep(RELOAD_SETTLE_S)
        L.check_ordinary(ck, rig, rig.ordinary(f"after reload {label}"),
                         f"{label} ({what}): ordinary message after SIGHUP")
        ck("reload" in rig.filter_log()[since:], f"{label}: the filter logged the reload attempt")
        if not asan:
            peak = rig.hwm_mib()
            ck(0 < peak <= RELOAD_RSS_MIB,
               f"{label}: filter peak RSS {peak:.1f} MiB <= budget {RELOAD_RSS_MIB} MiB "
               "(a configuration file is read with a size cap)")
        L.check_alive(ck, rig)


def run(exe: str) -> int:
    ck = L.Checks("hostile class 8: FIFO / /dev/zero in the configuration, then SIGHUP")
    asan = L.sanitized(exe)
    ck.guard(one, exe, ck, "a", "a FIFO as a seal key", asan)
    if asan:
        L.log("SKIP case b (/dev/zero) under ASan: RLIMIT_AS cannot be used")
    else:
        ck.guard(one, exe, ck, "b", "/dev/zero as trusted-sealers-file", asan)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
