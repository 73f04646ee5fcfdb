#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Class 6 (issue 15): memory that grows with attacker input.

Cases (each in its own smtpd + filter, because VmHWM is the peak over a process's life):
  a  a 4 MiB body of empty lines: the old replay was built in one string, 26-30x the message
     (112 MiB RSS through real smtpd; 203 MiB for 7.6 MiB). Budget: peak RSS <=
     EMPTY_LINES_RSS_MIB.
  b  a header block that never ends: HEADER_BLOCK_MIB of header lines with no empty line
     before the final dot; the old code collected it all before checking max-header-bytes.
     Budget: peak RSS <= HEADER_RSS_MIB.
  c  DNS cache bytes: CACHE_MESSAGES messages, each with 50 ARC sets (and 10 DKIM-Signatures)
     naming 100 selectors new to the message, whose TXT answers are ~60 KB (CNAMEs to a few big
     records of our loopback DNS);
     the old cache was bounded by entry count only (585 MiB after 100 messages).
     Budget: peak RSS <= CACHE_RSS_MIB.
Also each time: an ordinary message of another session, sent while the attack runs, delivered
within the deadline (for a and b counted from the attack's end: smtpd 6.8 itself needs that long
to pass millions of lines on, see hostile_lib.run_with_ordinary), smtpd and the filter alive,
the attack accepted or deferred (4xx; 5xx allowed for b, whose message has no body), lines we
added <= 998 octets.

RSS budgets mean nothing under ASan (shadow memory): the budget checks are skipped there with
a SKIP line, the rest runs.

  /usr/bin/python3 tests/hostile/test_memory.py BUILD/filter/filter-arc   (as root)
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_lib as L  # noqa: E402

# a: 4 MiB of empty lines (2 M lines; the old code peaked at 112 MiB, 28x; 7.6 MiB would take
# smtpd 6.8 itself over a minute to pass on). The filter's own footprint is ~10 MiB; the spool
# budget (limits.spool-memory-bytes, 1 MiB) plus the output pacing (4 MB) allow a few MiB more.
EMPTY_LINES_MIB = 4.0
EMPTY_LINES_RSS_MIB = 48
# b: a header block of 30 MiB (under smtpd's default 35 MB message size) that never ends; the
# filter may keep max-header-bytes (1 MiB) of it.
HEADER_BLOCK_MIB = 30
HEADER_RSS_MIB = 64
# c: 100 selectors x ~60 KB per message (old code: 79 MiB after 12 messages). A byte-bounded
# cache (a few MiB) plus the footprint and one message's answers in flight (~6 MB).
CACHE_MESSAGES = 16
CACHE_SELECTORS = 100
CACHE_TXT_BYTES = 60_000
CACHE_BIG_RECORDS = 4
CACHE_RSS_MIB = 48
ATTACK_TIMEOUT_S = 120.0


def crlf_message(subject: str, head_extra: bytes, body: bytes) -> bytes:
    """A raw CRLF message ending with the final dot (for send(raw=True))."""
    m = L.H.to_crlf(L.message(subject, b"", extra=head_extra))
    assert m.endswith(b"\r\n\r\n")
    return m + body + b".\r\n"


def budget(ck: L.Checks, rig: L.Rig, limit: float, what: str, asan: bool) -> None:
    peak = rig.hwm_mib()
    if asan:
        L.log(f"SKIP RSS budget for {what} under ASan (peak {peak:.1f} MiB)")
        return
    ck(0 < peak <= limit, f"{what}: filter peak RSS {peak:.1f} MiB <= budget {limit} MiB")


def attack_and_check(ck: L.Checks, rig: L.Rig, attack, tag: str, allow_5xx=False,
                     delay: float = 0.5, after_attack: bool = False):
    t0 = time.monotonic()
    res, ordinary = L.run_with_ordinary(rig, attack, delay=delay,
                                        attack_timeout=ATTACK_TIMEOUT_S + 10,
                                        after_attack=after_attack)
    took = time.monotonic() - t0
    if isinstance(res, list):
        ok = all(isinstance(r, L.H.Reply) and L.attack_reply_ok(r, allow_5xx) for r in res)
        shown = [(r.code, r.stage) for r in res]
    else:
        ok = isinstance(res, L.H.Reply) and L.attack_reply_ok(res, allow_5xx)
        shown = res
    ck(ok, f"{tag}: the attack got 250 or 4xx{' or 5xx' if allow_5xx else ''}, never a hang "
       f"({shown!r}, {took:.1f} s)")
    L.check_ordinary(ck, rig, ordinary, f"{tag}: ordinary message" +
                     (" (deadline from the attack's end)" if after_attack else ""))
    first = res[0] if isinstance(res, list) and res else res
    if ok and isinstance(first, L.H.Reply) and first.code == 250:
        got = rig.wait_delivered(first, timeout=60)
        ck(got is not None, f"{tag}: the accepted attack message was delivered")
        if got is not None:
            L.check_lines(ck, got, tag)
    return res


def case_empty_lines(exe: str, ck: L.Checks, asan: bool) -> None:
    with L.Rig(exe, "mem-empty") as rig:
        n = int(EMPTY_LINES_MIB * 1024 * 1024 / 2)
        data = crlf_message("empty lines", b"", b"\r\n" * n)
        attack_and_check(ck, rig, lambda: rig.send(data, raw=True, timeout=ATTACK_TIMEOUT_S),
                         f"a ({EMPTY_LINES_MIB} MiB of empty lines)", delay=2.0,
                         after_attack=True)
        budget(ck, rig, EMPTY_LINES_RSS_MIB, "a", asan)
        L.check_alive(ck, rig)


def case_endless_header(exe: str, ck: L.Checks, asan: bool) -> None:
    with L.Rig(exe, "mem-header") as rig:
        line = b"X-Filler: " + b"h" * 88 + b"\r\n"
        n = HEADER_BLOCK_MIB * 1024 * 1024 // len(line)
        head = L.H.to_crlf(L.message("endless header", b""))[:-2]  # no empty line
        data = head + line * n + b".\r\n"
        attack_and_check(ck, rig, lambda: rig.send(data, raw=True, timeout=ATTACK_TIMEOUT_S),
                         f"b ({HEADER_BLOCK_MIB} MiB header block without an end)",
                         allow_5xx=True, delay=2.0, after_attack=True)
        budget(ck, rig, HEADER_RSS_MIB, "b", asan)
        L.check_alive(ck, rig)


def case_dns_cache(exe: str, ck: L.Checks, asan: bool) -> None:
    records = {}
    big = [f"big{j}.cache.example.net" for j in range(CACHE_BIG_RECORDS)]
    for j, owner in enumerate(big):
        records[owner] = "v=DKIM1; k=rsa; p=" + (chr(ord("A") + j) * CACHE_TXT_BYTES)
    cnames = []
    for i in range(CACHE_MESSAGES * CACHE_SELECTORS):
        cnames.append(f"s{i}._domainkey.cache.example.net. 300 IN CNAME "
                      f"{big[i % CACHE_BIG_RECORDS]}.")

    class CacheRig(L.Rig):
        def _zone(self, path, recs):
            super()._zone(path, recs)
            if path == self.zone:
                with open(path, "a") as f:
                    f.write("\n".join(cnames) + "\n")

    def msg(k: int) -> bytes:
        """50 ARC sets (RFC 8617 §4.1: i=1..50, cv=none at i=1) whose ARC-Seal and
        ARC-Message-Signature name 100 selectors new to this message, plus 10 DKIM-Signatures;
        none verifies, each costs a key lookup (the old code fetched them all)."""
        base = k * CACHE_SELECTORS
        sets = []
        for i in range(CACHE_SELECTORS // 2, 0, -1):
            cv = b"none" if i == 1 else b"pass"
            sets.append(b"ARC-Seal: i=%d; a=rsa-sha256; cv=%s; d=cache.example.net; s=s%d;\n"
                        b"\tt=1796590000; b=AAAA\n" % (i, cv, base + 2 * i - 2))
            sets.append(b"ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed;\n"
                        b"\td=cache.example.net; s=s%d; t=1796590000; h=from:to:subject;\n"
                        b"\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\n"
                        % (i, base + 2 * i - 1))
            sets.append(b"ARC-Authentication-Results: i=%d; hop%d.example.net; spf=pass\n"
                        % (i, i))
        sigs = b"".join(
            b"DKIM-Signature: v=1; a=rsa-sha256; d=cache.example.net; s=s%d;\n"
            b"\tc=relaxed/relaxed; h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu"
            b"FU=; b=AAAA\n" % (base + i) for i in range(10))
        return L.message(f"dns cache {k}", extra=b"".join(sets) + sigs)

    with CacheRig(exe, "mem-cache", records=records,
                  config={"dns": {"message-deadline-ms": 20000, "timeout-ms": 3000}}) as rig:
        def attack():
            out = []
            for k in range(CACHE_MESSAGES):
                r = rig.send(msg(k), timeout=60)
                out.append(r)
                if not L.attack_reply_ok(r):
                    break
            return out
        attack_and_check(ck, rig, attack, f"c ({CACHE_MESSAGES} messages x {CACHE_SELECTORS} "
                         f"selectors x {CACHE_TXT_BYTES // 1000} KB TXT)", delay=3.0)
        budget(ck, rig, CACHE_RSS_MIB, "c", asan)
        L.check_alive(ck, rig)


def run(exe: str) -> int:
    ck = L.Checks("hostile class 6: memory that grows with attacker input")
    asan = L.sanitized(exe)
    only = os.environ.get("HOSTILE_CASES", "abc")
    for name, fn in (("a", case_empty_lines), ("b", case_endless_header), ("c", case_dns_cache)):
        if name in only:
            ck.guard(fn, exe, ck, asan)
    return ck.summary()


if __name__ == "__main__":
    L.main_wrapper(run)
