#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A strict checker of the Prometheus text exposition format (version 0.0.4), for the files
filter-arc writes for node_exporter's textfile collector ([stats] prometheus-file).

    prom_check.py FILE        exit 0: valid; 1: the first problems are printed

Debian's `promtool` (package prometheus, ~96 MB with the server) is too heavy for a test
dependency, so this checks what promtool's parser and `promtool check metrics` would, and more:
  * every line ends in LF; no empty lines; UTF-8;
  * comments are "# HELP name text" or "# TYPE name type" (type: counter, gauge, histogram,
    summary, untyped); at most one HELP and one TYPE per metric, both before its samples;
  * a sample is name[{label="value",...}] value [timestamp]; names match
    [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__";
    label values are double-quoted with only \\\\, \\" and \\n escapes; values parse as floats
    (or +Inf, -Inf, NaN);
  * the samples of one metric are contiguous, every sample has a TYPE and a HELP, no series
    (name plus label set) appears twice, no label name twice in one sample;
  * counters: the name ends in _total and the value is a finite number >= 0.
Standard library only; importable: check(text) returns the list of problems.
"""

import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return float("inf")
    if s == "-Inf":
        return float("-inf")
    if s == "NaN":
        return float("nan")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError(s)
    return float(s)


def parse_labels(s, i, where, problems):
    """Labels from s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            problems.append(f"{where}: bad label name at column {i + 1}")
            return None, i
        name = m.group(0)
        if name.startswith("__"):
            problems.append(f"{where}: reserved label name {name}")
        if name in labels:
            problems.append(f"{where}: label {name} twice")
        i = m.end()
        if s[i:i + 2] != '="':
            problems.append(f"{where}: expected =\" after label {name}")
            return None, i
        i += 2
        value = []
        while True:
            if i >= len(s):
                problems.append(f"{where}: unterminated label value")
                return None, i
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    problems.append(f"{where}: bad escape \\{e} in label value")
                    return None, i
                value.append({"n": "\n"}.get(e, e))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == "\n":
                problems.append(f"{where}: raw newline in label value")
                return None, i
            value.append(c)
            i += 1
        labels[name] = "".join(value)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        problems.append(f"{where}: expected , or }} after a label value")
        return None, i


def check(text):
    problems = []
    if text and not text.endswith("\n"):
        problems.append("the last line does not end in LF")
    helps, types, seen_series = {}, {}, set()
    done = set()      # metrics whose samples ended (another metric's came after)
    current = None
    for n, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"),
                             1):
        where = f"line {n}"
        if line == "":
            problems.append(f"{where}: empty line")
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (\S+) ?(.*)", line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    problems.append(f"{where}: malformed {line[2:6]} line")
                continue  # other comments are allowed
            kind, name, rest = m.groups()
            if not NAME.fullmatch(name):
                problems.append(f"{where}: bad metric name {name!r}")
            table = helps if kind == "HELP" else types
            if name in table:
                problems.append(f"{where}: second {kind} for {name}")
            if name in done or name == current:
                problems.append(f"{where}: {kind} for {name} after its samples")
            if kind == "TYPE" and rest not in TYPES:
                problems.append(f"{where}: unknown type {rest!r}")
            if kind == "HELP" and not rest:
                problems.append(f"{where}: empty HELP for {name}")
            table[name] = rest
            continue
        m = NAME.match(line)
        if not m:
            problems.append(f"{where}: bad metric name")
            continue
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, where, problems)
            if labels is None:
                continue
        rest = line[i:]
        if not rest.startswith(" "):
            problems.append(f"{where}: expected a space before the value")
            continue
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2) or (len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1])):
            problems.append(f"{where}: expected 'value [timestamp]', got {rest[1:]!r}")
            continue
        try:
            value = parse_value(parts[0])
        except ValueError:
            problems.append(f"{where}: bad value {parts[0]!r}")
            continue
        if name != current:
            if name in done:
                problems.append(f"{where}: samples of {name} are not contiguous")
            if current is not None:
                done.add(current)
            current = name
        if name not in types:
            problems.append(f"{where}: {name} has no TYPE line before it")
        if name not in helps:
            problems.append(f"{where}: {name} has no HELP line before it")
        if types.get(name) == "counter":
            if not name.endswith("_total"):
                problems.append(f"{where}: counter {name} does not end in _total")
            if not (value >= 0 and value != float("inf")):
                problems.append(f"{where}: counter {name} has value {parts[0]}")
        series = (name, tuple(sorted(labels.items())))
        if series in seen_series:
            problems.append(f"{where}: series {name}{labels} twice")
        seen_series.add(series)
    return problems


def main():
    if len(sys.argv) != 2:
        print("usage: prom_check.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"FAIL: not UTF-8: {e}")
        return 1
    problems = check(text)
    for p in problems[:20]:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
