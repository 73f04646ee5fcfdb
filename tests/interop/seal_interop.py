#!/usr/bin/python3
"""Interop test of `filter-arc seal`: its seals must verify in dkimpy and Mail::DKIM.

What it proves, with fixtures generated afresh on every run (keys, zone, chains):

(a) filter-arc continuing its own chains (hop 1, 2, 3, adding the hop's
    Authentication-Results before each) produces seals that dkimpy, Mail::DKIM and
    `filter-arc verify` all pass after every hop;
(b) chains started by dkimpy or Mail::DKIM (1-2 hops) and continued by filter-arc
    pass everywhere, and so do filter-arc chains continued by the peers (which
    verify filter-arc's seal to compute their own cv=);
(c) when the incoming chain does not validate (a previous hop's key missing from
    the zone, or the body altered in transit), filter-arc seals cv=fail, that seal
    covers only its own set (RFC 8617 §5.1.2), and every verifier reports fail.

Every filter-arc hop is also checked against the CLI contract: exit 0; output =
ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, then the input byte
for byte; instance N everywhere; i= first tag; cv= as both peers judge the input;
t= = --now; no ARC field in the AMS h=; the AAR names the --authserv-id and copies
its A-R results; the input's line ending kept.

Usage: /usr/bin/python3 seal_interop.py [--keep DIR] [-v] FILTER_ARC
Exit status: 0 all ok, 1 a filter-arc problem, 2 harness error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib as L  # noqa: E402
from interop_lib import ChainSpec, Sealer  # noqa: E402

# group, chain, expected verdict of the final message (and, for group a, of every hop)
SCENARIOS: list[tuple[str, ChainSpec, str]] = [
    ("a", ChainSpec("multipart", "crlf", "fa-fa-fa"), "pass"),
    ("a", ChainSpec("utf8-headers", "lf", "fa-fa-fa"), "pass"),
    ("a", ChainSpec("mailing-list", "crlf", "fa-fa", mods=(1,)), "pass"),
    ("a", ChainSpec("folded-headers", "crlf", "fa", variant="pkcs8"), "pass"),
    ("b", ChainSpec("multipart", "crlf", "py-fa"), "pass"),
    ("b", ChainSpec("multipart", "crlf", "perl-fa"), "pass"),
    ("b", ChainSpec("mailing-list", "crlf", "py-perl-fa", mods=(1,)), "pass"),
    ("b", ChainSpec("trailing-ws", "lf", "perl-py-fa"), "pass"),
    ("b", ChainSpec("multipart", "lf", "fa-py"), "pass"),
    ("b", ChainSpec("no-final-eol", "crlf", "fa-perl"), "pass"),
    ("b", ChainSpec("folded-headers", "lf", "py-fa-perl", mods=(3,)), "pass"),
    ("b", ChainSpec("utf8-headers", "crlf", "perl-fa-py"), "pass"),
    ("c", ChainSpec("multipart", "crlf", "py-fa", zone="noA"), "fail"),
    ("c", ChainSpec("utf8-headers", "lf", "perl-fa", zone="noA"), "fail"),
    ("c", ChainSpec("trailing-ws", "crlf", "fa-fa", zone="noA"), "fail"),
    ("c", ChainSpec("multipart", "lf", "perl-fa", breaks=(2,)), "fail"),
]


# --------------------------------------------------------------------------- filter-arc hop


@dataclass
class SealRecord:
    """One filter-arc seal: what the peers said about its input, what it produced."""

    chain: str
    hop: int
    given: Path  # the message filter-arc was asked to seal
    zone: str
    expected_cv: str = "?"
    cv: str = "?"
    scope: str = ""  # for cv=fail: which header fields the seal covers
    problems: list[str] = field(default_factory=list)
    aborted: bool = False  # no usable output: the chain stops here


def tag(value: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"(?:^|;)\s*" + name + rb"\s*=\s*([^;]*)", value)
    return re.sub(rb"\s+", b"", m.group(1)) if m else None


def check_seal_output(rec: SealRecord, given: bytes, out: bytes, sealer: Sealer, stamp: int) -> None:
    """The CLI contract of `filter-arc seal` for one hop."""
    p = rec.problems
    if not out.endswith(given):
        p.append("output does not end with the input byte for byte")
        return
    fields, rest = L.split_message(out[:len(out) - len(given)] + b"\n")
    names = [L.field_name(f) for f in fields]
    if names != ["arc-seal", "arc-message-signature", "arc-authentication-results"] or rest != b"\n":
        p.append(f"prepended fields are {names}, not ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results")
        return
    eol = L.eol_of(given)
    block = out[:len(out) - len(given)]
    if eol == b"\n" and b"\r" in block or eol == b"\r\n" and re.search(rb"(?<!\r)\n", block):
        p.append("new fields do not use the input's line ending")
    seal, ams, aar = (L.unfold(f).split(b":", 1)[1] for f in fields)
    for name, value in (("ARC-Seal", seal), ("ARC-Message-Signature", ams), ("ARC-Authentication-Results", aar)):
        if tag(value, b"i") != str(rec.hop).encode():
            p.append(f"{name} i={tag(value, b'i')!r}, expected {rec.hop}")
        if not re.match(rb"\s*i\s*=", value):
            p.append(f"{name}: i= is not the first tag (RFC 8617 ABNF)")
    rec.cv = (tag(seal, b"cv") or b"?").decode()
    for name, value in (("ARC-Seal", seal), ("ARC-Message-Signature", ams)):
        if tag(value, b"t") != str(stamp).encode():
            p.append(f"{name} t={tag(value, b't')!r}, expected --now {stamp}")
        if tag(value, b"d") != sealer.domain.encode() or tag(value, b"s") != sealer.selector.encode():
            p.append(f"{name} d=/s= are not --domain/--selector")
    signed = [h.strip().lower() for h in (tag(ams, b"h") or b"").split(b":")]
    if any(h.startswith(b"arc-") for h in signed):
        p.append(f"AMS h= signs ARC fields: {signed} (RFC 8617 §4.1.2)")
    m = re.match(rb"\s*i\s*=\s*\d+\s*;\s*([^;\s]+)", aar)
    if not m or m.group(1).decode().lower() != sealer.srv_id:
        p.append(f"AAR authserv-id is {m.group(1) if m else None!r}, expected {sealer.srv_id}")
    if b"spf=pass smtp.mailfrom=sender.example" not in re.sub(rb"\s+", b" ", aar):
        p.append("AAR lacks the spf result of the --authserv-id Authentication-Results")
    arc_in_aar = re.search(rb"\barc\s*=\s*(\w+)", aar)
    if arc_in_aar and arc_in_aar.group(1).decode().lower() != rec.cv:
        p.append(f"AAR says arc={arc_in_aar.group(1).decode()} but the seal says cv={rec.cv}")


def seal_scope(message: bytes, txt: dict[str, bytes]) -> str:
    """Which fields the newest ARC-Seal's signature covers, tested with dkimpy's
    signature primitive: 'own set' (RFC 8617 §5.1.2 for cv=fail), 'whole chain', or
    'neither'."""
    import dkim

    def dnsfunc(name, timeout=5):
        return txt.get(name.decode().rstrip(".").lower())

    crlf = L.to_eol(message, b"\r\n")
    sets = L.arc_sets(crlf)
    n = max(sets)
    arc = dkim.ARC(crlf, logger=L.quiet_logger())
    _, headers = arc.sorted_arc_headers()
    try:
        whole = arc.verify_instance(headers, n, dnsfunc=dnsfunc)["as-valid"]
    except dkim.DKIMException:
        whole = False
    fields, rest = L.split_message(crlf)
    older = {i for inst, idx in sets.items() if inst != n for i in idx}
    own_msg = L.join_message([f for i, f in enumerate(fields) if i not in older], rest)
    seal_field = next(f for f in L.split_message(own_msg)[0] if L.field_name(f) == "arc-seal")
    value = seal_field.split(b":", 1)[1].rstrip(b"\r\n")
    sig = dkim.util.parse_tag_value(L.unfold(seal_field).split(b":", 1)[1])
    sig[b"c"] = b"relaxed/relaxed"
    try:
        own = dkim.ARC(own_msg, logger=L.quiet_logger()).verify_sig(
            sig, [b"arc-authentication-results", b"arc-message-signature"], (b"ARC-Seal", value), dnsfunc)
    except dkim.DKIMException:
        own = False
    return "own set" if own else "whole chain" if whole else "neither"


class FilterArcSealer:
    """The Builder's 'fa' peer: runs `filter-arc seal` and checks its output."""

    def __init__(self, exe: str, keys: L.KeyRing, zones: dict[str, Path], txts: dict[str, dict]):
        self.exe, self.keys, self.zones, self.txts = exe, keys, zones, txts
        self.records: list[SealRecord] = []
        self.harness_errors: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, spec: ChainSpec, hop: int, sealer: Sealer, path: Path, stamp: int, zone: Path) -> bytes:
        given = path.read_bytes()
        rec = SealRecord(spec.name, hop, path, spec.zone)
        with self._lock:
            self.records.append(rec)
        key = self.keys.pkcs8_path(sealer.label) if spec.variant == "pkcs8" else self.keys.key_path(sealer.label)
        cmd = [self.exe, "seal", "--domain", sealer.domain, "--selector", sealer.selector, "--key", str(key),
               "--authserv-id", sealer.srv_id, "--dns-zone", str(zone), "--now", str(stamp), str(path)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            rec.problems.append(f"`filter-arc seal` did not run: {e}")
            rec.aborted = True
            raise L.HopFailed(rec.problems[-1]) from e
        if proc.returncode != 0 or not proc.stdout:
            err = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[0][:200]
            rec.problems.append(f"`filter-arc seal` exit {proc.returncode}, {len(proc.stdout)} bytes out: {err}")
            rec.aborted = True
            raise L.HopFailed(rec.problems[-1])
        check_seal_output(rec, given, proc.stdout, sealer, stamp)
        if rec.cv == "fail":
            rec.scope = seal_scope(proc.stdout, self.txts[spec.zone])
            if rec.scope != "own set":
                rec.problems.append(f"cv=fail seal covers {rec.scope}, not only its own set (RFC 8617 §5.1.2)")
        return proc.stdout

    def check_cv(self) -> None:
        """cv= of every seal against both peers' verdict on the chain filter-arc was
        given (none at hop 1); Mail::DKIM runs once per zone."""
        later = [r for r in self.records if r.hop > 1]
        by_zone: dict[str, list[Path]] = {}
        for rec in later:
            by_zone.setdefault(rec.zone, []).append(rec.given)
        perl = {}
        for zone, paths in by_zone.items():
            perl.update(L.perl_verify(self.zones[zone], paths))
        for rec in self.records:
            if rec.hop == 1:
                rec.expected_cv = "none"
            else:
                py = L.py_verify(rec.given.read_bytes(), self.txts[rec.zone]).verdict
                if py != perl[rec.given].verdict:
                    self.harness_errors.append(f"{rec.chain} hop {rec.hop}: peers disagree on the input "
                                               f"(dkimpy {py}, Mail::DKIM {perl[rec.given].verdict})")
                rec.expected_cv = py
            if not rec.aborted and rec.cv != rec.expected_cv:
                rec.problems.append(f"cv={rec.cv}, but both peers judge the input chain {rec.expected_cv}")


# --------------------------------------------------------------------------- verification


@dataclass
class Row:
    group: str
    label: str
    hops: int
    expected: str
    message: bytes
    zone: str
    path: Path | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    oldest: dict[str, int | None] = field(default_factory=dict)
    new_cv: str = "-"
    problems: list[str] = field(default_factory=list)


def filter_arc_verify(exe: str, row: Row, zone: Path) -> None:
    cmd = [exe, "verify", "--dns-zone", str(zone), "--now", str(L.NOW), "--json", str(row.path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        row.verdicts["filter-arc"] = "timeout"
        row.problems.append("filter-arc verify timed out after 60 s")
        return
    try:
        out = json.loads(proc.stdout)
        row.verdicts["filter-arc"] = out["arc"]
        row.oldest["filter-arc"] = out.get("oldest_pass")
    except (ValueError, KeyError):
        row.verdicts["filter-arc"] = f"error(exit {proc.returncode})"
        row.problems.append(f"filter-arc verify: {proc.stdout[:200]!r} {proc.stderr[:200]!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter_arc")
    ap.add_argument("--keep", type=Path, help="write fixtures here and keep them")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not Path(args.filter_arc).is_file():
        print(f"filter-arc binary {args.filter_arc} not found", file=sys.stderr)
        return 2
    L.check_interpreter()
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="arc-seal-interop-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        keys = L.KeyRing(workdir / "keys")
        zones = {"main": workdir / "zone.db", "noA": workdir / "zone-noA.db"}
        L.write_zone(zones["main"], keys.zone_records())
        L.write_zone(zones["noA"], keys.zone_records(omit=("A",)))
        txts = {z: L.parse_zone(p.read_text(encoding="ascii")) for z, p in zones.items()}

        fa = FilterArcSealer(args.filter_arc, keys, zones, txts)
        builder = L.Builder(keys, zones, txts, workdir, extra_sealers={"fa": fa})
        specs = [spec for _, spec, _ in SCENARIOS]
        builder.build(specs)
        fa.check_cv()

        rows: list[Row] = []
        for group, spec, expected in SCENARIOS:
            history = builder.history[spec.name]
            failed_chain = spec.name in builder.failures
            if group == "a":  # every hop of filter-arc's own chains
                hops = list(range(1, len(history) + 1))
            else:
                hops = [] if failed_chain else [len(history)]
            for n in hops:
                label = spec.name if n == len(spec.hops) else f"{spec.name} (after hop {n})"
                rows.append(Row(group, label, n, expected, history[n - 1], spec.zone))
            if failed_chain:  # the reason is reported with the seal records
                rows.append(Row(group, spec.name, len(spec.hops), expected, b"", spec.zone))

        fixtures = workdir / "fixtures"
        fixtures.mkdir(exist_ok=True)
        live = [r for r in rows if r.message]
        for r in live:
            r.path = fixtures / (re.sub(r"[^A-Za-z0-9+.-]+", "_", r.label) + ".eml")
            r.path.write_bytes(r.message)
            v = L.py_verify(r.message, txts[r.zone])
            r.verdicts["dkimpy"], r.oldest["dkimpy"] = v.verdict, v.oldest_pass
            newest = max(L.arc_sets(r.message))
            seal = next(f for f in L.split_message(r.message)[0] if L.arc_instance(f) == newest
                        and L.field_name(f) == "arc-seal")
            r.new_cv = (tag(L.unfold(seal).split(b":", 1)[1], b"cv") or b"?").decode()
        for zone in zones:
            group = [r for r in live if r.zone == zone]
            found = L.perl_verify(zones[zone], [r.path for r in group])
            for r in group:
                r.verdicts["mail-dkim"], r.oldest["mail-dkim"] = found[r.path].verdict, found[r.path].oldest_pass
        for r in live:
            filter_arc_verify(args.filter_arc, r, zones[r.zone])

        failed, harness = 0, list(fa.harness_errors)
        print("interop matrix: chain sealed by (hops left to right; fa = filter-arc) -> verdict of each verifier")
        print(f"{'':2}{'chain':<52} {'new cv':<7} {'dkimpy':<7} {'Mail::DKIM':<11} {'filter-arc':<11} result")
        for r in rows:
            peers = [r.verdicts.get(p, "-") for p in ("dkimpy", "mail-dkim")]
            # Every message here carries at least one filter-arc seal: a verifier that
            # disagrees with the expectation points at that seal (or at filter-arc verify).
            for verifier, verdict in r.verdicts.items():
                if verdict != r.expected:
                    r.problems.append(f"{verifier} says {verdict}, expected {r.expected}")
            ops = {k: v for k, v in r.oldest.items() if v is not None}
            if r.expected == "pass" and len(set(ops.values())) > 1:
                r.problems.append(f"oldest-pass differs: {ops}")
            failed += bool(r.problems)
            result = "not sealed" if not r.message else "FAIL" if r.problems else "ok"
            print(f"{r.group:<2}{r.label:<52} {r.new_cv:<7} {peers[0]:<7} {peers[1]:<11} "
                  f"{r.verdicts.get('filter-arc', '-'):<11} {result}")
        print("\nfilter-arc seals (contract checks per hop):")
        for rec in sorted(fa.records, key=lambda r: (r.chain, r.hop)):
            scope = f", covers {rec.scope}" if rec.scope else ""
            status = "ok  " if not rec.problems else "FAIL"
            failed += bool(rec.problems)
            print(f"{status} {rec.chain} hop {rec.hop}: cv={rec.cv} (peers: {rec.expected_cv}){scope}")
            for p in rec.problems:
                print(f"       - {p}")
        for r in rows:
            for p in r.problems:
                print(f"FAIL {r.label}: {p}")
        if args.verbose:
            print("\n" + "\n".join(builder.log))
        for e in harness:
            print(f"HARNESS {e}")
        if args.keep:
            print(f"fixtures kept in {workdir}")
        print(f"\ninterop seal: {len(live)} verified messages, {len(fa.records)} filter-arc seals, "
              f"{failed} failed, {len(harness)} harness errors, {time.monotonic() - started:.1f} s")
    if harness:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
