#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An OpenSMTPD proc-exec filter playing a filter of our own ADMD, earlier in the chain, that
writes an enormous (but RFC 5322 conforming: folded, every line <= 900 octets)
Authentication-Results field:

    huge_ar_filter.py AUTHSERV-ID TOTAL-BYTES

Above smtpd's Received: (the first data-line) it puts
    Authentication-Results: AUTHSERV-ID; spf=pass smtp.mailfrom=a@example.org
    <TAB>reason="start
    <TAB>xxxx... (the quoted string folded over as many lines as TOTAL-BYTES needs)"
for messages whose MAIL FROM starts with "attacker" (others get nothing), so filter-arc, trusting
AUTHSERV-ID, copies those results into its ARC-Authentication-Results
(issue 15 class 2). Every other line is echoed unchanged. Protocol 0.6; exits at EOF.
"""

import sys

LINE = 900


def huge_field(authserv: bytes, total: int) -> list[bytes]:
    """The field's lines: a reason= whose quoted-string (RFC 5322 §3.2.4, which may hold FWS)
    is folded over as many 900-octet lines as total needs (RFC 8601 §2.7: reason is free
    text), so the field is conforming while its unfolded value is total octets."""
    lines = [b"Authentication-Results: " + authserv + b"; spf=pass smtp.mailfrom=a@example.org",
             b'\treason="start']
    size = sum(len(x) + 1 for x in lines)
    while size < total:
        chunk = b"\t" + b"x" * (LINE - 2)
        lines.append(chunk)
        size += len(chunk) + 1
    lines[-1] += b'"'
    return lines


def main() -> int:
    authserv = sys.argv[1].encode()
    total = int(sys.argv[2])
    field = huge_field(authserv, total)
    rd, out = sys.stdin.buffer, sys.stdout.buffer
    started = set()
    attacker = set()  # sessions whose MAIL FROM starts with "attacker"
    ready = False
    for raw in rd:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if not ready:
            if line == b"config|ready":
                out.write(b"register|report|smtp-in|tx-mail\n"
                          b"register|filter|smtp-in|data-line\nregister|ready\n")
                out.flush()
                ready = True
            continue
        if line.startswith(b"report|"):
            # report|VER|TIME|smtp-in|tx-mail|SESSION|MSGID|RESULT|ADDRESS (0.6)
            f = line.split(b"|", 8)
            if len(f) >= 9 and f[4] == b"tx-mail" and f[7] == b"ok":
                if f[8].lstrip(b"<").startswith(b"attacker"):
                    attacker.add(f[5])
                else:
                    attacker.discard(f[5])
            continue
        if not line.startswith(b"filter|"):
            continue
        f = line.split(b"|", 7)  # filter|VER|TIME|smtp-in|PHASE|SESSION|TOKEN|PARAM
        if len(f) < 8:
            continue
        phase, sid, token, param = f[4], f[5], f[6], f[7]
        if phase != b"data-line":
            out.write(b"filter-result|" + sid + b"|" + token + b"|proceed\n")
            out.flush()
            continue
        prefix = b"filter-dataline|" + sid + b"|" + token + b"|"
        lines = []
        if sid not in started and sid in attacker:
            started.add(sid)
            lines += [prefix + x for x in field]
        lines.append(prefix + param)
        if param == b".":
            started.discard(sid)
        out.write(b"".join(x + b"\n" for x in lines))
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
