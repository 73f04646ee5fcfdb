#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Runs a private OpenSMTPD (Debian 12: smtpd 6.8.0p2, filter protocol 0.6) with one proc-exec
filter in front of a loopback listener, for the filter-arc end-to-end tests. Standard library only.

    with Smtpd("/path/to/filter -c /path/cfg") as mx:
        reply = mx.send("a@example.org", "rcpt@example.test", b"Subject: x\\r\\n\\r\\nbody\\r\\n")
        assert reply.code == 250
        [msg] = mx.delivered(timeout=10)

What it sets up (see also /work/shared/notes/opensmtpd-filter-protocol.md):
  * a work dir /tmp/filter-arc-e2e.XXXXXX (mode 0755, so the filter's user `opensmtpd` can reach
    it) holding smtpd.conf, smtpd.log (smtpd's stderr: its log, including every line the filter
    writes to stderr, prefixed "arc: ") and Maildir/;
  * smtpd.conf:
        filter "arc" proc-exec "<command>"
        listen on 127.0.0.1 port <free port> hostname "mx.example.test" filter "arc"
        action "filter_arc_e2e" maildir "<workdir>/Maildir" user "arc-e2e" virtual { "@" => "arc-e2e" }
        match from any for domain "example.test" action "filter_arc_e2e"
    (filters_config adds `filter` lines before the listener, e.g. another proc-exec filter and
    a `chain`; listen_filter names the one the listener uses instead of "arc".)
    Delivery: OpenSMTPD's maildir delivery needs a real user for the recipient (an unknown one
    gets "550 Invalid recipient"), so every recipient in the test domain is mapped by a virtual
    catch-all to the system user `arc-e2e` (made by setup_smtpd.sh, which this module runs when the
    user is missing). Each message lands in its own file in Maildir/new (written to tmp/ first
    and renamed, so a file seen in new/ is complete), with LF line ends and `Return-Path:` and
    `Delivered-To:` prepended by smtpd.
  * `smtpd -d -f smtpd.conf` in the foreground as our child (root required), checked first with
    `smtpd -n -f`. smtpd's resolver (its bundled libasr) defaults to "lookup bind file", so the
    rDNS/FCrDNS of every client (127.0.0.1) asks the system's DNS server first; a slow or lost
    answer stalls the session before its banner (5 s stalls seen under gVisor). So smtpd runs in
    its own mount namespace (`unshare --mount`) with workdir/resolv.conf ("lookup file")
    bind-mounted over /etc/resolv.conf; where that is not allowed it falls back to the system
    file with a warning (private_resolver=False turns it off). The filter inherits that view.
    Ready means: the listener sent its 220 banner, which smtpd only does after every filter
    has sent `register|ready`.
  * send() lets at most CONNECT_GATE connections wait for their banner at once (smtpd's listen
    backlog is 5); the sessions themselves run concurrently.

