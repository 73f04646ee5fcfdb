# SPDX-License-Identifier: ISC
"""A private Exim 4.96 with filter-arc as its transport_filter, for the end-to-end tests.

Debian's exim4 and opensmtpd packages conflict (each provides mail-transport-agent), and
OpenSMTPD is installed on the test machines. So the Exim binary is not installed. It is
unpacked from the exim4-daemon-light .deb into CACHE_DIR, with `apt-get download` and
`dpkg -x`; scripts/setup does this, and so does find_exim() when it runs as root. The
binary looks up the user Debian-exim (compiled in) before it reads any configuration, and
filter-arc logs to /dev/log, which these machines do not have. Every Exim command therefore
runs through a small wrapper in its own mount namespace (`unshare --mount`). In that
namespace, private copies of /etc/passwd and /etc/group, which add Debian-exim, are
bind-mounted over the real ones, and a private /dev holds a syslog socket that the test
reads. Nothing outside the test directory is changed, and the bind mounts disappear with
the processes.

Exim runs as root with `-C` and its own spool, log and pid paths. For a configuration that
is not in TRUSTED_CONFIG_LIST, Exim drops to the Exim user ("exim user lost privilege for
using -C option"). So deliveries, and filter-arc with them, run as Debian-exim, and the
test's keys are owned by that user.

Everything listens on 127.0.0.1 only. Every process that is started here is stopped by its
PID (stop_all(), also registered with atexit).
"""

import atexit
import fcntl
import glob
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE_CONF = os.path.join(SOURCE_ROOT, "etc", "exim4", "filter-arc.conf.example")
DNS_RESPONDER = os.path.join(SOURCE_ROOT, "tests", "tools", "dns_responder.py")
PERL_VERIFIER = os.path.join(HERE, "arc_verify_mail_dkim.pl")

CACHE_DIR = os.environ.get("FILTER_ARC_EXIM_CACHE", "/var/cache/filter-arc-tests/exim")
EXIM_PACKAGE = "exim4-daemon-light"
EXIM_USER = "Debian-exim"
PYTHON = "/usr/bin/python3"

# The paths in the "main" snippet of the example that the test replaces (and only these).
EXAMPLE_FILTER_PATH = "/usr/bin/filter-arc"
EXAMPLE_CONFIG_PATH = "/etc/filter-arc/filter-arc.toml"


class Skip(Exception):
    """The environment cannot run a private Exim; the reason says why (meson: exit 77)."""


# ---- processes ---------------------------------------------------------------------------

_started = []  # every subprocess.Popen started here and not yet stopped


def _track(proc):
    _started.append(proc)
    return proc


def stop_process(proc, timeout=10.0):
    """Stops one process that this module started: SIGTERM by PID, then SIGKILL by PID."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream:
            stream.close()
    if proc in _started:
        _started.remove(proc)


def stop_all():
    """Stops every process this module started that is still running (newest first)."""
    for proc in reversed(list(_started)):
        stop_process(proc)


atexit.register(stop_all)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate() until it returns a true value (returned) or timeout (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# ---- the Exim binary ---------------------------------------------------------------------

def find_exim():
    """The path of a runnable exim4 binary from Debian's exim4-daemon-light.

    It is unpacked into CACHE_DIR/root the first time, from a .deb that scripts/setup (or,
    as root, this function) fetched with `apt-get download`. Raises Skip with the reason
    when that is impossible: not root, no package, missing libraries, no mount namespaces.
    """
    if os.geteuid() != 0:
        raise Skip("not root: the private Exim needs root (mount namespace, -C, Debian-exim)")
    for tool in ("unshare", "mount", "dpkg"):
        if shutil.which(tool) is None:
            raise Skip(f"{tool} not found")
    binary = os.path.join(CACHE_DIR, "root", "usr", "sbin", "exim4")
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(binary):
            debs = sorted(glob.glob(os.path.join(CACHE_DIR, EXIM_PACKAGE + "_*.deb")))
            if not debs:
                r = subprocess.run(["apt-get", "download", EXIM_PACKAGE], cwd=CACHE_DIR,
                                   capture_output=True, text=True, timeout=180)
                debs = sorted(glob.glob(os.path.join(CACHE_DIR, EXIM_PACKAGE + "_*.deb")))
                if not debs:
                    raise Skip(f"cannot fetch {EXIM_PACKAGE} with apt-get download "
                               f"(run scripts/setup): {r.stderr.strip()[-300:]}")
            tmp = os.path.join(CACHE_DIR, "root.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            r = subprocess.run(["dpkg", "-x", debs[-1], tmp], capture_output=True, text=True)
            if r.returncode != 0:
                raise Skip(f"dpkg -x {debs[-1]} failed: {r.stderr.strip()}")
            shutil.rmtree(os.path.join(CACHE_DIR, "root"), ignore_errors=True)
            os.rename(tmp, os.path.join(CACHE_DIR, "root"))
    if not os.access(binary, os.X_OK):
        raise Skip(f"{binary} is missing after unpacking {EXIM_PACKAGE}")
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True)
    missing = re.findall(r"^\s*(\S+) => not found", ldd.stdout, re.M)
    if missing:
        raise Skip("the private Exim misses libraries " + ", ".join(missing) +
                   " (scripts/setup installs them, e.g. libidn12)")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip("no mount namespaces here (unshare --mount failed: "
                   f"{r.stderr.strip()})")
    return binary


def example_snippets(path=EXAMPLE_CONF):
    """The snippets of etc/exim4/filter-arc.conf.example: {name: text between the markers}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    snippets = {}
    for m in re.finditer(r"^# >>> (\S+)\n(.*?)^# <<< \1\n", text, re.M | re.S):
        snippets[m.group(1)] = m.group(2)
    return snippets


