#!/usr/bin/env python3
"""The dependency rule between folders (issue 16), checked on every #include of the sources.

Each folder may include only the folders listed for it; a pure folder includes no Boost.Asio,
c-ares, toml++ or file/clock/terminal header. Run: include_rules.py SOURCE_ROOT. Exit 1 on any
violation, with one line per violation.
"""
import os
import re
import sys

# Folder -> the folders it may include (itself implied). The core never includes filter/.
ALLOWED = {
    'text': [],
    'mail': ['text', 'dns'],
    'dkim': ['mail', 'text', 'dns'],
    'arc': ['mail', 'text', 'dns'],
    'spf': ['dns', 'text'],
    'dmarc': ['arc', 'mail', 'text', 'dns'],
    'dns': ['text'],
    'filter/pipeline': ['arc', 'dkim', 'mail', 'spf', 'dmarc', 'dns', 'text'],
    'filter/smtpd': ['filter/pipeline', 'arc', 'dkim', 'mail', 'spf', 'dmarc', 'dns', 'text'],
    'filter/exim': ['filter/pipeline', 'filter/config', 'filter/shell', 'filter/cli', 'arc', 'dkim', 'mail', 'spf',
                    'dmarc', 'dns', 'text'],
    'filter/config': ['filter/pipeline', 'filter/smtpd', 'arc', 'dkim', 'mail', 'spf', 'dmarc',
                      'dns', 'text'],
    'filter/shell': ['filter/pipeline', 'filter/smtpd', 'filter/config', 'arc', 'dkim', 'mail',
                     'spf', 'dmarc', 'dns', 'text'],
    'filter/cli': ['filter/pipeline', 'filter/smtpd', 'filter/config', 'filter/shell', 'arc',
                   'dkim', 'mail', 'spf', 'dmarc', 'dns', 'text'],
    'filter': ['filter/pipeline', 'filter/smtpd', 'filter/config', 'filter/shell', 'filter/exim',
               'filter/cli', 'arc', 'dkim', 'mail', 'spf', 'dmarc', 'dns', 'text'],
}
PURE = ['text', 'mail', 'dkim', 'arc', 'spf', 'dmarc', 'dns', 'filter/pipeline', 'filter/smtpd']
# The files of a pure folder that are its shell: dns/ talks to c-ares on Boost.Asio here.
SHELL_FILES = {'dns/ares_resolver.cpp', 'dns/ares_resolver.hpp', 'dns/lookup.cpp', 'dns/lookup.hpp',
               'dns/cache.hpp', 'dns/cache.cpp'}  # the cache reads the steady clock
IMPURE = re.compile(r'^(boost/|ares|toml\+\+/|fstream$|filesystem$|iostream$|ctime$|'
                    r'unistd\.h$|fcntl\.h$|poll\.h$|syslog\.h$|sys/|thread$|random$)')
# A pure folder may name durations (<chrono>) but never reads a clock.
CLOCK = re.compile(r'\b(?:steady_clock|system_clock|high_resolution_clock)::now\b|\btime\(nullptr\)')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_of(rel):
    d = os.path.dirname(rel)
    while d and d not in ALLOWED:
        d = os.path.dirname(d)
    return d or None


def check(root):
    problems = []
    checked = 0
    for top in ALLOWED:
        if '/' in top:
            continue
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if not name.endswith(('.cpp', '.hpp')):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                own = folder_of(rel)
                if own is None:
                    continue
                checked += 1
                allowed = set(ALLOWED[own]) | {own}
                with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
                    for lineno, line in enumerate(f, 1):
                        if own in PURE and rel not in SHELL_FILES and CLOCK.search(line):
                            problems.append(f'{rel}:{lineno}: pure {own}/ reads the clock')
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, path = m.groups()
                        if kind == '"':
                            target = folder_of(path)
                            if target is not None and target not in allowed:
                                problems.append(f'{rel}:{lineno}: {own}/ may not include {path}')
                        elif own in PURE and rel not in SHELL_FILES and IMPURE.match(path):
                            problems.append(f'{rel}:{lineno}: pure {own}/ includes <{path}>')
    return checked, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    checked, problems = check(root)
    for p in problems:
        print(p)
    print(f'include rules: {checked} files, {len(problems)} violations')
    if checked < 50:
        print('include rules: too few files found; wrong root?')
        return 1
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
