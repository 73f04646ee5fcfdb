#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Loopback authoritative DNS responder for the filter-arc tests (RFC 1035 §4.2 over UDP and TCP,
RFC 6891 EDNS0) serving TXT, A, AAAA (RFC 3596), MX, PTR and CNAME records from a master file,
with per-name (or per-name-and-type) fault injection.

Usage:
  dns_responder.py --zone FILE [--port 0] [--port-file F] [--stats-file F]
                   [--fault NAME=MODE ...] [--rules FILE] [--watch-stdin] [--max-lifetime S]

Modes: servfail, refused, drop (never answers), truncate (UDP: TC=1 and no records; TCP: full
answer), malformed (right ID and question, then a broken answer record), badrdata (a well-formed
answer record of the asked type whose RDATA is no valid A/AAAA/MX/PTR data), garbage
(right ID, then random bytes), nxdomain, empty (NOERROR, no records), slow:MS (normal answer after MS
milliseconds, other queries are not held up). Modes combine with commas, e.g. "truncate,slow:300"
delays both the UDP TC answer and the TCP answer. NAME may end in "/TYPE" (e.g.
"example.org/MX=servfail") to fault only queries of that type; such a fault wins over one for
the whole name.

A CNAME at the question name (RFC 1034 §3.6.2) is answered with the CNAME record followed by
whatever the chain leads to inside the zone (at most 8 hops); a chain leaving the zone ends with
the CNAME records alone (NOERROR), one ending at a name the zone does not have with NXDOMAIN.

The chosen port is printed as the first line on stdout and written to --port-file (atomically).
Per-name query counts ("name total udp tcp" lines, names lower case without the final dot) are
rewritten to --stats-file before each answer is sent, and on SIGUSR1. SIGTERM and SIGINT stop it
cleanly; with --watch-stdin it also stops when stdin reaches EOF (its parent died).
Only the Python standard library is used.
"""

import argparse
import heapq
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

TYPE_A = 1
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_PTR = 12
TYPE_MX = 15
TYPE_TXT = 16
TYPE_AAAA = 28
TYPE_OPT = 41
TYPES = {"A": TYPE_A, "CNAME": TYPE_CNAME, "PTR": TYPE_PTR, "MX": TYPE_MX, "TXT": TYPE_TXT,
         "AAAA": TYPE_AAAA}
CLASS_IN = 1
RCODE_NOERROR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_REFUSED = 0, 2, 3, 5
EDNS_SIZE = 1232  # what we advertise back (RFC 6891 §6.2.5)
DEFAULT_TTL = 300
MODES = {"servfail", "refused", "drop", "truncate", "malformed", "garbage", "nxdomain", "empty",
         "badrdata"}


# ---- zone file (the subset dns/zone_file.hpp reads, RFC 1035 §5.1) --------------------------

def _logical_entries(text):
    """Yields (line number, entry) with parentheses joined across lines and comments removed."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        first = i + 1
        entry, depth, in_quote = [], 0, False
        while True:
            phys = lines[i].rstrip("\r")
            i += 1
            cut, j = len(phys), 0
            while j < len(phys):
                c = phys[j]
                if in_quote:
                    if c == "\\":
                        j += 1
                    elif c == '"':
                        in_quote = False
                elif c == ";":
                    cut = j
                    break
                elif c == '"':
                    in_quote = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            entry.append(phys[:cut])
            if depth <= 0 or i >= len(lines):
                break
        if depth != 0:
            raise ValueError(f"line {first}: unbalanced parentheses")
        yield first, " ".join(entry)


