#!/usr/bin/python3
"""Interop test of `filter-arc verify` against chains sealed by dkimpy and Mail::DKIM.

What it proves: for realistic messages (multipart, UTF-8 headers, long folded
headers, trailing whitespace, a DKIM-signed list message, no final line break;
CRLF and LF), ARC chains of 1 to 3 hops sealed by any mix of two independent
implementations are judged by filter-arc exactly as both of them judge them, and
every tampered or structurally broken copy gets the verdict RFC 8617 §5.2 gives it.

Each run generates everything afresh in a temporary directory: RSA keys (openssl),
a zone file with the public keys, and the chains, built hop by hop as forwarders
do (verify the incoming chain with the hop's own peer, add Received and
Authentication-Results with that arc= result, optionally tag the Subject and
append a footer, then seal). Every fixture is checked by BOTH peers before
filter-arc sees it:

* chains and unsealed messages: the two peers must agree with the expectation,
  otherwise the fixture is broken and the run fails as a harness error;
* tampered/edge cases: the expectation is RFC 8617's (stated per case); a peer
  that disagrees must be a documented divergence (PEER_DIVERGENCES), otherwise
  the run fails as a harness error.

Usage:
    /usr/bin/python3 verify_interop.py FILTER_ARC      # the meson test
    /usr/bin/python3 verify_interop.py --peers-only    # fixtures + peers, no filter-arc
    options: --keep DIR (keep fixtures and a cases.tsv manifest), -v (peer reasons)

Exit status: 0 all ok, 1 filter-arc disagreed somewhere, 2 harness error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import interop_lib as L  # noqa: E402
from interop_lib import ChainSpec, Verdict  # noqa: E402

MIXES = ["py", "perl", "py-py", "py-perl", "perl-py", "perl-perl",
         "py-py-py", "py-perl-py", "perl-py-perl", "perl-perl-perl"]


def chain_specs() -> list[ChainSpec]:
    """The sealed fixtures. multipart gets every mix; the other messages a rotation
    that still covers 1, 2 and 3 hops and both line endings."""
    specs = [ChainSpec("multipart", "crlf", mix) for mix in MIXES]
    specs += [ChainSpec("multipart", "lf", mix) for mix in ("py", "perl-py", "py-perl-py", "perl-perl-perl")]
    specs += [
        ChainSpec("utf8-headers", "crlf", "perl"),
        ChainSpec("utf8-headers", "crlf", "py-perl"),
        ChainSpec("utf8-headers", "crlf", "perl-py-perl", mods=(2,)),
        ChainSpec("utf8-headers", "lf", "py"),
        ChainSpec("utf8-headers", "lf", "perl-perl"),
        ChainSpec("utf8-headers", "lf", "py-py-py"),
        ChainSpec("folded-headers", "crlf", "py-py"),
        ChainSpec("folded-headers", "crlf", "perl-py-perl"),
        ChainSpec("folded-headers", "lf", "perl"),
        ChainSpec("folded-headers", "lf", "py-perl", mods=(2,)),
        ChainSpec("folded-headers", "lf", "perl-py-perl"),
        ChainSpec("trailing-ws", "crlf", "py"),
        ChainSpec("trailing-ws", "crlf", "perl-perl"),
        ChainSpec("trailing-ws", "crlf", "py-perl-py"),
        ChainSpec("trailing-ws", "lf", "perl"),
        ChainSpec("trailing-ws", "lf", "py-py-py", mods=(3,)),
        ChainSpec("mailing-list", "crlf", "py", mods=(1,)),
        ChainSpec("mailing-list", "crlf", "py-perl", mods=(1,)),
        ChainSpec("mailing-list", "crlf", "perl-py-perl", mods=(1,)),
        ChainSpec("mailing-list", "lf", "perl", mods=(1,)),
        ChainSpec("mailing-list", "lf", "perl-py", mods=(1,)),
        ChainSpec("no-final-eol", "crlf", "py-perl"),
        ChainSpec("no-final-eol", "crlf", "perl"),
        ChainSpec("no-final-eol", "lf", "py"),
        ChainSpec("no-final-eol", "lf", "perl-py"),
        # hop 2 seals with the 1024-bit key: passes at the default minimum (1024)
        ChainSpec("multipart", "crlf", "py-perl", sealers=("A", "W")),
        ChainSpec("multipart", "lf", "perl-py", sealers=("A", "W")),
        # the message is altered in transit before hop 2, which therefore seals cv=fail
        ChainSpec("multipart", "crlf", "py-perl", breaks=(2,)),
        ChainSpec("utf8-headers", "lf", "perl-py", breaks=(2,)),
    ]
    return specs


# --------------------------------------------------------------------------- tampering


def edit_field(msg: bytes, pick, edit) -> bytes:
    """Apply edit() to the first header field for which pick(field) is true."""
    fields, rest = L.split_message(msg)
    for i, f in enumerate(fields):
        if pick(f):
            new = edit(f)
            if new == f:
                raise AssertionError(f"tamper edit changed nothing in {f[:60]!r}")
            fields[i] = new
            return L.join_message(fields, rest)
    raise AssertionError("tamper target field not found")


def is_field(name: str, instance: int | None = None):
    return lambda f: L.field_name(f) == name and (instance is None or L.arc_instance(f) == instance)


def top(msg: bytes) -> int:
    return max(L.arc_sets(msg))


def flip_b64_in_tag(raw: bytes, tag: bytes) -> bytes:
    """Change one base64 character of tag's value (b= of a seal or signature)."""
    m = re.search(rb"(?:^|[;:\s])" + tag + rb"\s*=\s*", raw)
    pos, seen = m.end(), 0
    while True:
        c = raw[pos:pos + 1]
        if c.isalnum():
            seen += 1
            if seen == 20:
                return raw[:pos] + (b"A" if c != b"A" else b"B") + raw[pos + 1:]
        pos += 1


