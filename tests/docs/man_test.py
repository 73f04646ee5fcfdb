#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The manual pages agree with the program and with the example configurations.

    /usr/bin/python3 tests/docs/man_test.py BUILD/filter/filter-arc

It checks the following:
  * `mandoc -T lint` finds no warning or error in packaging/man/filter-arc.8 and
    filter-arc.toml.5. Without mandoc, `groff -mdoc -z -ww` must print nothing.
  * filter-arc.8: every command in `filter-arc --help` has an entry in SYNOPSIS and under
    COMMANDS. Every option on its usage line, and every option that `filter-arc COMMAND
    --help` prints, is in that entry and is described under that command. The exit
    statuses 0, 64, 65, 66, 70, 75 and 78 are under EXIT STATUS. Every line of the
    Exim snippets in etc/exim4/filter-arc.conf.example is under EXIM, word for word.
  * filter-arc.toml.5 and the schema table (`filter-arc check-config --schema`, from
    filter/config/schema.cpp) name the same settings: every schema entry has an item under
    the heading of its table that gives the schema's default (integers, booleans, strings),
    and every item is a schema entry. Every setting of etc/filter-arc.toml is a schema entry
    of its table.
  * filter-arc.toml.5: every setting of etc/filter-arc.toml has an item. Every setting
    that `filter-arc check-config` prints (with the defaults, and with a [seal] table) has
    an item under the heading of its table, and the item gives the default that the
    program prints, for integers, booleans and strings.
The pages are rendered (mandoc, else groff) and the checks read the rendered text.
Exit status: 0 when everything agrees, 1 on the first group of differences, 77 (SKIP) when
neither mandoc nor groff is installed.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN8 = os.path.join(ROOT, "packaging", "man", "filter-arc.8")
MAN5 = os.path.join(ROOT, "packaging", "man", "filter-arc.toml.5")
TOML = os.path.join(ROOT, "etc", "filter-arc.toml")
EXIM_EXAMPLE = os.path.join(ROOT, "etc", "exim4", "filter-arc.conf.example")

EXIT_STATUSES = ("0", "64", "65", "66", "70", "75", "78")
# Commands whose `--help` is not implemented (it exits 64, "unknown option --help"). The
# options on their line of `filter-arc --help` are still checked. When such a command
# gains a --help, its options are checked as well, and this list should be emptied.
KNOWN_WITHOUT_HELP = set()

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


# ---- rendering ---------------------------------------------------------------------------

def render(page):
    """The page as plain text, 200 columns wide, so that no synopsis line wraps."""
    if shutil.which("mandoc"):
        r = run(["mandoc", "-T", "ascii", "-O", "width=200", page])
    else:
        r = run(["groff", "-mdoc", "-Tascii", "-P-c", "-rLL=200n", page])
    if r.returncode != 0:
        fail(f"{page}: cannot render: {r.stderr.strip()}")
    return re.sub(r".\x08", "", r.stdout)


def lint(page):
    """mandoc -T lint at warning level, else groff warnings; both must be silent."""
    if shutil.which("mandoc"):
        r = run(["mandoc", "-T", "lint", "-W", "warning", page])
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or out:
            fail(f"mandoc -T lint {os.path.basename(page)}:\n{out}")
        return "mandoc -T lint"
    r = run(["groff", "-mdoc", "-z", "-ww", "-Tutf8", page])
    out = (r.stdout + r.stderr).strip()
    if out:
        fail(f"groff warnings for {os.path.basename(page)}:\n{out}")
    return "groff -ww"


def sections(text):
    """{SECTION NAME: [lines]} of a rendered page (section names are not indented)."""
    out, current = {}, None
    for line in text.split("\n"):
        if line and not line[0].isspace() and line.upper() == line and not line.startswith(
                ("FILTER-ARC", "filter-arc")):
            current = line.strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def indent(line):
    return len(line) - len(line.lstrip(" "))