One smtpd per machine: all instances share /var/spool/smtpd and /var/run/smtpd.sock. Runs are
serialised with flock(/tmp/filter-arc-smtpd.lock) (parallel tests wait, up to lock_timeout s),
and a start is refused (SmtpdBusy) while any other live smtpd exists or a live smtpd answers
on /var/run/smtpd.sock. Messages left in the shared queue by an earlier run are delivered into
the current Maildir (the action name is fixed) and then ignored, because delivered() returns
only messages whose smtpd queue id (from smtpd's own `Received:` header) was accepted by send()
in this run. Envelopes of other configurations are skipped by smtpd ("unknown dispatcher").

Processes: only the PIDs this module started are signalled. smtpd is stopped with SIGTERM, then
SIGKILL after stop_timeout; smtpd's descendants (its privsep children, the filter) are recorded
while it runs, and any that survive it are waited for and then SIGKILLed by PID (after checking
their start time, so a reused PID is never hit). The test process is made a child subreaper
(prctl PR_SET_CHILD_SUBREAPER) so those orphans become its children and are reaped here instead
of staying zombies (PID 1 in the container may not reap). SIGTERM (e.g. a meson timeout) is turned
into SystemExit so `with` blocks and finally clauses still run; atexit stops leftovers too.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import fcntl
import os
import pwd
import re
import shlex
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref

SMTPD = "/usr/sbin/smtpd"
UNSHARE = "/usr/bin/unshare"
CONTROL_SOCKET = "/var/run/smtpd.sock"
LOCK_FILE = "/tmp/filter-arc-smtpd.lock"
SMTPD_USER = "opensmtpd"
DELIVERY_USER = os.environ.get("FILTER_ARC_E2E_USER", "arc-e2e")
ACTION = "filter_arc_e2e"
HERE = os.path.dirname(os.path.abspath(__file__))
SETUP_SCRIPT = os.path.join(HERE, "setup_smtpd.sh")
SKIP = 77  # meson's exit code for a skipped test

# Sanitizer settings the CI exports; passed on to smtpd (and so to the filter it starts).
_PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS")
# smtpd 6.8 listens with a backlog of 5 (SMTPD_BACKLOG). Connections beyond it are dropped
# (real kernel: the client retries the SYN after 1 s, 3 s, ...) or, under gVisor (runsc), sit
# completed-but-unaccepted until another connection arrives, so the banner never comes. send()
# therefore lets at most CONNECT_GATE connections wait for their banner at once; the sessions
# themselves still run concurrently.
CONNECT_GATE = 4
_connect_gate = threading.BoundedSemaphore(CONNECT_GATE)
_RECEIVED_ID = re.compile(rb"\(OpenSMTPD\)\s+with\s+\S+\s+id\s+([0-9a-f]{8})")
_ACCEPTED_ID = re.compile(r"\b([0-9a-f]{8}) Message accepted")


class SmtpdError(RuntimeError):
    """smtpd could not be configured, started or stopped."""


class SmtpdBusy(SmtpdError):
    """Another smtpd (not started by this harness) is running on this machine."""


class Reply(tuple):
    """The final SMTP reply of one send(): a (code, message) pair with extras.

    code 0 means the connection was lost (or timed out) without a reply; message then says why.
    stage is the step the reply answered: connect, ehlo, mail, rcpt, data, dot.
    queue_id is smtpd's 8-hex message id when the message was accepted (250 after the dot).
    """

    def __new__(cls, code: int, message: str, stage: str = "", queue_id: str | None = None):
        self = super().__new__(cls, (code, message))
        self.stage = stage
        self.queue_id = queue_id
        return self

    @property
    def code(self) -> int:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]

    def __repr__(self):
        return f"Reply({self[0]}, {self[1]!r}, stage={self.stage!r}, queue_id={self.queue_id!r})"


# ---- environment checks -------------------------------------------------------------------

def skip_reason() -> str | None:
    """Why the smtpd e2e tests cannot run here (None when they can). Callers exit 77 on it."""
    if not os.path.exists(SMTPD):
        return f"{SMTPD} not installed (Debian package opensmtpd)"
    if os.geteuid() != 0:
        return "not root: smtpd must be started as root"
    try:
        pwd.getpwnam(SMTPD_USER)
    except KeyError:
        return f"user {SMTPD_USER} missing (opensmtpd postinst did not run)"
    return None


