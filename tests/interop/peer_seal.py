#!/usr/bin/python3
"""Seal one ARC hop with dkimpy (python3-dkim 1.1.4, dkim.arc_sign).

One of the two independent reference sealers of the interop harness.

    /usr/bin/python3 peer_seal.py --domain D --selector S --key KEY.pem \\
        --authserv-id ID --timestamp T [--headers h1:h2:...] MESSAGE > SEALED

writes the sealed message: the new ARC-Seal, ARC-Message-Signature and
ARC-Authentication-Results on top, then MESSAGE byte for byte. The new fields use
MESSAGE's line ending (CRLF or LF).

As a real dkimpy deployment does, the chain validation status (cv=) is taken from the
arc= result of the Authentication-Results fields whose authserv-id is ID, and those
fields become the AAR: the caller must prepend such an A-R first. dkimpy declines to
seal (exit 1) when the message has ARC sets but no arc= result for ID.
KEY.pem must be PKCS#1 ("BEGIN RSA PRIVATE KEY"), the only form dkimpy parses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib  # noqa: E402


class SealRefused(Exception):
    """dkimpy returned no ARC set (it considers the chain terminated)."""


def seal(message: bytes, *, domain: str, selector: str, key_pem: bytes, srv_id: str,
         timestamp: int, headers: list[str] | None = None) -> bytes:
    """Return message with one new ARC set prepended."""
    import dkim

    eol = interop_lib.eol_of(message)
    # dkimpy is always given CRLF: with linesep=b"\n" it folds the new AMS/AAR with bare
    # LFs that its own relaxed canonicalization does not unfold, and the resulting
    # ARC-Seal validates nowhere (not even in dkimpy). The set is converted back below.
    arc_set = dkim.arc_sign(interop_lib.to_eol(message, b"\r\n"), selector.encode(), domain.encode(),
                            key_pem, srv_id.encode(),
                            include_headers=[h.encode() for h in headers] if headers else None,
                            timestamp=timestamp, logger=interop_lib.quiet_logger())
    if not arc_set:
        raise SealRefused(f"dkimpy did not seal (no usable arc= result for {srv_id})")
    # arc_sign returns [ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results].
    block = b"".join(interop_lib.to_eol(f.rstrip(b"\r\n"), eol) + eol for f in arc_set)
    return block + message


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domain", required=True)
    ap.add_argument("--selector", required=True)
    ap.add_argument("--key", required=True, type=Path)
    ap.add_argument("--authserv-id", required=True)
    ap.add_argument("--timestamp", required=True, type=int)
    ap.add_argument("--headers", help="colon-separated header names for the AMS h= (default: dkimpy's)")
    ap.add_argument("message", type=Path)
    args = ap.parse_args()
    interop_lib.check_interpreter()
    try:
        sealed = seal(args.message.read_bytes(), domain=args.domain, selector=args.selector,
                      key_pem=args.key.read_bytes(), srv_id=args.authserv_id, timestamp=args.timestamp,
                      headers=args.headers.split(":") if args.headers else None)
    except SealRefused as e:
        print(f"peer_seal.py: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(sealed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
