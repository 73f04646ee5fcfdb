#!/usr/bin/python3
"""Key rotation (issue 20 item 2), through the commands an operator runs: two keys for one
sealing domain, one active (seals) and one published (`testkey` checks it, it never seals);
the switch is an edit of the file; a message sealed with the old key still verifies while the
old record stays published, and no longer once it is gone; `testkey` checks both keys and fails
when one record is wrong. `keygen --record --key FILE` prints the record of an existing key,
compared here with the public key that `openssl pkey -pubout` derives on its own.

Usage: test_key_rotation.py /path/to/filter-arc
"""
import base64
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import Checks  # noqa: E402

check = Checks()
DOMAIN = "rot.example"
MESSAGE = (b"From: a@rot.example\nTo: b@elsewhere.example\nSubject: rotation\n"
           b"Date: Mon, 7 Dec 2026 04:00:00 +0000\nMessage-ID: <rot@rot.example>\n\nbody\n")


def run(*args, stdin=None):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=60, input=stdin)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def keygen(d, selector, kind="rsa"):
    path = os.path.join(d, f"{selector}.key")
    rc, _, err = run("keygen", "--domain", DOMAIN, "--selector", selector, "--type", kind,
                     "--out", path)
    assert rc == 0, err
    return path


def record(key, selector=None):
    """(zone line, single string) that `keygen --record` prints on stdout."""
    args = ["keygen", "--record", "--key", key]
    if selector:
        args += ["--domain", DOMAIN, "--selector", selector]
    rc, out, err = run(*args)
    lines = out.split("\n")
    check(rc == 0 and len(lines) == 3 and lines[2] == "",
          f"keygen --record {' '.join(args[2:])}: two lines on stdout ({rc}, {err.strip()!r})")
    return (lines + ["", ""])[:2]


