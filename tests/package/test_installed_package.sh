#!/bin/bash
# SPDX-License-Identifier: ISC
# The Debian package, end to end (issue 11), as root on Debian 12 or 13 (scripts/ci-trixie runs it
# in a Debian 13 root filesystem):
#   1. builds it with scripts/build-deb (unit tests included, unless DEB_BUILD_OPTIONS=nocheck);
#   2. lintian on the .changes (both .debs and the .buildinfo): no error-level tag;
#   3. installs it with `apt-get install ./filter-arc_*.deb`;
#   4. checks the layout: the program in /usr/libexec/opensmtpd, the link on the PATH, the
#      conffile, /etc/filter-arc/keys (0700, opensmtpd), the man pages, the docs, the shared
#      library dependencies, and that a key made as README.Debian says is usable by the filter's
#      user and by nobody else;
#   5. runs tests/e2e/test_filter_arc.py against the installed binary, with only
#      `proc-exec "filter-arc -c ..."` in smtpd.conf (FILTER_ARC_E2E_COMMAND=filter-arc);
#   5b. runs README.md's "Setting it up" blocks literally (tests/package/readme_steps.py: keygen,
#      the [seal] and [dns] servers edit, check-config and testkey, seal | verify, the smtpd.conf
#      filter line in a real smtpd), then restores the configuration;
#   6. purges it: every file it installed is gone, /etc/filter-arc too, and no filter-arc
#      process is left.
# Ends with "N passed, N failed" (one per check). Exit 0 all passed, 1 a check failed, 77 SKIP
# (not root, or not Debian). A package that was already installed is purged first.
# FILTER_ARC_PKG_KEEP=1 keeps the work directory and, on failure, the installed package;
# FILTER_ARC_PKG_DEBS=DIR tests the packages scripts/build-deb already put in DIR (no build).
#
#   sudo tests/package/test_installed_package.sh            (or: meson test --suite package,
#                                                             with meson setup -Dpackage_tests=true)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG=filter-arc
LIBEXEC_BIN=/usr/libexec/opensmtpd/filter-arc
BIN_LINK=/usr/bin/filter-arc
CONF=/etc/filter-arc/filter-arc.toml
KEYDIR=/etc/filter-arc/keys
FILTER_USER=opensmtpd
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

passed=0; failed=0
t_start=$(date +%s)
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL $*"; }
check() {  # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
to() {  # to FILE command...: runs command with its output in FILE
    local out=$1; shift
    "$@" >"$out" 2>&1
}
finish() {
    echo "package test took $(( $(date +%s) - t_start )) s"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: not root (dpkg and smtpd need root)"; exit 77; fi
if [ ! -x /usr/bin/dpkg ] || [ ! -x /usr/bin/apt-get ]; then echo "SKIP: not Debian"; exit 77; fi
missing=""
for tool in dpkg-buildpackage dh lintian fakeroot /usr/sbin/smtpd; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    bad "tools missing:$missing (scripts/setup: debhelper dpkg-dev lintian fakeroot opensmtpd)"
    finish
fi

filter_pids() {  # live processes running the packaged program (also after it was deleted)
    local d exe out=""
    for d in /proc/[0-9]*; do
        exe=$(readlink "$d/exe" 2>/dev/null) || continue
        case "$exe" in
            "$LIBEXEC_BIN"|"$LIBEXEC_BIN (deleted)") ;;
            *) continue ;;
        esac
        grep -q '^State:[[:space:]]*Z' "$d/status" 2>/dev/null && continue
        out="$out ${d#/proc/}"
    done
    echo "$out"
}

if [ -n "$(filter_pids)" ]; then
    bad "a filter-arc process is running already (pids:$(filter_pids)); stop its smtpd first"
    finish
fi
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv "not-installed"; then
    echo "note: $PKG is installed already; purging it first"
    apt-get purge -y -qq "$PKG" >/dev/null 2>&1 || dpkg --purge "$PKG"
fi