def smtpd_version() -> str:
    """The installed smtpd's version ("6.8.0p2", "7.6.0-portable"; "" when unknown)."""
    try:
        r = subprocess.run([SMTPD, "-h"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    m = re.search(r"version:\s*OpenSMTPD\s+(\S+)", r.stdout + r.stderr)
    return m.group(1) if m else ""


def filter_protocol() -> str:
    """The filter protocol the installed smtpd speaks: "0.7" from 7.4.0 on, else "0.6"
    (protocol notes §1). 0.7 puts link-auth's user name last and no longer cuts filter output
    lines at 1,997 bytes."""
    m = re.match(r"(\d+)\.(\d+)", smtpd_version())
    return "0.7" if m and (int(m.group(1)), int(m.group(2))) >= (7, 4) else "0.6"


def ensure_setup() -> None:
    """Runs setup_smtpd.sh when the delivery user is missing."""
    try:
        pwd.getpwnam(DELIVERY_USER)
        return
    except KeyError:
        pass
    r = subprocess.run(["/bin/sh", SETUP_SCRIPT], capture_output=True, text=True)
    if r.returncode != 0:
        raise SmtpdError(f"setup_smtpd.sh failed: {r.stdout}{r.stderr}")


def reachable(path: str, mode: str = "r") -> bool:
    """True when user opensmtpd can read (mode "r") or execute ("x") path."""
    r = subprocess.run(["/usr/bin/test", "-" + mode, path], user=SMTPD_USER, group=SMTPD_USER,
                       extra_groups=[], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def make_workdir(prefix: str = "filter-arc-e2e.") -> str:
    """A fresh directory under /tmp that user opensmtpd can traverse and read (0755)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


def stage(src: str, workdir: str, mode: int = 0o755) -> str:
    """Returns src if user opensmtpd can use it where it is, else a copy in workdir/bin."""
    if reachable(src, "x" if mode & 0o111 else "r"):
        return src
    dst_dir = os.path.join(workdir, "bin")
    os.makedirs(dst_dir, exist_ok=True)
    os.chmod(dst_dir, 0o755)
    dst = os.path.join(dst_dir, os.path.basename(src))
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)
    return dst


def write_private(path: str, data: bytes | str, mode: int = 0o644, owner: str | None = None) -> str:
    """Writes a file for the filter; owner="opensmtpd" with mode 0600 for private keys."""
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    if owner:
        pw = pwd.getpwnam(owner)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- /proc helpers --------------------------------------------------------------------------

def _stat(pid: int):
    """(ppid, state, starttime) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    return int(rest[1]), rest[0].decode(), int(rest[19])


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                kids.setdefault(st[0], []).append(int(name))
    return kids


def _descendants(root: int) -> dict[int, int]:
    """pid -> starttime for every live descendant of root."""
    kids, out, todo = _children_map(), {}, [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            st = _stat(c)
            if st and c not in out:
                out[c] = st[2]
                todo.append(c)
    return out


def foreign_smtpds(exclude: set[int] = frozenset()) -> list[str]:
    """Live (non-zombie) /usr/sbin/smtpd processes not in exclude, as 'pid cmdline' strings."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            if os.readlink(f"/proc/{name}/exe") != SMTPD:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        st = _stat(int(name))
        if st and st[1] != "Z":
            found.append(f"{name} {cmd}")
    return found


def control_socket_live() -> bool:
    if not os.path.exists(CONTROL_SOCKET):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(CONTROL_SOCKET)
            return True
        except OSError:
            return False


_subreaper_done = False


def _become_subreaper() -> None:
    global _subreaper_done
    if _subreaper_done:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except OSError:
        pass
    _subreaper_done = True


# ---- message helpers -------------------------------------------------------------------------

def to_crlf(data: bytes) -> bytes:
    """Bare LF -> CRLF (CRLF stays)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def dot_stuff(data: bytes) -> bytes:
    """RFC 5321 §4.5.2 transparency for CRLF data, plus the final CRLF if missing."""
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..")


def split_message(msg: bytes) -> tuple[bytes, bytes]:
    """(header block incl. its final line end, body) for an LF or CRLF message."""
    m = re.search(rb"\r?\n\r?\n", msg)
    if not m:
        return msg, b""
    return msg[:m.end()], msg[m.end():]


def header_values(msg: bytes, name: str) -> list[bytes]:
    """Unfolded values of every header field called name (case-insensitive), top to bottom."""
    head, _ = split_message(msg)
    out, cur = [], None
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur += b" " + line.strip()
            continue
        if cur is not None:
            out.append(cur)
            cur = None
        k, sep, v = line.partition(b":")
        if sep and k.strip().lower() == name.lower().encode():
            cur = v.strip()
    if cur is not None:
        out.append(cur)
    return out


def queue_id_of(msg: bytes) -> str | None:
    head, _ = split_message(msg)
    m = _RECEIVED_ID.search(head)
    return m.group(1).decode() if m else None


# ---- the harness -----------------------------------------------------------------------------

_live: "weakref.WeakSet[Smtpd]" = weakref.WeakSet()


def _stop_all() -> None:
    for h in list(_live):
        try:
            h.stop()
        except Exception as e:  # noqa: BLE001 - best effort at interpreter exit
            print(f"smtpd_harness: atexit stop failed: {e}", file=sys.stderr)


atexit.register(_stop_all)


def _sigterm(signum, frame):
    raise SystemExit(128 + signum)


class Smtpd:
    def __init__(self, filter_command: str, workdir: str | None = None,
                 hostname: str = "mx.example.test", admd: str | None = None,
                 extra_env: dict[str, str] | None = None, domain: str = "example.test",
                 filter_name: str = "arc", verbose: bool = False, trace: str | None = None,
                 start_timeout: float = 20.0, stop_timeout: float = 10.0,
                 lock_timeout: float = 280.0, extra_config: str = "", keep: bool | None = None,
                 private_resolver: bool = True, filters_config: str = "",
                 listen_filter: str | None = None, preamble: str = "",
                 listen_options: str = ""):
        if any(c in filter_command for c in '"\n\r'):
            raise ValueError("filter command must not contain double quotes or line breaks")
        self.filter_command = filter_command
        self.hostname = hostname
        self.admd = admd
        self.extra_env = dict(extra_env or {})
        self.domain = domain
        self.filter_name = filter_name
        self.verbose = verbose
        self.trace = trace
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.lock_timeout = lock_timeout
        self.extra_config = extra_config
        # More `filter` lines (other proc-exec filters, a `chain`), written before the listener,
        # which uses listen_filter (default: filter_name), e.g. a chain of them.
        self.filters_config = filters_config
        self.listen_filter = listen_filter or filter_name
        # `pki` and `table` lines (written first) and listener options such as
        # `tls pki NAME auth-optional <creds>` (SMTP AUTH: smtpd offers it only after STARTTLS).
        self.preamble = preamble
        self.listen_options = listen_options
        self.private_resolver = private_resolver
        self.resolver_isolated = False
        self.keep = keep if keep is not None else bool(os.environ.get("FILTER_ARC_E2E_KEEP"))
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self._lock_fd: int | None = None
        self._known: dict[int, int] = {}  # smtpd descendants: pid -> starttime
        self._accepted: dict[str, int] = {}  # queue id -> accepted recipients
        self._mutex = threading.Lock()
        self._old_sigterm = None
        self._failed = False
        self.exit_status: int | None = None

    # -- paths
    @property
    def conf_path(self) -> str:
        return os.path.join(self.workdir, "smtpd.conf")

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, "smtpd.log")

    @property
    def maildir(self) -> str:
        return os.path.join(self.workdir, "Maildir")

    # -- context manager
    def __enter__(self) -> "Smtpd":
        try:
            self.start()
        except BaseException:
            self._failed = True
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._failed = True
        self.stop()
        return False

    # -- start
    def _filter_cmdline(self) -> str:
        cmd = self.filter_command
        if self.extra_env:
            env = " ".join(shlex.quote(f"{k}={v}") for k, v in self.extra_env.items())
            cmd = f"/usr/bin/env {env} {cmd}"
        if any(c in cmd for c in '"\n\r'):
            raise ValueError("filter environment must not contain double quotes or line breaks")
        return cmd

    def _check_filter_reachable(self) -> None:
        words = shlex.split(self.filter_command)
        if not words:
            raise SmtpdError("empty filter command")
        exe = words[0]
        if not exe.startswith("/"):
            return  # looked up under /usr/libexec/opensmtpd by smtpd
        problems = []
        if not reachable(exe, "x"):
            problems.append(f"{exe} (not executable)")
        else:
            try:
                with open(exe, "rb") as f:
                    first = f.readline(256)
                if first.startswith(b"#!"):
                    interp = first[2:].split()[0].decode()
                    if not reachable(interp, "x"):
                        problems.append(f"interpreter {interp} of {exe}")
            except OSError:
                pass
        for w in words[1:]:
            if w.startswith("/") and os.path.exists(w) and not reachable(w, "r"):
                problems.append(w)
        if problems:
            raise SmtpdError(f"not reachable by user {SMTPD_USER}: {', '.join(problems)} "
                             "(copy it under /tmp, see stage())")

    def _lock(self) -> None:
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        deadline = time.monotonic() + self.lock_timeout
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    os.close(fd)
                    raise
            if time.monotonic() > deadline:
                os.close(fd)
                raise SmtpdBusy(f"{LOCK_FILE} still locked after {self.lock_timeout:.0f} s "
                                "(another e2e test holds the machine's smtpd)")
            if not said:
                print(f"smtpd_harness: waiting for {LOCK_FILE}", file=sys.stderr)
                said = True
            time.sleep(0.2)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            finally:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _write_config(self) -> None:
        lines = [self.preamble] if self.preamble else []
        if self.admd:
            lines.append(f'admd "{self.admd}"')
        lines += [
            f'filter "{self.filter_name}" proc-exec "{self._filter_cmdline()}"',
        ]
        if self.filters_config:
            lines.append(self.filters_config)
        lines += [
            "",
            f'listen on 127.0.0.1 port {self.port} '
            + (f"{self.listen_options} " if self.listen_options else "")
            + f'hostname "{self.hostname}" filter "{self.listen_filter}"',
            "",
            f'action "{ACTION}" maildir "{self.maildir}" user "{DELIVERY_USER}" '
            f'virtual {{ "@" => "{DELIVERY_USER}" }}',
            f'match from any for domain "{self.domain}" action "{ACTION}"',
        ]
        if self.extra_config:
            lines += ["", self.extra_config]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf_path, 0o644)
        r = subprocess.run([SMTPD, "-n", "-f", self.conf_path], capture_output=True, text=True)
        if r.returncode != 0:
            raise SmtpdError(f"smtpd -n rejected {self.conf_path}:\n{r.stdout}{r.stderr}")

    def _make_maildir(self) -> None:
        pw = pwd.getpwnam(DELIVERY_USER)
        for sub in ("", "new", "cur", "tmp"):
            p = os.path.join(self.maildir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o700)

    def start(self) -> None:
        reason = skip_reason()
        if reason:
            raise SmtpdError(reason)
        ensure_setup()
        _become_subreaper()
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm)
        if self.workdir is None:
            self.workdir = make_workdir()
        else:
            os.makedirs(self.workdir, exist_ok=True)
            os.chmod(self.workdir, 0o755)
        self._check_filter_reachable()
        self._make_maildir()
        self._lock()
        _live.add(self)
        others = foreign_smtpds()
        if others:
            raise SmtpdBusy("another smtpd is running; the e2e tests share its spool and control "
                            "socket, so they refuse to start:\n  " + "\n  ".join(others))
        if control_socket_live():
            raise SmtpdBusy(f"a live smtpd answers on {CONTROL_SOCKET}; refusing to start")
        last_error = None
        for _attempt in range(3):
            self.port = free_port()
            self._write_config()
            try:
                self._spawn()
                return
            except _PortTaken as e:
                last_error = e
        raise SmtpdError(f"could not bind a loopback port: {last_error}")

    def _spawn(self) -> None:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        for k in _PASS_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        args = [SMTPD, "-d", "-f", self.conf_path]
        if self.verbose:
            args.append("-v")
        if self.trace:
            args += ["-T", self.trace]
        self.resolver_isolated = False
        if self.private_resolver and _can_unshare_mounts():
            resolv = os.path.join(self.workdir, "resolv.conf")
            with open(resolv, "w") as f:
                f.write("# smtpd's private resolv.conf (bind-mounted in its own mount namespace)\n"
                        "lookup file\nnameserver 127.0.0.1\n")
            os.chmod(resolv, 0o644)
            args = [UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c",
                    'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv] + args
            self.resolver_isolated = True
        elif self.private_resolver:
            print("smtpd_harness: cannot unshare a mount namespace; smtpd resolves the client's "
                  "rDNS through the system DNS (sessions may stall when it is slow)",
                  file=sys.stderr)
        self._log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._track()
            if self.proc.poll() is not None:
                self.exit_status = self.proc.returncode
                tail = self.log()[self._log_start:]
                self.proc = None
                if "Address already in use" in tail:
                    raise _PortTaken(tail.strip().splitlines()[-1:])
                raise SmtpdError(f"smtpd exited during start-up (status {self.exit_status}):\n"
                                 + _tail(tail))
            if self._banner_ok():
                self._track()
                return
            if time.monotonic() > deadline:
                raise SmtpdError(f"smtpd did not send a 220 banner within {self.start_timeout} s "
                                 "(does the filter send register|ready?):\n" + _tail(self.log()))
            time.sleep(0.1)

    def _banner_ok(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.settimeout(1.0)
                data = s.recv(512)
                if data.startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    try:
                        s.recv(512)
                    except OSError:
                        pass
                    return True
        except OSError:
            pass
        return False

    def _track(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            for pid, start in _descendants(self.proc.pid).items():
                self._known.setdefault(pid, start)

    # -- state
    def alive(self) -> bool:
        """True while the smtpd we started is running (a filter crash makes it exit)."""
        if self.proc is None:
            return False
        if self.proc.poll() is not None:
            self.exit_status = self.proc.returncode
            return False
        self._track()
        return True

    def descendants(self) -> dict[int, int]:
        """Live descendants of the smtpd we started (privsep children, filters): pid -> start
        time. Match a filter by /proc/PID/exe here; signal it with signal_descendant()."""
        self._track()
        out = {}
        for pid, start in self._known.items():
            st = _stat(pid)
            if st and st[2] == start and st[1] != "Z":
                out[pid] = start
        return out

    def signal_descendant(self, pid: int, sig: int) -> None:
        """Sends sig to pid, but only when it is a live descendant of our smtpd (same start time
        as when it was recorded), so a reused PID is never hit."""
        self._track()
        start = self._known.get(pid)
        st = _stat(pid)
        if start is None or st is None or st[2] != start or st[1] == "Z":
            raise SmtpdError(f"pid {pid} is not a live descendant of our smtpd")
        os.kill(pid, sig)

    def log(self) -> str:
        """smtpd's stderr so far (its log, with every filter stderr line as '<filter>: line')."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    # -- SMTP client
    def send(self, mail_from: str, rcpt_to: str | list[str], data: bytes,
             helo: str = "client.example.org", timeout: float = 30.0, raw: bool = False,
             line_delay: float | None = None, mail_options: list[str] | None = None,
             sync: threading.Barrier | None = None, starttls: bool = False,
             auth: tuple[str, str] | None = None, auth_may_fail: bool = False,
             port: int | None = None) -> Reply:
        """One SMTP transaction; returns the final reply and never raises on SMTP or socket errors.

        data: the message. Bare LF becomes CRLF and lines are dot-stuffed, then `.` ends it.
        raw=True sends data verbatim after 354 (it must hold the final CRLF.CRLF itself).
        line_delay: seconds to sleep between lines, to interleave DATA of parallel sessions.
        sync: a Barrier all parallel senders wait on after RCPT, so their DATA overlaps (a session
        that fails before it aborts the barrier, so the others go on without waiting).
        BODY=8BITMIME is requested when data has 8-bit bytes.
        starttls: STARTTLS after EHLO (the certificate is not checked), then EHLO again.
        auth: (user, password) for SMTP AUTH after that; a refusal ends the transaction with
        stage "auth", unless auth_may_fail (the session then goes on unauthenticated).
        port: another listener of this smtpd (declared in filters_config), instead of the main one.
        """
        rcpts = [rcpt_to] if isinstance(rcpt_to, str) else list(rcpt_to)
        if raw:
            payload = data
        else:
            payload = dot_stuff(to_crlf(data)) + b".\r\n"
        stage = "connect"
        s = smtplib.SMTP(local_hostname=helo, timeout=timeout)
        synced = sync is None
        try:
            with _connect_gate:
                code, msg = s.connect("127.0.0.1", port or self.port)
            if code != 220:
                return Reply(code, _txt(msg), stage)
            stage = "ehlo"
            code, msg = s.ehlo(helo)
            if code != 250:
                return Reply(code, _txt(msg), stage)
            if starttls:
                import ssl
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                stage = "starttls"
                s._host = "127.0.0.1"  # smtplib's TLS server name; only the constructor sets it
                code, msg = s.starttls(context=ctx)
                if code != 220:
                    return Reply(code, _txt(msg), stage)
                code, msg = s.ehlo(helo)
                if code != 250:
                    return Reply(code, _txt(msg), stage)
            if auth is not None:
                stage = "auth"
                try:
                    code, msg = s.login(*auth)
                except smtplib.SMTPAuthenticationError as e:
                    code, msg = e.smtp_code, e.smtp_error
                if code != 235 and not auth_may_fail:
                    return Reply(code, _txt(msg), stage)
            opts = list(mail_options or [])
            if not opts and any(b > 127 for b in data) and s.has_extn("8bitmime"):
                opts = ["BODY=8BITMIME"]
            stage = "mail"
            code, msg = s.mail(mail_from, opts)
            if code != 250:
                return Reply(code, _txt(msg), stage)
            stage = "rcpt"
            for r in rcpts:
                code, msg = s.rcpt(r)
                if code not in (250, 251):
                    return Reply(code, _txt(msg), stage)
            if sync is not None:
                synced = True
                try:
                    sync.wait(timeout)
                except threading.BrokenBarrierError:
                    pass
            stage = "data"
            code, msg = s.docmd("DATA")
            if code != 354:
                return Reply(code, _txt(msg), stage)
            stage = "dot"
            if line_delay:
                for line in payload.splitlines(keepends=True):
                    s.sock.sendall(line)
                    time.sleep(line_delay)
            else:
                s.sock.sendall(payload)
            code, msg = s.getreply()
            text = _txt(msg)
            qid = None
            if code == 250:
                m = _ACCEPTED_ID.search(text)
                if m:
                    qid = m.group(1)
                    with self._mutex:
                        self._accepted[qid] = self._accepted.get(qid, 0) + len(rcpts)
            return Reply(code, text, stage, qid)
        except (smtplib.SMTPException, OSError) as e:
            return Reply(0, f"connection lost: {type(e).__name__}: {e}", stage)
        finally:
            if not synced:
                sync.abort()
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass
            try:
                s.close()
            except OSError:
                pass

    # -- deliveries
    def _maildir_files(self) -> list[str]:
        new = os.path.join(self.maildir, "new")
        try:
            names = os.listdir(new)
        except OSError:
            return []
        paths = [os.path.join(new, n) for n in names if not n.startswith(".")]

        def key(p):
            try:
                return (os.stat(p).st_mtime_ns, p)
            except OSError:
                return (0, p)
        return sorted(paths, key=key)

    def maildir_messages(self) -> list[bytes]:
        """Every file in Maildir/new (including leftovers of earlier runs), oldest first."""
        out = []
        for p in self._maildir_files():
            try:
                with open(p, "rb") as f:
                    out.append(f.read())
            except OSError:
                pass
        return out

    def _collect(self, timeout: float) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + timeout
        while True:
            with self._mutex:
                want = dict(self._accepted)
            got, count = [], {}
            for msg in self.maildir_messages():
                qid = queue_id_of(msg)
                if qid in want:
                    got.append((qid, msg))
                    count[qid] = count.get(qid, 0) + 1
            if all(count.get(q, 0) >= n for q, n in want.items()) or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def delivered_by_id(self, timeout: float = 15.0) -> dict[str, list[bytes]]:
        """Waits until every message accepted by send() in this run is in the Maildir (or the
        timeout passes); returns queue id -> delivered copies (one per accepted recipient)."""
        out: dict[str, list[bytes]] = {}
        for qid, msg in self._collect(timeout):
            out.setdefault(qid, []).append(msg)
        return out

    def delivered(self, timeout: float = 15.0) -> list[bytes]:
        """Messages of this run in the Maildir, oldest first; waits as delivered_by_id does.
        Leftovers of earlier runs (other queue ids) are left out; see maildir_messages()."""
        return [msg for _qid, msg in self._collect(timeout)]

    @property
    def accepted(self) -> dict[str, int]:
        with self._mutex:
            return dict(self._accepted)

    # -- stop
    def stop(self) -> None:
        """Stops smtpd (SIGTERM, then SIGKILL) and every descendant of it we saw; idempotent."""
        try:
            if self.proc is not None:
                self._track()
                if self.proc.poll() is None:
                    try:
                        self.proc.send_signal(signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                    try:
                        self.proc.wait(self.stop_timeout)
                    except subprocess.TimeoutExpired:
                        print(f"smtpd_harness: smtpd {self.proc.pid} ignored SIGTERM, killing",
                              file=sys.stderr)
                        self.proc.kill()
                        self.proc.wait()
                self.exit_status = self.proc.returncode
                self.proc = None
            self._reap_known()
        finally:
            self._unlock()
            _live.discard(self)
            if self._old_sigterm is not None:
                try:
                    signal.signal(signal.SIGTERM, self._old_sigterm)
                except ValueError:
                    pass
                self._old_sigterm = None
            if self.workdir and self._own_workdir and os.path.isdir(self.workdir):
                if self.keep or (self._failed and os.path.exists(self.log_path)):
                    print(f"smtpd_harness: kept {self.workdir}", file=sys.stderr)
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)

    def _reap_known(self) -> None:
        deadline = time.monotonic() + self.stop_timeout
        killed = False
        while self._known:
            for pid, start in list(self._known.items()):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                    if done == pid:
                        del self._known[pid]
                        continue
                except ChildProcessError:
                    pass
                st = _stat(pid)
                if st is None or st[2] != start or (st[1] == "Z" and st[0] != os.getpid()):
                    del self._known[pid]  # gone, reused, or a zombie someone else must reap
            if not self._known:
                break
            if time.monotonic() > deadline and not killed:
                for pid, start in self._known.items():
                    st = _stat(pid)
                    if st and st[2] == start and st[1] != "Z":
                        print(f"smtpd_harness: killing leftover smtpd descendant {pid}",
                              file=sys.stderr)
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                killed = True
                deadline = time.monotonic() + 5
            elif time.monotonic() > deadline:
                print(f"smtpd_harness: could not reap {sorted(self._known)}", file=sys.stderr)
                break
            time.sleep(0.05)


_unshare_ok: bool | None = None


def _can_unshare_mounts() -> bool:
    """True when `unshare --mount` plus a bind mount works here (root with CAP_SYS_ADMIN)."""
    global _unshare_ok
    if _unshare_ok is None:
        try:
            r = subprocess.run([UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c",
                                "mount --bind /etc/hostname /etc/hostname"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10)
            _unshare_ok = r.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _unshare_ok = False
    return _unshare_ok


class _PortTaken(Exception):
    pass


def _txt(msg) -> str:
    if isinstance(msg, bytes):
        return msg.decode("utf-8", errors="replace")
    return str(msg)


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def run_or_skip() -> None:
    """For test scripts: exit 77 (meson SKIP) with the reason when smtpd cannot run here."""
    reason = skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(SKIP)