def body_changed(msg: bytes) -> bytes:
    fields, rest = L.split_message(msg)
    m = re.search(rb"[a-z]", rest)
    return L.join_message(fields, rest[:m.start()] + rest[m.start():m.end()].upper() + rest[m.end():])


def subject_changed(msg: bytes) -> bytes:
    return edit_field(msg, is_field("subject"), lambda f: f.replace(b"Subject:", b"Subject: URGENT", 1))


def from_changed(msg: bytes) -> bytes:
    return edit_field(msg, is_field("from"), lambda f: f.replace(b"@sender.example", b"@attacker.example", 1))


def aar_changed(which: str):
    def op(msg: bytes) -> bytes:
        inst = top(msg) if which == "top" else 1
        return edit_field(msg, is_field("arc-authentication-results", inst),
                          lambda f: f.replace(b"spf=pass", b"spf=fail", 1))
    return op


def as_b_changed(msg: bytes) -> bytes:
    return edit_field(msg, is_field("arc-seal", top(msg)), lambda f: flip_b64_in_tag(f, b"b"))


def ams_old_b_changed(msg: bytes) -> bytes:
    return edit_field(msg, is_field("arc-message-signature", 1), lambda f: flip_b64_in_tag(f, b"b"))


def cv_changed(instance: str, old: bytes, new: bytes):
    def op(msg: bytes) -> bytes:
        inst = {"top": top(msg), "middle": 2, "first": 1}[instance]
        return edit_field(msg, is_field("arc-seal", inst),
                          lambda f: re.sub(rb"cv\s*=\s*" + old, b"cv=" + new, f, count=1))
    return op


def remove_set(which: str):
    def op(msg: bytes) -> bytes:
        sets = L.arc_sets(msg)
        inst = {"top": max(sets), "middle": 2}[which]
        fields, rest = L.split_message(msg)
        drop = set(sets[inst])
        return L.join_message([f for i, f in enumerate(fields) if i not in drop], rest)
    return op


def remove_first_aar(msg: bytes) -> bytes:
    fields, rest = L.split_message(msg)
    return L.join_message([f for f in fields if not is_field("arc-authentication-results", 1)(f)], rest)