WORK=$(mktemp -d /tmp/filter-arc-pkgtest.XXXXXX)
chmod 0755 "$WORK"
installed=0
cleanup() {
    if [ "$installed" -eq 1 ] && [ -z "${FILTER_ARC_PKG_KEEP:-}" ]; then
        apt-get purge -y -qq "$PKG" >/dev/null 2>&1 || true
    fi
    if [ -n "${FILTER_ARC_PKG_KEEP:-}" ] || [ "$failed" -gt 0 ]; then
        echo "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- 1. build ------------------------------------------------------------------------------------
t0=$(date +%s)
if [ -n "${FILTER_ARC_PKG_DEBS:-}" ]; then
    echo "== build: skipped, testing the packages in FILTER_ARC_PKG_DEBS=$FILTER_ARC_PKG_DEBS"
    mkdir -p "$WORK/debs" && cp "$FILTER_ARC_PKG_DEBS"/*.deb "$FILTER_ARC_PKG_DEBS"/*.changes \
        "$FILTER_ARC_PKG_DEBS"/*.buildinfo "$WORK/debs/" && : >"$WORK/debs/build-deb.log" &&
        : >"$WORK/build-deb.out"
    build_rc=$?
else
    echo "== build: scripts/build-deb $WORK/debs"
    "$ROOT/scripts/build-deb" "$WORK/debs" >"$WORK/build-deb.out" 2>&1
    build_rc=$?
fi
if [ "$build_rc" -eq 0 ]; then
    ok "scripts/build-deb built the package in $(( $(date +%s) - t0 )) s"
    grep -E "^build-deb: " "$WORK/build-deb.out" | sed 's/^/     /'
    grep -E "^ *[0-9]+/[0-9]+ .*(OK|FAIL|SKIP)" "$WORK/debs/build-deb.log" | sed 's/^/     /'
else
    tail -n 60 "$WORK/build-deb.out"
    bad "scripts/build-deb failed"
    finish
fi
DEB=$(ls "$WORK"/debs/${PKG}_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$WORK"/debs/${PKG}_*.changes 2>/dev/null | head -n 1)
[ -n "$DEB" ] && [ -n "$CHANGES" ] || { bad "no ${PKG}_*.deb / .changes in $WORK/debs"; finish; }
version=$(dpkg-deb -f "$DEB" Version)
meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -n 1)
check "package version $version is the project's ($meson_version)" [ "$version" = "$meson_version" ]

# ---- 2. lintian ----------------------------------------------------------------------------------
echo "== lintian $(basename "$CHANGES")"
lintian --fail-on error --display-info --tag-display-limit 0 "$CHANGES" >"$WORK/lintian.out" 2>&1
lint_rc=$?
sed 's/^/     /' "$WORK/lintian.out"
lint_errors=$(grep -c '^E: ' "$WORK/lintian.out")
lint_warnings=$(grep -c '^W: ' "$WORK/lintian.out")
check "lintian: no error-level tag (errors $lint_errors, warnings $lint_warnings, exit $lint_rc)" \
    [ "$lint_rc.$lint_errors" = "0.0" ]

# ---- 3. install ----------------------------------------------------------------------------------
echo "== apt-get install $DEB"
if apt-get install -y "$DEB" >"$WORK/install.out" 2>&1; then
    installed=1
    ok "apt-get install ./$(basename "$DEB")"
else
    tail -n 30 "$WORK/install.out"
    bad "apt-get install failed"
    finish
fi
dpkg -L "$PKG" | sort >"$WORK/files.list"
echo "     installed files:"
while read -r f; do
    [ -d "$f" ] && [ ! -L "$f" ] && continue
    echo "       $(stat -c '%A %U:%G' "$f") $f$( [ -L "$f" ] && echo " -> $(readlink "$f")")"
done <"$WORK/files.list"
echo "       $(stat -c '%A %U:%G' "$KEYDIR") $KEYDIR/ (postinst)"
echo "       $(stat -c '%A %U:%G' /var/lib/filter-arc) /var/lib/filter-arc/ (postinst)"

# ---- 4. layout -----------------------------------------------------------------------------------
echo "== layout"
check "$LIBEXEC_BIN: an executable ELF file, root:root 0755" \
    bash -c '[ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c "%a %U:%G" "$1")" = "755 root:root" ] &&
             head -c 4 "$1" | grep -q ELF' _ "$LIBEXEC_BIN"
check "$BIN_LINK -> $LIBEXEC_BIN (a relative link)" \
    bash -c '[ -L "$1" ] && [ "$(readlink -f "$1")" = "$2" ] && case $(readlink "$1") in /*) false;; esac' \
    _ "$BIN_LINK" "$LIBEXEC_BIN"
check "filter-arc on the PATH reports version $meson_version" \
    bash -c 'env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin filter-arc --version 2>&1 | grep -qF "$1"' \
    _ "$meson_version"
check "smtpd resolves proc-exec names under /usr/libexec/opensmtpd (strings /usr/sbin/smtpd)" \
    bash -c 'grep -aqF "/usr/libexec/opensmtpd" /usr/sbin/smtpd'
check "/var/lib/filter-arc (statistics, postinst): 0755, owned by the filter's user" \
    bash -c '[ "$(stat -c "%a" /var/lib/filter-arc)" = 755 ] &&
             [ "$(stat -c "%U" /var/lib/filter-arc)" = opensmtpd ] ||
             ! getent passwd opensmtpd >/dev/null'
check "/run/filter-arc (pidfile for 'filter-arc reload'; tmpfiles.d and postinst): 0755, owned by the filter's user" \
    bash -c '[ -d /run/filter-arc ] && [ "$(stat -c "%a %U" /run/filter-arc)" = "755 opensmtpd" ] &&
             [ -f /usr/lib/tmpfiles.d/filter-arc.conf ] || ! getent passwd opensmtpd >/dev/null'
check "$CONF is a conffile, root:root 0644, the same as etc/filter-arc.toml" \
    bash -c 'dpkg-query -W -f="\${Conffiles}\n" "$1" | grep -qF " $2 " &&
             [ "$(stat -c "%a %U:%G" "$2")" = "644 root:root" ] && cmp -s "$2" "$3"' \
    _ "$PKG" "$CONF" "$ROOT/etc/filter-arc.toml"
check "$KEYDIR: a directory, mode 0700, owned by $FILTER_USER:$FILTER_USER" \
    bash -c '[ -d "$1" ] && [ "$(stat -c "%a %U:%G" "$1")" = "700 $2:$2" ]' _ "$KEYDIR" "$FILTER_USER"
check "man pages filter-arc(8) and filter-arc.toml(5) installed and found by man" \
    bash -c '[ -f /usr/share/man/man8/filter-arc.8.gz ] && [ -f /usr/share/man/man5/filter-arc.toml.5.gz ] &&
             man -w 8 filter-arc >/dev/null && man -w 5 filter-arc.toml >/dev/null'
check "man pages render (man -l; groff warnings are shown, not counted)" \
    bash -c 'for p in /usr/share/man/man8/filter-arc.8.gz /usr/share/man/man5/filter-arc.toml.5.gz; do
               MANWIDTH=80 man --warnings -l "$p" 2>"$1" | grep -q filter-arc || exit 1
               sed "s|^|     note: ${p##*/}: |" "$1"
             done' _ "$WORK/man-warnings.out"
