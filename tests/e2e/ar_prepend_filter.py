#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An OpenSMTPD proc-exec filter that plays "a filter earlier in the chain" of our own ADMD:

    ar_prepend_filter.py AUTHSERV-ID

puts `Authentication-Results: AUTHSERV-ID; spf=pass smtp.mailfrom=<MAIL FROM address>` in front
of the first data-line of each message (smtpd's own Received: field), so it sits above our MTA's
trust boundary, then echoes every line unchanged (still dot-stuffed, as smtpd sent it).
Used by test_trust_boundary.py in `filter "both" chain { "pre", "arc" }`. Speaks protocol 0.6
(responses are SESSION|TOKEN). Bytes throughout; exits at EOF on stdin. One stderr line at
start-up, which smtpd logs as `pre: ...`.
"""

import sys


def main():
    authserv = sys.argv[1].encode() if len(sys.argv) > 1 else b"upstream.example.test"
    rd, out = sys.stdin.buffer, sys.stdout.buffer
    mail_from = {}  # session -> MAIL FROM address (report tx-mail, result ok)
    started = set()  # sessions whose current message already got the header
    ready = False

    def send(*lines):
        out.write(b"".join(line + b"\n" for line in lines))
        out.flush()

    for raw in rd:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if not ready:
            if line == b"config|ready":
                send(b"register|report|smtp-in|tx-mail",
                     b"register|report|smtp-in|link-disconnect",
                     b"register|filter|smtp-in|data-line",
                     b"register|ready")
                ready = True
                sys.stderr.write("ar_prepend_filter: adding results of %s\n" % authserv.decode())
                sys.stderr.flush()
            continue
        if line.startswith(b"report|"):
            # report|VER|TIME|smtp-in|EVENT|SESSION|...; 0.6 tx-mail: ...|MSGID|RESULT|ADDRESS
            f = line.split(b"|", 8)
            if len(f) >= 9 and f[4] == b"tx-mail" and f[7] == b"ok":
                mail_from[f[5]] = f[8]
            elif len(f) >= 6 and f[4] == b"link-disconnect":
                mail_from.pop(f[5], None)
                started.discard(f[5])
            continue
        if not line.startswith(b"filter|"):
            continue
        # filter|VER|TIME|smtp-in|PHASE|SESSION|TOKEN|PARAM
        f = line.split(b"|", 7)
        if len(f) < 8:
            continue
        phase, sid, token, param = f[4], f[5], f[6], f[7]
        prefix = b"filter-dataline|" + sid + b"|" + token + b"|"
        if phase != b"data-line":
            send(b"filter-result|" + sid + b"|" + token + b"|proceed")
            continue
        lines = []
        if sid not in started:
            started.add(sid)
            sender = mail_from.get(sid) or b"unknown@invalid"
            lines.append(prefix + b"Authentication-Results: " + authserv +
                         b"; spf=pass smtp.mailfrom=" + sender)
        lines.append(prefix + param)
        if param == b".":
            started.discard(sid)
        send(*lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
