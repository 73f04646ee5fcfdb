#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The manual pages agree with the program and with the example configurations.

    /usr/bin/python3 tests/docs/man_test.py BUILD/filter/filter-arc

It checks the following:
  * `mandoc -T lint` finds no warning or error in packaging/man/filter-arc.8 and
    filter-arc.toml.5. Without mandoc, `groff -mdoc -z -ww` must print nothing.
  * filter-arc.8: every command in `filter-arc --help` has an entry in SYNOPSIS and under
    COMMANDS. Every option on its usage line, and every option that `filter-arc COMMAND
    --help` prints (usage and options), is in that entry and is described under that
    command; and back: every option of the command's SYNOPSIS and COMMANDS entry is in its
    --help. The exit statuses of each --help ("Exit status:") are the ones of the command's
    "Exit status:" sentence under COMMANDS, and each is under EXIT STATUS, as are 0, 64, 65,
    66, 70, 75 and 78. Every --help has an "Example:". Every line of the Exim snippets in
    etc/exim4/filter-arc.conf.example is under EXIM, word for word, and the Exim transport
    lines of packaging/debian/filter-arc.README.Debian are the example's.
  * README.md: every `filter-arc ...` command in its code blocks names an existing command
    and only options that the command's --help lists.
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
README = os.path.join(ROOT, "README.md")
README_DEBIAN = os.path.join(ROOT, "packaging", "debian", "filter-arc.README.Debian")

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
        if not line.strip() and out:
            break  # the synopsis block ends at the first blank line
        m = re.match(r"^(?:usage:)?\s*filter-arc\s+(\S+)(.*)$", line)
        if m:
            word = m.group(1)
            current = word if re.match(r"^[a-z]", word) else (
                "--help" if word.startswith("--") else "")
            # An option right after filter-arc ("[-c FILE]", "--help") belongs to the entry.
            rest = m.group(2) if current == word else " " + word + m.group(2)
            out[current] = out.get(current, "") + " " + rest
        elif current is not None and line.startswith(" "):
            out[current] += " " + line
        elif not line.strip() or line.startswith("Run "):
            current = None
    return out


def help_parts(text):
    """{"usage", "options", "exit", "example"} of a --help text: the synopsis block (up to
    the first blank line), then the blocks under "Options...:", "Exit status...:" and
    "Example...:" headings."""
    parts = {"usage": "", "options": "", "exit": "", "example": ""}
    current = "usage"
    for line in text.split("\n"):
        if current == "usage" and not line.strip() and parts["usage"]:
            current = None
            continue
        m = re.match(r"^(Options|Exit status|Example)\b[^:]*:\s*$", line)
        if m:
            current = {"Options": "options", "Exit status": "exit",
                       "Example": "example"}[m.group(1)]
            continue
        if current and not line.strip() and current != "usage":
            current = None
            continue
        if current:
            parts[current] += line + "\n"
    return parts


def help_codes(exit_text):
    """The exit statuses listed in a --help "Exit status:" block ("  75  text")."""
    return {m.group(1) for m in re.finditer(r"^\s+(\d{1,3})\s", exit_text, re.M)}


