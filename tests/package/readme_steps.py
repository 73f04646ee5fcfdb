#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""README.md's "Setting it up", run as a script (issue 20): the steps a newcomer follows,
taken from the README's code blocks and run literally, as root, on a system where the
filter-arc package is installed (tests/package/test_installed_package.sh runs this after
installing the .deb).

    tests/package/readme_steps.py [--readme FILE]

Each step is the fenced code block right after a `<!-- readme-step: NAME -->` line:
  keygen      run with `bash -e -o pipefail`; its standard output (the TXT record keygen
              prints) is published in a zone served on loopback by tests/tools/dns_responder.py;
  configure   run likewise, with the one documented substitution: the resolver address
              "127.0.0.1:53" becomes the test DNS server's 127.0.0.1:PORT;
  check       run likewise; must exit 0 and print "match";
  try         run likewise; must print "arc=pass";
  smtpd.conf  smtpd.conf lines: their `filter ... proc-exec "COMMAND"` line is used as is
              (tests/e2e/smtpd_harness.py writes it with a loopback listener instead of the
              README's port 25), a message is sent through that smtpd, and the delivered copy
              must carry our ARC-Seal (d= and s= of the keygen step) and verify with
              `filter-arc verify -c` as `arc=pass`.
A missing step, a step that fails or an expected output that is absent fails the run, so a
wrong README step fails it (prove it: --readme with a copy whose chown line is removed).
The run saves /etc/filter-arc/filter-arc.toml first and puts it back at the end, and removes
the key the keygen step made. Ends with "N passed, N failed"; exit 0, 1 on a failure, 77 SKIP
when not root or the package is not installed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import smtpd_harness  # noqa: E402

RESPONDER = os.path.join(ROOT, "tests", "tools", "dns_responder.py")
CONF = "/etc/filter-arc/filter-arc.toml"
STEPS = ("keygen", "configure", "check", "try", "smtpd.conf")
RESOLVER = "127.0.0.1:53"  # the README's example resolver, the one substitution

passed = failed = 0


def result(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")
        if detail:
            print("     " + detail.strip().replace("\n", "\n     "))
    return ok


def readme_steps(path):
    """{step name: code block text} of the README."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = re.findall(r"^<!-- readme-step: (\S+) -->\n```[a-z]*\n(.*?)^```$", text,
                       re.M | re.S)
    return dict(found)


def shell(name, script):
    """Runs one README block with bash -e -o pipefail; returns the CompletedProcess."""
    print(f"== step {name}:\n     " + script.strip().replace("\n", "\n     "))
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, timeout=120)


def start_dns(work, zone_lines):
    zone = os.path.join(work, "readme.zone")
    with open(zone, "w", encoding="utf-8") as f:
        f.write("\n".join(zone_lines) + "\n")
    port_file = os.path.join(work, "dns.port")
    proc = subprocess.Popen([sys.executable, RESPONDER, "--zone", zone, "--port", "0",
                             "--port-file", port_file, "--watch-stdin", "--max-lifetime",
                             "300"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "dns.log"), "wb"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dns_responder exited {proc.returncode}")
        try:
            with open(port_file) as f:
                port = f.read().strip()
            if port:
                return proc, int(port)
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("dns_responder did not report its port")


def run_steps(steps, work):
    """Runs the steps in order; stops at the first that leaves nothing to build on."""
    missing = [s for s in STEPS if s not in steps]
    if not result(not missing, f"README has every step ({', '.join(STEPS)})",
                  f"missing: {missing}"):
        return

    # 1. keygen: the record it prints is what the reader publishes.
    r = shell("keygen", steps["keygen"])
    if not result(r.returncode == 0, "step keygen exits 0", r.stderr):
        return
    records = [ln for ln in r.stdout.split("\n") if " IN TXT " in ln]
    if not result(len(records) == 1, "keygen printed one TXT record to publish", r.stdout):
        return
    m = re.match(r"^(\S+)\._domainkey\.(\S+?)\.? IN TXT", records[0])
    selector, domain = m.group(1), m.group(2)
    dns, port = start_dns(work, records)
    try:
        # 2. configure, with the test's resolver for the README's example one.
        script = steps["configure"]
        if not result(RESOLVER in script, f"step configure names the resolver {RESOLVER}"):
            return
        r = shell("configure", script.replace(RESOLVER, f"127.0.0.1:{port}"))
        if not result(r.returncode == 0, "step configure exits 0", r.stderr):
            return

        # 3. check-config and testkey.
        r = shell("check", steps["check"])
        result(r.returncode == 0 and re.search(r": match( \(active key, seals\))?$", r.stdout, re.M) is not None,
               f"step check exits 0 and testkey says match (exit {r.returncode})",
               r.stdout + r.stderr)

        # 4. seal | verify without mail.
        r = shell("try", steps["try"])
        result(r.returncode == 0 and "arc=pass" in r.stdout,
               f"step try: the sealed message verifies, arc=pass (exit {r.returncode})",
               r.stdout + r.stderr[-2000:])

        # 5. smtpd.conf: the README's filter line in a real smtpd.
        conf = steps["smtpd.conf"]
        fm = re.search(r'^filter "(\S+)" proc-exec "([^"]+)"\s*$', conf, re.M)
        lm = re.search(r'^listen on .* filter "(\S+)"\s*$', conf, re.M)
        if not result(fm is not None and lm is not None and fm.group(1) == lm.group(1),
                      "step smtpd.conf declares a proc-exec filter and a listener using it",
                      conf):
            return
        why = smtpd_harness.skip_reason()
        if not result(why is None, "smtpd can run here", why or ""):
            return
        print(f"== step smtpd.conf: smtpd with filter \"{fm.group(1)}\" proc-exec "
              f"\"{fm.group(2)}\"")
        with smtpd_harness.Smtpd(fm.group(2), filter_name=fm.group(1)) as mx:
            reply = mx.send(f"you@{domain}", "someone@example.test",
                            f"From: <you@{domain}>\r\nTo: <someone@example.test>\r\n"
                            f"Subject: README step 5\r\n\r\nhello\r\n".encode())
            delivered = mx.delivered(timeout=20) if reply.code == 250 else []
            log = mx.log()
        if not result(reply.code == 250 and len(delivered) == 1,
                      f"a message through that smtpd is accepted and delivered ({reply!r})",
                      log[-3000:]):
            return
        msg = delivered[0]
        seal = b" ".join(smtpd_harness.header_values(msg, "ARC-Seal"))
        result(b"i=1" in seal and f"d={domain}".encode() in seal
               and f"s={selector}".encode() in seal,
               f"the delivered message carries our ARC-Seal i=1 (d={domain}, s={selector})",
               seal.decode(errors="replace") + "\n" + log[-2000:])
        path = os.path.join(work, "delivered.eml")
        with open(path, "wb") as f:
            f.write(msg)
        r = subprocess.run(["filter-arc", "verify", "-c", CONF, path], capture_output=True,
                           text=True, timeout=60)
        result(r.returncode == 0 and "arc=pass" in r.stdout,
               "filter-arc verify -c on the delivered message: arc=pass", r.stdout + r.stderr)
    finally:
        dns.terminate()
        dns.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: not root (the README's steps write /etc/filter-arc and run smtpd)")
        return 77
    if not os.path.exists(CONF) or shutil.which("filter-arc") is None:
        print(f"SKIP: the filter-arc package is not installed ({CONF})")
        return 77
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="filter-arc-readme.")
    os.chmod(work, 0o755)
    saved = os.path.join(work, "filter-arc.toml.saved")
    shutil.copy2(CONF, saved)
    steps = readme_steps(args.readme)
    # The key files the keygen step makes (--out FILE): removed at the end, whatever happens.
    keys = re.findall(r"--out\s+(\S+)", steps.get("keygen", ""))
    try:
        run_steps(steps, work)
    except Exception as e:  # a harness problem is a failure too, with its reason
        result(False, f"the README steps ran to the end: {type(e).__name__}: {e}")
    finally:
        shutil.copy2(saved, CONF)
        for k in keys:
            if k.startswith("/etc/filter-arc/keys/") and os.path.exists(k):
                os.unlink(k)
        if failed == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work dir kept: {work}")
    print(f"README steps took {time.monotonic() - t0:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