def renumber_top(msg: bytes) -> bytes:
    """i=N -> i=N+1 in the three fields of the newest set: instances 1..N-1, N+1."""
    n = top(msg)
    fields, rest = L.split_message(msg)
    out = []
    for f in fields:
        if L.arc_instance(f) == n:
            f = re.sub(rb"(?<![A-Za-z0-9+/])i\s*=\s*" + str(n).encode() + rb"\b", b"i=" + str(n + 1).encode(), f, count=1)
        out.append(f)
    return L.join_message(out, rest)


def duplicate_set(which: str):
    def op(msg: bytes) -> bytes:
        sets = L.arc_sets(msg)
        inst = {"top": max(sets), "first": 1}[which]
        fields, rest = L.split_message(msg)
        copies = [fields[i] for i in sets[inst]]
        at = max(sets[inst]) + 1
        return L.join_message(fields[:at] + copies + fields[at:], rest)
    return op


def sets_reordered(msg: bytes) -> bytes:
    """Move the oldest set's fields to the very top (order of fields is not semantic)."""
    sets = L.arc_sets(msg)
    fields, rest = L.split_message(msg)
    moved = [fields[i] for i in sets[1]]
    kept = [f for i, f in enumerate(fields) if i not in set(sets[1])]
    return L.join_message(moved + kept, rest)


def unsigned_headers_added(msg: bytes) -> bytes:
    return L.prepend_fields(msg, b"X-Spam-Status: No, score=-0.1 required=5.0",
                            b"Received: from mx.final.example (mx.final.example [192.0.2.200])\n"
                            b"\tby mailstore.final.example with LMTP; Wed, 01 Jan 2025 01:00:00 +0000")


def subject_refolded(msg: bytes) -> bytes:
    eol = L.eol_of(msg)

    def refold(f: bytes) -> bytes:
        name, value = f.split(b":", 1)
        return name + b":" + eol + b"   " + value.lstrip().replace(b" ", eol + b"\t  ", 1)
    return edit_field(msg, is_field("subject"), refold)


def body_blank_tail(msg: bytes) -> bytes:
    eol = L.eol_of(msg)
    assert msg.endswith(eol), "needs a body ending in a line break"
    return msg[:-len(eol)] + b"  \t" + eol + eol + b"   " + eol + eol


def all_arc_removed(msg: bytes) -> bytes:
    fields, rest = L.split_message(msg)
    return L.join_message([f for f in fields if L.field_name(f) not in L.ARC_FIELDS], rest)


