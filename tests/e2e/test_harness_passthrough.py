#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Proves the OpenSMTPD e2e harness (smtpd_harness.py) with passthrough_filter.py.

  /usr/bin/python3 tests/e2e/test_harness_passthrough.py        (as root, opensmtpd installed)

Exit 0: every case passed; 1: a case failed; 77: skipped (no smtpd or not root).
Cases: (a) a plain message; (b) dot-leading lines, a lone "." line, `|`, 8-bit UTF-8 and a
900-byte line arrive byte for byte; (c) 20 concurrent sessions with interleaved DATA all
delivered; (d) smtpd alive at the end; plus harness self-checks: 4xx/5xx/421 replies are
returned, not raised, the filter's stderr is in log(), an unknown domain gets 550 at RCPT,
and a crashing filter is seen by alive() and leaves no process behind.
"""

import atexit
import os
import shutil
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import smtpd_harness as H  # noqa: E402

FILTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "passthrough_filter.py")
_STAGE_DIR = None


def staged_filter() -> str:
    """The passthrough filter where user opensmtpd can run it (a checkout may be 0700)."""
    global _STAGE_DIR
    if _STAGE_DIR is None:
        _STAGE_DIR = H.make_workdir("filter-arc-e2e-stage.")
        atexit.register(shutil.rmtree, _STAGE_DIR, True)
    return H.stage(FILTER, _STAGE_DIR)
SENDER = "sender@example.org"
RCPT = "arctest@example.test"

results: list[tuple[str, bool, str]] = []


def case(name):
    def wrap(fn):
        def run(*a, **kw):
            t0 = time.monotonic()
            try:
                fn(*a, **kw)
                results.append((name, True, ""))
                print(f"ok   {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception as e:  # noqa: BLE001 - report every case
                results.append((name, False, str(e)))
                print(f"FAIL {name}: {e}", flush=True)
                traceback.print_exc()
        return run
    return wrap


def message(subject: str, body: bytes, extra_headers: bytes = b"") -> bytes:
    mid = f"<{subject.replace(' ', '-')}.{time.time_ns()}@example.org>".encode()
    return (b"From: Sender <sender@example.org>\r\n"
            b"To: " + RCPT.encode() + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Sun, 29 Nov 2026 02:00:00 +0000\r\n"
            b"Message-ID: " + mid + b"\r\n"
            + extra_headers +
            b"\r\n" + body)


def lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def check_delivered(sent: bytes, got: bytes) -> None:
    """got = smtpd's Return-Path/Delivered-To, X-Passthrough, Received, then sent byte for byte."""
    head, body = H.split_message(got)
    sent_head, sent_body = H.split_message(lf(sent))
    if body != sent_body:
        raise AssertionError(f"body differs:\n sent {sent_body[:300]!r}\n got  {body[:300]!r}")
    if not head.endswith(sent_head):
        raise AssertionError(f"client headers not intact at the end of the header block:\n"
                             f"{head.decode(errors='replace')}")
    if H.header_values(got, "X-Passthrough") != [b"1"]:
        raise AssertionError("X-Passthrough: 1 missing or repeated")
    lines = head.split(b"\n")
    if not (lines[0].startswith(b"Return-Path:") and lines[1].startswith(b"Delivered-To:")
            and lines[2] == b"X-Passthrough: 1" and lines[3].startswith(b"Received: from ")):
        raise AssertionError(f"unexpected header order: {lines[:4]}")


@case("(a) plain message delivered with the filter's header")
def case_plain(mx):
    msg = message("plain", b"Hello,\r\n\r\nthis is a plain test.\r\n")
    r = mx.send(SENDER, RCPT, msg)
    assert r.code == 250 and r.queue_id, r
    got = mx.delivered_by_id(timeout=10).get(r.queue_id)
    assert got and len(got) == 1, f"not delivered: {r}"
    check_delivered(msg, got[0])


@case("(b) dot lines, '|', 8-bit UTF-8, 900-byte line arrive byte for byte")
def case_tricky(mx):
    body = (b"first line\r\n"
            b".leading dot\r\n"
            b"..two leading dots\r\n"
            b".\r\n"
            b"pipe|inside|line||\r\n"
            b"|starts with a pipe\r\n"
            + "Grüße, ñandú, 日本語, emoji \U0001F600\r\n".encode("utf-8") +
            b"\xff\xfe raw 8-bit bytes that are not UTF-8 \x80\r\n"
            b"trailing spaces   \r\n"
            b"\ttab-leading line\r\n"
            + b"x" * 900 + b"\r\n"
            b"\r\n"
            b"last line\r\n")
    msg = message("tricky", body, b"MIME-Version: 1.0\r\n"
                  b"Content-Type: text/plain; charset=utf-8\r\n"
                  b"Content-Transfer-Encoding: 8bit\r\n")
    r = mx.send(SENDER, RCPT, msg)
    assert r.code == 250 and r.queue_id, r
    got = mx.delivered_by_id(timeout=10).get(r.queue_id)
    assert got and len(got) == 1, f"not delivered: {r}"
    check_delivered(msg, got[0])
    assert b"\n" + b"x" * 900 + b"\n" in got[0], "900-byte line changed"


