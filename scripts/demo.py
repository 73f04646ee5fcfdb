#!/usr/bin/python3
"""The main job, end to end: a real OpenSMTPD on a loopback port runs filter-arc as its
filter; a message with an existing ARC set is sent to it; the delivered message is printed
with its new Authentication-Results and ARC set, and verified by filter-arc and by Debian's
independent dkimpy. Everything runs on 127.0.0.1 and is stopped by PID at the end.

Usage (as root, after scripts/setup): scripts/demo.py BUILD_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import smtpd_harness as H  # noqa: E402

BIN = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build"), "filter", "filter-arc")


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw)


def main():
    reason = H.skip_reason()
    if reason:
        print("demo: " + reason)
        return 1
    H.ensure_setup()
    work = H.make_workdir("filter-arc-demo.")
    dns = None
    try:
        binary = H.stage(BIN, work)
        # Two keys: the upstream list that sealed first, and our forwarder.
        zone = ["$TTL 300"]
        keys = {}
        for domain, sel in (("lists.example.org", "up"), ("forward.example.net", "arc2026")):
            path = os.path.join(work, f"{domain}.key")
            zone.append(sh(binary, "keygen", "--domain", domain, "--selector", sel, "--out", path).stdout.strip())
            keys[domain] = path
        # The author's domain: SPF for the loopback client, and a DMARC policy (the filter
        # writes spf=pass and dmarc=pass, aligned through SPF).
        zone.append('example.org. IN TXT "v=spf1 ip4:127.0.0.1 -all"')
        zone.append('_dmarc.example.org. IN TXT "v=DMARC1; p=reject"')
        zone_file = H.write_private(os.path.join(work, "zone"), "\n".join(zone) + "\n")
        port_file = os.path.join(work, "dns.port")
        dns = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/tools/dns_responder.py"),
                                "--zone", zone_file, "--port", "0", "--port-file", port_file],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import time
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        dns_port = int(open(port_file).read().strip())

        # The message as the list sealed it (hop 1), arriving at our forwarder (hop 2).
        original = open(os.path.join(ROOT, "etc/demo/message.eml"), "rb").read()
        hop1 = sh(binary, "seal", "--domain", "lists.example.org", "--selector", "up",
                  "--key", keys["lists.example.org"], "--authserv-id", "lists.example.org",
                  "--dns-zone", zone_file, input=original.decode()).stdout.encode()

        key = H.write_private(os.path.join(work, "forward.key"), open(keys["forward.example.net"]).read(),
                              0o600, owner=H.SMTPD_USER)
        cfg = H.write_private(os.path.join(work, "filter-arc.toml"), f"""
authserv-id = "mx.forward.example.net"
[seal]
domain = "forward.example.net"
selector = "arc2026"
key = "{key}"
[dns]
servers = ["127.0.0.1:{dns_port}"]
""")
        print(f"== smtpd.conf filter line:  filter \"arc\" proc-exec \"filter-arc -c {cfg}\"")
        with H.Smtpd(f"{binary} -c {cfg}", workdir=work, hostname="mx.forward.example.net") as mx:
            reply = mx.send("alice@example.org", "arctest@example.test", hop1)
            print(f"== SMTP reply to the message: {reply.code} {reply.message}")
            delivered = mx.delivered()
        if not delivered:
            print("demo: nothing was delivered")
            return 1
        msg = delivered[0]
        head = msg.split(b"\n\n", 1)[0].decode(errors="replace")
        print("== The delivered message's header block:\n" + head + "\n")
        path = os.path.join(work, "delivered.eml")
        open(path, "wb").write(msg)
        print("== filter-arc verify:")
        print(sh(binary, "verify", "--dns-zone", zone_file, "--authserv-id", "demo", path).stdout.strip())
        print("== dkimpy (independent implementation):")
        recs = {l.split()[0].rstrip("."): "".join(re.findall(r'"([^"]*)"', l)) for l in zone[1:]}
        out = sh("/usr/bin/python3", "-c", "import dkim,sys,json;r=json.loads(sys.argv[1]);"
                 "res=dkim.arc_verify(open(sys.argv[2],'rb').read(),dnsfunc=lambda n,timeout=5:"
                 "r.get(n.decode().rstrip('.'),'').encode());print('arc=%s (%s)'%(res[0].decode(),res[2]))",
                 __import__("json").dumps(recs), path)
        print(out.stdout.strip())
        return 0
    finally:
        if dns is not None:
            dns.terminate()
            dns.wait()
        if not os.environ.get("FILTER_ARC_DEMO_KEEP"):
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
