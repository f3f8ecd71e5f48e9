#!/usr/bin/env bash
# Install what the tests run besides Python (Debian/Ubuntu): the third-party SIP
# peers of the interop tests, kamailio (+ its TLS module), ejabberd with its SIP
# library (erlang-p1-sip), sipsak, SIPp (package sip-tester), baresip
# (baresip-core, without the GUI), linphonec (linphone-cli) and openssl, and the
# shells the completion scripts are tested in, zsh and fish (bash is already
# there: it runs this script), and the Monitoring::Plugin Perl modules
# (libmonitoring-plugin-perl), the real perfdata and threshold parser the
# Nagios output tests check against, and tshark, which checks the captures
# `--pcap` writes and reads the test captures independently of sipcheck (its
# debconf question, whether non-root users may capture, is answered no).
# Idempotent: a machine that has them all pays for no apt-get update.
# Exits non-zero when something is still missing afterwards.
set -euo pipefail

# command that proves the package is there -> Debian package providing it
have_kamailio() { command -v kamailio >/dev/null 2>&1; }
have_tls_module() { dpkg -s kamailio-tls-modules >/dev/null 2>&1; }
have_sipsak() { command -v sipsak >/dev/null 2>&1; }
have_sipp() { command -v sipp >/dev/null 2>&1; }
have_baresip() { command -v baresip >/dev/null 2>&1; }
have_linphonec() { command -v linphonec >/dev/null 2>&1; }
have_openssl() { command -v openssl >/dev/null 2>&1; }
have_zsh() { command -v zsh >/dev/null 2>&1; }
have_fish() { command -v fish >/dev/null 2>&1; }
have_ejabberd() { dpkg -s ejabberd >/dev/null 2>&1 && command -v erl >/dev/null 2>&1; }
have_p1_sip() { dpkg -s erlang-p1-sip >/dev/null 2>&1; }

# Debian's ejabberd enables ejabberd.service, which needs epmd.service, and
# erlang-base enables epmd.socket (port 4369 on every address). Where systemd
# runs, or through /etc/init.d where no policy-rc.d forbids it, the package
# starts a system ejabberd (ejabberd@localhost, ports 5222/5269/5280/5443...).
# The tests start private ones without Erlang distribution, so the system one
# must neither run nor start at boot. $1 = 1: also epmd, because erlang-base
# came with ejabberd just now and so nothing else can be relying on it.
quiet_system_ejabberd() {
    local units=(ejabberd.service)
    [[ ${1:-0} -eq 1 ]] && units+=(epmd.socket epmd.service)
    if [[ -d /run/systemd/system ]]; then
        echo "stopping and disabling ${units[*]} of the Debian packages"
        "${sudo[@]}" systemctl disable --now "${units[@]}" || true
    elif command -v systemctl >/dev/null 2>&1; then
        # no systemd running (a container): only remove the enablement links
        "${sudo[@]}" systemctl disable "${units[@]}" >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then
        "${sudo[@]}" update-rc.d ejabberd disable >/dev/null 2>&1 || true
    fi
    # started by its init script: the package's node runs as user ejabberd
    if pgrep -u ejabberd -x beam.smp >/dev/null 2>&1; then
        echo "stopping the system ejabberd the package started"
        "${sudo[@]}" /etc/init.d/ejabberd stop || true
    fi
    if [[ ${1:-0} -eq 1 ]] && pgrep -u ejabberd -x epmd >/dev/null 2>&1; then
        "${sudo[@]}" epmd -kill >/dev/null 2>&1 || true
    fi
}

system_ejabberd_active() {
    pgrep -u ejabberd -x beam.smp >/dev/null 2>&1 && return 0
    command -v systemctl >/dev/null 2>&1 || return 1
    systemctl is-enabled --quiet ejabberd.service 2>/dev/null \
        || { [[ -d /run/systemd/system ]] && systemctl is-active --quiet ejabberd.service; }
}
have_tshark() { command -v tshark >/dev/null 2>&1; }
have_monitoring_plugin() {
    perl -MMonitoring::Plugin::Performance -MMonitoring::Plugin::Threshold -e 1 >/dev/null 2>&1
}

missing=()
have_kamailio || missing+=(kamailio)
have_tls_module || missing+=(kamailio-tls-modules)
have_sipsak || missing+=(sipsak)
have_sipp || missing+=(sip-tester)
have_baresip || missing+=(baresip-core)
have_linphonec || missing+=(linphone-cli)
have_openssl || missing+=(openssl)
have_ejabberd || missing+=(ejabberd)
have_p1_sip || missing+=(erlang-p1-sip)
have_zsh || missing+=(zsh)
have_fish || missing+=(fish)
have_monitoring_plugin || missing+=(libmonitoring-plugin-perl)
have_tshark || missing+=(tshark)

sudo=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "test dependencies present: kamailio, kamailio-tls-modules, ejabberd, erlang-p1-sip," \
        "sipsak, sipp, baresip, linphonec, openssl, zsh, fish, libmonitoring-plugin-perl, tshark"
    if system_ejabberd_active; then
        quiet_system_ejabberd 0
    fi
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing ${missing[*]} and there is no apt-get: install them by hand" >&2
    exit 1
fi

if [[ $(id -u) -ne 0 && ${#sudo[@]} -eq 0 ]]; then
    echo "missing ${missing[*]}: run this script as root (no sudo here)" >&2
    exit 1
fi

had_erlang_base=0
dpkg -s erlang-base >/dev/null 2>&1 && had_erlang_base=1

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]} " == *" tshark "* ]] && command -v debconf-set-selections >/dev/null 2>&1; then
    echo "wireshark-common wireshark-common/install-setuid boolean false" \
        | "${sudo[@]}" debconf-set-selections
fi
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
if [[ " ${missing[*]} " == *" ejabberd "* ]]; then
    quiet_system_ejabberd $((1 - had_erlang_base))
fi

status=0
have_kamailio || { echo "kamailio still missing" >&2; status=1; }
have_tls_module || { echo "kamailio-tls-modules still missing" >&2; status=1; }
have_sipsak || { echo "sipsak still missing" >&2; status=1; }
have_sipp || { echo "sipp still missing" >&2; status=1; }
have_baresip || { echo "baresip still missing" >&2; status=1; }
have_linphonec || { echo "linphonec still missing" >&2; status=1; }
have_openssl || { echo "openssl still missing" >&2; status=1; }
have_ejabberd || { echo "ejabberd still missing" >&2; status=1; }
have_p1_sip || { echo "erlang-p1-sip still missing" >&2; status=1; }
have_zsh || { echo "zsh still missing" >&2; status=1; }
have_fish || { echo "fish still missing" >&2; status=1; }
have_monitoring_plugin || { echo "libmonitoring-plugin-perl still missing" >&2; status=1; }
have_tshark || { echo "tshark still missing" >&2; status=1; }
exit "$status"