# ---- syslog ------------------------------------------------------------------------------

class SyslogSink:
    """A datagram socket that stands in for /dev/log inside the Exim's namespace.

    Every record it receives is kept as (facility, severity, text)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)  # filter-arc writes as Debian-exim
        self.records = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            m = re.match(rb"<(\d+)>(.*)", data, re.S)
            pri = int(m.group(1)) if m else -1
            text = (m.group(2) if m else data).decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.records.append((pri >> 3, pri & 7, text))

    def lines(self):
        with self.lock:
            return list(self.records)

    def wait_for(self, pattern, timeout=15.0):
        """The first record whose text matches the regex, waiting for it; None on timeout."""
        rx = re.compile(pattern)

        def find():
            for rec in self.lines():
                if rx.search(rec[2]):
                    return rec
            return None

        return wait_until(find, timeout)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


# ---- DNS ---------------------------------------------------------------------------------

class DnsServer:
    """tests/tools/dns_responder.py on 127.0.0.1, restartable on the same port with other
    faults (its faults are fixed when it starts)."""

    def __init__(self, workdir, zone_path):
        self.workdir = workdir
        self.zone_path = zone_path
        self.port = 0
        self.proc = None

    def start(self, faults=()):
        port_file = os.path.join(self.workdir, "dns.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [PYTHON, DNS_RESPONDER, "--zone", self.zone_path, "--port", str(self.port),
               "--port-file", port_file, "--watch-stdin", "--max-lifetime", "600"]
        for name, mode in faults:
            cmd += ["--fault", f"{name}={mode}"]
        log = open(os.path.join(self.workdir, "dns.log"), "ab")
        for attempt in range(20):  # the old socket may linger for a moment after a restart
            self.proc = _track(subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                                stdout=subprocess.DEVNULL, stderr=log))
            if wait_until(lambda: os.path.exists(port_file) or self.proc.poll() is not None, 10):
                if self.proc.poll() is None:
                    break
            stop_process(self.proc)
            time.sleep(0.1)
        else:
            log.close()
            raise RuntimeError("dns_responder did not start; see " + log.name)
        log.close()
        with open(port_file, encoding="utf-8") as f:
            self.port = int(f.read().strip())
        return self.port

    def restart(self, faults=()):
        """Stops the responder and starts it again on the same port with these faults."""
        stop_process(self.proc)
        self.proc = None
        return self.start(faults)

    def stop(self):
        stop_process(self.proc)
        self.proc = None


# ---- keys and zone -----------------------------------------------------------------------

def keygen(filter_arc, domain, selector, out):
    """Runs `filter-arc keygen`; returns the zone line it printed on stdout."""
    r = subprocess.run([filter_arc, "keygen", "--domain", domain, "--selector", selector,
                        "--type", "rsa", "--bits", "2048", "--out", out],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"keygen {selector}._domainkey.{domain}: exit {r.returncode}: "
                           f"{r.stderr}")
    return r.stdout.strip()


def zone_records(zone_text):
    """{owner name without the final dot: TXT value} from zone lines like keygen prints."""
    records = {}
    for line in zone_text.splitlines():
        m = re.match(r"^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?TXT\s+(.*)$", line.strip())
        if m:
            records[m.group(1).rstrip(".").lower()] = "".join(
                re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
    return records


# ---- messages ----------------------------------------------------------------------------

def split_message(data):
    """(list of header fields as bytes, each with its folded lines, body bytes)."""
    end = data.find(b"\n\n")
    head, body = (data, b"") if end < 0 else (data[:end + 1], data[end + 2:])
    fields = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields, body


def field_name(field):
    return field.split(b":", 1)[0].strip().lower().decode("ascii", "replace")


def tag_value(field, tag):
    """The value of tag= in a tag-list header field (whitespace removed), or None."""
    value = re.sub(rb"\s+", b"", field.split(b":", 1)[1])
    m = re.search(rb"(?:^|;)" + tag.encode() + rb"=([^;]*)", value)
    return m.group(1).decode() if m else None


def to_crlf(data):
    return re.sub(rb"\r?\n", b"\r\n", data)


def dkimpy_arc_verify(message, records):
    """dkimpy's (python3-dkim) ARC verdict of message with keys from records.

    Returns (cv, reason) with cv one of "pass", "fail", "none"."""
    import dkim  # python3-dkim; imported here so a missing module fails only this check

    def dnsfunc(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        value = records.get(key)
        return value.encode() if value is not None else None

    cv, _results, reason = dkim.arc_verify(to_crlf(message), dnsfunc=dnsfunc)
    return (cv.decode() if isinstance(cv, bytes) else str(cv)), reason


def mail_dkim_arc_verify(message, dns_port):
    """Mail::DKIM's ARC verdict of message, with keys fetched from the loopback DNS server.

    Returns (result, detail) as printed by arc_verify_mail_dkim.pl."""
    r = subprocess.run(["/usr/bin/perl", PERL_VERIFIER, str(dns_port)], input=message,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"arc_verify_mail_dkim.pl: exit {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')}")
    result, _, detail = r.stdout.decode().strip().partition("\t")
    return result, detail


# ---- Exim --------------------------------------------------------------------------------

def _free_id(taken, start=64990):
    for n in range(start, start - 500, -1):
        if n not in taken:
            return n
    raise RuntimeError("no free uid for Debian-exim")


class PrivateExim:
    """Exim 4.96 with a private configuration, spool, log, mail store and namespace.

    Mail for @arc.test and @fwd.arc.test is delivered through filter-arc into the Maildir
    mail/sealed; mail for @plain.arc.test is delivered the same way but without the filter,
    into mail/plain, as the reference copy. (Exim 4.96 refuses tainted file names, so the
    directories do not depend on the address; the tests find a message by Message-ID.) Mail for @fwd.arc.test that has no ARC-Seal
    yet first goes out through an smtp transport with filter-arc (hop 1) back to this same
    Exim (hop 2)."""

    def __init__(self, workdir, exim_binary, filter_arc, filter_config):
        self.workdir = workdir
        self.exim_binary = exim_binary
        self.filter_arc = filter_arc
        self.filter_config = filter_config
        self.port = 0
        self.proc = None
        self.spool = os.path.join(workdir, "spool")
        self.logdir = os.path.join(workdir, "log")
        self.maildir = os.path.join(workdir, "mail")
        self.devdir = os.path.join(workdir, "dev")
        self.conf = os.path.join(workdir, "exim.conf")
        self.wrapper = os.path.join(workdir, "exim-ns")
        for d in (self.spool, self.logdir, self.maildir, self.devdir):
            os.makedirs(d, exist_ok=True)
        self._user_files()
        self._dev_files()
        for d in (self.spool, self.logdir, self.maildir):
            os.chown(d, self.uid, self.gid)
        self.syslog = SyslogSink(os.path.join(self.devdir, "log"))

    def _user_files(self):
        """passwd and group copies that know Debian-exim (an unused id when it is new)."""
        with open("/etc/passwd", encoding="utf-8") as f:
            passwd = f.read()
        with open("/etc/group", encoding="utf-8") as f:
            group = f.read()
        try:
            pw = pwd.getpwnam(EXIM_USER)
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        except KeyError:
            taken = {int(line.split(":")[2]) for line in passwd.splitlines() if line.count(":") >= 3}
            taken |= {int(line.split(":")[2]) for line in group.splitlines() if line.count(":") >= 3}
            self.uid = self.gid = _free_id(taken)
            passwd = passwd.rstrip("\n") + (f"\n{EXIM_USER}:x:{self.uid}:{self.gid}:"
                                            "filter-arc Exim tests:/nonexistent:/usr/sbin/nologin\n")
            if not re.search(rf"^{re.escape(EXIM_USER)}:", group, re.M):
                group = group.rstrip("\n") + f"\n{EXIM_USER}:x:{self.gid}:\n"
        with open(os.path.join(self.workdir, "passwd"), "w", encoding="utf-8") as f:
            f.write(passwd)
        with open(os.path.join(self.workdir, "group"), "w", encoding="utf-8") as f:
            f.write(group)

    DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")

    def _dev_files(self):
        for n in self.DEV_NODES:
            open(os.path.join(self.devdir, n), "a").close()
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            link = os.path.join(self.devdir, name)
            if not os.path.islink(link):
                os.symlink(target, link)
        nodes = " ".join(self.DEV_NODES)
        script = f"""#!/bin/sh
