#!/bin/sh
# post-image.sh BINARIES_DIR: Buildroot's BR2_ROOTFS_POST_IMAGE_SCRIPT for the Raspberry Pi 4 box:
# the SD card image (genimage.cfg: boot, root slots A and B, data WSM-DATA) and, given a signing
# key and certificate, the RAUC bundle of this root file system. Named steps, run in order.
set -eu

binaries=${1:?usage: post-image.sh BINARIES_DIR}
board_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=meta
. "$board_dir/meta"

step() { echo ">>> wsmeasure post-image: $*"; }

sdcard_image() {
  step "sdcard.img (genimage)"
  # Buildroot's wrapper: runs from Buildroot's top directory, paths from BINARIES_DIR/BUILD_DIR
  support/scripts/genimage.sh -c "$board_dir/genimage.cfg"
}

rauc_bundle() {
  if [ -z "${RAUC_KEY:-}" ] || [ -z "${RAUC_CERT:-}" ]; then
    step "RAUC bundle: skipped (set RAUC_KEY and RAUC_CERT to sign one)"
    return 0
  fi
  version=$(sed -n 's/^wsmeasure \([^ ]*\) .*/\1/p' "$TARGET_DIR/etc/wsmeasure/image-version")
  work=$(mktemp -d)
  cp "$binaries/rootfs.ext4" "$work/rootfs.ext4"
  cat >"$work/manifest.raucm" <<MANIFEST
[update]
compatible=$BOARD_COMPATIBLE
version=$version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
  bundle=$binaries/wsmeasure-$BOARD_NAME-$version.raucb
  rm -f "$bundle"
  step "RAUC bundle $bundle"
  "$HOST_DIR/bin/rauc" bundle --cert="$RAUC_CERT" --key="$RAUC_KEY" "$work" "$bundle"
  rm -rf "$work"
}

sdcard_image
rauc_bundle
