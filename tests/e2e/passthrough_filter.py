#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Minimal OpenSMTPD proc-exec filter used to prove the e2e harness (smtpd_harness.py).

Speaks the filter protocol (0.5 and later: responses are SESSION|TOKEN): after `config|ready` it
registers every smtp-in report, the data-line and commit phases, then `register|ready`.
Each message is streamed back line by line (still dot-stuffed, as smtpd sent it) with one header,
`X-Passthrough: 1`, in front of the first line. Commit is answered with `proceed`, unless the
message carries a header `X-Test-Action:` with one of these values (to test the harness itself):
  reject-451      -> reject|451 4.7.1 passthrough test tempfail   (session stays open)
  reject-550      -> reject|550 5.7.1 passthrough test reject
  disconnect-421  -> reject|421 4.7.0 passthrough test disconnect (smtpd closes the session)
  exit            -> the filter exits without answering (smtpd then exits too: crash test)
Everything is handled as bytes, so 8-bit data passes unchanged. It exits on EOF on stdin
(smtpd stopped). It writes one line to stderr at start-up, which smtpd logs as `<filter>: <line>`:
"passthrough filter: registered admd=<config|admd> tag=<$PASSTHROUGH_TAG>".
"""

import os
import sys

ACTIONS = {
    b"reject-451": b"reject|451 4.7.1 passthrough test tempfail",
    b"reject-550": b"reject|550 5.7.1 passthrough test reject",
    b"disconnect-421": b"reject|421 4.7.0 passthrough test disconnect",
}


def main():
    rd = sys.stdin.buffer
    out = sys.stdout.buffer
    sessions = {}  # session id -> {"started": bool, "in_headers": bool, "action": bytes|None}
    ready = False
    admd = b""

    def send(*lines):
        out.write(b"".join(line + b"\n" for line in lines))
        out.flush()

    for raw in rd:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if not ready:
            if line.startswith(b"config|admd|"):
                admd = line[len(b"config|admd|"):]
            if line == b"config|ready":
                send(b"register|report|smtp-in|*",
                     b"register|filter|smtp-in|data-line",
                     b"register|filter|smtp-in|commit",
                     b"register|ready")
                ready = True
                sys.stderr.write("passthrough filter: registered admd=%s tag=%s\n" % (
                    admd.decode(errors="replace"), os.environ.get("PASSTHROUGH_TAG", "")))
                sys.stderr.flush()
            continue
        if line.startswith(b"report|"):
            f = line.split(b"|", 6)
            if len(f) >= 6 and f[4] in (b"link-disconnect",):
                sessions.pop(f[5], None)
            continue
        if not line.startswith(b"filter|"):
            continue
        # filter|VER|TIME|smtp-in|PHASE|SESSION|TOKEN|PARAM (PARAM is the rest of the line)
        f = line.split(b"|", 7)
        if len(f) < 8:
            continue
        phase, sid, token, param = f[4], f[5], f[6], f[7]
        st = sessions.setdefault(sid, {"started": False, "in_headers": True, "action": None})
        if phase == b"data-line":
            lines = []
            if not st["started"]:
                st["started"] = True
                lines.append(b"filter-dataline|" + sid + b"|" + token + b"|X-Passthrough: 1")
            if st["in_headers"]:
                if param == b"":
                    st["in_headers"] = False
                elif param.lower().startswith(b"x-test-action:"):
                    st["action"] = param.split(b":", 1)[1].strip()
            lines.append(b"filter-dataline|" + sid + b"|" + token + b"|" + param)
            if param == b".":
                st["started"] = False
                st["in_headers"] = True
            send(*lines)
        elif phase == b"commit":
            if st["action"] == b"exit":
                sys.stderr.write("passthrough filter: exiting on request\n")
                sys.stderr.flush()
                return 3
            decision = ACTIONS.get(st["action"] or b"", b"proceed")
            st["action"] = None
            send(b"filter-result|" + sid + b"|" + token + b"|" + decision)
        else:
            # Not registered, but never leave a request unanswered.
            send(b"filter-result|" + sid + b"|" + token + b"|proceed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
