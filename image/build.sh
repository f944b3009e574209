#!/usr/bin/env bash
# Builds the Debian image of wsmeasure (issue 7): the system and data file systems, and the
# kernel and initrd that boot them in QEMU (-kernel/-initrd). flash.sh puts the two file
# systems in a partitioned image file or on a device; docs/image.md tells the whole story.
#
#   image/build.sh [--out DIR] [--cache DIR] [--test-installation]
#
#   --out DIR             where the images go (default $WSMEASURE_IMAGE_OUT, else CACHE/out)
#   --cache DIR           base root tarballs and dependency wheels (default
#                         $WSMEASURE_IMAGE_CACHE, else ~/.cache/wsmeasure-image)
#   --test-installation   the QEMU test image: config.db declares simulated EMDX3 meters on the
#                         RS485 port, polls every 2 s and switches Modbus TCP on
#
# Output: DIR/system.ext4 (label WSM-SYSTEM), DIR/data.ext4 (label WSM-DATA, mounted at
# /var/lib/wsmeasure), DIR/vmlinuz and DIR/vmlinux (the same kernel, uncompressed: QEMU boots
# it faster), DIR/initrd.img, DIR/cmdline (kernel command line),
# DIR/config.db (a copy of the data partition's: it names the devices the host simulates),
# DIR/build.txt.
# Steps: base root (mmdebstrap, cached by the hash of image/packages and image/base.sh), then
# on an unpacked copy: rootfs/ overlay, systemd/ units and preset, the wsmeasure user,
# application slot A (a virtualenv installed from wheels built here: the image has no network),
# the update keys, the test image's config.db, then mkfs.ext4 -d (no loop mounts).
# Needs root (chroot, file ownership): it re-runs itself with sudo -n when it can.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${WSMEASURE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsmeasure-image}
out=${WSMEASURE_IMAGE_OUT:-}
test_installation=""
python=${WSMEASURE_PYTHON:-$repo/.venv/bin/python}   # builds the wheels on this machine

SYSTEM_LABEL=WSM-SYSTEM
DATA_LABEL=WSM-DATA
DATA_MB=${WSMEASURE_DATA_MB:-128}     # the data partition of an image file (a device: all the rest)
SLOT_ROOM_MB=160                      # free room on the system partition for the second slot
APP=/opt/wsmeasure
CMDLINE="root=LABEL=$SYSTEM_LABEL rw console=ttyS0 quiet"

while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --test-installation) test_installation=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$cache/out}

if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then
    exec sudo -n env WSMEASURE_PYTHON="$python" "$0" --out "$out" --cache "$cache" ${test_installation:+--test-installation}
  fi
  echo "build.sh: needs root (mmdebstrap, chroot, owners of the image's files): run it as root or with sudo" >&2
  exit 1
fi

now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $(( t / 1000 )); }
started=$(now_ms)
step() { local ms=$(( $(now_ms) - started )); printf '[%4d.%d s] %s\n' $(( ms / 1000 )) $(( ms % 1000 / 100 )) "$*"; }

mkdir -p "$cache" "$out"
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# Run a command in the image root: own mount namespace (/dev, /proc gone when it ends), clean
# environment (none of this machine's pip settings).
in_root() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private -- /bin/sh -ec '
    root=$1; shift
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 "$@"' in_root "$root" "$@"
}

# -- the base root, cached ----------------------------------------------------------------------
key=$(cat "$here/packages" "$here/base.sh" | sha256sum | cut -c1-16)
base=$cache/base-$key.tar
if [ ! -s "$base" ]; then
  step "base root: mmdebstrap (not cached yet: $base)"
  "$here/base.sh" "$cache/base-$key.part.tar"
  mv "$cache/base-$key.part.tar" "$base"
  find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-$key.tar" -delete   # older recipes
fi
step "base root $base"
mkdir "$root"
tar --numeric-owner -xpf "$base" -C "$root"