def blocks(lines, level=None):
    """Split lines into (tag line, lines below it) at the smallest indentation."""
    nonblank = [ln for ln in lines if ln.strip()]
    if not nonblank:
        return []
    base = min(indent(ln) for ln in nonblank) if level is None else level
    out = []
    for ln in lines:
        if ln.strip() and indent(ln) == base:
            out.append((ln.strip(), []))
        elif out:
            out[-1][1].append(ln)
    return out


def options_in(text):
    """Every -x / --long-option in a text (not the dash inside filter-arc, check-config)."""
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", text))


# ---- filter-arc.8 ------------------------------------------------------------------------

def usage_lines(help_text):
    """{command ('' for the filter itself, '--help' for the help line): text} of the
    top-level --help; continuation lines belong to the command above them."""
    out, current = {}, None
    for line in help_text.split("\n"):
        m = re.match(r"^(?:usage:)?\s*filter-arc\s+(\S+)(.*)$", line)
        if m:
            word = m.group(1)
            current = word if re.match(r"^[a-z]", word) else (
                "--help" if word.startswith("--") else "")
            out[current] = out.get(current, "") + " " + m.group(2)
        elif current is not None and line.startswith(" "):
            out[current] += " " + line
        elif not line.strip() or line.startswith("Run "):
            current = None
    return out


def check_man8(filter_arc):
    text = render(MAN8)
    secs = sections(text)
    for name in ("SYNOPSIS", "COMMANDS", "EXIT STATUS", "EXIM", "OPENSMTPD", "LOGGING",
                 "FILES"):
        if name not in secs:
            fail(f"filter-arc.8 has no {name} section")
    synopsis, key = {}, None
    for line in secs.get("SYNOPSIS", []):
        m = re.match(r"^\s*filter-arc\s+(\S+)(.*)$", line)
        if m:
            word = m.group(1)
            key = word if re.match(r"^[a-z]", word) else ("--help" if word.startswith("--")
                                                          else "")
            synopsis[key] = synopsis.get(key, "") + " " + m.group(2)
        elif key is not None and line.strip():  # a wrapped entry
            synopsis[key] += " " + line
    commands = {}
    for tag, body in blocks(secs.get("COMMANDS", [])):
        word = tag.split()[0]
        key = "" if word == "filter-arc" else word
        commands[key] = (tag, body)

    top = run([filter_arc, "--help"])
    if top.returncode != 0:
        fail(f"filter-arc --help exited {top.returncode}")
    usage = usage_lines(top.stdout)
    if len(usage) < 3:
        fail(f"cannot read the commands of filter-arc --help:\n{top.stdout}")
    checked = 0
    for cmd, line in usage.items():
        wanted = options_in(line)
        if cmd not in ("", "--help"):
            r = run([filter_arc, cmd, "--help"])
            if r.returncode == 0:
                wanted |= options_in(r.stdout.replace(f"filter-arc {cmd}", ""))
            elif cmd in KNOWN_WITHOUT_HELP:
                print(f"note: `filter-arc {cmd} --help` exits {r.returncode} "
                      f"({(r.stdout + r.stderr).strip()})")
            else:
                fail(f"`filter-arc {cmd} --help` exits {r.returncode}: {r.stderr.strip()}")
        name = cmd or "(filter mode)"
        if cmd == "--help":
            for opt in wanted:
                checked += 1
                if opt not in synopsis.get("--help", ""):
                    fail(f"filter-arc.8 SYNOPSIS lacks {opt}")
                if opt not in commands:
                    fail(f"filter-arc.8 COMMANDS has no item {opt}")
            continue
        if cmd not in synopsis:
            fail(f"filter-arc.8 SYNOPSIS has no entry for {name}")
            continue
        if cmd not in commands:
            fail(f"filter-arc.8 COMMANDS has no item for {name}")
            continue
        syn_opts = options_in(synopsis[cmd])
        described = {ln.strip().split()[0] for ln in commands[cmd][1]
                     if ln.strip() and ln.strip().startswith("-")}
        for opt in sorted(wanted):
            checked += 1
            if opt not in syn_opts:
                fail(f"filter-arc.8 SYNOPSIS of {name} lacks {opt}")
            if opt not in described:
                fail(f"filter-arc.8 COMMANDS does not describe {opt} of {name}")
    print(f"filter-arc.8: {len(usage)} usage lines, {checked} options checked")

    status_tags = {tag.split()[0] for tag, _ in blocks(secs.get("EXIT STATUS", []))}
    for code in EXIT_STATUSES:
        if code not in status_tags:
            fail(f"filter-arc.8 EXIT STATUS lacks {code}")

    # The Exim lines are the tested snippets of the example, word for word.
    with open(EXIM_EXAMPLE, encoding="utf-8") as f:
        example = f.read()
    exim_text = {ln.strip() for ln in secs.get("EXIM", [])}
    snippets = re.findall(r"^# >>> (\S+)\n(.*?)^# <<< \1\n", example, re.M | re.S)
    if not snippets:
        fail(f"{EXIM_EXAMPLE} has no snippets")
    for name, body in snippets:
        for line in body.split("\n"):
            if line.strip() and not line.lstrip().startswith("#"):
                if line.strip() not in exim_text:
                    fail(f"filter-arc.8 EXIM lacks the line of snippet {name!r}: {line.strip()}")