check "README.Debian, copyright, changelog and the examples in /usr/share/doc/$PKG" \
    bash -c 'd=/usr/share/doc/$1; ls $d/README.Debian* $d/copyright $d/changelog* >/dev/null &&
             for e in inbound-mx.toml forwarder.toml mailing-list.toml filter-arc.conf.example; do
               ls $d/examples/$e* >/dev/null || exit 1; done' _ "$PKG"
# (Debian 13 names them libssl3t64 and libcares2.)
check "Depends (from shlibs) names libssl3 and libc-ares2 (libcares2 on Debian 13); ldd resolves every library" \
    bash -c 'dep=$(dpkg-query -W -f="\${Depends}" "$1"); echo "     Depends: $dep";
             echo "$dep" | grep -q libssl3 && echo "$dep" | grep -Eq "libc-?ares2" &&
             ! ldd "$2" | grep -q "not found"' _ "$PKG" "$LIBEXEC_BIN"
check "Recommends: opensmtpd | exim4" \
    bash -c '[ "$(dpkg-query -W -f="\${Recommends}" "$1")" = "opensmtpd | exim4" ]' _ "$PKG"
check "user $FILTER_USER: check-config -c $CONF (the installed default) passes" \
    to "$WORK/check-config.out" runuser -u "$FILTER_USER" -- "$BIN_LINK" check-config -c "$CONF"

