#!/usr/bin/python3
"""dkimpy's ARC verdict (python3-dkim 1.1.4, dkim.arc_verify) for messages and a zone file.

This is one of the two independent reference verifiers of the interop harness: a
fixture is only trusted when this script and peer_verify.pl (Mail::DKIM) agree on it.

    /usr/bin/python3 peer_verify.py [--min-key-bits N] ZONEFILE MESSAGE...

prints one tab-separated line per message:

    MESSAGE  VERDICT  OLDEST_PASS  RAW  REASON

VERDICT is pass, fail or none. dkimpy answers None (not "fail") when a seal carries
cv=fail ("the chain is terminated"); RFC 8617 §5.2 step 2 makes that a fail, so it is
mapped to fail and RAW keeps "None". OLDEST_PASS (only for pass, else "-") is the
RFC 8617 §5.2 value computed from dkimpy's per-instance AMS results: 0 when every
AMS validates, else the lowest instance from which all newer AMSs validate.
DNS answers come only from ZONEFILE; names absent from it are NXDOMAIN.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib  # noqa: E402
from interop_lib import Verdict  # noqa: E402


def verify(message: bytes, txt: dict[str, bytes], minkey: int = 1024) -> Verdict:
    """dkimpy's verdict for one message; txt maps lower-case owner names to TXT data."""
    import dkim

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return txt.get(name.decode("ascii").rstrip(".").lower())

    try:
        cv, results, reason = dkim.arc_verify(message, dnsfunc=dnsfunc, minkey=minkey,
                                              logger=interop_lib.quiet_logger())
    except Exception as e:  # a crash on hostile input is a verdict too, and never a pass
        return Verdict("fail", None, f"exception {type(e).__name__}", str(e))
    raw = cv.decode() if isinstance(cv, bytes) else str(cv)
    verdict = raw if raw in ("pass", "none") else "fail"
    oldest = None
    if verdict == "pass":
        valid = {r["instance"]: r["ams-valid"] for r in results}
        oldest = 0
        for instance in range(max(valid) - 1, 0, -1):
            if not valid[instance]:
                oldest = instance + 1
                break
    return Verdict(verdict, oldest, raw, reason)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min-key-bits", type=int, default=1024)
    ap.add_argument("zone", type=Path)
    ap.add_argument("messages", type=Path, nargs="+")
    args = ap.parse_args()
    interop_lib.check_interpreter()
    txt = interop_lib.parse_zone(args.zone.read_text(encoding="utf-8"))
    for path in args.messages:
        v = verify(path.read_bytes(), txt, args.min_key_bits)
        oldest = "-" if v.oldest_pass is None else str(v.oldest_pass)
        reason = " ".join(v.reason.split())
        print(f"{path}\t{v.verdict}\t{oldest}\t{v.raw}\t{reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