def _tokens(entry):
    """Splits an entry into (bytes, quoted) tokens, resolving \\DDD and \\X escapes."""
    out, i, n = [], 0, len(entry)
    while i < n:
        c = entry[i]
        if c in " \t()":
            i += 1
            continue
        buf = bytearray()
        if c == '"':
            i += 1
            closed = False
            while i < n:
                d = entry[i]
                if d == '"':
                    closed = True
                    i += 1
                    break
                if d == "\\" and i + 1 < n:
                    if i + 3 < n and entry[i + 1:i + 4].isdigit():
                        v = int(entry[i + 1:i + 4])
                        if v > 255:
                            raise ValueError("bad \\DDD escape")
                        buf.append(v)
                        i += 4
                    else:
                        buf += entry[i + 1].encode()
                        i += 2
                    continue
                buf += d.encode()
                i += 1
            if not closed:
                raise ValueError("unterminated quoted string")
            out.append((bytes(buf), True))
        else:
            while i < n and entry[i] not in " \t();":
                buf += entry[i].encode()
                i += 1
            out.append((bytes(buf), False))
    return out


def norm(name):
    return name.strip().rstrip(".").lower()


def _absolute(name, origin):
    """A name as written in the zone, made absolute (RFC 1035 §5.1); "" is the root."""
    if name == "@":
        return origin
    if name.endswith("."):
        return norm(name)
    return name.lower() + ("." + origin if origin else "")


def _rdata(rtype, toks, origin):
    """RDATA on the wire for an A, AAAA, MX, PTR or CNAME record; raises ValueError."""
    words = [t.decode() for t, quoted in toks if not quoted]
    if len(words) != len(toks):
        raise ValueError("quoted string in record data")
    if rtype == TYPE_A and len(words) == 1:
        return socket.inet_pton(socket.AF_INET, words[0])
    if rtype == TYPE_AAAA and len(words) == 1:
        return socket.inet_pton(socket.AF_INET6, words[0])
    if rtype == TYPE_MX and len(words) == 2 and words[0].isdigit() and int(words[0]) < 65536:
        return struct.pack("!H", int(words[0])) + encode_name(_absolute(words[1], origin))
    if rtype in (TYPE_PTR, TYPE_CNAME) and len(words) == 1:
        return encode_name(_absolute(words[0], origin))
    raise ValueError("bad record data")


def parse_zone(text):
    """Returns (txt, owners, origin, rrs): txt maps owner -> [(ttl, [character-strings])];
    rrs maps (owner, type) -> [(ttl, rdata bytes)] for the other types this responder serves."""
    txt, owners, rrs = {}, set(), {}
    origin, last_owner, default_ttl = "", None, DEFAULT_TTL
    for lineno, entry in _logical_entries(text):
        starts_blank = entry[:1] in (" ", "\t")
        try:
            toks = _tokens(entry)
        except ValueError as e:
            raise ValueError(f"line {lineno}: {e}") from None
        if not toks:
            continue
        head = toks[0][0].decode(errors="replace")
        if not toks[0][1] and head == "$ORIGIN":
            origin = norm(toks[1][0].decode())
            continue
        if not toks[0][1] and head == "$TTL":
            default_ttl = int(toks[1][0])
            continue
        if not toks[0][1] and head == "$INCLUDE":
            continue
        k = 0
        if starts_blank:
            if last_owner is None:
                raise ValueError(f"line {lineno}: no owner name")
            owner = last_owner
        else:
            k = 1
            if head == "@":
                owner = origin
            elif head.endswith("."):
                owner = norm(head)
            else:
                owner = head.lower() + ("." + origin if origin else "")
            last_owner = owner
        ttl = default_ttl
        for _ in range(2):
            if k < len(toks) and not toks[k][1]:
                t = toks[k][0].decode(errors="replace")
                if t.isdigit():
                    ttl = int(t)
                    k += 1
                elif t.lower() in ("in", "ch", "hs", "cs"):
                    k += 1
        if k >= len(toks):
            raise ValueError(f"line {lineno}: missing record type")
        owners.add(owner)
        rtype = TYPES.get(toks[k][0].decode(errors="replace").upper())
        if rtype is not None and rtype != TYPE_TXT:
            try:
                rrs.setdefault((owner, rtype), []).append((ttl, _rdata(rtype, toks[k + 1:], origin)))
            except (ValueError, OSError, UnicodeDecodeError) as e:
                raise ValueError(f"line {lineno}: {e}") from None
            continue
        if rtype != TYPE_TXT:
            continue
        strings = []
        for data, _ in toks[k + 1:]:
            # RFC 1035 §3.3: a character-string holds at most 255 octets; longer text is split.
            chunks = [data[j:j + 255] for j in range(0, len(data), 255)] or [b""]
            strings.extend(chunks)
        txt.setdefault(owner, []).append((ttl, strings))
    return txt, owners, origin, rrs


