#!/usr/bin/python3
"""Interop test of filter-arc's DKIM verifier (RFC 6376) against dkimpy and Mail::DKIM.

What it proves: messages signed by dkimpy (python3-dkim: rsa-sha256 and ed25519-sha256,
simple and relaxed, l=) and by Mail::DKIM::Signer (rsa-sha256, simple and relaxed), one
or several signatures per message, CRLF and LF, get from `filter-arc verify --json` the
same per-signature results as both peers give them; tampered copies (body, header), key
problems (absent, revoked, h=sha1, k= mismatch), expired and rsa-sha1 signatures get the
result RFC 6376 / RFC 8301 gives them, and both peers agree (or their disagreement is a
documented divergence).

Everything is generated afresh in a temporary directory: keys (openssl), one zone file,
the signed fixtures. Every fixture is checked by BOTH peers before filter-arc sees it;
a peer that disagrees with the expectation without a documented reason is a harness
error (exit 2).

Result classes compared per signature (expected = filter-arc's exact result):
  dkimpy      verify(idx): True = pass, False = fail, an exception = permerror. dkimpy
              returns False for key problems too, so a permerror expects fail or permerror.
  Mail::DKIM  pass, fail, invalid (= permerror), temperror.
  policy      (beyond filter-arc's 10 signatures) expects both peers to say pass.

Usage:
    /usr/bin/python3 dkim_interop.py FILTER_ARC      # the meson test
    /usr/bin/python3 dkim_interop.py --peers-only    # fixtures + peers, no filter-arc
    options: --keep DIR (keep keys, zone and fixtures), -v (peer details)

Exit status: 0 all ok, 1 filter-arc disagreed somewhere, 2 harness error.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib as L  # noqa: E402

HERE = Path(__file__).resolve().parent
T0 = L.T0
NOW = L.NOW
HEADERS = ["from", "to", "subject", "date", "message-id"]


@dataclass(frozen=True)
class Key:
    label: str
    domain: str
    selector: str
    kind: str = "rsa"  # rsa | ed25519
    bits: int = 2048


KEYS = {
    "author": Key("author", "example.com", "s2025"),
    "esp": Key("esp", "mail.esp.example.net", "k1", bits=1024),
    "ed": Key("ed", "example.com", "ed2025", kind="ed25519"),
    "list": Key("list", "lists.example.org", "dkim2025"),
}

# Selectors of example.com that publish the author's key in a broken way (or not at all).
BROKEN_SELECTORS = {
    "absent": None,  # NXDOMAIN
    "revoked": "v=DKIM1; k=rsa; p=",
    "sha1only": "v=DKIM1; k=rsa; h=sha1; p={author}",
    "edtype": "v=DKIM1; k=ed25519; p={ed}",
}

# (part of the case name, peer) -> why the peer's answer differs from RFC 6376 / RFC 8301.
PEER_DIVERGENCES = {
    ("rsa-sha1/", "dkimpy"): "dkimpy still verifies rsa-sha1 (RFC 8301 §3.1: MUST NOT be treated as valid)",
    ("key-sha1only/", "dkimpy"): "dkimpy ignores the key record's h= (RFC 6376 §6.1.2: a key whose h= "
                                 "excludes the signature's hash is PERMFAIL)",
    ("/no-final-eol/", "mail-dkim"): "Mail::DKIM does not add the CRLF that RFC 6376 §3.4.3/§3.4.4 add to a "
                                     "body whose last line has no line break: its own signatures of such a "
                                     "body fail elsewhere, and it fails dkimpy's simple ones",
    # Seen with Mail::DKIM 1.20240923 (Debian 13); 1.20230212 knows no k=ed25519 and says invalid.
    ("key-edtype/", "mail-dkim"): "Mail::DKIM checks an a=rsa-sha256 signature with a k=ed25519 key as "
                                  "Ed25519 and says fail; RFC 6376 §3.6.1/§6.1.2 make a key unsuitable for "
                                  "the a= and k= pair a PERMFAIL (inappropriate key algorithm), as dkimpy "
                                  "and filter-arc answer",
}
# What a peer says for a signature whose a= it cannot check: (peer, a=) -> its answer. Applied
# only when the peer itself reports that it lacks the algorithm (peer_algorithms()): Mail::DKIM
# 1.20230212 (Debian 12) has no ed25519 (RFC 8463), 1.20240923 (Debian 13) has.
PEER_LIMITS = {
    ("mail-dkim", "ed25519-sha256"): "permerror",
}


class KeyStore:
    """RSA (PKCS#1, as both peers read it) and Ed25519 keys made with openssl."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.public: dict[str, str] = {}
        self.ed_seed = b""
        for k in KEYS.values():
            path = self.path(k.label)
            if k.kind == "rsa":
                run(["openssl", "genrsa", "-traditional", "-out", str(path), str(k.bits)])
                der = run(["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"])
                self.public[k.label] = base64.b64encode(der).decode()
            else:
                run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)])
                pub = run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"])
                priv = run(["openssl", "pkey", "-in", str(path), "-outform", "DER"])
                self.public[k.label] = base64.b64encode(pub[-32:]).decode()  # RFC 8463 §4.2
                self.ed_seed = base64.b64encode(priv[-32:])  # what dkimpy signs with

    def path(self, label: str) -> Path:
        return self.directory / f"{label}.pem"

    def zone_records(self) -> dict[str, str]:
        records = {}
        for k in KEYS.values():
            records[f"{k.selector}._domainkey.{k.domain}"] = (
                f"v=DKIM1; k={'ed25519' if k.kind == 'ed25519' else 'rsa'}; p={self.public[k.label]}")
        for selector, text in BROKEN_SELECTORS.items():
            if text is not None:
                records[f"{selector}._domainkey.example.com"] = text.format(
                    author=self.public["author"], ed=self.public["ed"])
        return records


