#!/usr/bin/python3
"""Seeded differential test: `filter-arc verify` against dkimpy and Mail::DKIM on mutants.

Base chains of 1-5 ARC sets are sealed afresh by dkimpy, Mail::DKIM and `filter-arc seal`
(mixed hop by hop, CRLF and LF, the interop harness's messages). From them a seeded random
generator derives mutants in eight families:

    order     header fields reordered (unsigned fields, signed fields, ARC sets, fields in a set)
    dup       header fields duplicated (signed, unsigned, ARC fields, a whole set)
    refold    header fields folded, re-folded or unfolded
    ws        whitespace and case in header fields (around the colon, trailing, inside
              values, field-name case, a lone CR)
    tag       a tag of an AMS, AS or AAR edited (unknown and dashed tags, t=, x=, c=, a=, l=,
              h=, CFWS, duplicated tags, case, folded b=), then re-signed with the valid
              key, so that only the edit is under test
    body      body and line-end changes
    key       the DNS key record of one hop's sealer replaced by one of 30+ variants
              (k=, p= garbage/empty/missing/other key/PKCS#1/512 bits/ed25519, h=, t=, n=,
              v=, s=, g=, unknown and dashed tags, whitespace, NXDOMAIN)
    base      the unmutated chains, among them one sealed with a 1024-bit key and one
              whose newest seal uses a 512-bit key

Every mutant is verified by the three: filter-arc (one process per mutant, its key records
from a zone file with --dns-zone), dkimpy (in this process) and Mail::DKIM (one perl process
for all mutants). Each disagreement is put in a class: the mutation (family.op) and who
differs (filter-arc alone, dkimpy alone, Mail::DKIM alone, all differ; "oldest-pass" when all
say pass but header.oldest-pass differs). known_disagreements.txt lists the known classes
with the RFC text that decides each and who is right.

    /usr/bin/python3 differential.py FILTER_ARC [--seed N] [--count N] [--known FILE]
        [--keep DIR] [--markdown FILE] [-v]

Exit status: 0 when every class in which filter-arc differs from both peers is listed and
filter-arc neither crashed nor hung; 1 otherwise (the summary names the unlisted classes);
2 harness error. Peer-only disagreements are reported, never fatal.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from unittest import mock

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib as L  # noqa: E402
from interop_lib import ChainSpec, Sealer, Verdict  # noqa: E402

HERE = Path(__file__).resolve().parent
KNOWN = HERE / "known_disagreements.txt"

# A 512-bit sealer (below every verifier's minimum) joins the interop harness's sealers.
# (L.SEALERS itself, which the chain Builder reads, gains it.)
SEALERS = L.SEALERS
SEALERS["X"] = Sealer("X", "tiny.example.org", "weak512", "mx.tiny.example.org", "198.51.100.51", 512)
# Hops 4 and 5 get ADMDs of their own: a sealer that met the message before would find its
# own earlier Authentication-Results (arc=none/pass of that hop) and dkimpy then seals
# cv=fail.
SEALERS["D"] = Sealer("D", "relay.example.info", "rly1", "mx.relay.example.info", "203.0.113.80")
SEALERS["E"] = Sealer("E", "archive.example.com", "arc-e", "in.archive.example.com", "192.0.2.150")

PEERS = ("filter-arc", "dkimpy", "Mail::DKIM")


# --------------------------------------------------------------------------- base chains


@dataclass(frozen=True)
class Base:
    spec: ChainSpec
    valid: bool  # every hop sealed cv=none/pass with a key of at least 1024 bits


def base_specs() -> list[Base]:
    """1-5 hops; every hop sealed by dkimpy (py), Mail::DKIM (perl) or filter-arc (fa)."""
    five = ("A", "B", "C", "D", "E")
    four = ("A", "B", "C", "D")
    valid = [
        ChainSpec("multipart", "crlf", "py"),
        ChainSpec("utf8-headers", "lf", "perl"),
        ChainSpec("folded-headers", "crlf", "fa"),
        ChainSpec("multipart", "crlf", "py-perl"),
        ChainSpec("trailing-ws", "lf", "perl-fa"),
        ChainSpec("mailing-list", "crlf", "fa-py", mods=(1,)),
        ChainSpec("utf8-headers", "crlf", "py-perl-fa"),
        ChainSpec("multipart", "lf", "fa-perl-py"),
        ChainSpec("no-final-eol", "crlf", "perl-py-perl"),
        ChainSpec("mailing-list", "lf", "py-fa-perl-py", mods=(1,), sealers=four),
        ChainSpec("folded-headers", "crlf", "perl-py-fa-perl-py", sealers=five),
        ChainSpec("multipart", "crlf", "fa-perl-py-fa-perl", mods=(3,), sealers=five),
        ChainSpec("trailing-ws", "crlf", "py-py-perl-perl-fa", sealers=five),
        ChainSpec("multipart", "crlf", "py-perl", sealers=("A", "W")),  # 1024-bit key at hop 2
    ]
    invalid = [
        ChainSpec("multipart", "crlf", "py-perl", sealers=("A", "X"), variant="rsa512"),  # 512-bit newest seal
        ChainSpec("utf8-headers", "lf", "perl-py", breaks=(2,)),  # body altered before hop 2: cv=fail
    ]
    return [Base(s, True) for s in valid] + [Base(s, False) for s in invalid]


def fa_sealer(exe: str, keys: L.KeyRing):
    """The Builder's 'fa' peer: one `filter-arc seal` process per hop."""

    def seal(spec: ChainSpec, hop: int, sealer: Sealer, path: Path, stamp: int, zone: Path) -> bytes:
        cmd = [exe, "seal", "--domain", sealer.domain, "--selector", sealer.selector,
               "--key", str(keys.key_path(sealer.label)), "--authserv-id", sealer.srv_id,
               "--dns-zone", str(zone), "--now", str(stamp), str(path)]
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
        if proc.returncode != 0 or not proc.stdout:
            raise L.HopFailed(f"filter-arc seal exit {proc.returncode}: "
                              f"{proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return proc.stdout

    return seal


# --------------------------------------------------------------------------- canonicalization + signing
# An independent re-signer for the "tag" family: after a tag edit the AMS and the seals are
# signed again with the sealer's valid key, so that a verifier's verdict reflects the edit
# and not a broken signature. RFC 8617 §5.1 (AMS as a DKIM signature over h= and the body;
# AS over every ARC set in instance order, AAR, AMS, AS, with its own b= empty, relaxed).


def crlf_fields(message: bytes) -> tuple[list[bytes], bytes]:
    return L.split_message(L.to_eol(message, b"\r\n"))


def relaxed_header(raw: bytes) -> bytes:
    """RFC 6376 §3.4.2: lower-case name, unfold (CRLF before WSP only), WSP runs to one SP,
    no WSP at the end of the value or around the colon."""
    raw = raw[:-2] if raw.endswith(b"\r\n") else raw
    name, _, value = raw.partition(b":")
    value = re.sub(rb"\r\n(?=[ \t])", b"", value)
    value = re.sub(rb"[ \t]+", b" ", value).strip(b" ")
    return name.rstrip(b" \t").lower() + b":" + value + b"\r\n"


def canon_header(raw: bytes, how: str) -> bytes:
    return relaxed_header(raw) if how == "relaxed" else (raw if raw.endswith(b"\r\n") else raw + b"\r\n")


def canon_body(body: bytes, how: str) -> bytes:
    """RFC 6376 §3.4.3 / §3.4.4 on a CRLF body."""
    if how == "relaxed":
        lines = body.split(b"\r\n")
        body = b"\r\n".join(re.sub(rb"[ \t]+", b" ", ln).rstrip(b" ") for ln in lines)
        body = re.sub(rb"(\r\n)*$", b"", body)
        return body + b"\r\n" if body else b""
    body = re.sub(rb"(\r\n)*$", b"", body)
    return body + b"\r\n"


def _tag_re(name: bytes) -> re.Pattern:
    return re.compile(rb"(^|;|:)([ \t\r\n]*" + re.escape(name) + rb"[ \t\r\n]*=)([^;]*)")


def field_value_span(raw: bytes) -> int:
    return raw.index(b":") + 1


def get_tag(raw: bytes, name: str) -> bytes | None:
    m = _tag_re(name.encode()).search(raw, field_value_span(raw))
    return None if m is None else re.sub(rb"[ \t\r\n]+", b"", m.group(3))


def set_tag(raw: bytes, name: str, value: bytes) -> bytes:
    """Replace tag name's value (keeping the text before '='); the field keeps its line end."""
    m = _tag_re(name.encode()).search(raw, field_value_span(raw))
    if m is None:
        raise Skip(f"no {name}= tag")
    end = m.end(3)
    tail = raw[end:]
    trailing = b""
    if not tail:  # the last tag: keep the field's line end outside the value
        stripped = m.group(3).rstrip(b"\r\n")
        trailing = m.group(3)[len(stripped):]
    return raw[:m.start(3)] + value + trailing + tail


def remove_tag(raw: bytes, name: str) -> bytes:
    m = _tag_re(name.encode()).search(raw, field_value_span(raw))
    if m is None:
        raise Skip(f"no {name}= tag")
    start, end = m.start(2), m.end(3)
    if m.group(1) == b";":
        start -= 1  # drop the separator before it
    elif end < len(raw) and raw[end:end + 1] == b";":
        end += 1
    out = raw[:start] + raw[end:]
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def add_tag(raw: bytes, text: bytes) -> bytes:
    body = raw.rstrip(b"\r\n").rstrip(b" \t;")
    return body + b"; " + text + b"\r\n"


def empty_b(raw: bytes) -> bytes:
    """The field with the b= value deleted (RFC 6376 §3.7), as signer and verifier hash it."""
    m = _tag_re(b"b").search(raw, field_value_span(raw))
    if m is None:
        raise Skip("no b= tag")
    return raw[:m.start(3)] + raw[m.end(3):]


class Signer:
    """RSA keys of the sealers by (domain, selector)."""

    def __init__(self, keys: L.KeyRing):
        from cryptography.hazmat.primitives import serialization
        self.keys = {}
        for label, s in SEALERS.items():
            pem = keys.private_pem(label)
            self.keys[(s.domain, s.selector)] = serialization.load_pem_private_key(pem, password=None)

    def sign(self, raw_field: bytes, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        d = (get_tag(raw_field, "d") or b"").decode("ascii", "replace").lower()
        s = (get_tag(raw_field, "s") or b"").decode("ascii", "replace").lower()
        key = self.keys.get((d, s))
        if key is None:
            raise Skip(f"no key for {d}/{s}")
        algo = hashes.SHA1() if (get_tag(raw_field, "a") or b"").lower() == b"rsa-sha1" else hashes.SHA256()
        return base64.b64encode(key.sign(data, padding.PKCS1v15(), algo))


def arc_index(fields: list[bytes]) -> dict[tuple[str, int], int]:
    """(field name, instance) -> index of its first occurrence."""
    out: dict[tuple[str, int], int] = {}
    for i, f in enumerate(fields):
        inst = L.arc_instance(f)
        if inst is not None:
            out.setdefault((L.field_name(f), inst), i)
    return out


def sign_ams(signer: Signer, fields: list[bytes], body: bytes, inst: int, recompute_bh: bool = False) -> None:
    idx = arc_index(fields)
    k = idx.get(("arc-message-signature", inst))
    if k is None:
        raise Skip(f"no AMS({inst})")
    ams = fields[k]
    c = (get_tag(ams, "c") or b"simple/simple").decode("ascii", "replace").lower()
    hc, _, bc = c.partition("/")
    hc = "relaxed" if hc == "relaxed" else "simple"
    bc = "relaxed" if bc == "relaxed" else "simple"
    if recompute_bh:
        cb = canon_body(body, bc)
        length = get_tag(ams, "l")
        if length is not None and length.isdigit():
            cb = cb[:int(length)]
        algo = hashlib.sha1 if (get_tag(ams, "a") or b"").lower() == b"rsa-sha1" else hashlib.sha256
        ams = set_tag(ams, "bh", base64.b64encode(algo(cb).digest()))
    names = [n.strip().lower() for n in (get_tag(ams, "h") or b"").decode("ascii", "replace").split(":") if n.strip()]
    used: set[int] = set()
    data = b""
    for name in names:
        for j in range(len(fields) - 1, -1, -1):
            if j != k and j not in used and L.field_name(fields[j]) == name:
                used.add(j)
                data += canon_header(fields[j], hc)
                break
    data += canon_header(empty_b(ams), hc).rstrip(b"\r\n") if hc == "relaxed" else empty_b(ams).rstrip(b"\r\n")
    fields[k] = set_tag(ams, "b", signer.sign(ams, data))


def sign_as(signer: Signer, fields: list[bytes], inst: int) -> None:
    idx = arc_index(fields)
    k = idx.get(("arc-seal", inst))
    if k is None:
        raise Skip(f"no AS({inst})")
    data = b""
    for i in range(1, inst + 1):
        for name in ("arc-authentication-results", "arc-message-signature", "arc-seal"):
            j = idx.get((name, i))
            if j is None:
                raise Skip(f"no {name}({i})")
            raw = fields[j]
            if (name, i) == ("arc-seal", inst):
                data += relaxed_header(empty_b(raw)).rstrip(b"\r\n")
            else:
                data += relaxed_header(raw)
    fields[k] = set_tag(fields[k], "b", signer.sign(fields[k], data))


def reseal_from(signer: Signer, fields: list[bytes], body: bytes, inst: int, ams_too: bool = True) -> None:
    """Sign AMS(inst) (if asked) and AS(inst..N) again; a newer AMS whose h= names an ARC
    field is signed again too (it covers what changed)."""
    top = max(i for (_, i) in arc_index(fields))
    for j in range(inst, top + 1):
        ams = fields[arc_index(fields)[("arc-message-signature", j)]]
        covers_arc = b"arc-" in (get_tag(ams, "h") or b"").lower()
        if (j == inst and ams_too) or (j > inst and covers_arc):
            sign_ams(signer, fields, body, j)
        sign_as(signer, fields, j)


# --------------------------------------------------------------------------- mutations


class Skip(Exception):
    """The mutation does not apply to this chain."""


@dataclass
class Ctx:
    rng: random.Random
    base: Base
    message: bytes
    signer: Signer
    keys: L.KeyRing
    alt: dict[str, str]  # public keys in other forms, for the key family

    @property
    def eol(self) -> bytes:
        return L.eol_of(self.message)

    @property
    def top(self) -> int:
        return max(L.arc_sets(self.message))


@dataclass
class Mutant:
    name: str
    family: str
    op: str
    base: str
    message: bytes
    records: dict[str, str | None] | None = None  # key-record overrides (None = NXDOMAIN)
    path: Path | None = None
    zone: Path | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    fa_problem: str = ""


Op = Callable[[Ctx], "bytes | tuple[bytes, dict]"]
OPS: dict[str, dict[str, Op]] = defaultdict(dict)


def op(family: str, name: str):
    def reg(fn):
        OPS[family][name] = fn
        return fn
    return reg


def fields_of(ctx: Ctx) -> tuple[list[bytes], bytes]:
    return L.split_message(ctx.message)


def idx_where(fields: list[bytes], pred) -> list[int]:
    return [i for i, f in enumerate(fields) if pred(f)]


def named(name: str):
    return lambda f: L.field_name(f) == name


def is_arc(f: bytes) -> bool:
    return L.field_name(f) in L.ARC_FIELDS


def pick_inst(ctx: Ctx) -> int:
    return ctx.rng.randint(1, ctx.top)


def eolize(ctx: Ctx, raw: bytes) -> bytes:
    return L.to_eol(raw, ctx.eol)


# -- order


@op("order", "swap-unsigned-adjacent")
def _o1(ctx):
    fields, rest = fields_of(ctx)
    cand = [i for i in range(len(fields) - 1) if not is_arc(fields[i]) and not is_arc(fields[i + 1])
            and L.field_name(fields[i]) != L.field_name(fields[i + 1])]
    if not cand:
        raise Skip("no adjacent pair")
    i = ctx.rng.choice(cand)
    fields[i], fields[i + 1] = fields[i + 1], fields[i]
    return L.join_message(fields, rest)


@op("order", "arc-set-to-bottom")
def _o2(ctx):
    fields, rest = fields_of(ctx)
    inst = pick_inst(ctx)
    moved = [f for f in fields if L.arc_instance(f) == inst]
    kept = [f for f in fields if L.arc_instance(f) != inst]
    return L.join_message(kept + moved, rest)


@op("order", "arc-sets-swapped")
def _o3(ctx):
    if ctx.top < 2:
        raise Skip("one set")
    fields, rest = fields_of(ctx)
    a = pick_inst(ctx)
    b = a - 1 if a > 1 else 2
    pos_a = idx_where(fields, lambda f: L.arc_instance(f) == a)
    pos_b = idx_where(fields, lambda f: L.arc_instance(f) == b)
    fa, fb = [fields[i] for i in pos_a], [fields[i] for i in pos_b]
    slots = sorted(pos_a + pos_b)
    new = fb + fa if slots[0] in pos_a else fa + fb
    for s, f in zip(slots, new):
        fields[s] = f
    return L.join_message(fields, rest)


@op("order", "within-set-shuffled")
def _o4(ctx):
    fields, rest = fields_of(ctx)
    inst = pick_inst(ctx)
    pos = idx_where(fields, lambda f: L.arc_instance(f) == inst)
    got = [fields[i] for i in pos]
    perm = got[:]
    while perm == got:
        ctx.rng.shuffle(perm)
    for p, f in zip(pos, perm):
        fields[p] = f
    return L.join_message(fields, rest)


@op("order", "signed-field-to-bottom")
def _o5(ctx):
    fields, rest = fields_of(ctx)
    name = ctx.rng.choice(["from", "subject", "to", "date", "message-id"])
    pos = idx_where(fields, named(name))
    if not pos:
        raise Skip(f"no {name}")
    f = fields.pop(pos[0])
    return L.join_message(fields + [f], rest)


@op("order", "signed-field-to-top")
def _o6(ctx):
    fields, rest = fields_of(ctx)
    name = ctx.rng.choice(["from", "subject", "to", "date", "content-type"])
    pos = idx_where(fields, named(name))
    if not pos:
        raise Skip(f"no {name}")
    f = fields.pop(pos[-1])
    return L.join_message([f] + fields, rest)


@op("order", "received-swapped")
def _o7(ctx):
    fields, rest = fields_of(ctx)
    pos = idx_where(fields, named("received"))
    if len(pos) < 2:
        raise Skip("one Received")
    a, b = pos[0], pos[1]
    fields[a], fields[b] = fields[b], fields[a]
    return L.join_message(fields, rest)


# -- dup


def _dup(ctx, pred, where: str, which: str = "first"):
    fields, rest = fields_of(ctx)
    pos = idx_where(fields, pred)
    if not pos:
        raise Skip("no such field")
    i = pos[0] if which == "first" else pos[-1]
    f = fields[i]
    if where == "top":
        fields.insert(0, f)
    elif where == "bottom":
        fields.append(f)
    else:
        fields.insert(i + 1, f)
    return L.join_message(fields, rest)


@op("dup", "from-top")
def _d1(ctx):
    return _dup(ctx, named("from"), "top")


@op("dup", "from-bottom")
def _d2(ctx):
    return _dup(ctx, named("from"), "bottom")


@op("dup", "subject-top")
def _d3(ctx):
    return _dup(ctx, named("subject"), "top")


@op("dup", "subject-bottom")
def _d4(ctx):
    return _dup(ctx, named("subject"), "bottom")


@op("dup", "unsigned-field")
def _d5(ctx):
    return _dup(ctx, lambda f: L.field_name(f) in ("received", "return-path", "x-mailer"), "next")


@op("dup", "arc-seal")
def _d6(ctx):
    inst = pick_inst(ctx)
    return _dup(ctx, lambda f: L.field_name(f) == "arc-seal" and L.arc_instance(f) == inst, "next")


@op("dup", "ams")
def _d7(ctx):
    inst = pick_inst(ctx)
    return _dup(ctx, lambda f: L.field_name(f) == "arc-message-signature" and L.arc_instance(f) == inst, "next")


@op("dup", "aar")
def _d8(ctx):
    inst = pick_inst(ctx)
    return _dup(ctx, lambda f: L.field_name(f) == "arc-authentication-results" and L.arc_instance(f) == inst,
                "next")


@op("dup", "whole-set")
def _d9(ctx):
    fields, rest = fields_of(ctx)
    inst = pick_inst(ctx)
    pos = idx_where(fields, lambda f: L.arc_instance(f) == inst)
    copy = [fields[i] for i in pos]
    return L.join_message(copy + fields, rest)


@op("dup", "content-type-bottom")
def _d10(ctx):
    return _dup(ctx, named("content-type"), "bottom")


# -- refold


def _edit_one(ctx, pred, edit):
    fields, rest = fields_of(ctx)
    pos = idx_where(fields, pred)
    if not pos:
        raise Skip("no such field")
    i = ctx.rng.choice(pos)
    new = edit(fields[i])
    if new == fields[i]:
        raise Skip("edit changed nothing")
    fields[i] = new
    return L.join_message(fields, rest)


def _fold_at_space(ctx, raw: bytes, wsp: bytes = b" ") -> bytes:
    eol = L.eol_of(raw) if raw.endswith(b"\n") else ctx.eol
    head_len = raw.index(b":") + 1
    spaces = [m.start() for m in re.finditer(rb"(?<=[^ \t\r\n]) (?=[^ \t\r\n])", raw[head_len:])]
    if not spaces:
        raise Skip("nowhere to fold")
    at = head_len + ctx.rng.choice(spaces)
    return raw[:at] + eol + wsp + raw[at + 1:]


def _unfold(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n(?=[ \t])", b"", raw[:-1]) + raw[-1:] if raw.endswith(b"\n") else raw


@op("refold", "subject-folded")
def _r1(ctx):
    return _edit_one(ctx, named("subject"), lambda f: _fold_at_space(ctx, f))


@op("refold", "from-folded-tab")
def _r2(ctx):
    return _edit_one(ctx, named("from"), lambda f: _fold_at_space(ctx, f, b"\t"))


@op("refold", "ams-folded")
def _r3(ctx):
    inst = pick_inst(ctx)
    return _edit_one(ctx, lambda f: L.field_name(f) == "arc-message-signature" and L.arc_instance(f) == inst,
                       lambda f: _fold_at_space(ctx, f))


@op("refold", "aar-folded")
def _r4(ctx):
    inst = pick_inst(ctx)
    return _edit_one(ctx, lambda f: L.field_name(f) == "arc-authentication-results" and L.arc_instance(f) == inst,
                       lambda f: _fold_at_space(ctx, f))


@op("refold", "arc-field-unfolded")
def _r5(ctx):
    return _edit_one(ctx, lambda f: is_arc(f) and (b"\n " in f or b"\n\t" in f), _unfold)


@op("refold", "signed-field-unfolded")
def _r6(ctx):
    return _edit_one(ctx, lambda f: not is_arc(f) and (b"\n " in f or b"\n\t" in f)
                       and L.field_name(f) in ("from", "to", "subject", "content-type", "dkim-signature"), _unfold)


@op("refold", "as-b-folded")
def _r7(ctx):
    inst = pick_inst(ctx)

    def fold_b(f: bytes) -> bytes:
        m = _tag_re(b"b").search(f, field_value_span(f))
        if m is None or len(m.group(3)) < 40:
            raise Skip("short b=")
        at = m.start(3) + 20
        return f[:at] + ctx.eol + b"\t" + f[at:]
    return _edit_one(ctx, lambda f: L.field_name(f) == "arc-seal" and L.arc_instance(f) == inst, fold_b)


@op("refold", "empty-fold-line")
def _r8(ctx):
    """A continuation line of only WSP (RFC 5322 §3.2.2 obs-FWS allows it)."""
    def edit(f: bytes) -> bytes:
        body = f.rstrip(b"\r\n")
        return body + ctx.eol + b" " + ctx.eol + b" x" + ctx.eol
    return _edit_one(ctx, named("subject"), edit)


# -- ws


@op("ws", "space-before-colon")
def _w1(ctx):
    name = ctx.rng.choice(["subject", "from", "arc-seal", "arc-message-signature", "arc-authentication-results"])
    return _edit_one(ctx, named(name), lambda f: f.replace(b":", b" :", 1))


@op("ws", "trailing-wsp")
def _w2(ctx):
    name = ctx.rng.choice(["subject", "from", "arc-authentication-results", "arc-message-signature"])
    return _edit_one(ctx, named(name), lambda f: f.rstrip(b"\r\n") + b" \t" + ctx.eol)


@op("ws", "double-space")
def _w3(ctx):
    name = ctx.rng.choice(["subject", "to", "arc-authentication-results", "arc-message-signature"])
    return _edit_one(ctx, named(name), lambda f: f[:f.index(b":") + 1] + f[f.index(b":") + 1:].replace(b" ", b"  ", 1))


@op("ws", "tab-for-space")
def _w4(ctx):
    name = ctx.rng.choice(["subject", "from", "arc-authentication-results"])
    return _edit_one(ctx, named(name), lambda f: f[:f.index(b":") + 2] + f[f.index(b":") + 2:].replace(b" ", b"\t", 1))


@op("ws", "no-space-after-colon")
def _w5(ctx):
    name = ctx.rng.choice(["subject", "arc-seal", "arc-authentication-results"])
    return _edit_one(ctx, named(name), lambda f: re.sub(rb"^([^:]*):[ \t]+", rb"\1:", f))


@op("ws", "name-case")
def _w6(ctx):
    name = ctx.rng.choice(["subject", "from", "arc-seal", "arc-message-signature", "arc-authentication-results"])

    def edit(f: bytes) -> bytes:
        n, _, v = f.partition(b":")
        return (n.upper() if n != n.upper() else n.lower()) + b":" + v
    return _edit_one(ctx, named(name), edit)


@op("ws", "lone-cr-in-signed")
def _w7(ctx):
    name = ctx.rng.choice(["subject", "arc-authentication-results"])

    def edit(f: bytes) -> bytes:
        sp = f.find(b" ", f.index(b":") + 2)
        if sp < 0:
            raise Skip("no space")
        return f[:sp] + b"\r" + f[sp:]
    return _edit_one(ctx, named(name), edit)


@op("ws", "lone-cr-in-as-b")
def _w8(ctx):
    inst = pick_inst(ctx)

    def edit(f: bytes) -> bytes:
        m = _tag_re(b"b").search(f, field_value_span(f))
        if m is None:
            raise Skip("no b=")
        at = m.start(3) + 10
        return f[:at] + b"\r" + f[at:]
    return _edit_one(ctx, lambda f: L.field_name(f) == "arc-seal" and L.arc_instance(f) == inst, edit)


@op("ws", "wsp-in-ams-b")
def _w9(ctx):
    inst = pick_inst(ctx)

    def edit(f: bytes) -> bytes:
        m = _tag_re(b"b").search(f, field_value_span(f))
        if m is None:
            raise Skip("no b=")
        at = m.start(3) + 12
        return f[:at] + b" \t " + f[at:]
    return _edit_one(ctx, lambda f: L.field_name(f) == "arc-message-signature" and L.arc_instance(f) == inst,
                       edit)


# -- tag (re-signed)


def _tag_edit(ctx: Ctx, kind: str, edit, *, bh: bool = False, after=None, inst: int | None = None):
    """Edit the field `kind` of set inst (random if None), sign it (and every later seal) again."""
    if not ctx.base.valid:
        raise Skip("tag edits need a valid base")
    inst = inst or pick_inst(ctx)
    fields, body_rest = crlf_fields(ctx.message)
    body = body_rest[2:] if body_rest.startswith(b"\r\n") else body_rest
    name = {"ams": "arc-message-signature", "as": "arc-seal", "aar": "arc-authentication-results"}[kind]
    k = arc_index(fields).get((name, inst))
    if k is None:
        raise Skip(f"no {name}({inst})")
    new = edit(fields[k])
    if new == fields[k]:
        raise Skip("edit changed nothing")
    fields[k] = new
    if kind == "ams":
        sign_ams(ctx.signer, fields, body, inst, recompute_bh=bh)
        if after:
            fields[k] = after(fields[k])
        reseal_from(ctx.signer, fields, body, inst, ams_too=False)
    elif kind == "as":
        reseal_from(ctx.signer, fields, body, inst, ams_too=False)
        if after:
            fields[k] = after(fields[k])
            for j in range(inst + 1, ctx.top + 1):
                sign_as(ctx.signer, fields, j)
    else:
        reseal_from(ctx.signer, fields, body, inst, ams_too=True)
    return L.to_eol(L.join_message(fields, body_rest), ctx.eol)


def _shift_t(delta: int):
    def edit(f):
        t = get_tag(f, "t")
        if t is None or not t.isdigit():
            raise Skip("no t=")
        return set_tag(f, "t", str(int(t) + delta).encode())
    return edit


def _x_after_t(delta: int):
    """x= delta seconds after the field's own t= (RFC 6376 §3.5: x= MUST be greater than t=):
    with delta=60 it expired about a day before the verification time (L.NOW), well past
    any clock-skew allowance."""
    def edit(f):
        t = get_tag(f, "t")
        if t is None or not t.isdigit():
            raise Skip("no t=")
        return add_tag(f, f"x={int(t) + delta}".encode())
    return edit


def _fold_b(f: bytes) -> bytes:
    m = _tag_re(b"b").search(f, field_value_span(f))
    at = m.start(3) + 30
    return f[:at] + b"\r\n  " + f[at:]


YEAR = 365 * 86400
TAG_EDITS = {
    # name: (kind, edit, recompute bh)
    "ams-unknown-tag": ("ams", lambda f: add_tag(f, b"foo=bar"), False),
    "ams-dash-tag": ("ams", lambda f: add_tag(f, b"x-trace=abc123"), False),
    "ams-t-future-5min": ("ams", _shift_t(L.NOW - L.T0 + 300), False),
    "ams-t-future-20y": ("ams", _shift_t(20 * YEAR), False),
    "ams-t-removed": ("ams", lambda f: remove_tag(f, "t"), False),
    "ams-t-garbage": ("ams", lambda f: set_tag(f, "t", b"12ab"), False),
    "ams-x-expired": ("ams", _x_after_t(60), False),
    "ams-x-future": ("ams", lambda f: add_tag(f, f"x={L.NOW + YEAR}".encode()), False),
    "ams-c-simple-simple": ("ams", lambda f: set_tag(f, "c", b"simple/simple"), True),
    "ams-c-relaxed-simple": ("ams", lambda f: set_tag(f, "c", b"relaxed/simple"), True),
    "ams-c-relaxed-only": ("ams", lambda f: set_tag(f, "c", b"relaxed"), True),
    "ams-c-removed": ("ams", lambda f: remove_tag(f, "c"), True),
    "ams-c-unknown": ("ams", lambda f: set_tag(f, "c", b"nowsp/relaxed"), False),
    "ams-a-sha1": ("ams", lambda f: set_tag(f, "a", b"rsa-sha1"), True),
    "ams-a-unknown": ("ams", lambda f: set_tag(f, "a", b"rsa-sha512"), False),
    "ams-a-uppercase": ("ams", lambda f: set_tag(f, "a", b"RSA-SHA256"), False),
    "ams-l-full": ("ams", lambda f: add_tag(f, b"l=999999"), True),
    "ams-l-short": ("ams", lambda f: add_tag(f, b"l=40"), True),
    "ams-l-garbage": ("ams", lambda f: add_tag(f, b"l=forty"), False),
    "ams-h-oversign-from": ("ams", lambda f: set_tag(f, "h", get_tag(f, "h") + b":from"), False),
    "ams-h-absent-field": ("ams", lambda f: set_tag(f, "h", get_tag(f, "h") + b":x-not-present"), False),
    "ams-h-arc-seal": ("ams", lambda f: set_tag(f, "h", get_tag(f, "h") + b":arc-seal"), False),
    "ams-h-uppercase": ("ams", lambda f: set_tag(f, "h", get_tag(f, "h").upper()), False),
    "ams-h-removed": ("ams", lambda f: remove_tag(f, "h"), False),
    "ams-bh-removed": ("ams", lambda f: remove_tag(f, "bh"), False),
    "ams-v-added": ("ams", lambda f: add_tag(f, b"v=1"), False),
    "ams-dup-tag": ("ams", lambda f: add_tag(f, b"s=" + get_tag(f, "s")), False),
    "ams-ws-around-eq": ("ams", lambda f: re.sub(rb";[ \t]*([a-z]+)=", rb"; \1 = ", f), False),
    "ams-i-cfws": ("ams", lambda f: re.sub(rb"(^|;|:)([ \t]*)i=", rb"\1\2i = ", f, count=1), False),
    "ams-d-uppercase": ("ams", lambda f: set_tag(f, "d", get_tag(f, "d").upper()), False),
    "ams-s-uppercase": ("ams", lambda f: set_tag(f, "s", get_tag(f, "s").upper()), False),
    "ams-d-invalid": ("ams", lambda f: set_tag(f, "d", b"-bad..example"), False),
    "ams-tag-name-upper": ("ams", lambda f: add_tag(remove_tag(f, "c"), b"C=" + get_tag(f, "c")), True),
    "ams-trailing-semicolon": ("ams", lambda f: f.rstrip(b"\r\n") + b";\r\n", False),
    "as-unknown-tag": ("as", lambda f: add_tag(f, b"foo=bar"), False),
    "as-dash-tag": ("as", lambda f: add_tag(f, b"x-trace=abc123"), False),
    "as-t-future-5min": ("as", _shift_t(L.NOW - L.T0 + 300), False),
    "as-t-future-20y": ("as", _shift_t(20 * YEAR), False),
    "as-t-removed": ("as", lambda f: remove_tag(f, "t"), False),
    "as-x-expired": ("as", _x_after_t(60), False),
    "as-cv-uppercase": ("as", lambda f: set_tag(f, "cv", get_tag(f, "cv").upper()), False),
    "as-h-added": ("as", lambda f: add_tag(f, b"h=from:to"), False),
    "as-a-sha1": ("as", lambda f: set_tag(f, "a", b"rsa-sha1"), False),
    "as-ws-around-eq": ("as", lambda f: re.sub(rb";[ \t]*([a-z]+)=", rb"; \1 = ", f), False),
    "as-dup-tag": ("as", lambda f: add_tag(f, b"s=" + get_tag(f, "s")), False),
    "as-d-uppercase": ("as", lambda f: set_tag(f, "d", get_tag(f, "d").upper()), False),
    "as-c-added": ("as", lambda f: add_tag(f, b"c=relaxed/relaxed"), False),
    "aar-i-cfws": ("aar", lambda f: re.sub(rb":([ \t]*)i=(\d+)", rb":\1i = \2 ", f, count=1), False),
    "aar-i-comment-after": ("aar", lambda f: re.sub(rb":([ \t]*)i=(\d+)", rb":\1i=\2 (instance)", f, count=1), False),
    "aar-i-comment-before": ("aar", lambda f: re.sub(rb":([ \t]*)i=", rb":\1(arc) i=", f, count=1), False),
    "aar-i-leading-zero": ("aar", lambda f: re.sub(rb":([ \t]*)i=(\d+)", rb":\1i=0\2", f, count=1), False),
    "aar-no-space-after-semicolon": ("aar", lambda f: re.sub(rb"(i=\d+);[ \t]*", rb"\1;", f, count=1), False),
    "aar-results-appended": ("aar", lambda f: f.rstrip(b"\r\n") + b";\r\n\tdmarc=pass header.from=sender.example\r\n",
                             False),
    "aar-authserv-version": ("aar", lambda f: re.sub(rb"(i=\d+;[ \t]*)([^ \t;]+)", rb"\1\2 1", f, count=1), False),
}


def _register_tag_ops():
    for name, (kind, edit, bh) in TAG_EDITS.items():
        def fn(ctx, kind=kind, edit=edit, bh=bh):
            return _tag_edit(ctx, kind, edit, bh=bh)
        OPS["tag"][name] = fn
    OPS["tag"]["ams-b-folded"] = lambda ctx: _tag_edit(ctx, "ams", lambda f: add_tag(f, b"foo=1"), after=_fold_b)
    OPS["tag"]["as-b-folded"] = lambda ctx: _tag_edit(ctx, "as", lambda f: add_tag(f, b"foo=1"), after=_fold_b)


_register_tag_ops()


# -- body and line ends


def _body(ctx, edit):
    fields, rest = fields_of(ctx)
    sep = ctx.eol
    body = rest[len(sep):] if rest.startswith(sep) else rest
    new = edit(body)
    if new == body:
        raise Skip("body unchanged")
    return L.join_message(fields, sep + new)


@op("body", "line-appended")
def _b1(ctx):
    return _body(ctx, lambda b: b + b"P.S. one more line" + ctx.eol)


@op("body", "blank-lines-appended")
def _b2(ctx):
    return _body(ctx, lambda b: b + (ctx.eol if b.endswith(b"\n") or not b else ctx.eol * 2) + ctx.eol * 2)


@op("body", "trailing-wsp-on-line")
def _b3(ctx):
    return _body(ctx, lambda b: b.replace(ctx.eol, b" \t" + ctx.eol, 1))


@op("body", "char-changed")
def _b4(ctx):
    def edit(b):
        pos = [m.start() for m in re.finditer(rb"[a-z]", b)]
        if not pos:
            raise Skip("no letter")
        i = ctx.rng.choice(pos)
        return b[:i] + bytes([b[i] ^ 0x20]) + b[i + 1:]
    return _body(ctx, edit)


@op("body", "final-eol-removed")
def _b5(ctx):
    return _body(ctx, lambda b: b[:-len(ctx.eol)] if b.endswith(ctx.eol) else b)


@op("body", "final-eol-added")
def _b6(ctx):
    return _body(ctx, lambda b: b + ctx.eol if not b.endswith(b"\n") else b)


@op("body", "lone-cr")
def _b7(ctx):
    return _body(ctx, lambda b: b.replace(b" ", b" \r", 1))


@op("body", "lone-lf-in-crlf")
def _b8(ctx):
    if ctx.eol != b"\r\n":
        raise Skip("LF message")
    return _body(ctx, lambda b: b.replace(b"\r\n", b"\n", 1))


@op("body", "wsp-collapsed")
def _b9(ctx):
    return _body(ctx, lambda b: b.replace(b" ", b"  ", 3))


@op("body", "emptied")
def _b10(ctx):
    return _body(ctx, lambda b: b"")


@op("body", "whole-message-to-lf")
def _b11(ctx):
    if ctx.eol != b"\r\n":
        raise Skip("already LF")
    return ctx.message.replace(b"\r\n", b"\n")


@op("body", "whole-message-to-crlf")
def _b12(ctx):
    if ctx.eol != b"\n":
        raise Skip("already CRLF")
    return ctx.message.replace(b"\n", b"\r\n")


@op("body", "header-crlf-body-lf")
def _b13(ctx):
    fields, rest = L.split_message(L.to_eol(ctx.message, b"\r\n"))
    return L.join_message(fields, b"\r\n" + rest[2:].replace(b"\r\n", b"\n"))


@op("body", "dot-line")
def _b14(ctx):
    return _body(ctx, lambda b: b + b"." + ctx.eol + b".." + ctx.eol)


# -- key records


def _record_variants(pub: str, alt: dict[str, str]) -> dict[str, str | None]:
    spaced = " ".join(pub[i:i + 64] for i in range(0, len(pub), 64))
    return {
        "k-absent": f"v=DKIM1; p={pub}",
        "k-ed25519-rsa-key": f"v=DKIM1; k=ed25519; p={pub}",
        "k-unknown": f"v=DKIM1; k=dsa; p={pub}",
        "k-uppercase": f"v=DKIM1; k=RSA; p={pub}",
        "p-garbage": f"v=DKIM1; k=rsa; p={alt['garbage']}",
        "p-not-base64": f"v=DKIM1; k=rsa; p={pub[:40]}!!{pub[42:]}",
        "p-missing": "v=DKIM1; k=rsa",
        "p-empty": "v=DKIM1; k=rsa; p=",
        "p-whitespace": f"v=DKIM1; k=rsa; p={spaced}",
        "p-truncated": f"v=DKIM1; k=rsa; p={pub[:-8]}",
        "p-other-key": f"v=DKIM1; k=rsa; p={alt['other']}",
        "p-pkcs1-rsapublickey": f"v=DKIM1; k=rsa; p={alt['pkcs1']}",
        "p-rsa512-key": f"v=DKIM1; k=rsa; p={alt['rsa512']}",
        "p-ed25519-key": f"v=DKIM1; k=ed25519; p={alt['ed25519']}",
        "h-sha256": f"v=DKIM1; h=sha256; k=rsa; p={pub}",
        "h-sha1-only": f"v=DKIM1; h=sha1; k=rsa; p={pub}",
        "h-sha1-sha256": f"v=DKIM1; h=sha1:sha256; k=rsa; p={pub}",
        "h-unknown": f"v=DKIM1; h=md5; k=rsa; p={pub}",
        "t-s": f"v=DKIM1; k=rsa; t=s; p={pub}",
        "t-y": f"v=DKIM1; k=rsa; t=y; p={pub}",
        "t-unknown-flag": f"v=DKIM1; k=rsa; t=z; p={pub}",
        "n-notes": f"v=DKIM1; k=rsa; n=rotated=2025 quarterly; p={pub}",
        "v-absent": f"k=rsa; p={pub}",
        "v-dkim2": f"v=DKIM2; k=rsa; p={pub}",
        "v-not-first": f"k=rsa; v=DKIM1; p={pub}",
        "s-email": f"v=DKIM1; k=rsa; s=email; p={pub}",
        "s-star": f"v=DKIM1; k=rsa; s=*; p={pub}",
        "s-unknown": f"v=DKIM1; k=rsa; s=tlsrpt; p={pub}",
        "g-star": f"v=DKIM1; g=*; k=rsa; p={pub}",
        "unknown-tag": f"v=DKIM1; k=rsa; foo=bar; p={pub}",
        "dash-tag": f"v=DKIM1; k=rsa; x-rotation=2025; p={pub}",
        "trailing-semicolon": f"v=DKIM1; k=rsa; p={pub};",
        "ws-around-eq": f"v = DKIM1 ; k = rsa ; p = {pub}",
        "dup-tag": f"v=DKIM1; k=rsa; p={pub}; p={pub}",
        "tag-names-upper": f"V=DKIM1; K=rsa; P={pub}",
        "nxdomain": None,
    }


def key_op(variant: str):
    def fn(ctx: Ctx):
        labels = ctx.base.spec.sealer_labels()
        hop = ctx.rng.randint(1, len(labels))
        sealer = SEALERS[labels[hop - 1]]
        pub = ctx.keys.dkim_txt(sealer.label).split("p=", 1)[1]
        alt = dict(ctx.alt)
        alt["other"] = ctx.keys.dkim_txt("C" if sealer.label != "C" else "A").split("p=", 1)[1]
        alt["pkcs1"] = ctx.alt[f"pkcs1-{sealer.label}"]
        return ctx.message, {sealer.key_name: _record_variants(pub, alt)[variant]}
    return fn


for _v in _record_variants("x", {"garbage": "", "other": "", "pkcs1": "", "rsa512": "", "ed25519": ""}):
    OPS["key"][_v] = key_op(_v)


# --------------------------------------------------------------------------- keys in other forms


def alt_keys(keys: L.KeyRing, workdir: Path, rng: random.Random) -> dict[str, str]:
    out = {"garbage": base64.b64encode(bytes(rng.randrange(256) for _ in range(294))).decode()}
    for label in SEALERS:
        der = subprocess.run([L.OPENSSL, "rsa", "-in", str(keys.key_path(label)), "-RSAPublicKey_out",
                              "-outform", "DER"], check=True, capture_output=True).stdout
        out[f"pkcs1-{label}"] = base64.b64encode(der).decode()
    out["rsa512"] = keys.dkim_txt("X").split("p=", 1)[1]
    ed = workdir / "ed25519.pem"
    subprocess.run([L.OPENSSL, "genpkey", "-algorithm", "ed25519", "-out", str(ed)], check=True, capture_output=True)
    der = subprocess.run([L.OPENSSL, "pkey", "-in", str(ed), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    out["ed25519"] = base64.b64encode(der[-32:]).decode()
    return out


# --------------------------------------------------------------------------- generation


def generate(rng: random.Random, count: int, bases: dict[str, tuple[Base, bytes]], signer: Signer,
             keys: L.KeyRing, alt: dict[str, str]) -> list[Mutant]:
    """count mutants: family uniformly, then an operation, then a base chain; a mutation
    that does not apply (or changes nothing) is drawn again."""
    families = sorted(OPS)
    mutants = [Mutant(f"base-{n:02d}", "base", "unmutated" if b.valid else name_of_invalid(b), name, msg)
               for n, (name, (b, msg)) in enumerate(sorted(bases.items()))]
    names = sorted(bases)
    seen: set[bytes] = set()
    n = 0
    while n < count:
        family = rng.choice(families)
        opname = rng.choice(sorted(OPS[family]))
        bname = rng.choice(names)
        base, msg = bases[bname]
        ctx = Ctx(random.Random(rng.random()), base, msg, signer, keys, alt)
        try:
            out = OPS[family][opname](ctx)
        except Skip:
            continue
        records = None
        if isinstance(out, tuple):
            out, records = out
        elif out == msg:
            continue
        digest = hashlib.sha256(out + json.dumps(records, sort_keys=True).encode()).digest()
        if digest in seen:
            continue
        seen.add(digest)
        mutants.append(Mutant(f"m{n:04d}", family, opname, bname, out, records))
        n += 1
    return mutants


def name_of_invalid(b: Base) -> str:
    if "X" in b.spec.sealers:
        return "rsa512-newest-seal"
    return "cv-fail-chain"


# --------------------------------------------------------------------------- verification


def run_filter_arc(exe: str, m: Mutant) -> Verdict:
    cmd = [exe, "verify", "--dns-zone", str(m.zone), "--now", str(L.NOW), "--json", str(m.path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        m.fa_problem = "timed out after 30 s"
        return Verdict("hang")
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        m.fa_problem = f"exit {proc.returncode}, no JSON: {proc.stderr.decode('utf-8', 'replace')[-300:]}"
        return Verdict("crash")
    got = str(out.get("arc"))
    want_rc = 75 if got == "temperror" else 0
    if proc.returncode != want_rc:
        m.fa_problem = f"exit {proc.returncode} for arc={got}"
    op = out.get("oldest_pass") if got == "pass" else None
    return Verdict(got, op, got, str(out.get("reason", "")))


def perl_verify_batch(manifest: Path, mutants: list[Mutant]) -> dict[Path, Verdict]:
    manifest.write_text("".join(f"{m.zone}\t{m.path}\n" for m in mutants), encoding="utf-8")
    env = dict(os.environ, PEER_VERIFY_NOW=str(L.NOW))  # the clock filter-arc gets with --now
    proc = subprocess.run([L.PERL, str(HERE / "peer_verify.pl"), "--batch", str(manifest)], capture_output=True,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_verify.pl --batch failed: {proc.stderr.decode(errors='replace')[-500:]}")
    out = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        name, verdict, oldest, raw, reason = line.split("\t", 4)
        out[Path(name)] = Verdict(verdict, None if oldest == "-" else int(oldest), raw, reason)
    return out


def verify_all(exe: str, mutants: list[Mutant], workdir: Path, main_records: dict[str, str]) -> None:
    main_zone = workdir / "zone.db"
    L.write_zone(main_zone, main_records)
    main_txt = L.parse_zone(main_zone.read_text(encoding="ascii"))
    txts: dict[Path, dict[str, bytes]] = {main_zone: main_txt}
    (workdir / "m").mkdir(exist_ok=True)
    for m in mutants:
        m.path = workdir / "m" / f"{m.name}.eml"
        m.path.write_bytes(m.message)
        if m.records is None:
            m.zone = main_zone
            continue
        records = {k: v for k, v in {**main_records, **m.records}.items() if v is not None}
        m.zone = workdir / "m" / f"{m.name}.zone"
        L.write_zone(m.zone, records)
        txts[m.zone] = L.parse_zone(m.zone.read_text(encoding="ascii"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        perl = pool.submit(perl_verify_batch, workdir / "perl-manifest.tsv", mutants)
        fa = {m.name: pool.submit(run_filter_arc, exe, m) for m in mutants}
        # dkimpy reads time.time() for t= and x=: pinned to the clock filter-arc gets (--now).
        with mock.patch.object(time, "time", return_value=float(L.NOW)):
            for m in mutants:
                m.verdicts["dkimpy"] = L.py_verify(m.message, txts[m.zone])
        for m in mutants:
            m.verdicts["filter-arc"] = fa[m.name].result()
        pl = perl.result()
    for m in mutants:
        if m.path not in pl:
            raise RuntimeError(f"Mail::DKIM gave no verdict for {m.name}")
        m.verdicts["Mail::DKIM"] = pl[m.path]


# --------------------------------------------------------------------------- classes


def who_differs(values: dict[str, object]) -> str | None:
    fa, py, pl = (values[p] for p in PEERS)
    if fa == py == pl:
        return None
    if py == pl:
        return "filter-arc alone"
    if fa == pl:
        return "dkimpy alone"
    if fa == py:
        return "Mail::DKIM alone"
    return "all differ"


def classify(m: Mutant) -> str | None:
    v = {p: m.verdicts[p].verdict for p in PEERS}
    who = who_differs(v)
    if who:
        return f"{m.family}.{m.op} | {who}"
    if v["filter-arc"] == "pass":
        op = {p: m.verdicts[p].oldest_pass or 0 for p in PEERS}
        who = who_differs(op)
        if who:
            return f"{m.family}.{m.op} | {who} | oldest-pass"
    return None


def triple(m: Mutant) -> str:
    def one(p):
        v = m.verdicts[p]
        return v.verdict + (f"/op={v.oldest_pass}" if v.verdict == "pass" and v.oldest_pass else "")
    return " ".join(f"{p}={one(p)}" for p in PEERS)


def load_known(path: Path) -> dict[str, dict[str, str]]:
    """known_disagreements.txt: blocks headed [family.op | who(| oldest-pass)] with key: value
    lines (right, rfc, why); a value may continue on indented lines."""
    known: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    key = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("["):
            current = known.setdefault(line.strip()[1:-1].strip(), {})
        elif line[:1] in (" ", "\t") and current is not None and key:
            current[key] += " " + line.strip()
        elif current is not None and ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            current[key] = value.strip()
    return known


def fa_vs_both(cls: str) -> bool:
    who = cls.split(" | ")[1]
    return who in ("filter-arc alone", "all differ")


# --------------------------------------------------------------------------- report


def summarize(mutants: list[Mutant], known: dict[str, dict[str, str]], seed: int, elapsed: float,
              verbose: bool) -> tuple[list[str], list[str], dict]:
    lines: list[str] = []
    failures: list[str] = []
    classes: dict[str, list[Mutant]] = defaultdict(list)
    per_family: dict[str, Counter] = defaultdict(Counter)
    for m in mutants:
        cls = classify(m)
        per_family[m.family]["total"] += 1
        if cls:
            classes[cls].append(m)
        else:
            per_family[m.family]["agree"] += 1
        if m.fa_problem:
            failures.append(f"filter-arc on {m.name} ({m.family}.{m.op} of {m.base}): {m.fa_problem}")
        if m.family == "base" and m.op == "unmutated" and any(
                m.verdicts[p].verdict != "pass" for p in PEERS[1:]):
            failures.append(f"harness: base chain {m.base} is not valid for the peers ({triple(m)})")
    total = len(mutants)
    agree = sum(c["agree"] for c in per_family.values())
    crash = sum(1 for m in mutants if m.verdicts["filter-arc"].verdict in ("crash", "hang"))
    lines.append(f"differential: seed {seed}, {total} mutants ({total - sum(1 for m in mutants if m.family == 'base')}"
                 f" mutated + {sum(1 for m in mutants if m.family == 'base')} base chains), "
                 f"full agreement {agree}/{total} = {100.0 * agree / total:.1f} %, "
                 f"filter-arc crashes/hangs {crash}, {elapsed:.1f} s")
    for fam in sorted(per_family):
        c = per_family[fam]
        lines.append(f"  family {fam:7s} {c['agree']:5d}/{c['total']:<5d} agree")
    lines.append(f"disagreement classes: {len(classes)}")
    for cls in sorted(classes, key=lambda c: (not fa_vs_both(c), c)):
        ms = classes[cls]
        listed = cls in known
        mark = "listed" if listed else ("NEW, not listed" if fa_vs_both(cls) else "peer-only, not listed")
        trip = Counter(triple(m) for m in ms).most_common(1)[0][0]
        right = known.get(cls, {}).get("right", "?")
        lines.append(f"  [{cls}] x{len(ms)}  {trip}  right: {right}  ({mark})")
        if verbose or (fa_vs_both(cls) and not listed):
            for m in ms[:3]:
                lines.append(f"      {m.name} from {m.base}: " + "; ".join(
                    f"{p}: {m.verdicts[p].reason[:110]}" for p in PEERS))
        if fa_vs_both(cls) and not listed:
            failures.append(f"unlisted class where filter-arc differs from both peers: [{cls}] "
                            f"({len(ms)} mutants, e.g. {ms[0].name}: {triple(ms[0])})")
        elif fa_vs_both(cls):
            # A listed class is known in one direction: its verdicts line names filter-arc's
            # verdict; the same mutation with the opposite verdict is a new disagreement.
            want = re.search(r"filter-arc=(\w+)", known[cls].get("verdicts", ""))
            flipped = [m for m in ms if want and m.verdicts["filter-arc"].verdict != want.group(1)]
            if flipped:
                failures.append(f"listed class [{cls}] with filter-arc={want.group(1)}, but filter-arc now says "
                                f"{flipped[0].verdicts['filter-arc'].verdict} ({len(flipped)} mutants, e.g. "
                                f"{flipped[0].name}: {triple(flipped[0])})")
    stats = {"seed": seed, "total": total, "agree": agree, "per_family": per_family, "classes": classes,
             "crash": crash, "elapsed": elapsed}
    return lines, failures, stats


def markdown(stats: dict, known: dict[str, dict[str, str]], command: str) -> str:
    total, agree = stats["total"], stats["agree"]
    out = [f"Measured with `{command}` ({stats['elapsed']:.0f} s):", "",
           f"* mutants run: **{total}** (seed {stats['seed']}; "
           f"{sum(1 for f in stats['per_family'] if f != 'base')} mutation families + the unmutated base chains)",
           f"* full agreement of all three verdicts: **{agree}/{total} = {100.0 * agree / total:.1f} %**",
           f"* filter-arc crashes or hangs: **{stats['crash']}**", "",
           "| family | mutants | all three agree |", "|---|---:|---:|"]
    for fam in sorted(stats["per_family"]):
        c = stats["per_family"][fam]
        out.append(f"| {fam} | {c['total']} | {c['agree']} ({100.0 * c['agree'] / c['total']:.0f} %) |")
    out += ["", "| class (mutation \\| who differs) | mutants | verdicts (filter-arc, dkimpy, Mail::DKIM) | right |",
            "|---|---:|---|---|"]
    classes = stats["classes"]
    for cls in sorted(classes, key=lambda c: (-len(classes[c]), c)):
        ms = classes[cls]
        trip = Counter(triple(m) for m in ms).most_common(1)[0][0]
        right = known.get(cls, {}).get("right", "not listed").replace("|", "\\|")
        shown = cls.replace("|", "\\|")
        out.append(f"| `{shown}` | {len(ms)} | {trip} | {right} |")
    out += ["", "### The classes, the RFC text that decides each, and who is right", "",
            "From `tests/interop/known_disagreements.txt`; filter-arc differs from both peers in the first "
            "group.", ""]
    for cls in sorted(classes, key=lambda c: (not fa_vs_both(c), c)):
        entry = known.get(cls)
        out.append(f"* **`{cls}`** ({len(classes[cls])} mutants)")
        if entry is None:
            out.append("  - not listed")
            continue
        for key in ("verdicts", "right", "rfc", "why"):
            if entry.get(key):
                out.append(f"  - {key}: {entry[key]}")
    return "\n".join(out) + "\n"


def load_results(path: Path) -> tuple[list[Mutant], dict[str, str]]:
    """Mutants (family, op, verdicts) back from a kept run's results.tsv, and its header."""
    header: dict[str, str] = {}
    mutants = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            header.update(kv.split("=", 1) for kv in line[1:].split() if "=" in kv)
            continue
        name, famop, base, trip, *_ = line.split("\t")
        family, _, opname = famop.partition(".")
        m = Mutant(name, family, opname, base, b"")
        for part in trip.split(" "):
            peer, _, v = part.partition("=")
            verdict, _, op = v.partition("/op=")
            m.verdicts[peer] = Verdict(verdict, int(op) if op else None, verdict, "")
        mutants.append(m)
    return mutants, header


# --------------------------------------------------------------------------- self-test


def self_test() -> int:
    """The gate on synthetic verdicts (no peers, no binary): an unlisted class where
    filter-arc differs from both peers fails the run; the same class listed, a peer-only
    class, an oldest-pass class that is listed, and full agreement do not; a listed class whose
    filter-arc verdict is the opposite of the listed one fails; a crash fails."""
    def mutant(op: str, fa: str, py: str, pl: str, ops=(0, 0, 0)) -> Mutant:
        m = Mutant(f"t-{op}", "tag", op, "base", b"")
        for peer, verdict, oldest in zip(PEERS, (fa, py, pl), ops):
            m.verdicts[peer] = Verdict(verdict, oldest or None, verdict, "")
        return m

    problems = []
    fa_alone = [mutant("x", "pass", "fail", "fail")]
    all_differ = [mutant("y", "temperror", "fail", "pass")]
    peer_only = [mutant("z", "pass", "fail", "pass")]
    oldest = [mutant("w", "pass", "pass", "pass", (2, 3, 3))]
    agree = [mutant("v", "fail", "fail", "fail")]
    crash = mutant("c", "crash", "fail", "fail")
    crash.fa_problem = "exit 139"
    cases = [
        ("unlisted filter-arc-alone class", fa_alone, {}, 1),
        ("listed filter-arc-alone class", fa_alone, {"tag.x | filter-arc alone": {"right": "x"}}, 0),
        ("listed class, same direction", fa_alone,
         {"tag.x | filter-arc alone": {"verdicts": "filter-arc=pass dkimpy=fail Mail::DKIM=fail"}}, 0),
        ("listed class, opposite direction", fa_alone,
         {"tag.x | filter-arc alone": {"verdicts": "filter-arc=fail dkimpy=pass Mail::DKIM=pass"}}, 1),
        ("unlisted all-differ class", all_differ, {}, 1),
        ("peer-only class", peer_only, {}, 0),
        ("unlisted oldest-pass class", oldest, {}, 1),
        ("listed oldest-pass class", oldest, {"tag.w | filter-arc alone | oldest-pass": {}}, 0),
        ("full agreement", agree, {}, 0),
        ("listed class but a crash", fa_alone + [crash], {"tag.x | filter-arc alone": {}, "tag.c | filter-arc alone": {}}, 1),
    ]
    for what, ms, known, want in cases:
        _, failures, _ = summarize(ms, known, 0, 0.0, False)
        got = 1 if failures else 0
        print(f"{'ok  ' if got == want else 'FAIL'} {what}: {len(failures)} failure(s)")
        if got != want:
            problems.append(what)
    parsed = load_known(KNOWN)
    bad = [c for c, v in parsed.items() if not all(v.get(k) for k in ("right", "rfc"))]
    print(f"{'ok  ' if not bad else 'FAIL'} {KNOWN.name}: {len(parsed)} classes, each with right: and rfc:"
          + (f" (missing in {bad})" if bad else ""))
    return 1 if problems or bad else 0


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter_arc", nargs="?")
    ap.add_argument("--self-test", action="store_true", help="check the gate on synthetic verdicts and exit")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--count", type=int, default=300, help="mutants besides the base chains")
    ap.add_argument("--known", type=Path, default=KNOWN)
    ap.add_argument("--keep", type=Path, help="keep the chains, mutants and zones here")
    ap.add_argument("--markdown", type=Path, help="write the measured figures as a Markdown section")
    ap.add_argument("--markdown-from", type=Path, metavar="RESULTS_TSV",
                    help="only write --markdown again from a kept run's results.tsv (with the current list)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.markdown_from:
        mutants, header = load_results(args.markdown_from)
        _, _, stats = summarize(mutants, load_known(args.known), int(header.get("seed", args.seed)),
                                float(header.get("elapsed", 0)), False)
        cmd = f"/usr/bin/python3 tests/interop/differential.py build/filter/filter-arc --seed {stats['seed']} " \
              f"--count {header.get('count', args.count)}"
        (args.markdown or Path("/dev/stdout")).write_text(markdown(stats, load_known(args.known), cmd),
                                                          encoding="utf-8")
        return 0
    L.check_interpreter()
    if not args.filter_arc or not Path(args.filter_arc).is_file():
        print(f"filter-arc binary {args.filter_arc} not found", file=sys.stderr)
        return 2
    started = time.monotonic()
    known = load_known(args.known)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="arc-differential-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            keys = L.KeyRing(workdir / "keys", SEALERS)
            alt = alt_keys(keys, workdir, random.Random(args.seed))
            main_records = keys.zone_records()
            zone = workdir / "zone.db"
            L.write_zone(zone, main_records)
            txt = L.parse_zone(zone.read_text(encoding="ascii"))
            specs = base_specs()
            builder = L.Builder(keys, {"main": zone}, {"main": txt}, workdir,
                                extra_sealers={"fa": fa_sealer(args.filter_arc, keys)})
            built = builder.build([b.spec for b in specs])
            if builder.failures:
                print(f"harness: chains not built: {builder.failures}", file=sys.stderr)
                return 2
            bases = {b.spec.name: (b, built[b.spec.name]) for b in specs}
            signer = Signer(keys)
            mutants = generate(rng, args.count, bases, signer, keys, alt)
            verify_all(args.filter_arc, mutants, workdir, main_records)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"harness error: {e}", file=sys.stderr)
            return 2
        elapsed = time.monotonic() - started
        with open(workdir / "results.tsv", "w", encoding="utf-8") as out:
            print(f"# seed={args.seed} count={args.count} elapsed={elapsed:.1f}", file=out)
            for m in mutants:
                print(m.name, f"{m.family}.{m.op}", m.base, triple(m), classify(m) or "agree",
                      *(" ".join(m.verdicts[p].reason.split())[:200] for p in PEERS), sep="\t", file=out)
        lines, failures, stats = summarize(mutants, known, args.seed, elapsed, args.verbose)
        print("\n".join(lines))
        if args.markdown:
            cmd = f"/usr/bin/python3 tests/interop/differential.py build/filter/filter-arc --seed {args.seed} " \
                  f"--count {args.count}"
            args.markdown.write_text(markdown(stats, known, cmd), encoding="utf-8")
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print("ok: every class where filter-arc differs from both peers is listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