# ---- wire format (RFC 1035 §4.1) ---------------------------------------------------------------

def _decode_name(wire):
    """An uncompressed wire name (as encode_name() writes it) back to text."""
    labels, pos = [], 0
    while pos < len(wire) and wire[pos]:
        n = wire[pos]
        labels.append(wire[pos + 1:pos + 1 + n].decode("latin-1").lower())
        pos += 1 + n
    return ".".join(labels)


def encode_name(name):
    out = bytearray()
    for label in [l for l in name.split(".") if l]:
        raw = label.encode()
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


class Query:
    """The parts of a query the responder needs. Raises ValueError on anything unparsable."""

    def __init__(self, data):
        if len(data) < 12:
            raise ValueError("short")
        self.id, self.flags, qd, _an, _ns, ar = struct.unpack("!HHHHHH", data[:12])
        if qd != 1 or self.flags & 0x8000:
            raise ValueError("not a single question")
        pos, labels = 12, []
        while True:
            if pos >= len(data):
                raise ValueError("name")
            n = data[pos]
            if n == 0:
                pos += 1
                break
            if n & 0xC0:
                raise ValueError("compressed question")
            labels.append(data[pos + 1:pos + 1 + n].decode("latin-1"))
            pos += 1 + n
        if pos + 4 > len(data):
            raise ValueError("question")
        self.qtype, self.qclass = struct.unpack("!HH", data[pos:pos + 4])
        pos += 4
        self.question = data[12:pos]  # echoed verbatim so resolvers match it
        self.name = norm(".".join(labels))
        # RFC 6891 §6.1.2: an OPT pseudo-RR in the additional section carries the payload size.
        self.edns_size = None
        for _ in range(ar):
            if pos + 11 <= len(data) and data[pos] == 0:
                rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", data[pos + 1:pos + 11])
                if rtype == TYPE_OPT:
                    self.edns_size = max(512, rclass)
                pos += 11 + rdlen
            else:
                break


def txt_rr(ttl, strings, owner=None):
    """A TXT RR; owner None means a pointer to the question name."""
    rdata = b"".join(bytes([len(s)]) + s for s in strings)
    return rr(TYPE_TXT, ttl, rdata, owner)


def rr(rtype, ttl, rdata, owner=None):
    head = struct.pack("!H", 0xC00C) if owner is None else encode_name(owner)
    return head + struct.pack("!HHIH", rtype, CLASS_IN, ttl, len(rdata)) + rdata


def build_response(q, rcode=RCODE_NOERROR, answers=(), authority=(), tc=False):
    """answers: raw answer RRs (see rr(), txt_rr()); authority: raw RRs."""
    flags = 0x8000 | (q.flags & 0x7800) | 0x0400 | (q.flags & 0x0100) | rcode
    if tc:
        flags |= 0x0200
    ar = 1 if q.edns_size is not None else 0
    out = bytearray(struct.pack("!HHHHHH", q.id, flags, 1, len(answers), len(authority), ar))
    out += q.question
    for a in answers:
        out += a
    for rr in authority:
        out += rr
    if ar:
        out += b"\x00" + struct.pack("!HHIH", TYPE_OPT, EDNS_SIZE, 0, 0)
    return bytes(out)


def soa_rr(owner, ttl, minimum):
    rdata = encode_name("ns." + (owner or "test")) + encode_name("hostmaster." + (owner or "test"))
    rdata += struct.pack("!IIIII", 1, 3600, 600, 86400, minimum)
    return encode_name(owner) + struct.pack("!HHIH", TYPE_SOA, CLASS_IN, ttl, len(rdata)) + rdata


