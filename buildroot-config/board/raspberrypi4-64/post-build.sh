#!/bin/sh
# post-build.sh TARGET_DIR: Buildroot's BR2_ROOTFS_POST_BUILD_SCRIPT for the Raspberry Pi 4 box.
# The rootfs/ overlay is already in TARGET_DIR (BR2_ROOTFS_OVERLAY); these steps add what an
# overlay cannot: the systemd/ units and their preset, application slot A, the data mount
# point, the RAUC keyring, the image's version. Each step is a function, run in this order.
set -eu

target=${1:?usage: post-build.sh TARGET_DIR}
board_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$board_dir/../../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=meta
. "$board_dir/meta"

step() { echo ">>> wsmeasure post-build: $*"; }

install_units() {
  step "systemd/ units and preset"
  for f in "$repo"/systemd/*; do
    case $f in
      *.preset) install -D -m 0644 "$f" "$target/usr/lib/systemd/system-preset/${f##*/}" ;;
      *.service|*.mount|*.path|*.timer|*.socket|*.target) install -D -m 0644 "$f" "$target/usr/lib/systemd/system/${f##*/}" ;;
    esac
  done
}

apply_presets() {
  # Buildroot runs `systemctl preset-all` when it makes the file system; doing it for our units
  # here too makes the enabled set visible in TARGET_DIR right after this script
  systemctl=${HOST_DIR:+$HOST_DIR/bin/systemctl}
  if [ -z "$systemctl" ] || [ ! -x "$systemctl" ]; then
    step "presets: left to Buildroot's preset-all (no host systemctl)"
    return 0
  fi
  step "presets"
  for preset in "$target"/usr/lib/systemd/system-preset/*wsmeasure*.preset; do
    sed -n 's/^\(enable\|disable\)[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\2/p' "$preset" |
      while read -r unit; do
        if [ -e "$target/usr/lib/systemd/system/$unit" ]; then
          "$systemctl" --root="$target" preset "$unit"
        fi
      done
  done
}

make_app_slots() {
  # Slot A is a virtualenv over the system's Python: python-wsmeasure and its dependencies are
  # Buildroot packages in /usr/lib/python3.X/site-packages, which the venv sees
  # (include-system-site-packages); an application update installs a newer wsmeasure into the
  # other slot's own site-packages, which comes first. Slot B is empty until then.
  pyver=$(find "$target/usr/lib" -maxdepth 1 -name 'python3.*' | sed 's/.*python//' | head -n 1)
  [ -n "$pyver" ] || { echo "post-build: no python3 in $target/usr/lib" >&2; exit 1; }
  step "application slot A ($APP_DIR/slot-a, Python $pyver)"
  slot=$target$APP_DIR/slot-a
  rm -rf "$slot"
  mkdir -p "$slot/bin" "$slot/lib/python$pyver/site-packages" "$target$APP_DIR/slot-b"
  cat >"$slot/pyvenv.cfg" <<CFG
home = /usr/bin
include-system-site-packages = true
version = $pyver
CFG
  ln -s /usr/bin/python3 "$slot/bin/python3"
  ln -s python3 "$slot/bin/python"
  cat >"$slot/bin/wsmeasure" <<SCRIPT
#!$APP_DIR/slot-a/bin/python3
import sys
from wsmeasure.cli import main
sys.exit(main())
SCRIPT
  chmod 0755 "$slot/bin/wsmeasure"
  ln -sfn slot-a "$target$APP_DIR/current"
  mkdir -p "$target/usr/bin"
  ln -sfn "$APP_DIR/current/bin/wsmeasure" "$target/usr/bin/wsmeasure"
}

data_mount_point() {
  step "data partition mount point $DATA_DIR (label $DATA_LABEL)"
  mkdir -p "$target$DATA_DIR"
}

rauc_keyring() {
  # the CA certificate system bundles are checked against; without one RAUC refuses them all
  if [ -n "${RAUC_KEYRING:-}" ]; then
    step "RAUC keyring from $RAUC_KEYRING"
    install -D -m 0644 "$RAUC_KEYRING" "$target/etc/rauc/keyring.pem"
  elif [ ! -e "$target/etc/rauc/keyring.pem" ]; then
    step "RAUC keyring: none (set RAUC_KEYRING=cert.pem): this image refuses every system bundle"
  fi
}

image_version() {
  version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$repo/app/__init__.py")
  commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
  step "version $version ($commit)"
  mkdir -p "$target/etc/wsmeasure"
  printf 'wsmeasure %s (%s), Buildroot image for %s built %s\n' \
    "$version" "$commit" "$BOARD_COMPATIBLE" "$(date -u +%FT%TZ)" >"$target/etc/wsmeasure/image-version"
}

install_units
apply_presets
make_app_slots
data_mount_point
rauc_keyring
image_version