# Runs the private Exim in a mount namespace of its own: passwd/group with {EXIM_USER},
# and a /dev whose log socket belongs to the test. Generated by tests/exim/exim_env.py.
exec unshare --mount --propagation private /bin/sh -c '
set -e
W="$0"
mount --bind "$W/passwd" /etc/passwd
mount --bind "$W/group" /etc/group
for n in {nodes}; do mount --bind "/dev/$n" "$W/dev/$n"; done
mount --rbind "$W/dev" /dev
exec "{self.exim_binary}" -C "$W/exim.conf" "$@"' "{self.workdir}" "$@"
"""
        with open(self.wrapper, "w", encoding="utf-8") as f:
            f.write(script)
        os.chmod(self.wrapper, 0o755)

    # -- configuration

    def write_config(self, port):
        """The Exim configuration: test scaffolding around the example's snippets."""
        snippets = example_snippets()
        for name in ("main", "acl", "transport", "smtp"):
            if name not in snippets:
                raise RuntimeError(f"{EXAMPLE_CONF}: snippet '{name}' is missing")
        main = snippets["main"]
        if main.count(EXAMPLE_FILTER_PATH) != 1 or main.count(EXAMPLE_CONFIG_PATH) != 1:
            raise RuntimeError(f"{EXAMPLE_CONF}: the main snippet must name "
                               f"{EXAMPLE_FILTER_PATH} and {EXAMPLE_CONFIG_PATH} once each")
        main = main.replace(EXAMPLE_FILTER_PATH, self.filter_arc)
        main = main.replace(EXAMPLE_CONFIG_PATH, self.filter_config)
        w = self.workdir
        conf = f"""# Private Exim configuration of tests/exim (generated; see exim_env.py).
exim_path = {self.exim_binary}
primary_hostname = mx.arc.test
qualify_domain = arc.test
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
pid_file_path = {w}/exim.pid
daemon_smtp_ports = {port}
local_interfaces = <; 127.0.0.1
domainlist local_domains = arc.test : plain.arc.test : fwd.arc.test
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
tls_advertise_hosts =
rfc1413_hosts =
host_lookup =
keep_environment =
log_selector = +subject +received_recipients
# ---- snippet "main" of etc/exim4/filter-arc.conf.example (paths replaced)
{main}
begin acl

acl_check_rcpt:
  accept domains = +local_domains
  deny   message = relay not permitted

acl_check_data:
# ---- snippet "acl"
{snippets["acl"]}  accept

begin routers

# hop 1 of the forwarding test: out through the smtp transport, back to this Exim
arc_forward:
  driver = manualroute
  domains = fwd.arc.test
  condition = ${{if def:h_ARC-Seal: {{no}}{{yes}}}}
  route_list = * 127.0.0.1
  self = send
  transport = arc_test_smtp

arc_plain:
  driver = accept
  domains = plain.arc.test
  transport = arc_test_plain

arc_local:
  driver = accept
  domains = arc.test : fwd.arc.test
  transport = arc_test_sealed

begin transports

arc_test_sealed:
  driver = appendfile
  directory = {self.maildir}/sealed
  maildir_format
  user = {EXIM_USER}
  group = {EXIM_USER}
  mode = 0644
# ---- snippet "transport"
{snippets["transport"]}
arc_test_plain:
  driver = appendfile
  directory = {self.maildir}/plain
  maildir_format
  user = {EXIM_USER}
  group = {EXIM_USER}
  mode = 0644

arc_test_smtp:
  driver = smtp
  port = {port}
  allow_localhost
  hosts_avoid_tls = *
# ---- snippets "transport" and "smtp"
{snippets["transport"]}{snippets["smtp"]}
begin retry

*   *   F,1h,10m
"""
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf)

    # -- running

    def exim(self, *args, input=None, timeout=60):
        """Runs the private Exim once with these arguments (as root, in the namespace)."""
        return subprocess.run([self.wrapper, *args], input=input, capture_output=True,
                              timeout=timeout)

    def start(self):
        """Starts the daemon in the foreground (-bdf) on a free loopback port."""
        self.port = free_port()
        self.write_config(self.port)
        check = self.exim("-bV")
        if check.returncode != 0 or b"Exim version 4" not in check.stdout:
            raise RuntimeError("exim -bV with the private configuration failed:\n" +
                               (check.stdout + check.stderr).decode(errors="replace"))
        self.version = check.stdout.split(b"\n", 1)[0].decode()
        out = open(os.path.join(self.workdir, "daemon.out"), "ab")
        self.proc = _track(subprocess.Popen([self.wrapper, "-bdf", "-oX", str(self.port)],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=out))
        out.close()

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError(f"exim -bdf exited with {self.proc.returncode}:\n" +
                                   self.read_log("main") + self.read_log("panic"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        if not wait_until(listening, 15, 0.1):
            raise RuntimeError("exim did not listen on port %d" % self.port)

    def stop(self):
        stop_process(self.proc)
        self.proc = None
        self.syslog.close()

    def read_log(self, which="main"):
        try:
            with open(os.path.join(self.logdir, which + "log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=20.0):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.read_log("main")), timeout)

    def queue(self):
        """`exim -bp`: the queue listing."""
        return self.exim("-bp").stdout.decode(errors="replace")

    def run_queue(self):
        """`exim -qff`: one forced queue run (frozen messages too); returns when done."""
        r = self.exim("-qff", timeout=120)
        if r.returncode != 0:
            raise RuntimeError("exim -qff: " + (r.stdout + r.stderr).decode(errors="replace"))

    def send(self, mail_from, recipients, data, helo="client.example.net"):
        """Sends one message by SMTP (smtplib does the dot-stuffing); returns Exim's id."""
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname=helo, timeout=30) as s:
            s.ehlo(helo)
            code, resp = s.docmd(f"MAIL FROM:<{mail_from}>")
            if code != 250:
                raise RuntimeError(f"MAIL FROM refused: {code} {resp!r}")
            for rcpt in recipients:
                code, resp = s.docmd(f"RCPT TO:<{rcpt}>")
                if code != 250:
                    raise RuntimeError(f"RCPT TO:<{rcpt}> refused: {code} {resp!r}")
            code, resp = s.data(data)
            if code != 250:
                raise RuntimeError(f"DATA refused: {code} {resp!r}")
        m = re.search(rb"id=(\S+)", resp)
        if not m:
            raise RuntimeError(f"no message id in {resp!r}")
        return m.group(1).decode()

    def submit_local(self, sender, data):
        """Submits a message on the command line (`exim -f SENDER -t`), as sendmail would."""
        r = self.exim("-odi", "-f", sender, "-t", input=data)
        if r.returncode != 0:
            raise RuntimeError("exim -t: " + (r.stdout + r.stderr).decode(errors="replace"))

    def mailbox(self, box, message_id):
        """Files in Maildir box ("sealed" or "plain") with this Message-ID (without <>)."""
        needle = f"\nMessage-ID: <{message_id}>\n".encode()
        found = []
        for path in sorted(glob.glob(os.path.join(self.maildir, box, "new", "*"))):
            with open(path, "rb") as f:
                if needle in f.read().replace(b"\r\n", b"\n"):
                    found.append(path)
        return found

    def wait_for_mail(self, box, message_id, timeout=20.0):
        """The bytes of the message with this Message-ID in Maildir box, waiting for it."""
        files = wait_until(lambda: self.mailbox(box, message_id), timeout)
        if not files:
            raise AssertionError(f"<{message_id}> not delivered to {box} within {timeout} s; "
                                 "main log:\n" + self.read_log("main")[-3000:] +
                                 self.read_log("panic"))
        if len(files) > 1:
            raise AssertionError(f"<{message_id}> delivered {len(files)} times to {box}")
        with open(files[0], "rb") as f:
            return f.read()