def run(cmd: list[str]) -> bytes:
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


# --------------------------------------------------------------------------- signers


@dataclass
class Sign:
    """One signature to add: who signs (peer py|perl), with which key and options."""

    peer: str
    key: str
    canon: str = "relaxed/relaxed"
    selector: str = ""  # overrides the key's selector (the broken ones)
    length: bool = False  # py only: l= of the whole body
    algorithm: str = ""  # perl only: e.g. rsa-sha1
    expiration: int | None = None  # perl only: x=
    stamp: int = T0

    def label(self) -> str:
        k = KEYS[self.key]
        alg = self.algorithm or ("ed25519" if k.kind == "ed25519" else "rsa")
        extra = "+l" if self.length else ""
        extra += "+x" if self.expiration else ""
        sel = f"@{self.selector}" if self.selector else ""
        return f"{self.peer}:{alg}:{self.canon.replace('/', '-')}{extra}{sel}"


def py_sign(message: bytes, s: Sign, keys: KeyStore) -> bytes:
    import dkim

    k = KEYS[s.key]
    eol = L.eol_of(message)
    header, body = s.canon.split("/")
    privkey = keys.ed_seed if k.kind == "ed25519" else keys.path(k.label).read_bytes()
    with mock.patch.object(time, "time", return_value=float(s.stamp)):
        # CRLF in and out: see peer_seal.seal() (dkimpy folds with the wrong line ends on LF).
        sig = dkim.sign(L.to_eol(message, b"\r\n"), (s.selector or k.selector).encode(), k.domain.encode(),
                        privkey, canonicalize=(header.encode(), body.encode()),
                        signature_algorithm=b"ed25519-sha256" if k.kind == "ed25519" else b"rsa-sha256",
                        include_headers=[h.encode() for h in HEADERS], length=s.length,
                        logger=L.quiet_logger())
    return L.to_eol(sig.rstrip(b"\r\n"), eol) + eol + message


