# boot.scr: picks the root slot as RAUC's U-Boot backend expects (BOOT_ORDER, BOOT_x_LEFT):
# the first slot of BOOT_ORDER with tries left loses one try and boots; rauc-mark-good
# (wsmeasure-rauc-good.service, once the daemon runs) gives the tries back. A slot that fails
# 3 boots in a row is skipped: the box falls back to the other slot by itself.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

root_part=none
for slot in "${BOOT_ORDER}"; do
	if test "x${root_part}" != "xnone"; then
		# a slot was chosen
	elif test "x${slot}" = "xA"; then
		if test ${BOOT_A_LEFT} -gt 0; then
			setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
			root_part=2
			rauc_slot=A
		fi
	elif test "x${slot}" = "xB"; then
		if test ${BOOT_B_LEFT} -gt 0; then
			setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
			root_part=3
			rauc_slot=B
		fi
	fi
done

if test "x${root_part}" = "xnone"; then
	echo "no root slot has tries left: giving both 3 again"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
	saveenv
	reset
fi
saveenv

# the firmware's device tree (config.txt overlays applied), the slot's own kernel
fdt_fw=${fdt_addr}
setenv bootargs "console=serial0,115200 console=tty1 root=/dev/mmcblk0p${root_part} rootfstype=ext4 rootwait fsck.repair=yes rauc.slot=${rauc_slot}"
echo "booting root slot ${rauc_slot} (/dev/mmcblk0p${root_part})"
load mmc 0:${root_part} ${kernel_addr_r} /boot/Image
booti ${kernel_addr_r} - ${fdt_fw}
