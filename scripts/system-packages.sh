#!/usr/bin/env bash
# Install Debian packages that are missing, saying what and why.
# usage: scripts/system-packages.sh [--required] PACKAGE...
# With --required a package that cannot be installed is an error; without, a warning.
set -uo pipefail
required=0
if [ "${1:-}" = "--required" ]; then required=1; shift; fi
missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "system packages missing: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get is not available: install ${missing[*]} with your system's package manager." >&2
  [ $required -eq 1 ] && exit 1 || exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "not root and no password-less sudo: run 'sudo apt-get install ${missing[*]}' yourself." >&2
  [ $required -eq 1 ] && exit 1 || exit 0
fi
echo "installing with apt-get: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || true
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/resettle-apt.log 2>&1; then
  echo "apt-get install failed (see /tmp/resettle-apt.log):" >&2
  tail -n 20 /tmp/resettle-apt.log >&2
  [ $required -eq 1 ] && exit 1 || exit 0
fi
echo "installed: ${missing[*]}"