def perl_sign_batch(jobs: list[tuple[Path, Sign]], keys: KeyStore, workdir: Path) -> dict[Path, bytes]:
    """Mail::DKIM::Signer for many messages in one perl process."""
    if not jobs:
        return {}
    lines = []
    for src, s in jobs:
        k = KEYS[s.key]
        method = {"relaxed/relaxed": "relaxed", "simple/simple": "simple"}.get(s.canon, s.canon)
        lines.append("\t".join([str(keys.path(k.label)), k.domain, s.selector or k.selector, method,
                                s.algorithm or "rsa-sha256", str(s.stamp),
                                str(s.expiration) if s.expiration else "-", ":".join(HEADERS),
                                str(src), str(src.with_suffix(".signed"))]))
    jobfile = workdir / "perl-sign-jobs.tsv"
    jobfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run([L.PERL, str(HERE / "peer_dkim.pl"), "sign", str(jobfile)], capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_dkim.pl sign failed: {proc.stderr.decode(errors='replace')}")
    out = {}
    for line in proc.stdout.decode().splitlines():
        word, path, *why = line.split("\t")
        if word != "ok":
            raise RuntimeError(f"peer_dkim.pl could not sign {path}: {' '.join(why)}")
    for src, _ in jobs:
        out[src] = src.with_suffix(".signed").read_bytes()
    return out


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    message: str  # base message name (messages/*.eml)
    eol: str  # crlf | lf
    signs: list[Sign]  # applied in order: the last one ends up on top
    expected: list[str]  # filter-arc's result per signature, top (newest) first
    edits: dict[int, str] = field(default_factory=dict)  # after sign k (1-based): edit to apply
    final_edit: str = ""  # applied after the last signature
    partial: list[bool] = field(default_factory=list)  # expected body_partial per signature
    data: bytes = b""
    path: Path | None = None
    peers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # peer -> [(result, detail)]


def edit_message(msg: bytes, how: str) -> bytes:
    fields, rest = L.split_message(msg)
    eol = L.eol_of(msg)
    if how == "body":  # a word of the body changes
        m = re.search(rb"[A-Za-z]{4,}", rest)
        assert m, "no word in the body"
        return L.join_message(fields, rest[:m.start()] + m.group(0).upper() + rest[m.end():])
    if how == "subject":
        for i, f in enumerate(fields):
            if L.field_name(f) == "subject":
                name, value = f.split(b":", 1)
                fields[i] = name + b": Re:" + value
                return L.join_message(fields, rest)
        raise AssertionError("no Subject")
    if how == "list":  # what a mailing list does: Subject tag and footer
        return L.list_modify(msg, b"[team]", L.FOOTER)
    if how == "append":  # content added after the signed body (l=)
        if not msg.endswith(b"\n"):
            msg += eol
        return msg + L.to_eol(L.DISCLAIMER, eol)
    raise ValueError(how)


def build_cases() -> list[Case]:
    cases: list[Case] = []
    single = [
        Sign("py", "author", "relaxed/relaxed"),
        Sign("py", "author", "simple/simple"),
        Sign("py", "ed", "relaxed/relaxed"),
        Sign("py", "ed", "simple/simple"),
        Sign("py", "esp", "relaxed/simple"),
        Sign("perl", "author", "relaxed/relaxed"),
        Sign("perl", "esp", "simple/simple"),
        Sign("perl", "list", "relaxed/simple"),
        Sign("perl", "author", "simple/relaxed"),
    ]
    messages = sorted(p.stem for p in L.MESSAGES.glob("*.eml"))
    n = 0
    for msg in messages:
        for eol in ("crlf", "lf"):
            picks = single if (msg, eol) == ("multipart", "crlf") else [single[(n + i) % len(single)]
                                                                        for i in range(3)]
            n += 3
            if msg == "no-final-eol":  # Mail::DKIM's signatures of it too (see PEER_DIVERGENCES)
                picks = picks + [Sign("perl", "author", "relaxed/relaxed"), Sign("perl", "esp", "simple/simple")]
            for s in picks:
                # A body without a final line break: Mail::DKIM hashes it without the CRLF that
                # RFC 6376 §3.4.3/§3.4.4 add, so its signature does not verify.
                expected = "fail" if (msg, s.peer) == ("no-final-eol", "perl") else "pass"
                cases.append(Case(f"single/{s.label()}/{msg}/{eol}", msg, eol, [s], [expected]))
    # Tampered copies: the body or a signed header changes after signing.
    for s in (single[0], single[1], single[2], single[6], single[8]):
        for how in ("body", "subject"):
            cases.append(Case(f"tampered-{how}/{s.label()}/multipart/crlf", "multipart", "crlf", [s],
                              ["fail"], final_edit=how))
    # Several signatures: all good; a mailing list that modifies then signs; a broken middle.
    cases.append(Case("three/py-perl-py/multipart/crlf", "multipart", "crlf",
                      [Sign("py", "author"), Sign("perl", "esp", "simple/simple"), Sign("py", "ed")],
                      ["pass", "pass", "pass"]))
    cases.append(Case("three/perl-py-perl/folded-headers/lf", "folded-headers", "lf",
                      [Sign("perl", "author", "simple/simple"), Sign("py", "ed", "relaxed/simple"),
                       Sign("perl", "list")], ["pass", "pass", "pass"]))
    for eol in ("crlf", "lf"):
        cases.append(Case(f"list/py-then-perl/mailing-list/{eol}", "mailing-list", eol,
                          [Sign("py", "author"), Sign("perl", "list")], ["pass", "fail"], edits={1: "list"}))
        cases.append(Case(f"list/perl-then-py/utf8-headers/{eol}", "utf8-headers", eol,
                          [Sign("perl", "author", "simple/simple"), Sign("py", "list")], ["pass", "fail"],
                          edits={1: "list"}))
    cases.append(Case("broken-middle/trailing-ws/crlf", "trailing-ws", "crlf",
                      [Sign("py", "author"), Sign("perl", "esp"), Sign("py", "ed")],
                      ["pass", "fail", "fail"], edits={1: "subject", 2: "body"}))
    # l=: content appended after signing still passes, and is reported as unsigned.
    for eol in ("crlf", "lf"):
        cases.append(Case(f"l=/appended/multipart/{eol}", "multipart", eol, [Sign("py", "author", length=True)],
                          ["pass"], final_edit="append", partial=[True]))
        cases.append(Case(f"l=/whole/no-final-eol/{eol}", "no-final-eol", eol,
                          [Sign("py", "esp", "simple/simple", length=True)], ["pass"], partial=[False]))
    # Key and signature problems.
    for selector in BROKEN_SELECTORS:
        cases.append(Case(f"key-{selector}/multipart/crlf", "multipart", "crlf",
                          [Sign("py", "author", selector=selector)], ["permerror"]))
    cases.append(Case("key-absent-beside-pass/multipart/lf", "multipart", "lf",
                      [Sign("perl", "author", selector="absent"), Sign("py", "ed")], ["pass", "permerror"]))
    cases.append(Case("rsa-sha1/multipart/crlf", "multipart", "crlf",
                      [Sign("perl", "author", algorithm="rsa-sha1")], ["permerror"]))
    cases.append(Case("expired/multipart/crlf", "multipart", "crlf",
                      [Sign("perl", "author", expiration=T0 + 3600)], ["permerror"]))
    cases.append(Case("unsigned/multipart/crlf", "multipart", "crlf", [], []))
    # Twelve signatures: filter-arc checks the first ten (message order) and reports the rest
    # as policy; both peers still verify all twelve.
    many = [Sign("py", "ed" if i % 2 else "author", stamp=T0 + i) for i in range(12)]
    cases.append(Case("twelve/multipart/crlf", "multipart", "crlf", many, ["pass"] * 10 + ["policy"] * 2))
    unique: dict[str, Case] = {}
    for c in cases:
        if not c.partial:
            c.partial = [False] * len(c.expected)
        unique.setdefault(c.name, c)
    return list(unique.values())


def build_fixtures(cases: list[Case], keys: KeyStore, workdir: Path) -> None:
    """Applies every case's signatures round by round (Mail::DKIM batched per round)."""
    current = {}
    for c in cases:
        raw = (L.MESSAGES / f"{c.message}.eml").read_bytes()
        current[c.name] = L.to_eol(raw, b"\r\n" if c.eol == "crlf" else b"\n")
    rounds = max(len(c.signs) for c in cases)
    stage = workdir / "stages"
    stage.mkdir(parents=True, exist_ok=True)
    for k in range(1, rounds + 1):
        perl_jobs = []
        for i, c in enumerate(cases):
            if len(c.signs) < k:
                continue
            s = c.signs[k - 1]
            if s.peer == "py":
                current[c.name] = py_sign(current[c.name], s, keys)
            else:
                src = stage / f"case{i}.round{k}.eml"
                src.write_bytes(current[c.name])
                perl_jobs.append((src, s))
        for src, signed in perl_sign_batch(perl_jobs, keys, stage).items():
            current[cases[int(src.name.split(".")[0][4:])].name] = signed
        for c in cases:
            if k in c.edits and len(c.signs) >= k:
                current[c.name] = edit_message(current[c.name], c.edits[k])
    for c in cases:
        c.data = edit_message(current[c.name], c.final_edit) if c.final_edit else current[c.name]


# --------------------------------------------------------------------------- peers


def dkimpy_results(message: bytes, txt: dict[str, bytes]) -> list[tuple[str, str]]:
    import dkim

    d = dkim.DKIM(message, logger=L.quiet_logger())
    count = len([1 for name, _ in d.headers if name.lower() == b"dkim-signature"])
    out = []
    for idx in range(count):
        try:
            ok = dkim.DKIM(message, logger=L.quiet_logger()).verify(
                idx=idx, dnsfunc=lambda name, timeout=5: txt.get(name.decode().rstrip(".").lower()))
            out.append(("pass" if ok else "fail", ""))
        except Exception as e:  # noqa: BLE001 - dkimpy raises for unusable signatures
            # ... and for a body hash mismatch, which is a plain fail (RFC 6376 §6.1.3).
            result = "fail" if str(e).startswith("body hash mismatch") else "permerror"
            out.append((result, f"{type(e).__name__}: {e}"))
    return out


def perl_results(zone: Path, files: list[Path]) -> dict[Path, list[tuple[str, str]]]:
    proc = subprocess.run([L.PERL, str(HERE / "peer_dkim.pl"), "verify", str(zone), *map(str, files)],
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_dkim.pl verify failed: {proc.stderr.decode(errors='replace')}")
    out: dict[Path, list[tuple[str, str]]] = {f: [] for f in files}
    mapping = {"invalid": "permerror"}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        path, index, _d, _s, _b, result, detail = line.split("\t", 6)
        if index == "-":
            continue
        out[Path(path)].append((mapping.get(result, result), detail))
    return out


def peer_accepts(expected: str, peer: str, got: str) -> bool:
    if expected == "policy":
        return got == "pass"
    if peer == "dkimpy" and expected == "permerror":
        return got in ("fail", "permerror")
    return got == expected


def divergence(name: str, peer: str) -> str | None:
    for (part, p), why in PEER_DIVERGENCES.items():
        if p == peer and part in name:
            return why
    return None


def peer_algorithms() -> dict[str, set[str]]:
    """The a= values each peer says it can check (asked, not assumed from its version)."""
    proc = subprocess.run([L.PERL, str(HERE / "peer_dkim.pl"), "algorithms"], capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_dkim.pl algorithms failed: {proc.stderr.decode(errors='replace')}")
    return {"mail-dkim": set(proc.stdout.decode("ascii", "replace").split())}


def peer_limits(can_check: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """The PEER_LIMITS entries that apply: the peer reports it cannot check that a=."""
    return {(peer, alg): says for (peer, alg), says in PEER_LIMITS.items()
            if peer in can_check and alg not in can_check[peer]}


def check_peers(cases: list[Case], limits: dict[tuple[str, str], str]) -> tuple[list[str], int]:
    """Harness errors, and how many peer answers differed for a documented reason."""
    errors, documented = [], 0
    for c in cases:
        algorithms = [a for _, _, _, a in signature_ids(c.data)]
        for peer, results in c.peers.items():
            if len(results) != len(c.expected):
                errors.append(f"{c.name}: {peer} saw {len(results)} signatures, expected {len(c.expected)}")
                continue
            for i, (exp, (got, detail)) in enumerate(zip(c.expected, results)):
                limit = limits.get((peer, algorithms[i]))
                if (got == limit) if limit else peer_accepts(exp, peer, got):
                    continue
                if divergence(c.name, peer):
                    documented += 1
                    continue
                errors.append(f"{c.name}: signature {i}: expected {exp}, {peer} said {got} ({detail})")
    return errors, documented


# --------------------------------------------------------------------------- filter-arc


def signature_ids(message: bytes) -> list[tuple[str, str, str, str]]:
    """(d=, s=, first 12 of b=, a=) of each DKIM-Signature, top first."""
    fields, _ = L.split_message(message)
    out = []
    for f in fields:
        if L.field_name(f) != "dkim-signature":
            continue
        value = L.unfold(f).split(b":", 1)[1].decode()
        tags = {}
        for spec in value.split(";"):
            if "=" in spec:
                k, v = spec.split("=", 1)
                tags[k.strip()] = re.sub(r"\s+", "", v)
        out.append((tags.get("d", "").lower(), tags.get("s", ""), tags.get("b", "")[:12], tags.get("a", "")))
    return out


def run_filter_arc(exe: str, c: Case, zone: Path) -> tuple[bool, str]:
    proc = subprocess.run([exe, "verify", "--dns-zone", str(zone), "--now", str(NOW), "--json", str(c.path)],
                          capture_output=True, timeout=60)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        return False, f"FAIL {c.name}: exit {proc.returncode}, not JSON: {proc.stdout[:200]!r} " \
                      f"{proc.stderr.decode(errors='replace')[-300:]}"
    dkim = out.get("dkim")
    if not isinstance(dkim, list):
        return False, f"FAIL {c.name}: no dkim list in {out}"
    got = [d["result"] for d in dkim]
    problems = []
    if got != c.expected:
        problems.append(f"results {got}, expected {c.expected}")
    ids = signature_ids(c.data)
    for i, d in enumerate(dkim):
        if i < len(ids) and (d["domain"], d["selector"], d["header_b"], d["algorithm"]) != ids[i]:
            problems.append(f"signature {i} is {d['domain']}/{d['selector']}/{d['header_b']}, "
                            f"the message says {ids[i]}")
        if i < len(c.partial) and d["body_partial"] != c.partial[i]:
            problems.append(f"signature {i}: body_partial={d['body_partial']}")
    if proc.returncode != (75 if out.get("arc") == "temperror" else 0):
        problems.append(f"exit {proc.returncode}")
    if problems:
        reasons = "; ".join(d.get("reason", "") for d in dkim)
        return False, f"FAIL {c.name}: {'; '.join(problems)} (reasons: {reasons})"
    return True, f"ok   {c.name} {' '.join(got) or 'none'}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter_arc", nargs="?", help="path of the filter-arc binary")
    ap.add_argument("--peers-only", action="store_true", help="build and cross-check fixtures only")
    ap.add_argument("--keep", type=Path, help="write keys, zone and fixtures here and keep them")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not args.peers_only and not args.filter_arc:
        ap.error("give the filter-arc binary, or --peers-only")
    if args.filter_arc and not Path(args.filter_arc).is_file():
        print(f"filter-arc binary {args.filter_arc} not found", file=sys.stderr)
        return 2
    L.check_interpreter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dkim-interop-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        keys = KeyStore(workdir / "keys")
        zone = workdir / "zone.db"
        L.write_zone(zone, keys.zone_records())
        txt = L.parse_zone(zone.read_text(encoding="ascii"))
        cases = build_cases()
        build_fixtures(cases, keys, workdir)
        fixtures = workdir / "fixtures"
        fixtures.mkdir(exist_ok=True)
        for c in cases:
            c.path = fixtures / (re.sub(r"[^A-Za-z0-9+.=@-]+", "_", c.name) + ".eml")
            c.path.write_bytes(c.data)
            c.peers["dkimpy"] = dkimpy_results(c.data, txt)
        perl = perl_results(zone, [c.path for c in cases])
        for c in cases:
            c.peers["mail-dkim"] = perl[c.path]
        limits = peer_limits(peer_algorithms())
        harness_errors, documented = check_peers(cases, limits)

        outcomes = []
        if not args.peers_only:
            outcomes = [run_filter_arc(args.filter_arc, c, zone) for c in cases]
            for _, line in outcomes:
                print(line)
        if args.verbose or args.peers_only:
            print("\npeer results (expected | dkimpy | Mail::DKIM):")
            for c in cases:
                for i, exp in enumerate(c.expected or ["none"]):
                    cells = []
                    for p in ("dkimpy", "mail-dkim"):
                        r = c.peers[p]
                        cells.append(r[i][0] if i < len(r) else "-")
                    print(f"  {c.name:<58} {i} {exp:<9} | {cells[0]:<9} | {cells[1]}")
                    if args.verbose:
                        for p in ("dkimpy", "mail-dkim"):
                            r = c.peers[p]
                            if i < len(r) and r[i][1]:
                                print(f"      {p}: {r[i][1]}")
        print(f"\n{documented} peer answers differ from the expectation for a documented reason:")
        for (part, peer), why in PEER_DIVERGENCES.items():
            print(f"  {peer} on *{part}*: {why}")
        for (peer, alg), says in limits.items():
            print(f"  {peer} cannot check {alg} signatures (says {says}); its answer there is not compared")
        for e in harness_errors:
            print(f"HARNESS {e}")
        failed = sum(not ok for ok, _ in outcomes)
        sigs = sum(len(c.expected) for c in cases)
        print(f"\nfixtures: {len(cases)} messages, {sigs} signatures, checked by dkimpy + Mail::DKIM")
        if args.keep:
            print(f"fixtures kept in {workdir}")
        if args.peers_only:
            print(f"dkim interop (peers only): {len(harness_errors)} harness errors")
        else:
            print(f"dkim interop: {len(outcomes)} checks, {len(outcomes) - failed} ok, {failed} failed, "
                  f"{len(harness_errors)} harness errors, {time.monotonic() - started:.1f} s")
    if harness_errors:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