# ---- the responder -----------------------------------------------------------------------------

class Responder:
    def __init__(self, args, txt, owners, origin, faults, rrs=None):
        self.args, self.txt, self.owners, self.origin, self.faults = args, txt, owners, origin, faults
        self.rrs = rrs or {}
        self.counts = {}

    def records(self, name, qtype, owner=None):
        """Raw RRs of qtype at name (owner None: written as a pointer to the question)."""
        if qtype == TYPE_TXT:
            return [txt_rr(ttl, strings, owner) for ttl, strings in self.txt.get(name, [])]
        return [rr(qtype, ttl, rdata, owner) for ttl, rdata in self.rrs.get((name, qtype), [])]

    def lookup(self, q):
        """(rcode, answer RRs) for a query the zone answers, following CNAMEs inside it."""
        if q.name not in self.owners:
            return RCODE_NXDOMAIN, []
        name, answers = q.name, []
        for hop in range(9):
            owner = None if hop == 0 else name  # the question name is written as a pointer
            found = self.records(name, q.qtype, owner)
            cname = self.rrs.get((name, TYPE_CNAME))
            if found or q.qtype == TYPE_CNAME or not cname:
                return RCODE_NOERROR, answers + found
            ttl, rdata = cname[0]
            answers.append(rr(TYPE_CNAME, ttl, rdata, owner))
            target = _decode_name(rdata)
            if target not in self.owners:
                # The chain leaves the zone (NOERROR: a resolver would go on) or ends nowhere.
                in_zone = bool(self.origin) and (target == self.origin or
                                                 target.endswith("." + self.origin))
                return (RCODE_NXDOMAIN if in_zone else RCODE_NOERROR), answers
            name = target
        return RCODE_SERVFAIL, []  # a CNAME loop

    def count(self, name, transport):
        c = self.counts.setdefault(name, [0, 0])
        c[0 if transport == "udp" else 1] += 1
        self.write_stats()

    def write_stats(self):
        if not self.args.stats_file:
            return
        tmp = self.args.stats_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for name in sorted(self.counts):
                udp, tcp = self.counts[name]
                f.write(f"{name or '.'} {udp + tcp} {udp} {tcp}\n")
        os.replace(tmp, self.args.stats_file)

    def negative(self, q, rcode):
        auth = []
        if not self.args.no_soa:
            auth.append(soa_rr(self.origin, self.args.soa_ttl, self.args.soa_minimum))
        return build_response(q, rcode, authority=auth)

    def answer(self, data, transport):
        """Returns (delay in seconds, packet or None)."""
        try:
            q = Query(data)
        except (ValueError, UnicodeDecodeError, struct.error):
            self.count("<unparsable>", transport)
            return 0, None
        self.count(q.name, transport)
        mode, delay = "", 0.0
        qtype_name = next((n for n, v in TYPES.items() if v == q.qtype), str(q.qtype))
        fault = self.faults.get(f"{q.name}/{qtype_name.lower()}", self.faults.get(q.name, ""))
        for m in fault.split(","):
            if m.startswith("slow:"):
                delay = int(m[5:]) / 1000.0
            elif m:
                mode = m
        if mode == "drop":
            return 0, None
        if mode == "servfail":
            return delay, build_response(q, RCODE_SERVFAIL)
        if mode == "refused":
            return delay, build_response(q, RCODE_REFUSED)
        if mode == "nxdomain":
            return delay, self.negative(q, RCODE_NXDOMAIN)
        if mode == "empty":
            return delay, build_response(q, RCODE_NOERROR)
        if mode == "garbage":
            return delay, struct.pack("!H", q.id) + bytes(random.randrange(256) for _ in range(40))
        if mode == "malformed":
            # Header and question are right; the one answer record claims 60 octets of RDATA
            # but carries 7, so only a parser that checks bounds notices.
            flags = 0x8000 | 0x0400 | (q.flags & 0x0100)
            pkt = struct.pack("!HHHHHH", q.id, flags, 1, 1, 0, 0) + q.question
            pkt += struct.pack("!HHHIH", 0xC00C, q.qtype, CLASS_IN, 60, 60) + b"\x06broken"
            return delay, pkt
        if mode == "badrdata":
            # A/AAAA: 3 octets; MX/PTR (and others): a name whose pointer leaves the message.
            rdata = {TYPE_A: b"\x01\x02\x03", TYPE_AAAA: b"\x01\x02\x03",
                     TYPE_MX: b"\x00\x0a\xc0\xff"}.get(q.qtype, b"\xc0\xff\x00")
            return delay, build_response(q, RCODE_NOERROR, answers=[rr(q.qtype, 60, rdata)])
        if mode == "truncate" and transport == "udp":
            return delay, build_response(q, RCODE_NOERROR, tc=True)
        if q.qclass != CLASS_IN:
            return delay, build_response(q, RCODE_REFUSED)
        rcode, records = self.lookup(q)
        if rcode == RCODE_SERVFAIL:
            return delay, build_response(q, RCODE_SERVFAIL)
        if not records or rcode != RCODE_NOERROR:
            pkt = self.negative(q, rcode)
            if records:  # a CNAME chain ending at a missing name: keep the chain
                pkt = build_response(q, rcode, answers=records,
                                     authority=[] if self.args.no_soa else
                                     [soa_rr(self.origin, self.args.soa_ttl,
                                             self.args.soa_minimum)])
            return delay, pkt
        pkt = build_response(q, RCODE_NOERROR, answers=records)
        limit = q.edns_size or 512
        if transport == "udp" and len(pkt) > limit:
            # RFC 1035 §4.2.1 / RFC 6891 §7: too big for the client's buffer, so set TC and let
            # it retry over TCP.
            pkt = build_response(q, RCODE_NOERROR, tc=True)
        return delay, pkt