@case("(c) 20 concurrent sessions with interleaved DATA all delivered")
def case_concurrent(mx):
    n = 20
    msgs = [message(f"concurrent {i}",
                    b"".join(b"session %d line %d |.%s\r\n" % (i, k, b"." * (k % 3))
                             for k in range(30)))
            for i in range(n)]
    replies = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        replies[i] = mx.send(SENDER, RCPT, msgs[i], helo=f"client{i}.example.org",
                             line_delay=0.002, sync=barrier)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    bad = [(i, r) for i, r in enumerate(replies) if r is None or r.code != 250]
    assert not bad, f"not accepted: {bad}"
    got = mx.delivered_by_id(timeout=20)
    missing = [i for i, r in enumerate(replies) if len(got.get(r.queue_id, [])) != 1]
    assert not missing, f"not delivered: {missing}"
    for i, r in enumerate(replies):
        check_delivered(msgs[i], got[r.queue_id][0])
    assert not barrier.broken, "sessions did not all reach DATA together"


@case("harness: 451/550/421 replies returned, 550 for a foreign domain, admd/env/log reach")
def case_replies(mx):
    r = mx.send(SENDER, RCPT, message("tempfail", b"x\r\n", b"X-Test-Action: reject-451\r\n"))
    assert r.code == 451 and r.stage == "dot" and r.queue_id is None, r
    r = mx.send(SENDER, RCPT, message("reject", b"x\r\n", b"X-Test-Action: reject-550\r\n"))
    assert r.code == 550 and r.stage == "dot", r
    r = mx.send(SENDER, RCPT, message("disconnect", b"x\r\n", b"X-Test-Action: disconnect-421\r\n"))
    assert r.code == 421 and r.stage == "dot", r
    r = mx.send(SENDER, "someone@elsewhere.example", message("relay", b"x\r\n"))
    assert r.code == 550 and r.stage == "rcpt", r
    r = mx.send(SENDER, RCPT, message("after rejects", b"still works\r\n"))
    assert r.code == 250, r
    assert mx.delivered_by_id(timeout=10).get(r.queue_id), "message after rejects not delivered"
    # nothing of the rejected ones was delivered
    for m in mx.maildir_messages():
        assert b"X-Test-Action" not in m, "a rejected message was delivered"
    assert ("arc: passthrough filter: registered admd=e2e-admd.example tag=two words"
            in mx.log()), "filter stderr (with config|admd and extra_env) not in the log"


@case("(d) smtpd still alive at the end")
def case_alive(mx):
    assert mx.alive(), f"smtpd died; log:\n{mx.log()[-2000:]}"


@case("harness: a crashing filter is seen by alive(), and stop() leaves no process")
def case_crash():
    with H.Smtpd(staged_filter()) as mx:
        pids = set(mx._known)
        assert mx.alive()
        r = mx.send(SENDER, RCPT, message("crash", b"x\r\n", b"X-Test-Action: exit\r\n"),
                    timeout=10)
        assert r.code != 250, r
        deadline = time.monotonic() + 10
        while mx.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not mx.alive(), "smtpd survived the filter's exit"
        assert "exiting on request" in mx.log()
    left = [p for p in pids if H._stat(p) and H._stat(p)[1] != "Z"]
    assert not left, f"processes left: {left}"
    assert not H.foreign_smtpds(), H.foreign_smtpds()


def main() -> int:
    H.run_or_skip()
    t0 = time.monotonic()
    with H.Smtpd(staged_filter(), admd="e2e-admd.example",
                 extra_env={"PASSTHROUGH_TAG": "two words"}) as mx:
        print(f"smtpd up on 127.0.0.1:{mx.port} in {time.monotonic() - t0:.1f} s, "
              f"work dir {mx.workdir}", flush=True)
        pids = set(mx._known)
        case_plain(mx)
        case_tricky(mx)
        case_concurrent(mx)
        case_replies(mx)
        case_alive(mx)
        if not all(ok for _, ok, _ in results):
            mx._failed = True  # keep the work dir for inspection
            print("---- smtpd log (tail) ----\n" + H._tail(mx.log(), 60))
    left = [p for p in pids if H._stat(p) and H._stat(p)[1] != "Z"]
    if left:
        results.append(("no process left after stop", False, str(left)))
        print(f"FAIL processes left after stop: {left}")
    case_crash()
    failed = [n for n, ok, _ in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed "
          f"({time.monotonic() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except H.SmtpdError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
