#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes the seed corpus of fuzz_dkim (tests/fuzz/corpus/fuzz_dkim/seed-*): messages signed by
dkimpy (python3-dkim) with the test keys of tests/arc/test_keys.cpp, published by fuzz_dkim.cpp
at rsa._domainkey.example.com and ed._domainkey.example.com, plus tampered copies and the bare
DKIM-Signature values.

Usage: /usr/bin/python3 tests/fuzz/make_dkim_corpus.py

Seeds are rewritten from scratch; regress-* files are left alone. Signing time is pinned, so
a run reproduces the same files.
"""

import base64
import hashlib
import os
import re
import time
from unittest import mock

import dkim

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "fuzz_dkim")
MESSAGES = os.path.join(ROOT, "tests", "interop", "messages")
SIGNED_AT = 1735689600  # fuzz_dkim verifies at 1795918548


def test_keys():
    text = open(os.path.join(ROOT, "tests", "arc", "test_keys.cpp"), encoding="ascii").read()
    return dict(re.findall(r'const char\* const (\w+) = R"PEM\((.*?)\)PEM";', text, re.S))


def ed25519_seed(pem):
    """The 32-byte private key of a PKCS#8 Ed25519 PEM, base64 (the form dkimpy signs with)."""
    der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
    return base64.b64encode(der[-32:])


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def sign(message, keys, kind="rsa", canon=(b"relaxed", b"relaxed"), length=False, alg=None):
    selector = b"ed" if kind == "ed" else b"rsa"
    key = keys["ed"] if kind == "ed" else keys["rsa"]
    algorithm = alg or (b"ed25519-sha256" if kind == "ed" else b"rsa-sha256")
    with mock.patch.object(time, "time", return_value=float(SIGNED_AT)):
        field = dkim.sign(message, selector, b"example.com", key, canonicalize=canon,
                          signature_algorithm=algorithm, length=length,
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return field + message


def main():
    pems = test_keys()
    keys = {"rsa": pems["rsa1024_pkcs1"].encode(), "ed": ed25519_seed(pems["ed25519_pkcs8"])}
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-"):
            os.unlink(os.path.join(OUT, f))
    seen = set()

    def add(name, data):
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            return
        seen.add(digest)
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)

    def value_of(signed):
        field = re.match(rb"DKIM-Signature:(.*?)\r\n(?![ \t])", signed, re.S)
        return field.group(1)

    for name in sorted(os.listdir(MESSAGES)):
        base = crlf(open(os.path.join(MESSAGES, name), "rb").read())
        stem = name.rsplit(".", 1)[0]
        variants = {
            "rsa-relaxed": sign(base, keys),
            "rsa-simple": sign(base, keys, canon=(b"simple", b"simple")),
            "ed-relaxed-simple": sign(base, keys, "ed", canon=(b"relaxed", b"simple")),
        }
        for label, signed in variants.items():
            add(f"{stem}-{label}", signed)
            add(f"value-{stem}-{label}", value_of(signed))
        if stem == "multipart":
            both = sign(sign(base, keys, "ed"), keys, canon=(b"simple", b"simple"))
            add("multipart-two", both)
            add("multipart-two-body-changed", both.replace(b"Content-Type", b"Content-type", 1)
                + b"extra line\r\n")
            add("multipart-subject-changed", re.sub(rb"\nSubject: ", b"\nSubject: Re: ",
                                                    variants["rsa-relaxed"], count=1))
            lengthy = sign(base, keys, length=True)
            add("multipart-l", lengthy)
            add("multipart-l-appended", lengthy + b"-- \r\nappended by a list\r\n")
            add("multipart-l-shortened", lengthy[:-40])
            add("multipart-rsa-sha1", sign(base, keys, alg=b"rsa-sha1"))
            many = base
            for i in range(6):
                many = sign(many, keys, "ed" if i % 2 else "rsa")
            add("multipart-six", many)
    count = len([f for f in os.listdir(OUT) if f.startswith("seed-")])
    print(f"fuzz_dkim: {count} seeds in {OUT}")


if __name__ == "__main__":
    main()