class Server:
    """A selectors loop (no asyncio: it starts faster) over the UDP socket, the TCP listener, its
    connections, stdin and a signal wake-up pipe, with a timer heap for delayed answers."""

    def __init__(self, responder, udp, tcp, watch_stdin):
        self.responder = responder
        self.udp, self.tcp = udp, tcp
        self.sel = selectors.DefaultSelector()
        self.timers = []  # heap of (due, seq, function)
        self.seq = 0
        self.stopping = False
        self.outbuf = {}  # TCP connection -> bytearray waiting to be sent
        self.inbuf = {}  # TCP connection -> bytearray of a partial query
        for sock in (udp, tcp):
            sock.setblocking(False)
        self.sel.register(udp, selectors.EVENT_READ, self.on_udp)
        self.sel.register(tcp, selectors.EVENT_READ, self.on_accept)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno())
        self.sel.register(self.wake_r, selectors.EVENT_READ, self.on_wake)
        if watch_stdin:
            self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, self.on_stdin)

    def stop(self, *_):
        self.stopping = True

    def later(self, delay, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, fn))

    def run(self):
        while not self.stopping:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, events in self.sel.select(timeout):
                key.data(key.fileobj, events)
                if self.stopping:
                    break
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
        for key in list(self.sel.get_map().values()):
            if isinstance(key.fileobj, socket.socket):
                key.fileobj.close()
        self.sel.close()

    def on_wake(self, sock, _events):
        try:
            sock.recv(512)  # the signal handlers already ran
        except BlockingIOError:
            pass

    def on_stdin(self, fd, _events):
        try:
            if not os.read(fd, 4096):
                self.stopping = True  # the parent went away
        except OSError:
            self.stopping = True

    def on_udp(self, sock, _events):
        while True:
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            delay, pkt = self.responder.answer(data, "udp")
            if pkt is None:
                continue
            send = lambda p=pkt, a=addr: self.send_udp(p, a)
            if delay > 0:
                self.later(delay, send)
            else:
                send()

    def send_udp(self, pkt, addr):
        try:
            self.udp.sendto(pkt, addr)
        except OSError:
            pass

    def on_accept(self, sock, _events):
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.outbuf[conn] = bytearray()
        self.inbuf[conn] = bytearray()
        self.sel.register(conn, selectors.EVENT_READ, self.on_tcp)

    def on_tcp(self, conn, events):
        if events & selectors.EVENT_WRITE:
            self.flush(conn)
        if not events & selectors.EVENT_READ or conn not in self.outbuf:
            return
        try:
            data = conn.recv(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close_conn(conn)
            return
        inbuf = self.inbuf[conn]
        inbuf += data
        # RFC 1035 §4.2.2 / RFC 7766 §8: two-octet length prefix; queries may be pipelined.
        while len(inbuf) >= 2:
            (n,) = struct.unpack("!H", inbuf[:2])
            if len(inbuf) < 2 + n:
                break
            msg = bytes(inbuf[2:2 + n])
            del inbuf[:2 + n]
            delay, pkt = self.responder.answer(msg, "tcp")
            if pkt is None:
                continue
            frame = struct.pack("!H", len(pkt)) + pkt
            if delay > 0:
                self.later(delay, lambda c=conn, f=frame: self.queue(c, f))
            else:
                self.queue(conn, frame)

    def queue(self, conn, frame):
        if conn in self.outbuf:
            self.outbuf[conn] += frame
            self.flush(conn)

    def flush(self, conn):
        buf = self.outbuf.get(conn)
        if buf is None:
            return
        try:
            sent = conn.send(buf) if buf else 0
            del buf[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close_conn(conn)
            return
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if buf else 0)
        self.sel.modify(conn, want, self.on_tcp)

    def close_conn(self, conn):
        self.outbuf.pop(conn, None)
        self.inbuf.pop(conn, None)
        try:
            self.sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def bind_pair(port):
    """A UDP and a TCP socket on 127.0.0.1 with the same port (OS-chosen when port is 0)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", chosen))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(64)
        return udp, tcp, chosen
    raise OSError("no port free for both UDP and TCP")


def parse_faults(args):
    faults = {}
    specs = list(args.fault or [])
    if args.rules:
        with open(args.rules, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    name, _, mode = line.partition(" ")
                    specs.append(f"{name}={mode.strip()}")
    for spec in specs:
        name, sep, mode = spec.rpartition("=")
        mode = mode.strip().lower()
        ok = all(m in MODES or (m.startswith("slow:") and m[5:].isdigit())
                 for m in mode.split(","))
        if not sep or not name or not ok:
            raise SystemExit(f"dns_responder: bad fault {spec!r}")
        faults[norm(name)] = mode
    return faults


def serve(args, responder):
    udp, tcp, port = bind_pair(args.port)
    server = Server(responder, udp, tcp, args.watch_stdin)
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    signal.signal(signal.SIGUSR1, lambda *_: responder.write_stats())
    if args.max_lifetime > 0:
        server.later(args.max_lifetime, server.stop)

    responder.write_stats()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    server.run()
    responder.write_stats()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zone", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--stats-file")
    ap.add_argument("--fault", action="append", metavar="NAME=MODE")
    ap.add_argument("--rules", help="file of 'NAME MODE' lines")
    ap.add_argument("--soa-ttl", type=int, default=3600)
    ap.add_argument("--soa-minimum", type=int, default=300)
    ap.add_argument("--no-soa", action="store_true", help="negative answers without SOA")
    ap.add_argument("--watch-stdin", action="store_true")
    ap.add_argument("--max-lifetime", type=float, default=0)
    args = ap.parse_args()
    with open(args.zone, encoding="utf-8") as f:
        try:
            txt, owners, origin, rrs = parse_zone(f.read())
        except ValueError as e:
            raise SystemExit(f"dns_responder: {args.zone}: {e}")
    responder = Responder(args, txt, owners, origin, parse_faults(args), rrs)
    serve(args, responder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