S52 = "RFC 8617 §5.2"
# name -> (operation, expected verdict, why, base fixtures)
TAMPERS = {
    "body-changed": (body_changed, "fail", f"{S52} step 4: newest AMS bh= mismatch",
                     ["py-perl-py/multipart/crlf", "perl-py-perl/folded-headers/lf", "perl/trailing-ws/lf"]),
    "subject-changed": (subject_changed, "fail", f"{S52} step 4: newest AMS covers Subject",
                        ["py-perl-py/multipart/crlf", "py-perl/utf8-headers/crlf"]),
    "from-changed": (from_changed, "fail", f"{S52} step 4: newest AMS covers From",
                     ["perl-py-perl/folded-headers/lf", "perl/utf8-headers/crlf"]),
    "aar-top-changed": (aar_changed("top"), "fail", f"{S52} step 6: AS(N) covers AAR(N)",
                        ["py-perl-py/multipart/crlf", "perl-perl/utf8-headers/lf"]),
    "aar-first-changed": (aar_changed("first"), "fail", f"{S52} step 6: every AS(i) covers AAR(1)",
                          ["perl-py-perl/folded-headers/lf"]),
    "as-b-changed": (as_b_changed, "fail", f"{S52} step 6: AS(N) signature invalid",
                     ["py-perl-py/multipart/crlf", "py-perl/utf8-headers/crlf", "perl/multipart/crlf"]),
    "as-cv-top-fail": (cv_changed("top", b"pass", b"fail"), "fail", f"{S52} step 2: newest cv=fail",
                       ["py-perl-py/multipart/crlf"]),
    "as-cv-middle-none": (cv_changed("middle", b"pass", b"none"), "fail",
                          f"{S52} step 3.3: cv must be pass for i>1 (and AS(2) breaks)",
                          ["perl-py-perl/folded-headers/lf"]),
    "as-cv-first-pass": (cv_changed("first", b"none", b"pass"), "fail",
                         f"{S52} step 3.3: cv must be none for i=1 (and AS(1) breaks)",
                         ["py-perl/utf8-headers/crlf"]),
    "ams-old-changed": (ams_old_b_changed, "fail", f"{S52} step 6: AS(2..N) cover AMS(1)",
                        ["py-perl-py/multipart/crlf", "perl-perl/trailing-ws/crlf"]),
    "top-set-removed": (remove_set("top"), "pass",
                        f"{S52}: what remains is an intact shorter chain whose newest AMS still "
                        "validates (the top hop did not modify the message); undetectable by design",
                        ["py-perl-py/multipart/crlf", "perl-py-perl/folded-headers/lf"]),
    "top-set-removed-after-mod": (remove_set("top"), "fail",
                                  f"{S52} step 4: the removed hop had modified the message, so "
                                  "the now-newest AMS fails", ["py-py-py+mod3/trailing-ws/lf"]),
    "only-set-removed": (remove_set("top"), "none", f"{S52} step 1: no ARC sets left",
                         ["perl/utf8-headers/crlf"]),
    "all-arc-removed": (all_arc_removed, "none", f"{S52} step 1: no ARC sets",
                        ["perl-perl-perl/multipart/crlf"]),
    "middle-set-removed": (remove_set("middle"), "fail", f"{S52} step 3.2: instance gap",
                           ["py-perl-py/multipart/crlf", "perl-py-perl/folded-headers/lf"]),
    "instance-gap": (renumber_top, "fail", f"{S52} step 3.2: instances 1..N-1,N+1 (gap)",
                     ["py-perl-py/multipart/crlf", "py-perl/no-final-eol/crlf"]),
    "set-duplicated": (duplicate_set("first"), "fail", f"{S52} step 3.1/3.2: repeated instance",
                       ["py-perl-py/multipart/crlf"]),
    "top-set-duplicated": (duplicate_set("top"), "fail", f"{S52} step 3.1/3.2: repeated instance",
                           ["py-perl/utf8-headers/crlf"]),
    "aar-missing": (remove_first_aar, "fail", f"{S52} step 3.1: set 1 incomplete",
                    ["perl-py/multipart/lf"]),
    # not tampering: transformations that must NOT change a pass
    "sets-reordered": (sets_reordered, "pass", "RFC 8617 §5.1.1: sets are ordered by i=, not position",
                       ["py-perl-py/multipart/crlf", "perl-perl/trailing-ws/crlf"]),
    "unsigned-headers-added": (unsigned_headers_added, "pass", "fields outside AMS h= and not ARC",
                               ["perl-py-perl/folded-headers/lf"]),
    "subject-refolded": (subject_refolded, "pass", "relaxed header canonicalization (RFC 6376 §3.4.2)",
                         ["py-perl/utf8-headers/crlf", "perl-perl-perl/multipart/crlf"]),
    "body-blank-tail": (body_blank_tail, "pass", "relaxed body canonicalization (RFC 6376 §3.4.4)",
                        ["py-perl-py/multipart/crlf", "perl/trailing-ws/lf"]),
}

