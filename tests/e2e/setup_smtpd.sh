#!/bin/sh
# SPDX-License-Identifier: ISC
# Root set-up the OpenSMTPD end-to-end tests need. Idempotent; smtpd_harness.py runs it by itself
# when the delivery user is missing, and .ci/run may run it explicitly after scripts/setup.
#
#   sudo tests/e2e/setup_smtpd.sh [--stop-system-smtpd]
#
# What it does:
#   1. checks that /usr/sbin/smtpd (Debian package `opensmtpd`, installed by scripts/setup) and
#      the users `opensmtpd`/`opensmtpq` made by its postinst exist;
#   2. creates the system user `arc-e2e` (no login shell; home /var/lib/arc-e2e, an empty
#      root-owned directory, because smtpd looks for ~/.forward and warns on a missing home)
#      that owns the test Maildirs:
#      OpenSMTPD's maildir delivery runs as a real user (getpwnam), and a recipient must resolve to
#      one, so every test action is `maildir "<workdir>/Maildir" user "arc-e2e"
#      virtual { "@" => "arc-e2e" }`;
#   3. never starts smtpd. If a system smtpd is running it says so (the harness refuses to run
#      next to it, because all instances share /var/spool/smtpd and /var/run/smtpd.sock); with
#      --stop-system-smtpd it stops and disables Debian's opensmtpd.service when systemd is PID 1.
set -eu
E2E_USER="${FILTER_ARC_E2E_USER:-arc-e2e}"
STOP=0
[ "${1:-}" = "--stop-system-smtpd" ] && STOP=1

if [ "$(id -u)" -ne 0 ]; then
    echo "setup_smtpd: must run as root" >&2
    exit 1
fi
if [ ! -x /usr/sbin/smtpd ]; then
    echo "setup_smtpd: /usr/sbin/smtpd missing: apt-get install --no-install-recommends opensmtpd" >&2
    exit 1
fi
for u in opensmtpd opensmtpq; do
    getent passwd "$u" >/dev/null || {
        echo "setup_smtpd: user $u missing (the opensmtpd postinst creates it)" >&2
        exit 1
    }
done

E2E_HOME="/var/lib/$E2E_USER"
if ! getent passwd "$E2E_USER" >/dev/null; then
    useradd --system --no-create-home --home-dir "$E2E_HOME" --shell /usr/sbin/nologin \
        --user-group --comment "filter-arc e2e test deliveries" "$E2E_USER"
    echo "setup_smtpd: created user $E2E_USER"
fi
if [ "$(getent passwd "$E2E_USER" | cut -d: -f6)" != "$E2E_HOME" ]; then
    usermod --home "$E2E_HOME" "$E2E_USER"
fi
mkdir -p "$E2E_HOME"
chown root:root "$E2E_HOME"
chmod 0755 "$E2E_HOME"

# A system smtpd (e.g. started by the postinst on a host whose policy-rc.d allows it)?
running=""
for d in /proc/[0-9]*; do
    exe=$(readlink "$d/exe" 2>/dev/null || true)
    [ "$exe" = /usr/sbin/smtpd ] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$d/status" 2>/dev/null || true)
    [ "$state" = Z ] && continue
    running="$running ${d#/proc/}"
done
if [ -n "$running" ]; then
    if [ "$STOP" -eq 1 ] && [ -d /run/systemd/system ]; then
        systemctl stop opensmtpd.service || true
        systemctl disable opensmtpd.service >/dev/null 2>&1 || true
        echo "setup_smtpd: stopped and disabled opensmtpd.service"
    else
        echo "setup_smtpd: WARNING: smtpd is running (pids:$running); the e2e tests refuse to run" \
             "next to it. Stop it (systemctl stop opensmtpd) or rerun with --stop-system-smtpd." >&2
    fi
fi
echo "setup_smtpd: ok (delivery user $E2E_USER)"