# A sealing key made as README.Debian says: the filter's user can use it, nobody else can read it.
key="$KEYDIR/pkgtest.example.key"
cfg="$WORK/seal.toml"
{
    echo '[seal]'
    echo 'domain = "pkgtest.example"'
    echo 'selector = "pkgtest"'
    echo "key = \"$key\""
} >"$cfg"
chmod 0644 "$cfg"
if "$BIN_LINK" keygen --domain pkgtest.example --selector pkgtest --out "$key" >"$WORK/keygen.out" 2>&1 &&
   chown "$FILTER_USER:$FILTER_USER" "$key" && chmod 600 "$key"; then
    check "a key in $KEYDIR (README.Debian's steps) loads as $FILTER_USER (check-config with [seal])" \
        to "$WORK/check-seal.out" runuser -u "$FILTER_USER" -- "$BIN_LINK" check-config -c "$cfg"
    check "user nobody can neither list $KEYDIR nor read the key" \
        bash -c '! runuser -u nobody -- ls "$1" >/dev/null 2>&1 && ! runuser -u nobody -- cat "$2" >/dev/null 2>&1' \
        _ "$KEYDIR" "$key"
else
    cat "$WORK/keygen.out"
    bad "filter-arc keygen --out $key"
fi
rm -f "$key"

# The file trigger on /usr/sbin/smtpd (OpenSMTPD installed after filter-arc): an empty keys
# directory still root's goes to the filter's user; one that holds something is left alone.
chown root:root "$KEYDIR"
check "dpkg trigger /usr/sbin/smtpd: the empty root-owned $KEYDIR goes to $FILTER_USER" \
    bash -c 'dpkg-trigger --no-await /usr/sbin/smtpd && dpkg --triggers-only --pending >/dev/null &&
             [ "$(stat -c "%a %U:%G" "$1")" = "700 $2:$2" ]' _ "$KEYDIR" "$FILTER_USER"
chown root:root "$KEYDIR"
touch "$KEYDIR/admin.key"
check "dpkg trigger /usr/sbin/smtpd: a $KEYDIR that holds a file keeps its owner (root)" \
    bash -c 'dpkg-trigger --no-await /usr/sbin/smtpd && dpkg --triggers-only --pending >/dev/null &&
             [ "$(stat -c "%a %U:%G" "$1")" = "700 root:root" ]' _ "$KEYDIR"
rm -f "$KEYDIR/admin.key"
chown "$FILTER_USER:$FILTER_USER" "$KEYDIR"

# ---- 5. OpenSMTPD end to end against the installed binary ---------------------------------------
echo "== e2e: FILTER_ARC_E2E_COMMAND=filter-arc tests/e2e/test_filter_arc.py $BIN_LINK"
t0=$(date +%s)
FILTER_ARC_E2E_COMMAND=filter-arc /usr/bin/python3 "$ROOT/tests/e2e/test_filter_arc.py" "$BIN_LINK" \
    >"$WORK/e2e.out" 2>&1