# Where a peer departs from the RFC 8617 expectation. Key: (tamper name, peer).
PEER_DIVERGENCES: dict[tuple[str, str], str] = {
    ("sets-reordered", "dkimpy"):
        "dkimpy 1.1.4 picks the ARC fields for an AS hash by their position in the header "
        "(DKIM h= selection, bottom-up), so a set moved above a newer one breaks the seals; "
        "RFC 8617 §5.1.1 orders the AS input by instance, and Mail::DKIM passes",
}


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    kind: str  # chain | none | tamper | dns | keysize
    message: bytes
    expected: str
    why: str = ""
    zone: str = "main"
    args: list[str] = field(default_factory=list)
    sets: int | None = None  # expected "sets" (only checked for chains/none)
    dkimpy_minkey: int = 1024
    perl_applies: bool = True  # Mail::DKIM has no minimum-key-size knob beyond Strict (1024)
    peers: dict[str, Verdict] = field(default_factory=dict)
    path: Path | None = None
    oldest_pass: int | None = None

    @property
    def divergences(self) -> dict[str, str]:
        out = {}
        for peer, v in self.peers.items():
            if v.verdict != self.expected:
                out[peer] = PEER_DIVERGENCES.get((self.name.split("/")[1] if self.kind == "tamper" else "", peer), "")
        return out


def build_cases(workdir: Path, keys: L.KeyRing, zones: dict[str, Path], txts: dict[str, dict]) -> list[Case]:
    specs = chain_specs()
    builder = L.Builder(keys, zones, txts, workdir)
    sealed = builder.build(specs)
    cases: list[Case] = []
    for spec in specs:
        broken = bool(spec.breaks)
        cases.append(Case(spec.name, "chain", sealed[spec.name], "fail" if broken else "pass",
                          why=f"{S52} step 2: hop {spec.breaks[0]} sealed cv=fail" if broken else "",
                          sets=len(spec.hops)))
    for name in ("multipart", "utf8-headers", "folded-headers", "trailing-ws", "mailing-list", "no-final-eol"):
        for eol in ("crlf", "lf") if name in ("multipart", "mailing-list") else ("crlf",):
            cases.append(Case(f"unsealed/{name}/{eol}", "none", L.base_message(name, eol, keys), "none",
                              why=f"{S52} step 1", sets=0))
    for tname, (op, expected, why, bases) in TAMPERS.items():
        for base in bases:
            cases.append(Case(f"tamper/{tname}/{base}", "tamper", op(sealed[base]), expected, why))
    for zone, why in (("nokey", "key of hop 2 absent (NXDOMAIN): AS(2) cannot validate, RFC 6376 §6.1.2"),
                      ("revoked", "key of hop 2 revoked (empty p=): RFC 6376 §3.6.1")):
        for base in ("py-perl/utf8-headers/crlf", "perl-py-perl/folded-headers/lf"):
            cases.append(Case(f"dns-{zone}/{base}", "dns", sealed[base], "fail", why, zone=zone))
    for base in ("py-perl+rsa1024/multipart/crlf", "perl-py+rsa1024/multipart/lf"):
        cases.append(Case(f"min-key-bits-2048/{base}", "keysize", sealed[base], "fail",
                          "hop 2 key is 1024 bits, below --min-key-bits 2048 (RFC 8301 policy knob)",
                          args=["--min-key-bits", "2048"], dkimpy_minkey=2048, perl_applies=False))
    return cases


def run_peers(cases: list[Case], zones: dict[str, Path], txts: dict[str, dict]) -> None:
    """Both peers on every case; Mail::DKIM batched per zone (one perl process each)."""
    by_zone: dict[str, list[Case]] = {}
    for c in cases:
        c.peers["dkimpy"] = L.py_verify(c.message, txts[c.zone], minkey=c.dkimpy_minkey)
        if c.perl_applies:
            by_zone.setdefault(c.zone, []).append(c)
    for zone, group in by_zone.items():
        verdicts = L.perl_verify(zones[zone], [c.path for c in group])
        for c in group:
            c.peers["mail-dkim"] = verdicts[c.path]


def check_peers(cases: list[Case]) -> list[str]:
    """Harness errors: fixtures the two peers do not both judge as expected."""
    errors = []
    for c in cases:
        ops = {p: v.oldest_pass for p, v in c.peers.items() if v.oldest_pass is not None}
        if len(set(ops.values())) > 1:
            errors.append(f"{c.name}: peers disagree on oldest-pass {ops}")
        c.oldest_pass = next(iter(ops.values()), None)
        for peer, v in c.peers.items():
            if v.verdict == c.expected:
                continue
            if c.kind in ("tamper", "dns", "keysize") and c.divergences.get(peer):
                continue
            errors.append(f"{c.name}: {peer} says {v.short()} ({v.reason}), expected {c.expected}")
    return errors