def openssl_p(key):
    """The p= value derived without filter-arc: SubjectPublicKeyInfo DER for RSA (RFC 6376
    §3.6.1), the raw 32-byte key, the last bytes of the DER, for Ed25519 (RFC 8463 §4.2)."""
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    kind = subprocess.run(["openssl", "pkey", "-in", key, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    if kind.startswith("ED25519"):
        return "ed25519", base64.b64encode(der[-32:]).decode()
    return "rsa", base64.b64encode(der).decode()


def check_record_matches(d):
    for kind in ("rsa", "ed25519"):
        key = keygen(d, f"rec-{kind}", kind)
        k, p = openssl_p(key)
        zone, value = record(key, f"rec-{kind}")
        check(value == f"v=DKIM1; k={k}; p={p}",
              f"{kind}: the single string's p= is the key openssl derives")
        m = re.fullmatch(r'(\S+) IN TXT \( ((?:"[^"]*" ?)+)\)', zone)
        parts = re.findall(r'"([^"]*)"', m.group(2)) if m else []
        check(m is not None and m.group(1) == f"rec-{kind}._domainkey.{DOMAIN}.",
              f"{kind}: zone line owner is SELECTOR._domainkey.DOMAIN. ({zone[:60]!r})")
        check("".join(parts) == value and all(len(x) <= 255 for x in parts)
              and (kind == "ed25519" or len(parts) == 2),
              f"{kind}: zone line strings are <= 255 bytes and join to the single string")
        # Without --domain/--selector: the same record, a placeholder owner name.
        bare_zone, bare_value = record(key)
        check(bare_value == value and bare_zone.startswith("SELECTOR._domainkey.DOMAIN. IN TXT (")
              and bare_zone.endswith(zone[zone.index(" IN TXT ("):][len(" IN TXT ("):]),
              f"{kind}: without --domain/--selector, the placeholder name SELECTOR._domainkey.DOMAIN")
    # What keygen itself printed when it made the key is the same record.
    path = os.path.join(d, "fresh.key")
    rc, out, _ = run("keygen", "--domain", DOMAIN, "--selector", "fresh", "--out", path)
    check(rc == 0 and out.strip() == record(path, "fresh")[0],
          "keygen and keygen --record print the same zone line for a key")
    # Errors: a missing file, a file that is no key, --record without --key, half a name.
    junk = os.path.join(d, "junk.key")
    with open(junk, "w") as f:
        f.write("not a key\n")
    for args, want, what in [
            (["--key", os.path.join(d, "absent.key")], 66, "a missing key file"),
            (["--key", junk], 65, "a file that is not a key"),
            ([], 64, "no --key"),
            (["--key", junk, "--domain", DOMAIN], 64, "--domain without --selector"),
            (["--key", junk, "--out", junk], 64, "--out (that is for a new key)")]:
        rc, out, err = run("keygen", "--record", *args)
        check(rc == want and out == "" and err.strip(),
              f"keygen --record with {what}: exit {want}, a message, no record ({rc}, {err!r})")


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def config(d, name, keys):
    """keys: [(selector, file, state or None)]"""
    text = 'authserv-id = "mx.rot.example"\n[seal]\n'
    for selector, key, state in keys:
        text += (f'[[seal.keys]]\ndomain = "{DOMAIN}"\nselector = "{selector}"\nkey = "{key}"\n'
                 + (f'state = "{state}"\n' if state else ""))
    path = os.path.join(d, name)
    write(path, text, 0o644)
    return path


def zone(d, name, records):
    path = os.path.join(d, name)
    write(path, "".join(line + "\n" for line in records), 0o644)
    return path


def seal(cfg, zone_file, message):
    rc, out, err = run("seal", "-c", cfg, "--dns-zone", zone_file, "-", stdin=message)
    m = re.search(r"^ARC-Seal:.*?\bs=([a-z0-9-]+)", out, re.M | re.S)
    return rc, out, (m.group(1) if m else None), err


def verify(zone_file, message):
    rc, out, err = run("verify", "--dns-zone", zone_file, "-", stdin=message.encode())
    m = re.search(r"\barc=(\w+)", out)
    return m.group(1) if m else f"(exit {rc}: {err.strip()})"


def testkey(cfg, zone_file):
    rc, out, _ = run("testkey", "-c", cfg, "--dns-zone", zone_file)
    return rc, dict(re.findall(r"^(\S+): (\w+)", out, re.M)), out


def check_rotation(d):
    old, new, other = keygen(d, "arc1"), keygen(d, "arc2"), keygen(d, "stray")
    rec_old, rec_new = record(old, "arc1")[0], record(new, "arc2")[0]
    both = zone(d, "both.zone", [rec_old, rec_new])
    names = {f"arc1._domainkey.{DOMAIN}", f"arc2._domainkey.{DOMAIN}"}

    # Step 1, publish next: arc1 seals, arc2 is published; testkey checks both.
    before = config(d, "before.toml", [("arc1", old, None), ("arc2", new, "published")])
    rc, verdicts, out = testkey(before, both)
    check(rc == 0 and set(verdicts) == names and set(verdicts.values()) == {"match"},
          f"testkey checks the active and the published key: both match ({out!r})")
    check("arc1._domainkey.rot.example: match (active key, seals)" in out
          and "arc2._domainkey.rot.example: match (published key, does not seal)" in out,
          "testkey names each key's state")
    rc, sealed_old, s, err = seal(before, both, MESSAGE)
    check(rc == 0 and s == "arc1", f"before the switch the active key arc1 seals (s={s}, {err!r})")
    check(verify(both, sealed_old) == "pass", "the arc1 seal verifies")

    # Step 3, switch: arc2 active, arc1 published (an edit of the file, then a reload).
    after = config(d, "after.toml", [("arc1", old, "published"), ("arc2", new, "active")])
    rc, sealed_new, s, err = seal(after, both, MESSAGE)
    check(rc == 0 and s == "arc2", f"after the switch the active key arc2 seals (s={s}, {err!r})")
    check(verify(both, sealed_new) == "pass", "the arc2 seal verifies")
    check(verify(both, sealed_old) == "pass",
          "a message sealed with arc1 before the switch still verifies while arc1 is published")
    rc, verdicts, out = testkey(after, both)
    check(rc == 0 and set(verdicts.values()) == {"match"} and len(verdicts) == 2,
          "after the switch testkey still checks both")

    # Step 5, retire too early: the old record gone, the old seal no longer verifies.
    only_new = zone(d, "new.zone", [rec_new])
    check(verify(only_new, sealed_old) == "fail",
          "once arc1's record is removed, the arc1 seal fails (why the old record stays)")
    check(verify(only_new, sealed_new) == "pass", "the arc2 seal does not need arc1's record")
    rc, verdicts, out = testkey(after, only_new)
    check(rc == 1 and verdicts.get(f"arc1._domainkey.{DOMAIN}") == "missing"
          and verdicts.get(f"arc2._domainkey.{DOMAIN}") == "match",
          f"testkey fails when the published key's record is missing ({rc}, {out!r})")

    # A wrong record for the published key fails testkey, with a line per key.
    wrong = zone(d, "wrong.zone", [rec_old, record(other, "arc2")[0]])
    rc, verdicts, out = testkey(before, wrong)
    check(rc == 1 and verdicts.get(f"arc2._domainkey.{DOMAIN}") == "mismatch"
          and verdicts.get(f"arc1._domainkey.{DOMAIN}") == "match",
          f"testkey fails when the published key's record is another key ({rc}, {out!r})")

    # check-config: the states round-trip through --print.
    rc, printed, err = run("check-config", "-c", after, "--print")
    check(rc == 0 and printed.count('state = "published"') == 1
          and printed.count('state = "active"') == 1,
          f"check-config --print shows both keys with their states ({err.strip()!r})")
    again = os.path.join(d, "again.toml")
    write(again, printed, 0o644)
    rc, printed_again, err = run("check-config", "-c", again, "--print")
    check(rc == 0 and printed_again == printed, "check-config --print loads back unchanged")

    # Config errors: two active keys, no active key.
    rc, _, err = run("check-config", "-c", config(d, "two.toml", [("arc1", old, None),
                                                                  ("arc2", new, None)]))
    check(rc == 78 and "2 active keys for rot.example (selector arc1 at " in err
          and "selector arc2 at " in err, f"two active keys: exit 78 naming both ({err!r})")
    rc, _, err = run("check-config", "-c", config(d, "none.toml", [("arc1", old, "published"),
                                                                   ("arc2", new, "published")]))
    check(rc == 78 and "no active key for rot.example" in err,
          f"no active key: exit 78 naming the domain ({err!r})")


def check_switch_by_reload(d):
    """The filter in smtpd mode over pipes: the switch is an edit of the file and a SIGHUP."""
    old, new = os.path.join(d, "arc1.key"), os.path.join(d, "arc2.key")
    cfg = os.path.join(d, "running.toml")
    # No sender authentication and no chain on the message: no DNS is asked.
    head = ('mode = "seal"\n[authentication]\nspf = false\ndkim = false\ndmarc = false\n'
            '[seal]\n')

    def tables(states):
        return "".join(f'[[seal.keys]]\ndomain = "{DOMAIN}"\nselector = "{sel}"\nkey = "{key}"\n'
                       f'state = "{st}"\n' for sel, key, st in states)

    write(cfg, head + tables([("arc1", old, "active"), ("arc2", new, "published")]), 0o644)
    errlog = open(os.path.join(d, "filter.log"), "w+")
    p = subprocess.Popen([BIN, "-c", cfg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=errlog)
    try:
        def send(line):
            p.stdin.write((line + "\n").encode())
            p.stdin.flush()

        def read_until(want, timeout=10):
            buf, end = b"", time.time() + timeout
            while time.time() < end and want not in buf:
                if select.select([p.stdout], [], [], 0.2)[0]:
                    chunk = os.read(p.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    buf += chunk
            return buf.decode()

        def seal_selector(session):
            for line in ["From: a@rot.example", "Subject: t", "", "body"]:
                send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|{line}")
            send(f"filter|0.6|1.0|smtp-in|data-line|{session}|e43f4b5e888d8c53|.")
            out = read_until(f"{session}|e43f4b5e888d8c53|.\n".encode())
            m = re.search(r"ARC-Seal:.*?\bs=([a-z0-9-]+);", out)
            return m.group(1) if m else None

        for line in ["config|smtpd-version|6.8.0p2", "config|admd|vm", "config|ready"]:
            send(line)
        check("register|ready" in read_until(b"register|ready\n"), "smtpd mode: handshake")
        check(seal_selector("0000000000000001") == "arc1", "smtpd mode: the active arc1 seals")
        write(cfg, head + tables([("arc1", old, "published"), ("arc2", new, "active")]), 0o644)
        p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check(seal_selector("0000000000000002") == "arc2",
              "smtpd mode: after the switch and SIGHUP, arc2 seals")
        # A switch that leaves two active keys is refused; the running keys stay.
        write(cfg, head + tables([("arc1", old, "active"), ("arc2", new, "active")]), 0o644)
        p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check(seal_selector("0000000000000003") == "arc2",
              "smtpd mode: a reload with two active keys is refused, arc2 goes on sealing")
        errlog.seek(0)
        check("2 active keys for rot.example" in errlog.read(),
              "smtpd mode: the refused reload is logged with the reason")
        p.stdin.close()
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    with tempfile.TemporaryDirectory() as d:
        check_record_matches(d)
        check_rotation(d)
        check_switch_by_reload(d)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
