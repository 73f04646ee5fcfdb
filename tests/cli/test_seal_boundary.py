#!/usr/bin/python3
"""`filter-arc seal` runs the filter's pipeline (issue 16): the trust boundary and the
scrubbing of forged Authentication-Results (RFC 8601 §5, RFC 8617 §4.1.1) are the filter's.
Before, the command put every Authentication-Results bearing its authserv-id into the AAR,
including one below the MTA's Received field, and passed that forged field on.

Usage: test_seal_boundary.py /path/to/filter-arc
"""
import os
import re
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()


MESSAGE = (b"Authentication-Results: mx.fw.example; spf=pass smtp.mailfrom=inside.example\n"
           b"Received: from c.example by mx.fw.example\n"
           b"Authentication-Results: mx.fw.example; spf=pass smtp.mailfrom=forged.example\n"
           b"From: a@example.org\nSubject: s\n\nbody\n")


def main():
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "k.key")
        subprocess.run([BIN, "keygen", "--domain", "fw.example", "--selector", "s1", "--type",
                        "ed25519", "--out", key], check=True, capture_output=True)
        zone = os.path.join(d, "zone")
        open(zone, "w").close()
        msg = os.path.join(d, "m.eml")
        with open(msg, "wb") as f:
            f.write(MESSAGE)
        p = subprocess.run([BIN, "seal", "--domain", "fw.example", "--selector", "s1", "--key",
                            key, "--authserv-id", "mx.fw.example", "--dns-zone", zone,
                            "--now", "1795918548", msg], capture_output=True, timeout=60)
        check(p.returncode == 0, f"sealed (exit {p.returncode})")
        out = p.stdout
        aar = re.search(rb"^ARC-Authentication-Results:.*?(?=^\S)", out, re.M | re.S)
        aar = re.sub(rb"\s+", b" ", aar.group(0)) if aar else b""
        check(b"smtp.mailfrom=inside.example" in aar, f"AAR has the result above the boundary: {aar!r}")
        check(b"forged.example" not in aar, f"AAR lacks the result below the boundary: {aar!r}")
        check(b"forged.example" not in out, "the forged field is removed from the message")
        check(out.endswith(MESSAGE.replace(
            b"Authentication-Results: mx.fw.example; spf=pass smtp.mailfrom=forged.example\n", b"")),
            "the rest of the message follows byte for byte")
        log = p.stderr.decode(errors="replace")
        check(re.search(r"^mode=seal .*sealed=yes seal=sealed .*forged_ar_removed=1 .*action=deliver$",
                        log, re.M) is not None, f"one log line with the pipeline's fields: {log!r}")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
