"""Shared helpers for the filter-arc interop harness (tests/interop).

Nothing here decides a verdict. The module provides the plumbing that
verify_interop.py and seal_interop.py share:

* the sealing ADMDs (domain, selector, authserv-id) and their RSA keys,
  generated with openssl into a temporary directory on every run;
* an RFC 1035 master file holding the public keys (written here, read back
  by dkimpy through parse_zone() and by Mail::DKIM through Net::DNS);
* byte-exact message surgery (header fields split without unfolding, so a
  tampered copy differs from its original only where intended);
* drivers for the two independent peers: dkimpy in-process (peer_verify.py,
  peer_seal.py) and Mail::DKIM in a /usr/bin/perl child (peer_verify.pl,
  peer_seal.pl);
* the hop-by-hop chain builder: verify the incoming chain with the hop's
  peer, prepend Received and Authentication-Results as a forwarder would,
  optionally modify the message as a mailing list does, then seal.

Debian's python3-dkim is only visible to /usr/bin/python3; every script of
the harness is meant to run under that interpreter.
"""

from __future__ import annotations

import base64
import concurrent.futures
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
MESSAGES = HERE / "messages"
PERL = "/usr/bin/perl"
OPENSSL = "openssl"

# Deterministic clock: hop k seals at T0 + k * HOP_SECONDS; verification runs at NOW.
T0 = 1735689600  # 2025-01-01T00:00:00Z
HOP_SECONDS = 300
NOW = T0 + 86400


@dataclass(frozen=True)
class Sealer:
    """One ARC-sealing ADMD: where its key lives in DNS and the authserv-id of its A-R."""

    label: str
    domain: str
    selector: str
    srv_id: str
    ip: str
    bits: int = 2048

    @property
    def key_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


# Hop k of a chain is sealed by HOP_SEALERS[k - 1] unless a fixture overrides it.
SEALERS = {
    "A": Sealer("A", "lists.example.org", "arc2025", "mx.lists.example.org", "198.51.100.7"),
    "B": Sealer("B", "forward.example.net", "fwd1", "mail.forward.example.net", "203.0.113.25"),
    "C": Sealer("C", "gateway.example.com", "gw-2025a", "inbound.gateway.example.com", "192.0.2.77"),
    "W": Sealer("W", "legacy.example.edu", "old1024", "mx.legacy.example.edu", "198.51.100.99", 1024),
}
HOP_SEALERS = ["A", "B", "C"]

# The mailing list's DKIM key shares sealer A's key pair under its own selector.
DKIM_DOMAIN = "lists.example.org"
DKIM_SELECTOR = "dkim2025"


# --------------------------------------------------------------------------- keys


