# shellcheck shell=bash
# Sourced by scripts/test and scripts/bench (not run directly). On a fresh Debian machine,
# as root, installs with apt-get what creating the venv and compiling the Cython kernel
# need, and only what is missing: python3, python3-venv, a C compiler and the Python
# headers (no compiler or headers when HTTPCORE_FAST_NO_EXTENSIONS is set). Extra Debian
# packages a caller needs can be passed as arguments (installed only if given).
#
#   install_system_deps PYTHON VENV_DIR [extra-package ...]

_apt_updated=0
apt_install() {
    [ "$(id -u)" -eq 0 ] || { echo "need root to apt-get install $*" >&2; return 1; }
    command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: install $* by hand" >&2; return 1; }
    export DEBIAN_FRONTEND=noninteractive
    if [ "$_apt_updated" -eq 0 ]; then
        echo "apt-get update" >&2
        apt-get update
        _apt_updated=1
    fi
    echo "apt-get install -y $*" >&2
    apt-get install -y --no-install-recommends "$@"
}

install_system_deps() {
    local python=$1 venv=$2
    shift 2
    local pkgs=("$@")
    command -v "$python" >/dev/null 2>&1 || pkgs+=(python3)
    if [ ! -x "$venv/bin/python" ]; then
        if ! command -v "$python" >/dev/null 2>&1 \
            || ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            pkgs+=(python3-venv)
        fi
    fi
    if [ -z "${HTTPCORE_FAST_NO_EXTENSIONS:-}" ]; then
        command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
        if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c \
            'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
            >/dev/null 2>&1; then
            pkgs+=(python3-dev)
        fi
    fi
    if [ "${#pkgs[@]}" -gt 0 ]; then
        apt_install "${pkgs[@]}"
    fi
}
