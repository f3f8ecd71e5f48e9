#!/usr/bin/env bash
# Install the third-party SIP peers of the interop tests (Debian/Ubuntu):
# kamailio (+ its TLS module), sipsak, SIPp (package sip-tester) and openssl,
# and the Monitoring::Plugin Perl modules (libmonitoring-plugin-perl), the real
# perfdata and threshold parser the Nagios output tests check against.
# Idempotent: a machine that has them all pays for no apt-get update.
# Exits non-zero when something is still missing afterwards.
set -euo pipefail

# command that proves the package is there -> Debian package providing it
have_kamailio() { command -v kamailio >/dev/null 2>&1; }
have_tls_module() { dpkg -s kamailio-tls-modules >/dev/null 2>&1; }
have_sipsak() { command -v sipsak >/dev/null 2>&1; }
have_sipp() { command -v sipp >/dev/null 2>&1; }
have_openssl() { command -v openssl >/dev/null 2>&1; }
have_monitoring_plugin() { perl -MMonitoring::Plugin::Performance -MMonitoring::Plugin::Threshold -e 1 >/dev/null 2>&1; }

missing=()
have_kamailio || missing+=(kamailio)
have_tls_module || missing+=(kamailio-tls-modules)
have_sipsak || missing+=(sipsak)
have_sipp || missing+=(sip-tester)
have_openssl || missing+=(openssl)
have_monitoring_plugin || missing+=(libmonitoring-plugin-perl)

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "interop peers present: kamailio, kamailio-tls-modules, sipsak, sipp, openssl," \
        "libmonitoring-plugin-perl"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing ${missing[*]} and there is no apt-get: install them by hand" >&2
    exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "missing ${missing[*]}: run this script as root (no sudo here)" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# The Debian package may start a system-wide kamailio on port 5060 under
# systemd. The tests start their own on free ports; one we just installed
# should not keep running behind their back.
if [[ " ${missing[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-active --quiet kamailio 2>/dev/null; then
    echo "stopping and disabling the kamailio service the package started"
    "${sudo[@]}" systemctl stop kamailio || true
    "${sudo[@]}" systemctl disable kamailio || true
fi

status=0
have_kamailio || { echo "kamailio still missing" >&2; status=1; }
have_tls_module || { echo "kamailio-tls-modules still missing" >&2; status=1; }
have_sipsak || { echo "sipsak still missing" >&2; status=1; }
have_sipp || { echo "sipp still missing" >&2; status=1; }
have_openssl || { echo "openssl still missing" >&2; status=1; }
have_monitoring_plugin || { echo "libmonitoring-plugin-perl still missing" >&2; status=1; }
exit "$status"