# ---- filter-arc.toml.5 -------------------------------------------------------------------

def toml_settings(text):
    """[(table, key, value)] of TOML text; commented-out settings ("#key = ...") count."""
    out, table = [], ""
    for line in text.split("\n"):
        m = re.match(r"^#?\s?\[\[?([a-z][a-z0-9.-]*)\]\]?\s*(?:#.*)?$", line)
        if m:
            table = m.group(1)
            continue
        m = re.match(r"^#?([a-z][a-z0-9-]*)\s*=\s*(.*)$", line)
        if m:
            value = m.group(2)
            if not value.startswith('"'):
                value = value.split("#", 1)[0]
            else:
                value = re.match(r'^("(?:[^"\\]|\\.)*")', value).group(1) if re.match(
                    r'^"', value) else value
            out.append((table, m.group(1), value.strip()))
    return out


def man5_items():
    """{table: {key: item text}} of filter-arc.toml.5 ('' = top-level settings)."""
    text = render(MAN5)
    secs = sections(text)
    lines = secs.get("DESCRIPTION", [])
    out, table, item = {}, None, None
    nonblank = [ln for ln in lines if ln.strip()]
    sub_indent = min(indent(ln) for ln in nonblank) if nonblank else 0
    for ln in lines:
        if not ln.strip():
            continue
        if indent(ln) == sub_indent:
            head = ln.strip()
            table = "" if head.lower().startswith("top-level") else head.strip("[]")
            out.setdefault(table, {})
            item = None
            continue
        m = re.match(r"^\s+([a-z][a-z0-9-]*) = ", ln)
        if table is not None and m and indent(ln) == sub_indent + 2:
            item = m.group(1)
            out[table][item] = ""
            continue
        if table is not None and item is not None:
            out[table][item] += " " + ln.strip()
    return out


def read_schema(filter_arc):
    """[(table, key, type, default, allowed, doc)] of `check-config --schema`."""
    r = run([filter_arc, "check-config", "--schema"])
    if r.returncode != 0:
        fail(f"check-config --schema exited {r.returncode}: {r.stderr.strip()}")
        return []
    rows = [tuple(line.split("\t")) for line in r.stdout.split("\n") if line]
    for row in rows:
        if len(row) != 6:
            fail(f"check-config --schema: not 6 fields: {row!r}")
    return [row for row in rows if len(row) == 6]