def man_codes(body_lines):
    """The exit statuses of the "Exit status: 0 ..., 64 ..." sentence of a COMMANDS entry."""
    text = " ".join(ln.strip() for ln in body_lines)
    m = re.search(r"Exit status:(.*?)\.(?:\s|$)", text)
    if not m:
        return None
    return set(re.findall(r"(?:^|,)\s*(\d{1,3})\s", m.group(1)))


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
            rest = m.group(2) if key == word else " " + word + m.group(2)
            synopsis[key] = synopsis.get(key, "") + " " + rest
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
    top_parts = help_parts(top.stdout)
    helps = {}  # command -> help_parts of its --help ("" = the filter mode: the overview)
    if not top_parts["example"].strip():
        fail("filter-arc --help has no Example:")
    for cmd, line in usage.items():
        wanted = options_in(line)
        if cmd == "":
            wanted |= options_in(top_parts["options"])
            helps[cmd] = top_parts
        if cmd not in ("", "--help"):
            r = run([filter_arc, cmd, "--help"])
            if r.returncode == 0:
                parts = help_parts(r.stdout)
                helps[cmd] = parts
                wanted |= options_in((parts["usage"] + parts["options"]).replace(
                    f"filter-arc {cmd}", ""))
                if not parts["example"].strip():
                    fail(f"`filter-arc {cmd} --help` has no Example:")
                if not help_codes(parts["exit"]):
                    fail(f"`filter-arc {cmd} --help` lists no exit status")
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
        described = set()
        for ln in commands[cmd][1]:
            if ln.strip().startswith("-"):
                described |= options_in(ln.strip().split()[0])
        for opt in sorted(wanted):
            checked += 1
            if opt not in syn_opts:
                fail(f"filter-arc.8 SYNOPSIS of {name} lacks {opt}")
            if opt not in described:
                fail(f"filter-arc.8 COMMANDS does not describe {opt} of {name}")
        # And back: what the page gives the command, its --help lists.
        for opt in sorted((syn_opts | described) - wanted):
            fail(f"filter-arc.8 gives {name} the option {opt}, which its --help does not list")
        checked += len(syn_opts | described)
    print(f"filter-arc.8: {len(usage)} usage lines, {checked} options checked both ways")

    status_tags = {tag.split()[0] for tag, _ in blocks(secs.get("EXIT STATUS", []))}
    for code in EXIT_STATUSES:
        if code not in status_tags:
            fail(f"filter-arc.8 EXIT STATUS lacks {code}")
    codes_checked = 0
    for cmd, parts in helps.items():
        name = cmd or "(filter mode)"
        in_help = help_codes(parts["exit"])
        in_man = man_codes(commands.get(cmd, ("", []))[1])
        if in_man is None:
            fail(f"filter-arc.8 COMMANDS entry of {name} has no 'Exit status:' sentence")
            continue
        codes_checked += len(in_help)
        if in_help != in_man:
            fail(f"exit status of {name}: --help lists {sorted(in_help, key=int)}, "
                 f"filter-arc.8 {sorted(in_man, key=int)}")
        for code in sorted(in_help - status_tags, key=int):
            fail(f"filter-arc.8 EXIT STATUS lacks {code} ({name} --help lists it)")
    print(f"exit status: {len(helps)} commands, {codes_checked} codes, --help = filter-arc.8")
    check_readme(filter_arc, usage, helps)

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
    # README.Debian shows the transport snippet (issue 20: it lacked rcpt=): the same lines.
    with open(README_DEBIAN, encoding="utf-8") as f:
        debian = {ln.strip() for ln in f.read().split("\n")}
    for name, body in snippets:
        if name != "transport":
            continue
        for line in body.split("\n"):
            if line.strip() and not line.lstrip().startswith("#") and line.strip() not in debian:
                fail(f"README.Debian lacks the line of the Exim snippet {name!r}: {line.strip()}")


def readme_commands(text):
    """[(command, argument text)] of every `filter-arc ...` in README.md's fenced code blocks.
    A line holding filter-arc starts a command; an indented line without one continues it
    (a usage summary's wrapped line, or a shell line continued with a backslash). The
    command ends at a shell operator or a comment. Blocks marked ```text hold output."""
    out = []
    for lang, block in re.findall(r"^```([a-z]*)\n(.*?)^```", text, re.M | re.S):
        if lang == "text":
            continue
        current = None
        for line in block.split("\n"):
            m = re.search(r"(?<![\w/.-])filter-arc(?![\w.-])(.*)$", line)
            if m:
                current = [m.group(1)]
                out.append(current)
            elif current is not None and line[:1].isspace() and line.strip():
                current.append(line)
            else:
                current = None
    commands = []
    for parts in out:
        words = " ".join(parts).split()
        cmd = ""
        if words and re.match(r"^[a-z]", words[0]):
            cmd = words.pop(0)
        args = []
        for w in words:
            if w in ("|", ";", "&&", "||", ">", ">>", "<") or w.startswith("#"):
                break
            args.append(w.strip('"'))
        commands.append((cmd, " ".join(args)))
    return commands


def check_readme(filter_arc, usage, helps):
    """README.md's commands name existing commands and options their --help lists."""
    with open(README, encoding="utf-8") as f:
        commands = readme_commands(f.read())
    if len(commands) < 5:
        fail(f"README.md: only {len(commands)} filter-arc commands found in its code blocks")
    for cmd, args in commands:
        if cmd not in helps:
            fail(f"README.md runs `filter-arc {cmd}`, which is not a command of --help")
            continue
        allowed = options_in(helps[cmd]["usage"] + helps[cmd]["options"]) | {"--help", "-h"}
        if cmd == "":
            allowed |= options_in(usage.get("--help", ""))
        for opt in sorted(options_in(args) - allowed):
            fail(f"README.md: `filter-arc {cmd} {args}` uses {opt}, which "
                 f"`filter-arc {cmd or ''} --help` does not list".replace("  ", " "))
    print(f"README.md: {len(commands)} filter-arc commands, every option in its --help")


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
