#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 7 (issue 15): trust-boundary bypasses through smtpd (the Exim one is tests/exim's).

Smtpd 1 (limits.max-message-bytes = MAX_MESSAGE_BYTES, limits.max-header-fields =
MAX_HEADER_FIELDS):
  a  a forged Authentication-Results bearing our authserv-id in a message over
     max-message-bytes: scrubbing must never be skipped;
  b  a forged Authentication-Results hidden behind a bare CR ("X-Note: x<CR>Authentication-
     Results: <our id>; ..."): whatever the fix decides (CR as a line break, or the message
     refused), no stored message may hold it when a parser treats a bare CR as a line break;
  d  a valid ARC chain (1 set) in a header block with more than max-header-fields fields: the
     verdict in our Authentication-Results must not be arc=none.
Smtpd 2 (seal.domain-from = "header-from", keys for lists.example and example.org):
  c  From: "Lists <x@lists.example>" <attacker@evil.example> must NOT be sealed with the
     lists.example key (DMARC names evil.example; one From parser for both).
Always: the ordinary message of another session delivered within the deadline while the attack
runs, smtpd and the filter alive, the attack accepted, deferred (4xx) or refused (5xx), lines
we added <= 998 octets.

  /usr/bin/python3 tests/hostile/test_trust_boundary.py BUILD/filter/filter-arc   (as root)
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

MAX_MESSAGE_BYTES = 65_536
MAX_HEADER_FIELDS = 50
HOP_DOMAIN, HOP_SELECTOR = "hop.example.net", "hop"
LISTS_DOMAIN, LISTS_SELECTOR = "lists.example", "lists"
ORG_DOMAIN, ORG_SELECTOR = "example.org", "org"
ATTACK_TIMEOUT_S = 30.0


def forged(marker: str) -> bytes:
    return (f"Authentication-Results: {L.AUTHSERV_ID}; dkim=pass header.d={marker}\n").encode()


def send_attack(ck: L.Checks, rig: L.Rig, data: bytes, tag: str, mail_from=L.SENDER):
    res, ordinary = L.run_with_ordinary(
        rig, lambda: rig.send(data, mail_from=mail_from, timeout=ATTACK_TIMEOUT_S))
    ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res, allow_5xx=True)
    ck(ok, f"{tag}: the attack got 250, 4xx or 5xx, never a hang ({res!r})")
    L.check_ordinary(ck, rig, ordinary, f"{tag}: ordinary message")
    if ok and res.code == 250:
        got = rig.wait_delivered(res)
        ck(got is not None, f"{tag}: the accepted attack message was delivered")
        if got is not None:
            L.check_lines(ck, got, tag)
        return got
    return None


def seal_one_hop(rig: L.Rig, exe: str, msg: bytes) -> bytes:
    src = os.path.join(rig.work, "hop.eml")
    with open(src, "wb") as f:
        f.write(b"Authentication-Results: mx.hop.example.net; spf=pass "
                b"smtp.mailfrom=sender@example.org\n" + msg)
    r = subprocess.run([exe, "seal", "--domain", HOP_DOMAIN, "--selector", HOP_SELECTOR,
                        "--key", rig.key_paths["hop"], "--authserv-id", "mx.hop.example.net",
                        "--dns-zone", rig.verify_zone, src], capture_output=True, timeout=60)
    if r.returncode != 0 or not r.stdout:
        raise RuntimeError(f"filter-arc seal failed: {r.stderr.decode()}")
    return r.stdout


def limits_cases(exe: str, ck: L.Checks) -> None:
    with L.Rig(exe, "trust-limits", extra_keys={"hop": (HOP_DOMAIN, HOP_SELECTOR)},
               config={"limits": {"max-message-bytes": MAX_MESSAGE_BYTES,
                                  "max-header-fields": MAX_HEADER_FIELDS}}) as rig:
        # a: over max-message-bytes
        tag = f"a (forged A-R in a message over max-message-bytes={MAX_MESSAGE_BYTES})"
        body = (b"y" * 70 + b"\n") * (2 * MAX_MESSAGE_BYTES // 71)
        got = send_attack(ck, rig, L.message("over size", body, extra=forged("forged-a.example")),
                          tag)
        if got is not None:
            L.check_no_forged(ck, got, tag, b"forged-a.example")
        # b: behind a bare CR
        tag = "b (forged A-R behind a bare CR)"
        extra = (b"X-Note: innocent\r" + forged("forged-b.example").rstrip(b"\n") + b"\n")
        got = send_attack(ck, rig, L.message("bare cr", extra=extra), tag)
        if got is not None:
            L.check_no_forged(ck, got, tag, b"forged-b.example")
        # d: ARC set(s) in a header block over max-header-fields
        tag = f"d (ARC chain in a header block over max-header-fields={MAX_HEADER_FIELDS})"
        fillers = b"".join(b"X-Filler-%d: f\n" % i for i in range(MAX_HEADER_FIELDS * 2))
        chain = seal_one_hop(rig, exe, L.message("fields over limit", extra=fillers))
        got = send_attack(ck, rig, chain, tag)
        if got is not None:
            ars = L.our_results(got)
            verdicts = [m.group(1).decode() for v in ars
                        for m in [re.search(rb"\barc=(\w+)", v)] if m]
            ck("none" not in verdicts,
               f"{tag}: our verdict is not arc=none (A-R arc= {verdicts})")
            # a chain was there: a seal of ours (if we sealed) never says cv=none (RFC 8617
            # §5.1.2: cv=none only for the first set)
            ours = [L.T.tags(v) for k, v in L.fields(got) if k == "arc-seal"
                    and L.T.tags(v).get("d") == L.SEAL_DOMAIN]
            ck(all(t.get("cv") != "none" for t in ours),
               f"{tag}: no ARC-Seal of ours says cv=none "
               f"({[(t.get('i'), t.get('cv')) for t in ours]})")
        L.check_alive(ck, rig)


def from_parser_case(exe: str, ck: L.Checks) -> None:
    class KeysRig(L.Rig):
        def prepare(self):
            self.seal_keys = [
                {"domain": LISTS_DOMAIN, "selector": LISTS_SELECTOR,
                 "key": self.key_paths["lists"]},
                {"domain": ORG_DOMAIN, "selector": ORG_SELECTOR, "key": self.key_paths["org"]},
            ]

    with KeysRig(exe, "trust-from", extra_keys={"lists": (LISTS_DOMAIN, LISTS_SELECTOR),
                                                "org": (ORG_DOMAIN, ORG_SELECTOR)},
                 config={"seal": {"domain-from": "header-from"}}) as rig:
        tag = "c (From: \"Lists <x@lists.example>\" <attacker@evil.example>, header-from keys)"
        got = send_attack(ck, rig, L.message(
            "display name trick", from_hdr=b'"Lists <x@lists.example>" <attacker@evil.example>'),
            tag, mail_from="attacker@evil.example")
        if got is not None:
            domains = [L.T.tags(v).get("d", "") for k, v in L.fields(got)
                       if k in ("arc-seal", "arc-message-signature")]
            ck(LISTS_DOMAIN not in domains,
               f"{tag}: not sealed with the {LISTS_DOMAIN} key (ARC d= {domains})")
        L.check_alive(ck, rig)


def run(exe: str) -> int:
    ck = L.Checks("hostile class 7: trust-boundary bypasses")
    only = os.environ.get("HOSTILE_CASES", "abcd")
    if set(only) & set("abd"):
        ck.guard(limits_cases, exe, ck)
    if "c" in only:
        ck.guard(from_parser_case, exe, ck)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
