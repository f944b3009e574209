#!/usr/bin/env bash
# The base root file system of the Debian image, as a tarball: `image/base.sh OUT.tar`.
# Debian bookworm amd64, minbase plus image/packages, without documentation, kernel modules a
# box never loads (sound, graphics, radio...) left out, and a small initrd (no udev) that mounts
# the root file system of a virtio disk by its label. Nothing of the project goes in here:
# build.sh adds it to an unpacked copy, so this slow step (network, dpkg: about 2 minutes) is
# cached by build.sh.
# (`image/base.sh customize ROOT` is the mmdebstrap hook that does the last part.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# Module folders under /usr/lib/modules/VERSION/kernel that the box does without: it is a
# virtio machine (QEMU) with a serial port, a network card and USB for RS485 adapters. Besides
# space, each module udev loads at boot for a device QEMU's PC has (floppy, IDE, PC speaker,
# the CPU's virtualisation and frequency scaling) costs time under software emulation.
UNUSED_MODULES=(sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband
  drivers/iio drivers/comedi drivers/staging drivers/target drivers/isdn drivers/bluetooth
  drivers/video drivers/mtd drivers/net/can drivers/hwmon drivers/platform/chrome
  drivers/ata drivers/block/floppy.ko drivers/input/misc/pcspkr.ko drivers/cpufreq drivers/edac
  arch/x86/kvm net/bluetooth net/wireless net/mac80211 fs/ocfs2 fs/xfs fs/btrfs fs/nfs fs/nfsd
  fs/gfs2 fs/ceph fs/smb fs/cifs fs/f2fs fs/jfs fs/reiserfs fs/nilfs2 fs/ubifs)
# what the initrd needs to find and mount the root file system
INITRD_MODULES=(virtio_pci virtio_blk ext4)
# Debian units a box in a panel has no use for, that would run at every boot (or daily): each
# one costs CPU while the daemon starts (firstboot would also ask questions on the console)
MASKED_UNITS=(e2scrub_reap.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
  getty@tty1.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
  systemd-firstboot.service modprobe@configfs.service modprobe@dm_mod.service modprobe@drm.service
  modprobe@efi_pstore.service modprobe@fuse.service modprobe@loop.service sys-kernel-debug.mount
  sys-kernel-tracing.mount sys-fs-fuse-connections.mount sys-kernel-config.mount dev-hugepages.mount)

if [ "${1:-}" = customize ]; then
  root=$2
  for kernel in "$root"/usr/lib/modules/*; do
    for d in "${UNUSED_MODULES[@]}"; do rm -rf "${kernel:?}/kernel/$d"; done
    chroot "$root" depmod -a "$(basename "$kernel")"
  done
  printf '%s\n' "${INITRD_MODULES[@]}" >"$root/etc/initramfs-tools/modules"
  printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/wsmeasure"
  # No udev in the initrd: it loads the listed modules itself, devtmpfs makes the disk's node
  # and blkid finds the root by label. Saves about 2 s of coldplug under software emulation.
  cat >"$root/etc/initramfs-tools/hooks/zz-wsmeasure-no-udev" <<'EOF'
#!/bin/sh
# wsmeasure image (image/base.sh): the initrd runs without udev
case "$1" in prereqs) exit 0 ;; esac
rm -f "$DESTDIR/scripts/init-top/udev" "$DESTDIR/scripts/init-bottom/udev"
EOF
  chmod 0755 "$root/etc/initramfs-tools/hooks/zz-wsmeasure-no-udev"
  chroot "$root" update-initramfs -u -k all
  systemctl --root="$root" --quiet mask "${MASKED_UNITS[@]}"
  : >"$root/etc/machine-id"                                  # each box makes its own at first boot
  exit 0
fi

out=$1
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages")
include=$(IFS=,; echo "${pkgs[*]}")
mmdebstrap --mode=root --variant=minbase --architecture=amd64 --format=tar \
  --include="$include" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="'$here/base.sh' customize \"\$1\"" \
  bookworm "$out"
# no mirror named: mmdebstrap takes deb.debian.org with bookworm-updates and bookworm-security,
# so the image gets the stable release's security fixes (the kernel's among them)