# --------------------------------------------------------------------------- filter-arc


@dataclass
class Outcome:
    ok: bool
    line: str


def run_filter_arc(exe: str, case: Case, zones: dict[str, Path]) -> Outcome:
    cmd = [exe, "verify", "--dns-zone", str(zones[case.zone]), "--now", str(L.NOW), "--json", *case.args,
           str(case.path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return Outcome(False, f"FAIL {case.name}: timed out after 60 s")
    stderr = proc.stderr.decode("utf-8", "replace").strip()[-400:]
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        return Outcome(False, f"FAIL {case.name}: exit {proc.returncode}, stdout is not JSON: "
                              f"{proc.stdout[:300]!r} stderr: {stderr}")
    problems = []
    missing = [k for k in ("arc", "sets", "oldest_pass", "reason") if k not in out]
    if missing:
        problems.append(f"JSON lacks {missing}")
    got = out.get("arc")
    if got != case.expected:
        problems.append(f"expected {case.expected}, filter-arc said {got}")
    want_rc = 75 if got == "temperror" else 0
    if proc.returncode != want_rc:
        problems.append(f"exit {proc.returncode} for arc={got} (want {want_rc})")
    if case.sets is not None and got == case.expected and out.get("sets") != case.sets:
        problems.append(f"sets={out.get('sets')}, expected {case.sets}")
    if got == "pass" and case.expected == "pass":
        op = out.get("oldest_pass")
        if op is not None and op != case.oldest_pass:
            problems.append(f"oldest_pass={op}, peers computed {case.oldest_pass}")
    if problems:
        return Outcome(False, f"FAIL {case.name}: {'; '.join(problems)} (reason: {out.get('reason')!r}"
                              f"{', stderr: ' + stderr if stderr else ''})")
    detail = f" oldest-pass={case.oldest_pass}" if got == "pass" and case.oldest_pass else ""
    return Outcome(True, f"ok   {case.name} {got}{detail}")


AR_LINE = re.compile(r"^Authentication-Results: interop\.test; arc=(pass|fail|none|temperror)\b(.*)$")


def text_mode_checks(exe: str, cases: list[Case], zones: dict[str, Path]) -> list[Outcome]:
    """The default output (one A-R line) agrees with --json, also when reading stdin."""
    outcomes = []
    picks = {}
    for c in sorted(cases, key=lambda c: -(c.oldest_pass or 0)):  # a pass with oldest-pass > 0 first
        picks.setdefault(c.expected, c)
    for c in picks.values():
        for via_stdin in (False, True):
            cmd = [exe, "verify", "--dns-zone", str(zones[c.zone]), "--now", str(L.NOW),
                   "--authserv-id", "interop.test", *c.args, "-" if via_stdin else str(c.path)]
            proc = subprocess.run(cmd, input=c.message if via_stdin else None, capture_output=True, timeout=60)
            text = proc.stdout.decode("utf-8", "replace").strip()
            m = AR_LINE.match(text)
            label = f"text-output{'/stdin' if via_stdin else ''}/{c.name}"
            if not m or m.group(1) != c.expected or proc.returncode != 0:
                outcomes.append(Outcome(False, f"FAIL {label}: exit {proc.returncode}, got {text[:200]!r}, "
                                               f"expected 'Authentication-Results: interop.test; arc={c.expected}'"))
                continue
            op = re.search(r"header\.oldest-pass=(\d+)", m.group(2))
            if op and c.expected == "pass" and int(op.group(1)) != c.oldest_pass:
                outcomes.append(Outcome(False, f"FAIL {label}: header.oldest-pass={op.group(1)}, "
                                               f"peers computed {c.oldest_pass}"))
                continue
            outcomes.append(Outcome(True, f"ok   {label} {m.group(1)}"))
    return outcomes


# --------------------------------------------------------------------------- main


def peer_table(cases: list[Case], everything: bool, verbose: bool) -> list[str]:
    what = "all fixtures" if everything else "tampered and edge cases"
    lines = ["", f"peer verdicts on {what} (expected | dkimpy | Mail::DKIM):"]
    for c in cases:
        if c.kind in ("chain", "none") and not everything:
            continue
        cells = [c.peers[p].short() if p in c.peers else "n/a" for p in ("dkimpy", "mail-dkim")]
        mark = "  <- differs from RFC expectation" if c.divergences else ""
        lines.append(f"  {c.name:<62} {c.expected:<5} | {cells[0]:<16} | {cells[1]:<10}{mark}")
        if verbose:
            for p, v in c.peers.items():
                lines.append(f"      {p}: {v.reason}")
            if c.why:
                lines.append(f"      why: {c.why}")
            for p in c.divergences:
                lines.append(f"      {p} diverges: {PEER_DIVERGENCES.get((c.name.split('/')[1], p), '?')}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("filter_arc", nargs="?", help="path of the filter-arc binary")
    ap.add_argument("--peers-only", action="store_true", help="build and cross-check fixtures only")
    ap.add_argument("--keep", type=Path, help="write fixtures here and keep them")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not args.peers_only and not args.filter_arc:
        ap.error("give the filter-arc binary, or --peers-only")
    if args.filter_arc and not Path(args.filter_arc).is_file():
        print(f"filter-arc binary {args.filter_arc} not found", file=sys.stderr)
        return 2
    L.check_interpreter()
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="arc-interop-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        keys = L.KeyRing(workdir / "keys")
        zones = {"main": workdir / "zone.db", "nokey": workdir / "zone-nokey.db",
                 "revoked": workdir / "zone-revoked.db"}
        L.write_zone(zones["main"], keys.zone_records())
        L.write_zone(zones["nokey"], keys.zone_records(omit=("B",)))
        L.write_zone(zones["revoked"], keys.zone_records(revoke=("B",)))
        txts = {z: L.parse_zone(p.read_text(encoding="ascii")) for z, p in zones.items()}

        cases = build_cases(workdir, keys, zones, txts)
        fixtures = workdir / "fixtures"
        fixtures.mkdir(exist_ok=True)
        for c in cases:
            c.path = fixtures / (re.sub(r"[^A-Za-z0-9+.-]+", "_", c.name) + ".eml")
            c.path.write_bytes(c.message)
        run_peers(cases, zones, txts)
        harness_errors = check_peers(cases)
        built = time.monotonic() - started
        with open(workdir / "cases.tsv", "w", encoding="utf-8") as manifest:
            for c in cases:
                print(c.name, c.expected, c.path, zones[c.zone], " ".join(c.args), sep="\t", file=manifest)

        outcomes: list[Outcome] = []
        if not args.peers_only:
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                outcomes = list(pool.map(lambda c: run_filter_arc(args.filter_arc, c, zones), cases))
            outcomes += text_mode_checks(args.filter_arc, cases, zones)
            for o in outcomes:
                print(o.line)

        for line in peer_table(cases, args.peers_only or args.verbose, args.verbose):
            print(line)
        for e in harness_errors:
            print(f"HARNESS {e}")
        failed = sum(not o.ok for o in outcomes)
        kinds = {k: sum(c.kind == k for c in cases) for k in ("chain", "none", "tamper", "dns", "keysize")}
        print(f"\nfixtures: {len(cases)} ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
              f"built and cross-checked by dkimpy + Mail::DKIM in {built:.1f} s")
        if args.keep:
            print(f"fixtures kept in {workdir} (see cases.tsv)")
        if args.peers_only:
            print(f"interop verify (peers only): {len(harness_errors)} harness errors")
        else:
            print(f"interop verify: {len(outcomes)} checks, {len(outcomes) - failed} ok, {failed} failed, "
                  f"{len(harness_errors)} harness errors, {time.monotonic() - started:.1f} s")
    if harness_errors:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