def check_schema(filter_arc, items):
    """The schema table and the page name the same settings, with the same defaults."""
    schema = read_schema(filter_arc)
    if len(schema) < 30:
        fail(f"check-config --schema lists only {len(schema)} settings")
    known = set()
    for table, key, kind, default, _allowed, doc in schema:
        known.add((table, key))
        if not doc.strip():
            fail(f"schema: {table}.{key} has no description")
        if kind == "tables":  # [[seal.keys]]: a heading, its settings are entries of their own
            if f"{table}.{key}" not in items:
                fail(f"filter-arc.toml.5 has no heading [[{table}.{key}]] (schema)")
            continue
        text = items.get(table, {}).get(key)
        if text is None:
            fail(f"filter-arc.toml.5 has no item {key} under [{table or 'top-level'}] (schema)")
            continue
        if not default or default == '""' or default.startswith("["):
            continue
        if " ".join(default.split()) not in " ".join(text.split()):
            fail(f"filter-arc.toml.5: {key} does not give the default {default} (schema)")
    for table, keys in items.items():
        for key in keys:
            if (table, key) not in known:
                fail(f"filter-arc.toml.5 describes {key} under [{table or 'top-level'}], "
                     f"which is not in the schema table (filter/config/schema.cpp)")
    with open(TOML, encoding="utf-8") as f:
        for table, key, _ in toml_settings(f.read()):
            if (table, key) not in known:
                fail(f"etc/filter-arc.toml sets {key} under [{table or 'top-level'}], "
                     f"which is not in the schema table")
    print(f"schema: {len(schema)} settings, every one in filter-arc.toml.5 and back")


def check_man5(filter_arc):
    items = man5_items()
    check_schema(filter_arc, items)
    all_keys = {k for t in items.values() for k in t}
    with open(TOML, encoding="utf-8") as f:
        from_file = toml_settings(f.read())
    if len(from_file) < 10:
        fail(f"cannot read the settings of {TOML}")
    for table, key, _ in from_file:
        if key not in all_keys:
            fail(f"filter-arc.toml.5 has no item for {key} (etc/filter-arc.toml, [{table}])")
        if table and table not in items:
            fail(f"filter-arc.toml.5 has no heading [{table}]")

    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "s.example.org.key")
        r = run([filter_arc, "keygen", "--domain", "example.org", "--selector", "s",
                 "--out", key])
        if r.returncode != 0:
            fail(f"keygen for the check-config run failed: {r.stderr.strip()}")
            return
        conf = os.path.join(tmp, "seal.toml")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f'[seal]\ndomain = "example.org"\nselector = "s"\nkey = "{key}"\n')
        runs = [("defaults", [filter_arc, "check-config"]),
                ("with [seal]", [filter_arc, "check-config", "-c", conf])]
        checked = 0
        for name, cmd in runs:
            r = run(cmd)
            if r.returncode != 0:
                fail(f"check-config ({name}) exited {r.returncode}: {r.stderr.strip()}")
                continue
            for table, key_name, value in toml_settings(r.stdout):
                checked += 1
                text = items.get(table, {}).get(key_name)
                if text is None:
                    fail(f"filter-arc.toml.5 has no item {key_name} under "
                         f"[{table or 'top-level'}] (check-config, {name})")
                    continue
                # The default the program prints must be the one the page gives.
                if name == "with [seal]" and (table != "seal" or key_name == "default-domain"):
                    continue
                shown = value
                if value.startswith('"'):
                    shown = value  # the page quotes string defaults
                    if value == '""' or value.startswith('"('):
                        continue
                elif value.startswith("["):
                    continue
                if " ".join(shown.split()) not in " ".join(text.split()):
                    fail(f"filter-arc.toml.5: {key_name} does not give the default {value} "
                         f"(check-config, {name})")
        print(f"filter-arc.toml.5: {len(from_file)} settings of etc/filter-arc.toml, "
              f"{checked} of check-config checked")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} FILTER_ARC_BINARY", file=sys.stderr)
        return 2
    if not shutil.which("mandoc") and not shutil.which("groff"):
        print("SKIP: neither mandoc nor groff is installed (apt-get install mandoc)")
        return 77
    filter_arc = os.path.abspath(sys.argv[1])
    for page in (MAN8, MAN5):
        tool = lint(page)
    print(f"lint: {tool}")
    check_man8(filter_arc)
    check_man5(filter_arc)
    print(f"{len(failures)} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