e2e_rc=$?
sed 's/^/     /' "$WORK/e2e.out" | tail -n 60
e2e_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/e2e.out" | tail -n 1)
check "OpenSMTPD e2e with proc-exec \"filter-arc -c ...\": ${e2e_line:-no result} (exit $e2e_rc, $(( $(date +%s) - t0 )) s)" \
    [ "$e2e_rc" -eq 0 ]
check "the e2e run's smtpd ran $LIBEXEC_BIN for proc-exec \"filter-arc\"" \
    grep -qF "runs $LIBEXEC_BIN" "$WORK/e2e.out"
[ "$e2e_rc" -eq 0 ] || sed -n '/^---- smtpd log/,$p' "$WORK/e2e.out" | tail -n 40

# ---- 5b. README.md's "Setting it up", run literally (issue 20) -----------------------------------
echo "== README.md setup steps: tests/package/readme_steps.py"
t0=$(date +%s)
/usr/bin/python3 "$ROOT/tests/package/readme_steps.py" >"$WORK/readme.out" 2>&1
readme_rc=$?
sed 's/^/     /' "$WORK/readme.out" | tail -n 60
readme_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/readme.out" | tail -n 1)
check "README.md's setup steps, run as written: ${readme_line:-no result} (exit $readme_rc, $(( $(date +%s) - t0 )) s)" \
    [ "$readme_rc" -eq 0 ]
check "the README run put $CONF back and left no key in $KEYDIR" \
    bash -c 'cmp -s "$1" "$2" && [ -z "$(ls -A "$3")" ]' _ "$CONF" "$ROOT/etc/filter-arc.toml" "$KEYDIR"

# ---- 6. purge ------------------------------------------------------------------------------------
echo "== apt-get purge $PKG"
if apt-get purge -y "$PKG" >"$WORK/purge.out" 2>&1; then
    installed=0
    ok "apt-get purge $PKG"
else
    tail -n 30 "$WORK/purge.out"
    bad "apt-get purge failed"
fi
status=$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null)
check "dpkg no longer knows $PKG, not even its conffiles (status: ${status:-none})" \
    bash -c '[ -z "$1" ] || [ "$1" = "unknown ok not-installed" ]' _ "$status"
left=""
while read -r f; do
    case "$f" in /.|/etc|/usr|/usr/bin|/usr/lib|/usr/lib/tmpfiles.d|/usr/libexec|/usr/libexec/opensmtpd|/usr/share|/usr/share/doc|/usr/share/man|/usr/share/man/man5|/usr/share/man/man8) continue ;; esac
    if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done <"$WORK/files.list"
check "every file and directory the package installed is gone${left:+ (left:$left)}" [ -z "$left" ]
check "/etc/filter-arc (conffile and $KEYDIR) is gone" [ ! -e /etc/filter-arc ]
check "/var/lib/filter-arc (the statistics) is gone" [ ! -e /var/lib/filter-arc ]
check "/usr/libexec/opensmtpd (OpenSMTPD's) is still there" [ -x /usr/libexec/opensmtpd/mail.local ]
pids=$(filter_pids)
check "no filter-arc process is running${pids:+ (pids:$pids)}" [ -z "$pids" ]

# Private keys the administrator put in /etc/filter-arc/keys survive a purge (and are reported).
echo "== install again, leave a key in $KEYDIR, purge"
if apt-get install -y "$DEB" >"$WORK/install2.out" 2>&1; then
    installed=1
    touch "$KEYDIR/left.key"
    apt-get purge -y "$PKG" >"$WORK/purge2.out" 2>&1 && installed=0
    check "purge with a key in $KEYDIR: the key stays, everything else is gone, and it says so" \
        bash -c '[ -f "$1/left.key" ] && [ "$(ls -A /etc/filter-arc)" = keys ] &&
                 [ ! -e /usr/libexec/opensmtpd/filter-arc ] && grep -q "not empty" "$2"' \
        _ "$KEYDIR" "$WORK/purge2.out"
    rm -rf /etc/filter-arc
else
    tail -n 30 "$WORK/install2.out"
    bad "apt-get install (second time) failed"
fi

finish
