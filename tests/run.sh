#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian or Ubuntu machine, then runs them (extra
# arguments go to pytest). Debian tools are real peers of the tests: curl as an FTP client,
# mbpoll as a Modbus TCP client, LibreOffice to open the CSV history.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in python3-venv curl mbpoll libreoffice-calc-nogui chromium poppler-utils shellcheck systemd python3-seccomp mmdebstrap qemu-system-x86 e2fsprogs fdisk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