# -- wheels of wsmeasure and its dependencies, built on this machine --------------------------
# From a copy of the sources, so that the repo gets no build/ of root's. Dependencies are kept
# in CACHE/wheels: the network is needed only when setup.cfg asks for a release not there yet.
step "wheels"
wheelhouse=$cache/wheels
mkdir -p "$work/src" "$work/wheels" "$wheelhouse"
cp -a "$repo/setup.cfg" "$repo/pyproject.toml" "$repo/README.md" "$repo/app" "$repo/drivers" "$repo/web" "$work/src/"
wheel() { "$python" -m pip wheel -q --disable-pip-version-check --no-index --find-links "$wheelhouse" -w "$work/wheels" "$work/src"; }
if ! wheel 2>"$work/wheel.log"; then
  step "wheels: fetching dependencies into $wheelhouse (network)"
  "$python" -m pip download -q --disable-pip-version-check -d "$wheelhouse" "setuptools>=68" wheel
  "$python" -m pip wheel -q --disable-pip-version-check -w "$wheelhouse" "$work/src"
  rm -f "$wheelhouse"/wsmeasure-*.whl
  wheel
fi

# -- overlay, units, user -------------------------------------------------------------------------
step "rootfs/ overlay and systemd/ units"
cp -a --no-preserve=ownership "$repo/rootfs/." "$root/"
units=$root/usr/lib/systemd/system
for f in "$repo"/systemd/*; do
  case $f in
    *.preset) install -D -m 0644 "$f" "$root/usr/lib/systemd/system-preset/$(basename "$f")" ;;
    *.md|*.txt|*README*) ;;
    *) cp -a --no-preserve=ownership "$f" "$units/" ;;
  esac
done
# each unit a preset names (globs expanded over the unit files there are) gets its preset, one
# after the other in the file's order: a unit's Also= (networkd's wait-online) must not undo a
# later "disable" line
for p in "$repo"/systemd/*.preset "$repo"/rootfs/usr/lib/systemd/system-preset/*.preset "$repo"/rootfs/etc/systemd/system-preset/*.preset; do
  [ -f "$p" ] || continue
  while read -r verb pattern _; do
    case $verb in enable|disable) ;; *) continue ;; esac
    for u in "$units"/$pattern "$root"/etc/systemd/system/$pattern; do
      [ -e "$u" ] && systemctl --root="$root" --quiet preset "$(basename "$u")"
    done
  done <"$p"
done

step "user wsmeasure"
systemd-sysusers --root="$root"   # rootfs/usr/lib/sysusers.d/wsmeasure.conf: the user, in dialout
uid=$(awk -F: '$1 == "wsmeasure" {print $3 ":" $4}' "$root/etc/passwd")

# -- application slot A ------------------------------------------------------------------------
step "application slot A: $APP/slot-a"
mkdir -p "$root/tmp/wheels"
cp "$work"/wheels/*.whl "$root/tmp/wheels/"
in_root python3 -m venv "$APP/slot-a"
in_root "$APP/slot-a/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check \
  --no-index --find-links /tmp/wheels wsmeasure
rm -rf "$root/tmp/wheels"
ln -sfn slot-a "$root$APP/current"
ln -sfn "$APP/current/bin/wsmeasure" "$root/usr/local/bin/wsmeasure"
# The update keys the box trusts: rootfs/etc/wsmeasure/update-keys/*.pub when the repo has a
# release key; else a throw-away pair kept in CACHE (never in the repo), the same for every
# build, whose secret half signs test bundles for this image (docs/update.md, docs/image.md).
keys=$root/etc/wsmeasure/update-keys
if ! ls "$keys"/*.pub >/dev/null 2>&1; then
  if [ ! -s "$cache/update.key" ]; then
    in_root "$APP/current/bin/python" -m wsmeasure.bundle keygen --out /tmp/update.key >/dev/null
    mv "$root/tmp/update.key" "$root/tmp/update.key.pub" "$cache/"
  fi
  install -D -m 0644 "$cache/update.key.pub" "$keys/image-build.pub"
fi
version=$(in_root "$APP/current/bin/python" -c 'import wsmeasure; print(wsmeasure.__version__)')
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
mkdir -p "$root/etc/wsmeasure"
printf 'wsmeasure %s (%s), Debian image built %s\n' "$version" "$commit" "$(date -u +%FT%TZ)" >"$root/etc/wsmeasure/image-version"

# -- the data partition ---------------------------------------------------------------------------
# Empty but for its owner: on the first start the daemon's unit writes the factory settings
# (rootfs/etc/wsmeasure). The test image gets its config.db now, written by the image's own
# wsmeasure: the factory settings, as the unit would write them (their RS485 port, ttyRS485, is
# the name the udev rule gives the UART QEMU emulates), then the simulated devices on it.
mkdir "$root/tmp/data"
if [ -n "$test_installation" ]; then
  step "data partition: test installation's config.db"
  cp "$here/configure.py" "$root/tmp/configure.py"
  in_root /usr/libexec/wsmeasure/factory-settings /etc/wsmeasure/factory.conf /tmp/data | tee "$work/configure.log"
  rs485=$(sed -n 's/^factory-settings: serial.port = //p' "$work/configure.log")
  in_root "$APP/current/bin/python" /tmp/configure.py /tmp/data | tee -a "$work/configure.log"
  rm "$root/tmp/configure.py"
  install -m 0644 "$here/boot-report.service" "$root/etc/systemd/system/"
  systemctl --root="$root" --quiet enable boot-report.service
fi
mv "$root/tmp/data" "$work/data"
chown -R "$uid" "$work/data"

# -- kernel, initrd, file systems ------------------------------------------------------------------
step "kernel, initrd, mkfs.ext4"
new=$work/out
mkdir "$new"
kernels=("$root"/boot/vmlinuz-*)
kernel=${kernels[-1]}
cp "$kernel" "$new/vmlinuz"
# QEMU boots the uncompressed kernel (vmlinux, an ELF with a PVH entry point) without firmware
# and decompressor: about 7 s less under software emulation than the xz-compressed vmlinuz.
# The initrd decompressed too: the kernel unpacks it on the boot's critical path.
python3 -c '
import lzma, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"\xfd7zXZ\x00")
if at >= 0:
    open(sys.argv[2], "wb").write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[at:]))
' "$kernel" "$new/vmlinux"
[ -s "$new/vmlinux" ] || rm -f "$new/vmlinux" "$out/vmlinux"   # not an xz kernel: vmlinuz only
initrd=$root/boot/initrd.img-${kernel##*/vmlinuz-}
if gzip -t "$initrd" 2>/dev/null; then zcat "$initrd" >"$new/initrd.img"; else cp "$initrd" "$new/initrd.img"; fi
echo "$CMDLINE" >"$new/cmdline"
used_mb=$(du -sm "$root" | cut -f1)
system_mb=$(( used_mb * 5 / 4 + SLOT_ROOM_MB ))
mkfs.ext4 -q -F -L "$SYSTEM_LABEL" -d "$root" "$new/system.ext4" "${system_mb}M" >/dev/null
mkfs.ext4 -q -F -L "$DATA_LABEL" -d "$work/data" "$new/data.ext4" "${DATA_MB}M" >/dev/null
if [ -n "$test_installation" ]; then
  cp "$work/data/config.db" "$new/config.db"   # a copy, for the host's simulated devices (simsocket)
else
  rm -f "$out/config.db"
fi
{
  cat "$root/etc/wsmeasure/image-version"
  echo "base $(basename "$base"), kernel ${kernel##*/}"
  echo "system.ext4 ${system_mb} MiB (${used_mb} MiB used), data.ext4 ${DATA_MB} MiB"
  [ -z "$test_installation" ] || echo "test installation: RS485 port $rs485, $(grep -c "^  device" "$work/configure.log") simulated devices"
} >"$new/build.txt"
mv -f "$new"/* "$out/"
if [ -n "${SUDO_UID:-}" ]; then   # run through sudo: the user who asked owns what they use next
  owner=$SUDO_UID:${SUDO_GID:-$SUDO_UID}
  chown "$owner" "$cache" "$cache"/base-*.tar "$cache"/update.key* 2>/dev/null || true
  chown -R "$owner" "$out" "$cache/wheels"
fi
step "done: $out"
cat "$out/build.txt"
