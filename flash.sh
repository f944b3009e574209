#!/usr/bin/env bash
# Writes the wsmeasure Debian image built by image/build.sh, or sends an update to a box (issue 7).
# No build logic here: the file systems come from image/build.sh (run first when they are missing).
#
#   ./flash.sh --image OUT.img [--images DIR] [--test-installation]
#       a GPT disk image: partition 1 "wsm-system" (system.ext4), partition 2 "wsm-data"
#       (data.ext4, label WSM-DATA); boot it with QEMU (docs/image.md)
#   ./flash.sh --device /dev/sdX [--images DIR] [--test-installation]
#       the same on a whole removable disk (USB stick, SD card in a USB reader) or a loop
#       device (losetup -P); the data partition then takes the rest of the disk. Anything else
#       (a partition, a fixed disk, a disk with something mounted) is refused; the size and model are shown and the device
#       name must be typed to confirm. Never guessed: there is no default device.
#   ./flash.sh --update BUNDLE HOST
#       upload a signed update bundle to the "Software update" page of a running box over
#       HTTPS (curl), as an administrator would in a browser. The PIN and PUK are asked, or
#       taken from $WSMEASURE_PIN and $WSMEASURE_PUK; the box's certificate is self-signed,
#       so it is not checked unless $WSMEASURE_CACERT names the box's cert.pem.
#
#   --images DIR   the output folder of image/build.sh (default: $WSMEASURE_IMAGE_OUT, else
#                  $WSMEASURE_IMAGE_CACHE/out, else ~/.cache/wsmeasure-image/out)
#   --test-installation   passed to image/build.sh when it has to be run
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${WSMEASURE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsmeasure-image}
images=${WSMEASURE_IMAGE_OUT:-$cache/out}
MiB=1048576

die() { echo "flash.sh: $*" >&2; exit 1; }
temps=()   # removed at exit
trap 'rm -f "${temps[@]}"' EXIT
usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

mode="" target="" bundle="" host="" build_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --image) mode=image; target=${2:?--image needs a file name}; shift 2 ;;
    --device) mode=device; target=${2:?--device needs a device, e.g. /dev/sdb}; shift 2 ;;
    --update) mode=update; bundle=${2:?--update needs BUNDLE HOST}; host=${3:?--update needs BUNDLE HOST}; shift 3 ;;
    --images) images=${2:?--images needs a folder}; shift 2 ;;
    --test-installation) build_args+=(--test-installation); shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ -n "$mode" ] || { usage >&2; exit 2; }

# -- the file systems: image/build.sh's ---------------------------------------------------------
need_images() {
  if [ ! -s "$images/system.ext4" ] || [ ! -s "$images/data.ext4" ]; then
    echo "flash.sh: no images in $images: running image/build.sh" >&2
    "$here/image/build.sh" --out "$images" "${build_args[@]}"
  fi
}

size_of() { stat -c %s "$1"; }

# write_image FILE [data partition size in bytes]: GPT, 1 MiB aligned, system then data
write_image() {
  local file=$1 sys_bytes data_bytes part_bytes
  sys_bytes=$(size_of "$images/system.ext4")
  data_bytes=$(size_of "$images/data.ext4")
  part_bytes=${2:-$data_bytes}
  (( sys_bytes % MiB == 0 && data_bytes % MiB == 0 )) || die "image sizes are not whole MiB"
  rm -f "$file"
  truncate -s $(( MiB + sys_bytes + part_bytes + MiB )) "$file"
  sfdisk --quiet "$file" <<EOF
label: gpt
start=2048, size=$(( sys_bytes / 512 )), type=L, name=wsm-system
start=$(( (MiB + sys_bytes) / 512 )), size=$(( part_bytes / 512 )), type=L, name=wsm-data
EOF
  dd if="$images/system.ext4" of="$file" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$images/data.ext4" of="$file" bs=1M seek=$(( 1 + sys_bytes / MiB )) conv=notrunc,sparse status=none
}

flash_image() {
  need_images
  write_image "$target"
  echo "$target: $(( $(size_of "$target") / MiB )) MiB, GPT: wsm-system ($(( $(size_of "$images/system.ext4") / MiB )) MiB), wsm-data ($(( $(size_of "$images/data.ext4") / MiB )) MiB)"
  echo "boot it: see docs/image.md (kernel $images/vmlinuz, initrd $images/initrd.img, append \"$(cat "$images/cmdline")\")"
}

