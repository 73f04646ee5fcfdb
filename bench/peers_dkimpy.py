#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# The dkimpy peer of `scripts/bench --peers` (issue 21): seals and verifies the bench's corpus with
# Debian's python3-dkim, in this one process, answering DNS from memory. Run by filter-arc-bench
# pinned to the same core as our figures.
#
# usage: peers_dkimpy.py DIR SECONDS
#   DIR holds seal.eml, verify1_4k.eml, verify1_10m.eml, key.pem (PKCS#8), zone.txt
#   ("name<TAB>record" lines). Writes DIR/dkimpy-sealed.eml (the seal input with dkimpy's set on
#   top) for our verifier, and prints one line per figure:
#   PEER peer=dkimpy figure=NAME per_s=N result=R
import base64
import os
import sys
import time

import dkim
import dkim.crypto


def der_item(data, pos):
    """One DER item at `pos`: (tag, content start, content end)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + length


def pkcs1_pem(pkcs8_pem):
    """dkimpy reads only RSAPrivateKey (RFC 8017): take it out of PKCS#8's PrivateKeyInfo."""
    body = b"".join(l for l in pkcs8_pem.splitlines() if not l.startswith(b"-----"))
    der = base64.b64decode(body)
    _, start, _ = der_item(der, 0)  # PrivateKeyInfo SEQUENCE
    _, _, end = der_item(der, start)  # version INTEGER
    _, _, end = der_item(der, end)  # AlgorithmIdentifier SEQUENCE
    tag, ks, ke = der_item(der, end)  # privateKey OCTET STRING
    if tag != 0x04:
        raise ValueError("not a PKCS#8 RSA key")
    b64 = base64.b64encode(der[ks:ke])
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN RSA PRIVATE KEY-----\n" + b"\n".join(lines) + b"\n-----END RSA PRIVATE KEY-----\n"


def cpu_rate(op, seconds, minimum=3):
    """Calls per CPU second of this process, at least `minimum` calls and `seconds` CPU."""
    op()  # warm-up, and the result check below runs on it
    n = 0
    start = time.process_time()
    while True:
        op()
        n += 1
        used = time.process_time() - start
        if n >= minimum and used >= seconds:
            return n / used


def main():
    d, seconds = sys.argv[1], float(sys.argv[2])

    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()

    zone = {}
    for line in read("zone.txt").decode().splitlines():
        name, record = line.split("\t", 1)
        zone[name.rstrip(".").lower()] = record.encode()

    # DNS from memory (the bench's warm cache).
    def dnsfunc(name, timeout=5):
        return zone.get(name.decode().rstrip(".").lower())

    # Keys parsed once: dkimpy takes a PEM per call, so its parser is memoized.
    parsed = {}
    parse = dkim.parse_pem_private_key

    def parse_once(pem):
        if pem not in parsed:
            parsed[pem] = parse(pem)
        return parsed[pem]

    dkim.parse_pem_private_key = parse_once
    key = pkcs1_pem(read("key.pem"))
    seal_input = read("seal.eml")

    def seal():
        return dkim.arc_sign(seal_input, b"s1", b"hop1.example", key, b"bench.test",
                             timestamp=1715677950)

    sealed = seal()
    result = "ok" if len(sealed) == 3 else "fail"
    with open(os.path.join(d, "dkimpy-sealed.eml"), "wb") as f:
        f.write(b"".join(sealed) + seal_input)
    print("PEER peer=dkimpy figure=seal_4k per_s=%.1f result=%s" % (cpu_rate(seal, seconds), result),
          flush=True)

    for figure in ("verify1_4k", "verify1_10m"):
        message = read(figure + ".eml")

        def verify():
            return dkim.arc_verify(message, dnsfunc=dnsfunc)

        cv, _, reason = verify()
        result = "pass" if cv == dkim.CV_Pass else "%s(%s)" % (cv.decode(), reason)
        print("PEER peer=dkimpy figure=%s per_s=%.2f result=%s" %
              (figure, cpu_rate(verify, seconds), result.replace(" ", "_")), flush=True)


if __name__ == "__main__":
    main()