class KeyRing:
    """RSA keys for the sealers, generated with openssl (PKCS#1 PEM, as both peers accept)."""

    def __init__(self, directory: Path, sealers: dict[str, Sealer] = SEALERS):
        self.directory = directory
        self.sealers = dict(sealers)
        directory.mkdir(parents=True, exist_ok=True)
        procs = {
            label: subprocess.Popen(
                [OPENSSL, "genrsa", "-traditional", "-out", str(self.key_path(label)), str(s.bits)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for label, s in self.sealers.items()
        }
        for label, proc in procs.items():
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"openssl genrsa for {label} failed: {err.decode(errors='replace')}")
        self._public = {label: self._public_b64(label) for label in self.sealers}

    def key_path(self, label: str) -> Path:
        return self.directory / f"{label}.pem"

    def pkcs8_path(self, label: str) -> Path:
        """The same private key converted to PKCS#8 ("BEGIN PRIVATE KEY")."""
        path = self.directory / f"{label}.pk8.pem"
        if not path.exists():
            subprocess.run([OPENSSL, "pkcs8", "-topk8", "-nocrypt", "-in", str(self.key_path(label)),
                            "-out", str(path)], check=True, capture_output=True)
        return path

    def private_pem(self, label: str) -> bytes:
        return self.key_path(label).read_bytes()

    def _public_b64(self, label: str) -> str:
        der = subprocess.run([OPENSSL, "rsa", "-in", str(self.key_path(label)), "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        return base64.b64encode(der).decode("ascii")

    def dkim_txt(self, label: str) -> str:
        return f"v=DKIM1; k=rsa; p={self._public[label]}"

    def zone_records(self, omit: tuple[str, ...] = (), revoke: tuple[str, ...] = ()) -> dict[str, str]:
        """Owner name -> TXT text for every sealer key (+ the list's DKIM key).

        omit: sealer labels whose key is absent (NXDOMAIN); revoke: published with empty p=.
        """
        records = {}
        for label, sealer in self.sealers.items():
            if label in omit:
                continue
            records[sealer.key_name] = "v=DKIM1; k=rsa; p=" if label in revoke else self.dkim_txt(label)
        records[f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}"] = self.dkim_txt("A")
        return records


# --------------------------------------------------------------------------- zone files


def _txt_strings(text: str, size: int = 255) -> list[str]:
    """Split a TXT value into <=255-octet character-strings (RFC 1035 §3.3.14)."""
    raw = text.encode("ascii")
    return [raw[i:i + size].decode("ascii") for i in range(0, len(raw), size)] or [""]


def write_zone(path: Path, records: dict[str, str]) -> None:
    """Write an RFC 1035 master file. The records rotate through three layouts a
    hand-written zone would use: absolute owner on one line, relative owner under
    $ORIGIN with a parenthesised multi-line rdata, and no TTL/class at all."""
    lines = ["; filter-arc interop zone: generated per test run, public keys only", "$TTL 3600"]
    for n, (owner, text) in enumerate(sorted(records.items())):
        quoted = [f'"{s}"' for s in _txt_strings(text)]
        style = n % 3
        if style == 0:
            lines.append(f"{owner}. 300 IN TXT {' '.join(quoted)}")
        elif style == 1:
            label, _, parent = owner.partition("._domainkey.")
            lines.append(f"$ORIGIN {parent}.")
            lines.append(f"{label}._domainkey IN TXT ( {quoted[0]}")
            lines.extend(f"        {q}" for q in quoted[1:])
            lines.append("        ) ; split over lines")
        else:
            lines.append(f"{owner}. TXT {' '.join(quoted)}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def _zone_lines(text: str):
    """Yield (owner_omitted, tokens) per logical line; tokens are (quoted, bytes)."""
    tokens: list[tuple[bool, bytes]] = []
    depth, i, n = 0, 0, len(text)
    at_line_start, owner_omitted = True, False
    while i < n:
        c = text[i]
        if c == "\n":
            if depth == 0:
                if tokens:
                    yield owner_omitted, tokens
                tokens, at_line_start = [], True
            i += 1
            continue
        if at_line_start:
            owner_omitted, at_line_start = c in " \t", False
        if c in " \t\r":
            i += 1
        elif c == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "()":
            depth += 1 if c == "(" else -1
            i += 1
        elif c == '"':
            i += 1
            out = bytearray()
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    if text[i + 1:i + 4].isdigit():
                        out.append(int(text[i + 1:i + 4]))
                        i += 4
                        continue
                    i += 1
                out += text[i].encode("utf-8")
                i += 1
            tokens.append((True, bytes(out)))
            i += 1
        else:
            start = i
            while i < n and text[i] not in ' \t\r\n;()"':
                i += 1
            tokens.append((False, text[start:i].encode("utf-8")))
    if tokens:
        yield owner_omitted, tokens


def parse_zone(text: str) -> dict[str, bytes]:
    """TXT records of an RFC 1035 master file: lower-case owner (no final dot) ->
    character-strings of the first TXT record joined. Enough of the syntax for the
    zones this harness writes ($ORIGIN, $TTL, @, relative names, parentheses)."""
    records: dict[str, bytes] = {}
    origin, last_owner = "", ""

    def absolute(name: str) -> str:
        if name == "@":
            return origin
        return name if name.endswith(".") else f"{name}.{origin}"

    for owner_omitted, tokens in _zone_lines(text):
        words = [t.decode("utf-8") for _, t in tokens]
        if words[0].upper() == "$ORIGIN":
            origin = absolute(words[1])
            continue
        if words[0].startswith("$"):
            continue
        rest = tokens if owner_omitted else tokens[1:]
        owner = last_owner if owner_omitted else absolute(words[0])
        last_owner = owner
        while rest and not rest[0][0] and (rest[0][1].isdigit() or rest[0][1].upper() in (b"IN", b"CH", b"HS")):
            rest = rest[1:]
        if rest and rest[0][1].upper() == b"TXT":
            records.setdefault(owner.rstrip(".").lower(), b"".join(t for _, t in rest[1:]))
    return records


# --------------------------------------------------------------------------- message surgery


def eol_of(message: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in message else b"\n"


def to_eol(message: bytes, eol: bytes) -> bytes:
    lf = message.replace(b"\r\n", b"\n")
    return lf if eol == b"\n" else lf.replace(b"\n", b"\r\n")


def split_message(message: bytes) -> tuple[list[bytes], bytes]:
    """Header fields (each with its continuation lines and line ends, byte-exact) and
    the rest of the message (the separator line plus the body)."""
    fields: list[bytes] = []
    pos = 0
    while pos < len(message):
        end = message.find(b"\n", pos)
        end = len(message) if end < 0 else end + 1
        line = message[pos:end]
        if line in (b"\n", b"\r\n"):
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
        pos = end
    return fields, message[pos:]


def join_message(fields: list[bytes], rest: bytes) -> bytes:
    return b"".join(fields) + rest


def field_name(raw_field: bytes) -> str:
    return raw_field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def unfold(raw_field: bytes) -> bytes:
    return re.sub(rb"\r?\n(?=[ \t])", b"", raw_field).rstrip(b"\r\n")


ARC_FIELDS = ("arc-seal", "arc-message-signature", "arc-authentication-results")
_INSTANCE = re.compile(rb"(?:^|;)\s*i\s*=\s*(\d+)")


def arc_instance(raw_field: bytes) -> int | None:
    """The i= of an ARC header field (None for other fields)."""
    if field_name(raw_field) not in ARC_FIELDS:
        return None
    m = _INSTANCE.search(unfold(raw_field).split(b":", 1)[1])
    return int(m.group(1)) if m else None


def arc_sets(message: bytes) -> dict[int, list[int]]:
    """instance -> indexes (into split_message fields) of that set's header fields."""
    fields, _ = split_message(message)
    sets: dict[int, list[int]] = {}
    for idx, f in enumerate(fields):
        inst = arc_instance(f)
        if inst is not None:
            sets.setdefault(inst, []).append(idx)
    return sets


def prepend_fields(message: bytes, *new_fields: bytes) -> bytes:
    """Put header fields (given without line end, folded with \\n) on top, in the message's EOL."""
    eol = eol_of(message)
    block = b"".join(to_eol(f.rstrip(b"\r\n"), eol) + eol for f in new_fields)
    return block + message


def list_modify(message: bytes, tag: bytes, footer: bytes) -> bytes:
    """What a mailing list does before sealing: tag the Subject, append a footer."""
    fields, rest = split_message(message)
    eol = eol_of(message)
    for i, f in enumerate(fields):
        if field_name(f) == "subject":
            name, value = f.split(b":", 1)
            fields[i] = name + b": " + tag + b" " + value.lstrip(b" \t")
            break
    if rest and not rest.endswith(b"\n"):
        rest += eol
    rest += to_eol(footer, eol)
    return join_message(fields, rest)


# --------------------------------------------------------------------------- peers


@dataclass
class Verdict:
    """What one verifier said about one message."""

    verdict: str  # pass | fail | none (anything else a peer returns is mapped to fail)
    oldest_pass: int | None = None
    raw: str = ""  # the library's own result value, e.g. dkimpy's None for a cv=fail chain
    reason: str = ""

    def short(self) -> str:
        mapped = "" if self.raw == self.verdict else f" [raw {self.raw}]"
        oldest = f" op={self.oldest_pass}" if self.oldest_pass else ""
        return f"{self.verdict}{oldest}{mapped}"


def perl_verify(zone: Path, files: list[Path]) -> dict[Path, Verdict]:
    """Mail::DKIM verdicts for many messages in one perl process (start-up is the cost)."""
    if not files:
        return {}
    proc = subprocess.run([PERL, str(HERE / "peer_verify.pl"), str(zone), *map(str, files)],
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_verify.pl failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    out: dict[Path, Verdict] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        name, verdict, oldest, raw, reason = line.split("\t", 4)
        out[Path(name)] = Verdict(verdict, None if oldest == "-" else int(oldest), raw, reason)
    missing = [f for f in files if f not in out]
    if missing:
        raise RuntimeError(f"peer_verify.pl gave no verdict for {missing}")
    return out


def perl_seal_batch(jobs: list[tuple[Path, Sealer, int]], keys: KeyRing, jobfile: Path) -> dict[Path, bytes]:
    """Many Mail::DKIM seals in one perl process: (input, sealer, timestamp) -> sealed
    message by input path. A job Mail::DKIM declines raises RuntimeError."""
    if not jobs:
        return {}
    lines = []
    for src, sealer, stamp in jobs:
        out = src.with_suffix(".sealed")
        lines.append("\t".join([sealer.domain, sealer.selector, str(keys.key_path(sealer.label)),
                                sealer.srv_id, str(stamp), str(src), str(out)]))
    jobfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run([PERL, str(HERE / "peer_seal.pl"), "--batch", str(jobfile)], capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_seal.pl --batch failed: {proc.stderr.decode(errors='replace').strip()}")
    status = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        word, out, *why = line.split("\t")
        status[Path(out)] = (word, " ".join(why))
    sealed = {}
    for src, _, _ in jobs:
        word, why = status.get(src.with_suffix(".sealed"), ("error", "no status line"))
        if word != "ok":
            raise RuntimeError(f"peer_seal.pl on {src.name} failed: {why}")
        sealed[src] = src.with_suffix(".sealed").read_bytes()
    return sealed


def py_seal(message: bytes, sealer: Sealer, keys: KeyRing, timestamp: int) -> bytes:
    import peer_seal
    return peer_seal.seal(message, domain=sealer.domain, selector=sealer.selector,
                          key_pem=keys.private_pem(sealer.label), srv_id=sealer.srv_id, timestamp=timestamp)


def py_verify(message: bytes, txt: dict[str, bytes], minkey: int = 1024) -> Verdict:
    import peer_verify
    return peer_verify.verify(message, txt, minkey=minkey)


def dkim_result(message: bytes, txt: dict[str, bytes]) -> str:
    """dkim= result for the A-R a forwarder adds (dkimpy; 'none' without a signature)."""
    import dkim
    fields, _ = split_message(message)
    if not any(field_name(f) == "dkim-signature" for f in fields):
        return "none"
    try:
        ok = dkim.verify(message, dnsfunc=lambda name, timeout=5: txt.get(name.decode().rstrip(".").lower()),
                         logger=quiet_logger())
    except Exception:  # dkimpy raises for malformed input; for an A-R that is a plain fail
        ok = False
    return "pass" if ok else "fail"


def dkim_sign(message: bytes, keys: KeyRing, timestamp: int) -> bytes:
    """The mailing list's own DKIM-Signature (dkimpy), with a fixed t=.

    dkim.sign() has no timestamp parameter and reads time.time(); it is pinned here
    for the call so that the fixtures are deterministic."""
    import time
    from unittest import mock

    import dkim
    eol = eol_of(message)
    with mock.patch.object(time, "time", return_value=float(timestamp)):
        sig = dkim.sign(to_eol(message, b"\r\n"), DKIM_SELECTOR.encode(), DKIM_DOMAIN.encode(), keys.private_pem("A"),
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"reply-to",
                                         b"list-id", b"list-post", b"list-unsubscribe", b"mime-version",
                                         b"content-type"],
                        logger=quiet_logger())  # CRLF in and out: see peer_seal.seal()
    return to_eol(sig.rstrip(b"\r\n"), eol) + eol + message


_LOGGER = None


def quiet_logger():
    """dkimpy logs every failed signature at ERROR level; keep the harness output clean."""
    global _LOGGER
    if _LOGGER is None:
        import logging
        _LOGGER = logging.getLogger("interop.dkimpy")
        _LOGGER.addHandler(logging.NullHandler())
        _LOGGER.propagate = False
    return _LOGGER


# --------------------------------------------------------------------------- chains


FOOTER = (b"_______________________________________________\n"
          b"Forwarded by the interop test list -- https://lists.example.org/\n")


DISCLAIMER = b"-- \nThis message was scanned by ExampleAV at relay.example.\n"


def transit_damage(message: bytes) -> bytes:
    """A relay that does not seal appends a disclaimer to the body."""
    eol = eol_of(message)
    if not message.endswith(b"\n"):
        message += eol
    return message + to_eol(DISCLAIMER, eol)


@dataclass
class ChainSpec:
    """A chain of hops over one base message.

    mix: peers per hop, e.g. "py-perl-py"; mods: hops that modify the message (Subject
    tag + footer) before sealing, as a mailing list does; breaks: hops before which a
    non-ARC relay alters the body in transit (so that hop verifies a broken chain and
    seals cv=fail); sealers: override the ADMD per hop (default A, B, C)."""

    message: str
    eol: str  # "crlf" | "lf"
    mix: str
    mods: tuple[int, ...] = ()
    sealers: tuple[str, ...] = ()
    breaks: tuple[int, ...] = ()
    zone: str = "main"  # which of the Builder's zones the hops (and verifiers) use
    variant: str = ""  # free-form label appended to the name (e.g. "pkcs8")

    @property
    def hops(self) -> list[str]:
        return self.mix.split("-")

    def sealer_labels(self) -> list[str]:
        return list(self.sealers) or HOP_SEALERS[:len(self.hops)]

    @property
    def name(self) -> str:
        mix = self.mix + "".join(f"+mod{h}" for h in self.mods) + "".join(f"+break{h}" for h in self.breaks)
        if self.sealers and any(s == "W" for s in self.sealers):
            mix += "+rsa1024"
        if self.zone != "main":
            mix += f"+zone-{self.zone}"
        if self.variant:
            mix += f"+{self.variant}"
        return f"{mix}/{self.message}/{self.eol}"


def base_message(name: str, eol: str, keys: KeyRing) -> bytes:
    """A base message from messages/ in the wanted line ending; the mailing-list
    message gets the list's DKIM-Signature (made now: no keys are committed)."""
    msg = to_eol((MESSAGES / f"{name}.eml").read_bytes(), b"\r\n" if eol == "crlf" else b"\n")
    if name == "mailing-list":
        msg = dkim_sign(msg, keys, T0 - 60)
    return msg


def forwarder_headers(message: bytes, sealer: Sealer, hop: int, arc: str | None, dkim_res: str) -> bytes:
    """Received + Authentication-Results as the hop's MTA writes them on arrival.
    arc=None leaves the arc= result out (filter-arc states its own when it seals)."""
    when = f"Wed, 01 Jan 2025 00:{hop * 5:02d}:00 +0000"
    received = (f"Received: from relay{hop}.example (relay{hop}.example [{sealer.ip}])\n"
                f"\tby {sealer.srv_id} with ESMTPS id interop{hop}; {when}").encode()
    results = ["spf=pass smtp.mailfrom=sender.example",
               "dkim=none" if dkim_res == "none" else f"dkim={dkim_res} header.d={DKIM_DOMAIN}"]
    if arc is not None:
        results.append(f"arc={arc}")
    ar = f"Authentication-Results: {sealer.srv_id};\n\t" + ";\n\t".join(results)
    return prepend_fields(message, ar.encode(), received)


class HopFailed(Exception):
    """A hop could not seal; the chain is abandoned and the reason reported."""


# An extra sealer (the program under test): (spec, hop, sealer, input file, timestamp,
# zone file) -> sealed message. It verifies the incoming chain itself, so its A-R has no arc=.
ExtraSealer = Callable[["ChainSpec", int, Sealer, Path, int, Path], bytes]


@dataclass
class Builder:
    """Builds many chains hop by hop. Each round k verifies every chain's incoming
    message with hop k's peer (Mail::DKIM verdicts batched into one perl process per
    zone), prepends the forwarder's headers, applies the list modification, and seals
    (Mail::DKIM batched likewise). history keeps every chain's message
    after each hop; failures the chains abandoned on a HopFailed."""

    keys: KeyRing
    zones: dict[str, Path]
    txts: dict[str, dict[str, bytes]]
    workdir: Path
    extra_sealers: dict[str, ExtraSealer] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    history: dict[str, list[bytes]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def build(self, specs: list[ChainSpec]) -> dict[str, bytes]:
        current = {s.name: base_message(s.message, s.eol, self.keys) for s in specs}
        self.history = {s.name: [] for s in specs}
        for hop in range(1, max(len(s.hops) for s in specs) + 1):
            active = [s for s in specs if len(s.hops) >= hop and s.name not in self.failures]
            for s in active:
                if hop in s.breaks:
                    current[s.name] = transit_damage(current[s.name])
            arc = self._incoming_verdicts(active, hop, current)
            for s in active:
                msg, peer = current[s.name], s.hops[hop - 1]
                sealer = SEALERS[s.sealer_labels()[hop - 1]]
                msg = forwarder_headers(msg, sealer, hop, arc[s.name], dkim_result(msg, self.txts[s.zone]))
                if hop in s.mods:
                    msg = list_modify(msg, b"[team]", FOOTER)
                current[s.name] = msg
                self.log.append(f"{s.name}: hop {hop} by {peer} as {sealer.domain}, arc={arc[s.name]}")
            self._seal_round(active, hop, current)
        return {name: msg for name, msg in current.items() if name not in self.failures}

    def _incoming_verdicts(self, active: list[ChainSpec], hop: int, current: dict[str, bytes]):
        """arc= for each chain's A-R: the hop's own peer's verdict on the incoming message."""
        verdicts: dict[str, str | None] = {}
        perl_by_zone: dict[str, list[tuple[str, Path]]] = {}
        for s in active:
            peer = s.hops[hop - 1]
            if peer in self.extra_sealers:
                verdicts[s.name] = None
            elif hop == 1:
                verdicts[s.name] = "none"
            elif peer == "perl":
                path = self._write(s, hop, "in", current[s.name])
                perl_by_zone.setdefault(s.zone, []).append((s.name, path))
            else:
                verdicts[s.name] = py_verify(current[s.name], self.txts[s.zone]).verdict
        for zone, items in perl_by_zone.items():
            found = perl_verify(self.zones[zone], [path for _, path in items])
            for name, path in items:
                verdicts[name] = found[path].verdict
        return verdicts

    def _seal_round(self, active: list[ChainSpec], hop: int, current: dict[str, bytes]) -> None:
        """dkimpy seals in-process; Mail::DKIM seals in one batched perl process, while
        the extra sealers (one process per hop) run beside it, two at a time."""
        stamp = T0 + hop * HOP_SECONDS
        perl_jobs: list[tuple[Path, Sealer, int]] = []
        perl_names: dict[Path, str] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = {}
            for s in active:
                peer = s.hops[hop - 1]
                sealer = SEALERS[s.sealer_labels()[hop - 1]]
                if peer == "py":
                    current[s.name] = py_seal(current[s.name], sealer, self.keys, stamp)
                    continue
                path = self._write(s, hop, "pre", current[s.name])
                if peer == "perl":
                    perl_jobs.append((path, sealer, stamp))
                    perl_names[path] = s.name
                elif peer in self.extra_sealers:
                    futures[s.name] = pool.submit(self.extra_sealers[peer], s, hop, sealer, path, stamp,
                                                  self.zones[s.zone])
                else:
                    raise ValueError(f"unknown peer {peer!r} in {s.name}")
            jobfile = self.workdir / "hops" / f"perl-seal-jobs.{hop}.tsv"
            perl_future = pool.submit(perl_seal_batch, perl_jobs, self.keys, jobfile)
            for name, fut in futures.items():
                try:
                    current[name] = fut.result()
                except HopFailed as e:
                    self.failures[name] = f"hop {hop}: {e}"
            for path, sealed in perl_future.result().items():
                current[perl_names[path]] = sealed
        for s in active:
            if s.name not in self.failures:
                self.history[s.name].append(current[s.name])

    def _write(self, spec: ChainSpec, hop: int, stage: str, data: bytes) -> Path:
        path = self.workdir / "hops" / f"{spec.name.replace('/', '__')}.{hop}.{stage}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


def check_interpreter() -> None:
    """Fail early and clearly when the Debian peers cannot be used from here."""
    try:
        import dkim  # noqa: F401
    except ImportError:
        sys.exit(f"{sys.executable} cannot import dkim: run this harness with /usr/bin/python3 "
                 "(Debian's python3-dkim lives in /usr/lib/python3/dist-packages)")
    try:
        import authres  # noqa: F401
    except ImportError:
        sys.exit("dkimpy's ARC signer needs python3-authres (only 'Suggested' by python3-dkim): "
                 "apt-get install python3-authres")