# -- a removable device -------------------------------------------------------------------------
flash_device() {
  local dev=$target type info answer tmp part2
  [ -b "$dev" ] || die "$dev is not a block device"
  type=$(lsblk -dno TYPE "$dev")
  case $type in
    disk)
      if [ "$(lsblk -dno RM "$dev" | tr -d ' ')" != 1 ] && [ "$(lsblk -dno HOTPLUG "$dev" | tr -d ' ')" != 1 ]; then
        die "$dev is not a removable disk: refused (this tool only writes USB sticks and SD cards)"
      fi ;;
    loop) ;;   # a file set up with losetup -P: a disk made on purpose, nothing else lives there
    *) die "$dev is not a whole disk ($type): name the disk, not a partition" ;;
  esac
  if lsblk -nro MOUNTPOINT "$dev" | grep -q .; then
    die "$dev has mounted file systems ($(lsblk -nro MOUNTPOINT "$dev" | grep . | tr '\n' ' ')): unmount them first"
  fi
  [ -w "$dev" ] || die "$dev is not writable: run as root"
  need_images
  info=$(lsblk -dno SIZE,VENDOR,MODEL,SERIAL,TRAN "$dev" | tr -s ' ')
  [ "$type" != loop ] || info="$info loop device of $(losetup -nO BACK-FILE "$dev")"
  echo "$dev: $info"
  echo "EVERYTHING on $dev will be erased."
  read -r -p "Type the device name ($dev) to write the image to it: " answer
  [ "$answer" = "$dev" ] || die "not confirmed: nothing written"
  tmp=$(mktemp "$images/flash.XXXXXX.img")
  temps+=("$tmp")
  write_image "$tmp"
  dd if="$tmp" of="$dev" bs=4M conv=fsync oflag=direct status=progress
  sfdisk --quiet --relocate gpt-bak-std "$dev"            # the backup GPT at the disk's real end
  echo ", +" | sfdisk --quiet --no-reread -N 2 "$dev"     # the data partition takes the rest
  partx -u "$dev" 2>/dev/null || blockdev --rereadpt "$dev"
  udevadm settle 2>/dev/null || sleep 2
  part2=$(lsblk -lnpo NAME "$dev" | sed -n 3p)
  [ -b "$part2" ] || die "data partition of $dev not found after writing"
  e2fsck -f -p "$part2" >/dev/null
  resize2fs "$part2"
  sync
  echo "$dev written: $(lsblk -no NAME,SIZE,LABEL "$dev" | tr '\n' ';' | tr -s ' ')"
}

# -- an update bundle to a running box -----------------------------------------------------------
flash_update() {
  [ -f "$bundle" ] || die "no bundle file $bundle"
  local base=https://$host jar page token pin=${WSMEASURE_PIN:-} puk=${WSMEASURE_PUK:-} code tls=(-k)
  [ -n "${WSMEASURE_CACERT:-}" ] && tls=(--cacert "$WSMEASURE_CACERT")
  [ -n "$pin" ] || { read -r -s -p "PIN of an administrator of $host: " pin; echo; }
  [ -n "$puk" ] || { read -r -s -p "PUK: " puk; echo; }
  jar=$(mktemp)
  temps+=("$jar")
  web() { curl -sS "${tls[@]}" -b "$jar" -c "$jar" "$@"; }   # a refusal is a page: read, not an error
  csrf() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1; }
  token=$(web "$base/login" | csrf)
  [ -n "$token" ] || die "$base/login gave no login form"
  page=$(web --data-urlencode "csrf=$token" --data-urlencode "pin=$pin" "$base/login")
  grep -q 'name="puk"' <<<"$page" || die "PIN refused by $host"
  token=$(csrf <<<"$page")
  web -o /dev/null --data-urlencode "csrf=$token" --data-urlencode "puk=$puk" "$base/login/puk"
  token=$(web "$base/server/update" | csrf)
  [ -n "$token" ] || die "PUK refused, or this user may not open the Software update page"
  echo "uploading $bundle ($(( $(size_of "$bundle") / 1024 )) KiB) to $base/server/update"
  page=$(mktemp)
  temps+=("$page")
  code=$(web -o "$page" -w '%{http_code}' -F "csrf=$token" -F "bundle=@$bundle" "$base/server/update") || true
  # the page's messages, without the markup
  grep -iE 'class="[^"]*(error|notice|message|ok|success)' "$page" | sed -e 's/<[^>]*>//g' -e 's/^[[:space:]]*//' | grep . || true
  case $code in
    2??|303) echo "done (HTTP $code): the box installs the bundle, restarts and keeps it once healthy; see its Software update page" ;;
    *) die "upload refused (HTTP $code)" ;;
  esac
}

case $mode in
  image) flash_image ;;
  device) flash_device ;;
  update) flash_update ;;
esac
