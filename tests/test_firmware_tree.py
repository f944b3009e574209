"""The firmware tree's consistency: systemd/ units, rootfs/ overlay, buildroot-config/.

Buildroot cannot download its sources here, so nothing is built: the tree is checked instead.
Every requirement of setup.cfg is provided on the board, every path the defconfig and the
scripts name exists, every package is complete and sourced, genimage makes two root slots and
a data partition WSM-DATA, the shell scripts pass shellcheck (CI installs it: missing = fail),
the units pass `systemd-analyze verify` (in a scratch root holding this machine's systemd
units) and have the keys the layout contract asks for, sysusers.d and tmpfiles.d do what they
say (run by systemd-sysusers / systemd-tmpfiles into a scratch root).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BR = REPO / "buildroot-config"
BOARD = BR / "board" / "raspberrypi4-64"
DEFCONFIG = BR / "configs" / "wsmeasure_rpi4_64_defconfig"
UNITS = REPO / "systemd"
ROOTFS = REPO / "rootfs"
SERVICE = UNITS / "wsmeasure.service"
SYSTEMD_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))


# -- small parsers ---------------------------------------------------------------------------------
def requirements() -> dict[str, str]:
    """setup.cfg install_requires: name -> pinned version."""
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    pins = {}
    for line in cfg["options"]["install_requires"].split("\n"):
        if line.strip():
            name, _, version = line.strip().partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def deps_table() -> dict[str, tuple[str, str]]:
    """buildroot-config/python-deps.txt: requirement -> (kind, Kconfig symbol)."""
    rows = {}
    for line in (BR / "python-deps.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, kind, symbol = line.split()[:3]
            assert name not in rows, f"{name} twice in python-deps.txt"
            rows[name.lower()] = (kind, symbol)
    return rows


def defconfig() -> dict[str, str]:
    values = {}
    for line in DEFCONFIG.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key not in values, f"{key} twice in the defconfig"
            values[key] = value.strip('"')
    return values


def packages() -> list[Path]:
    return sorted(p for p in (BR / "package").iterdir() if p.is_dir())


def symbol(package: Path) -> str:
    return "BR2_PACKAGE_" + package.name.upper().replace("-", "_")


def mk_vars(package: Path) -> dict[str, str]:
    prefix = package.name.upper().replace("-", "_") + "_"
    values = {}
    for line in (package / f"{package.name}.mk").read_text().splitlines():
        m = re.match(r"([A-Z0-9_]+)\s*\+?=\s*(.*)", line)
        if m and m.group(1).startswith(prefix):
            values[m.group(1)[len(prefix):]] = m.group(2).strip()
    return values


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (continuation lines joined)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}: not a key=value line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def expand(value: str) -> str:
    return value.replace("$(BR2_EXTERNAL_WSMEASURE_PATH)", str(BR))


# -- Buildroot tree ---------------------------------------------------------------------------------
def test_every_requirement_of_setup_cfg_is_provided_on_the_board():
    pins, table, config = requirements(), deps_table(), defconfig()
    assert set(table) == set(pins), "python-deps.txt and setup.cfg install_requires differ"
    ours = {symbol(p): p for p in packages()}
    wsmeasure_config = (BR / "package" / "python-wsmeasure" / "Config.in").read_text()
    for name, (kind, sym) in table.items():
        assert kind in ("recipe", "buildroot"), (name, kind)
        assert config.get(sym) == "y", f"{name}: {sym} not selected by the defconfig"
        assert re.search(rf"^\s*select {sym}\b", wsmeasure_config, re.M), f"{name}: python-wsmeasure does not select {sym}"
        if kind == "recipe":
            assert sym in ours, f"{name}: no package folder of the tree defines {sym}"
            # the recipe builds the release setup.cfg pins
            assert mk_vars(ours[sym])["VERSION"] == pins[name], name
        else:
            assert sym not in ours, f"{name}: {sym} is said to be Buildroot's but the tree has it"


def test_package_folders_are_complete_and_sourced():
    sourced = re.findall(r'^source "\$BR2_EXTERNAL_WSMEASURE_PATH/package/([^/]+)/Config.in"$',
                         (BR / "Config.in").read_text(), re.M)
    assert sourced == sorted(p.name for p in packages()), "Config.in: one source line per package folder"
    for package in packages():
        config = (package / "Config.in").read_text()
        assert re.match(rf"config {symbol(package)}\n\tbool \"{package.name}\"", config), package.name
        variables = mk_vars(package)
        assert "$(eval $(python-package))" in (package / f"{package.name}.mk").read_text()
        assert variables.get("SETUP_TYPE") in ("setuptools", "pep517", "flit", "hatch"), package.name
        if variables.get("SITE_METHOD") == "local":
            continue
        source = variables["SOURCE"].replace("$(%s_VERSION)" % package.name.upper().replace("-", "_"),
                                             variables["VERSION"])
        assert variables["SITE"].startswith("https://files.pythonhosted.org/packages/"), package.name
        hashes = (package / f"{package.name}.hash").read_text()
        assert re.search(rf"^sha256\s+[0-9a-f]{{64}}\s+{re.escape(source)}$", hashes, re.M), package.name
        for licence in variables.get("LICENSE_FILES", "").split():
            assert re.search(rf"^sha256\s+[0-9a-f]{{64}}\s+{re.escape(licence)}$", hashes, re.M), package.name


def test_external_tree_glue():
    desc = dict(line.split(": ", 1) for line in (BR / "external.desc").read_text().splitlines() if line)
    assert desc["name"] == "WSMEASURE"   # hence $(BR2_EXTERNAL_WSMEASURE_PATH)
    assert (BR / "external.mk").read_text().strip() == \
        "include $(sort $(wildcard $(BR2_EXTERNAL_WSMEASURE_PATH)/package/*/*.mk))"


def test_every_path_the_defconfig_names_exists():
    config = defconfig()
    named = [expand(word) for value in config.values() for word in value.split()
             if "$(BR2_EXTERNAL_WSMEASURE_PATH)" in word]
    assert len(named) >= 8
    for path in named:
        assert Path(path).exists(), path
    overlays = [Path(expand(p)).resolve() for p in config["BR2_ROOTFS_OVERLAY"].split()]
    assert ROOTFS in overlays, "the rootfs/ overlay is the image's"
    for key in ("BR2_ROOTFS_POST_BUILD_SCRIPT", "BR2_ROOTFS_POST_IMAGE_SCRIPT"):
        assert os.access(expand(config[key]), os.X_OK), key
    assert config["BR2_INIT_SYSTEMD"] == "y" and config["BR2_PACKAGE_PYTHON3"] == "y"
    assert config["BR2_PACKAGE_RAUC"] == "y" and config["BR2_PACKAGE_PYTHON_WSMEASURE"] == "y"
    # what the unit's sandbox needs from systemd
    assert config["BR2_PACKAGE_SYSTEMD_SECCOMP"] == "y"


def test_every_path_the_board_scripts_name_exists():
    for script in sorted(BOARD.glob("*.sh")):
        text = script.read_text()
        for name in re.findall(r'\$board_dir/([\w./-]+)', text):
            assert (BOARD / name).exists(), f"{script.name}: $board_dir/{name}"
        for name in re.findall(r'"\$repo"?/([\w./-]+)', text):
            assert (REPO / name.split("/*")[0]).exists(), f"{script.name}: $repo/{name}"
    # what genimage takes from BINARIES_DIR is made by a package the defconfig selects
    config = defconfig()
    producers = {"boot.scr": "BR2_PACKAGE_HOST_UBOOT_TOOLS_BOOT_SCRIPT", "uboot-env.bin": "BR2_PACKAGE_HOST_UBOOT_TOOLS_ENVIMAGE",
                 "u-boot.bin": "BR2_TARGET_UBOOT", "rootfs.ext4": "BR2_TARGET_ROOTFS_EXT2_4",
                 "rpi-firmware/": "BR2_PACKAGE_RPI_FIRMWARE", "bcm2711-rpi-4-b.dtb": "BR2_LINUX_KERNEL_DTS_SUPPORT"}
    genimage = (BOARD / "genimage.cfg").read_text()
    made_here = set(re.findall(r"^image (\S+) \{", genimage, re.M))   # boot.vfat, data.ext4, sdcard.img
    taken = re.findall(r'"([^"]+)"', re.search(r"files = \{(.*?)\}", genimage, re.S).group(1))
    taken += re.findall(r'image = "([^"]+)"', genimage)
    for name in taken:
        if name in made_here:
            continue
        producer = next((sym for prefix, sym in producers.items() if name.startswith(prefix)), None)
        assert producer, f"genimage.cfg: nothing makes {name}"
        assert config.get(producer) == "y", f"{name}: {producer} not selected"
    assert "bcm2711-rpi-4-b" in config["BR2_LINUX_KERNEL_INTREE_DTS_NAME"]


def genimage_partitions() -> list[dict]:
    text = (BOARD / "genimage.cfg").read_text()
    disk = text[text.index("image sdcard.img"):]
    parts = []
    for name, body in re.findall(r"partition ([\w-]+) \{(.*?)\n\t\}", disk, re.S):
        fields = dict(re.findall(r"([\w-]+) = \"?([^\"\n]+)\"?", body))
        fields["name"] = name
        parts.append(fields)
    return parts


def test_genimage_makes_two_root_slots_and_a_data_partition_labelled_wsm_data():
    text = (BOARD / "genimage.cfg").read_text()
    in_table = [p for p in genimage_partitions() if p.get("in-partition-table") != "false"]
    images = [p["image"] for p in in_table]
    assert images == ["boot.vfat", "rootfs.ext4", "rootfs.ext4", "data.ext4"]
    data = text[text.index("image data.ext4"):text.index("image sdcard.img")]
    assert re.search(r'label = "WSM-DATA"', data) and "ext4 {" in data
    # partition numbers: meta, boot.cmd, RAUC and the mount by label agree with genimage
    meta = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', (BOARD / "meta").read_text(), re.M))
    assert (meta["ROOT_A_PART"], meta["ROOT_B_PART"], meta["DATA_PART"]) == ("2", "3", "4")
    assert meta["DATA_LABEL"] == "WSM-DATA"
    boot = (BOARD / "boot.cmd").read_text()
    assert re.search(r"root_part=2\n\s*rauc_slot=A", boot) and re.search(r"root_part=3\n\s*rauc_slot=B", boot)
    rauc = configparser.ConfigParser()
    rauc.read(BOARD / "rootfs-overlay" / "etc" / "rauc" / "system.conf")
    assert rauc["slot.rootfs.0"]["device"] == "/dev/mmcblk0p2" and rauc["slot.rootfs.0"]["bootname"] == "A"
    assert rauc["slot.rootfs.1"]["device"] == "/dev/mmcblk0p3" and rauc["slot.rootfs.1"]["bootname"] == "B"
    assert rauc["system"]["compatible"] == meta["BOARD_COMPATIBLE"] and rauc["system"]["bootloader"] == "uboot"
    # the U-Boot environment: where U-Boot keeps it is where fw_setenv (RAUC) looks and genimage writes it
    uboot = (BOARD / "uboot.fragment").read_text()
    offsets = [int(re.search(rf"^CONFIG_ENV_OFFSET{s}=(0x\w+)$", uboot, re.M).group(1), 16) for s in ("", "_REDUND")]
    fw_env = [line.split() for line in (BOARD / "rootfs-overlay" / "etc" / "fw_env.config").read_text().splitlines()
              if line and not line.startswith("#")]
    assert [int(row[1], 16) for row in fw_env] == offsets
    env_parts = [p for p in genimage_partitions() if p.get("image") == "uboot-env.bin"]
    assert [int(p["offset"].rstrip("K")) * 1024 for p in env_parts] == offsets


def test_post_build_installs_the_units_and_makes_slot_a(tmp_path):
    target = tmp_path / "target"
    (target / "usr/lib/python3.12/site-packages").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("HOST_DIR", "RAUC_KEYRING")}
    proc = subprocess.run(["sh", str(BOARD / "post-build.sh"), str(target)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for path in UNITS.iterdir():
        folder = "system-preset" if path.suffix == ".preset" else "system"
        assert (target / "usr/lib/systemd" / folder / path.name).read_bytes() == path.read_bytes()
    slot = target / "opt/wsmeasure/slot-a"
    assert os.readlink(target / "opt/wsmeasure/current") == "slot-a"
    assert (target / "opt/wsmeasure/slot-b").is_dir()
    assert "include-system-site-packages = true" in (slot / "pyvenv.cfg").read_text()
    assert (slot / "lib/python3.12/site-packages").is_dir()
    assert os.readlink(slot / "bin/python3") == "/usr/bin/python3"
    script = (slot / "bin/wsmeasure").read_text()
    assert script.startswith("#!/opt/wsmeasure/slot-a/bin/python3\n") and "wsmeasure.cli import main" in script
    assert (target / "var/lib/wsmeasure").is_dir()
    assert (target / "etc/wsmeasure/image-version").read_text().startswith("wsmeasure ")


# -- shell scripts ------------------------------------------------------------------------------------
def shell_scripts() -> list[Path]:
    found = []
    for root in (BR, ROOTFS, UNITS, REPO / "image"):
        for path in sorted(root.rglob("*")):
            if not path.is_file() or "usr/lib/wsmeasure" in path.as_posix():   # engineer B's Python scripts
                continue
            head = path.read_bytes()[:40]
            if path.suffix == ".sh" or re.match(rb"#!\s*/(usr/)?bin/(env )?(ba|da)?sh\b", head):
                found.append(path)
    return found + [REPO / "flash.sh", REPO / "tests/run.sh"]


def test_shell_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing (tests/run.sh installs it: apt-get install shellcheck)"
    scripts = shell_scripts()
    names = {p.name for p in scripts}
    assert {"post-build.sh", "post-image.sh", "factory-settings", "flash.sh", "build.sh", "base.sh"} <= names
    proc = subprocess.run([shellcheck, "-x", *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path in scripts:
        assert os.access(path, os.X_OK), f"{path} is not executable"


# -- systemd units --------------------------------------------------------------------------------------
def test_the_daemon_unit_has_what_the_layout_contract_asks_for():
    service = unit(SERVICE)
    s, u = service["Service"], service["Unit"]
    one = {key: values[-1] for key, values in s.items()}
    assert one["Type"] == "notify" and one["WatchdogSec"] == "30" and one["Restart"] == "on-failure"
    assert one["User"] == "wsmeasure" and one["Group"] == "wsmeasure" and one["SupplementaryGroups"] == "dialout"
    assert one["ExecStart"] == "/opt/wsmeasure/current/bin/wsmeasure --data-dir /var/lib/wsmeasure run --appliance"
    assert s["ExecStartPre"][0] == "+/usr/lib/wsmeasure/slot-guard"   # first, as root: it picks the slot
    # only the capability for ports < 1024, and not one more for any child
    assert one["AmbientCapabilities"] == one["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert one["NoNewPrivileges"] == "yes" and one["ProtectSystem"] == "strict"
    assert one["ProtectHome"] == "yes" and one["PrivateTmp"] == "yes"
    assert one["RestrictAddressFamilies"].split() == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert s["SystemCallFilter"][0] == "@system-service" and one["MemoryDenyWriteExecute"] == "yes"
    assert one["DevicePolicy"] == "closed"
    assert {"char-ttyS rw", "char-ttyAMA rw", "char-ttyUSB rw"} <= set(s["DeviceAllow"])
    writable = " ".join(s["ReadWritePaths"]).replace("-/", "/").split()
    assert "/var/lib/wsmeasure" in writable and not any(p.startswith("/opt") for p in writable)
    # what the daemon writes for systemd (app/network.py, app/clock.py) is inside ReadWritePaths
    from wsmeasure import clock, network

    for path in (network.NETWORK_FILE, clock.TIMESYNCD_FILE):
        assert "/" + path.parent.as_posix() in writable, path
    # the data partition comes first; no waiting for a network cable
    assert "var-lib-wsmeasure.mount" in " ".join(u["Requires"]) and "var-lib-wsmeasure.mount" in " ".join(u["After"])
    assert "network-online.target" not in " ".join(u.get("Wants", []) + u.get("After", []))
    assert service["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_mount_unit_mounts_wsm_data_where_its_name_says():
    mount = unit(UNITS / "var-lib-wsmeasure.mount")["Mount"]
    assert mount["What"] == ["/dev/disk/by-label/WSM-DATA"] and mount["Where"] == ["/var/lib/wsmeasure"]
    assert mount["Type"] == ["ext4"]
    escape = shutil.which("systemd-escape")
    if escape:
        name = subprocess.run([escape, "--path", "--suffix=mount", "/var/lib/wsmeasure"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert name == "var-lib-wsmeasure.mount"


def test_the_preset_enables_units_that_exist_and_the_services_around_the_daemon():
    lines = [line.split() for line in (UNITS / "90-wsmeasure.preset").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert all(verb in ("enable", "disable") and len(rest) == 1 for verb, *rest in lines)
    enabled = {name for verb, name in lines if verb == "enable"}
    assert {"wsmeasure.service", "systemd-networkd.service", "systemd-timesyncd.service"} <= enabled
    for name in enabled:
        assert (UNITS / name).exists() or name.startswith("systemd-"), name
    for path in UNITS.glob("*.service"):   # a unit without [Install] comes in through another's Requires=
        if "Install" not in unit(path):
            assert any(path.name in (UNITS / other).read_text() for other in ("wsmeasure.service", "wsmeasure-update.path"))
        else:
            assert path.name in enabled, f"{path.name} has [Install] but the preset does not enable it"


def scratch_root(tmp_path: Path) -> Path:
    """A root with this machine's systemd units, ours, and stand-ins for the programs they run."""
    root = tmp_path / "root"
    units = root / "usr/lib/systemd/system"
    for folder in sorted({d.resolve() for d in SYSTEMD_UNIT_DIRS if d.is_dir()}):   # /lib may be /usr/lib
        shutil.copytree(folder, units, symlinks=True, dirs_exist_ok=True)
    for path in UNITS.iterdir():
        if path.suffix != ".preset":
            shutil.copy(path, units / path.name)
    for program in ("opt/wsmeasure/slot-a/bin/wsmeasure", "usr/bin/systemd-tmpfiles"):
        (root / program).parent.mkdir(parents=True, exist_ok=True)
        (root / program).write_text("#!/bin/sh\n")
        (root / program).chmod(0o755)
    (root / "opt/wsmeasure/current").symlink_to("slot-a")
    for program in ("usr/lib/wsmeasure/slot-guard", "usr/libexec/wsmeasure/factory-settings"):
        assert (ROOTFS / program).exists(), f"{program}: named by a unit, not in rootfs/"
        (root / program).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOTFS / program, root / program)
    return root


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    names = [p.name for p in UNITS.iterdir() if p.suffix in (".service", ".mount", ".path")]
    for name in names:   # what every unit can be checked for without systemd: sections and keys
        sections = unit(UNITS / name)
        assert "Unit" in sections and sections["Unit"].get("Description"), name
        kind = {".service": "Service", ".mount": "Mount", ".path": "Path"}[Path(name).suffix]
        assert kind in sections, name
    if not analyze or not any(d.is_dir() for d in SYSTEMD_UNIT_DIRS):
        pytest.fail("systemd-analyze and systemd's units are needed to verify the units (apt-get install systemd)")
    root = scratch_root(tmp_path)
    proc = subprocess.run([analyze, "verify", "--man=no", f"--root={root}", *names],
                          capture_output=True, text=True, timeout=120)
    # unknown keys are only warnings for systemd: any output is a failure here
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), proc.stdout + proc.stderr


def test_sysusers_makes_the_daemon_user_in_dialout_and_tmpfiles_the_data_folders(tmp_path):
    sysusers, tmpfiles = shutil.which("systemd-sysusers"), shutil.which("systemd-tmpfiles")
    conf = (ROOTFS / "usr/lib/sysusers.d/wsmeasure.conf").read_text()
    assert re.search(r"^u wsmeasure - .* /var/lib/wsmeasure ", conf, re.M) and re.search(r"^m wsmeasure dialout$", conf, re.M)
    if not (sysusers and tmpfiles):
        pytest.fail("systemd-sysusers / systemd-tmpfiles are needed (apt-get install systemd)")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\ndialout:x:20:\n")
    subprocess.run([sysusers, f"--root={root}", str(ROOTFS / "usr/lib/sysusers.d/wsmeasure.conf")],
                   check=True, capture_output=True, timeout=60)
    user = next(line.split(":") for line in (root / "etc/passwd").read_text().splitlines() if line.startswith("wsmeasure:"))
    assert user[5] == "/var/lib/wsmeasure"
    assert "wsmeasure" in next(line for line in (root / "etc/group").read_text().splitlines()
                               if line.startswith("dialout:")).split(":")[3].split(",")
    # as wsmeasure-data.service runs it on the mounted data partition, then as boot does for all
    data = unit(UNITS / "wsmeasure-data.service")["Service"]["ExecStart"][0].split()
    assert data[0] == "/usr/bin/systemd-tmpfiles" and data[-1] == "/usr/lib/tmpfiles.d/wsmeasure.conf"
    conf = str(ROOTFS / "usr/lib/tmpfiles.d/wsmeasure.conf")
    subprocess.run([tmpfiles, f"--root={root}", *data[1:-1], conf], check=True, capture_output=True, timeout=60)
    assert not (root / "etc/systemd").exists()   # --prefix: the data folder only
    subprocess.run([tmpfiles, f"--root={root}", "--create", conf], check=True, capture_output=True, timeout=60)
    uid = int(user[2])
    for folder in ("", "history", "tls", "update", "backup"):
        path = root / "var/lib/wsmeasure" / folder
        assert path.is_dir() and path.stat().st_uid == uid, path
    assert (root / "var/lib/wsmeasure").stat().st_mode & 0o7 == 0   # not world-readable
    assert (root / "var/lib/wsmeasure/tls").stat().st_mode & 0o77 == 0
    for folder in ("etc/systemd/network", "etc/systemd/timesyncd.conf.d"):   # the daemon renames files in there
        st = (root / folder).stat()
        assert st.st_gid == int(user[3]) and st.st_mode & 0o020, folder


# -- rootfs overlay --------------------------------------------------------------------------------------
def test_factory_network_is_192_168_1_100_matched_by_type_and_what_the_daemon_writes(tmp_path):
    from wsmeasure.db import open_config
    from wsmeasure.network import network_file

    factory = (ROOTFS / "etc/systemd/network/20-ethernet.network").read_text()
    keys = lambda text: [line for line in text.splitlines() if line and not line.startswith("#")]  # noqa: E731
    assert keys(factory)[:2] == ["[Match]", "Type=ether"]
    assert {"Address=192.168.1.100/24", "Gateway=192.168.1.1"} <= set(keys(factory))
    db = open_config(tmp_path)
    try:
        assert keys(network_file(db)) == keys(factory)   # the page's defaults show what the box does
    finally:
        db.close()
    assert (ROOTFS / "etc/hostname").read_text().strip() == "wsmeasure"


def test_udev_rule_names_the_rs485_port_by_subsystem_and_property():
    rules = [line for line in (ROOTFS / "etc/udev/rules.d/90-rs485.rules").read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(rules) >= 3
    for rule in rules:
        assert rule.startswith('SUBSYSTEM=="tty", ') and 'SYMLINK+="ttyRS485"' in rule, rule
        assert 'GROUP="dialout"' in rule and 'MODE="0660"' in rule, rule
        assert re.search(r'(KERNELS|ATTR\{\w+\}|ENV\{\w+\})==', rule), f"no property matched: {rule}"
        assert re.search(r'link_priority=\d+', rule), rule
    # the QEMU test image's port: the UART QEMU emulates at 0x2F8 (ttyS1)
    qemu = [r for r in rules if 'KERNEL=="ttyS1"' in r]
    assert len(qemu) == 1 and 'ATTR{port}=="0x2F8"' in qemu[0]
    factory = (ROOTFS / "etc/wsmeasure/factory.conf").read_text()
    assert re.search(r"^serial\.port /dev/ttyRS485$", factory, re.M)


def test_factory_settings_are_written_once_on_a_fresh_data_partition(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    wrapper = tmp_path / "wsmeasure"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m wsmeasure "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "WSMEASURE": str(wrapper)}
    script = [str(ROOTFS / "usr/libexec/wsmeasure/factory-settings"), str(ROOTFS / "etc/wsmeasure/factory.conf"), str(data)]

    def get(key):
        return subprocess.run([str(wrapper), "--data-dir", str(data), "config", "get", key], capture_output=True,
                              text=True, check=True, env=env, timeout=60).stdout.strip()

    proc = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert get("serial.port") == "/dev/ttyRS485"
    subprocess.run([str(wrapper), "--data-dir", str(data), "config", "set", "serial.port", ""], check=True,
                   capture_output=True, env=env, timeout=60)
    subprocess.run(script, env=env, check=True, capture_output=True, timeout=60)   # config.db exists: no-op
    assert get("serial.port") == ""


def test_polkit_rule_allows_exactly_the_systemd_calls_the_daemon_makes():
    rules = (ROOTFS / "usr/share/polkit-1/rules.d/50-wsmeasure.rules").read_text()
    assert 'subject.user !== "wsmeasure"' in rules
    assert '"org.freedesktop.network1.reload"' in rules
    assert '"networkctl", "reload"' in (REPO / "app/network.py").read_text()
    clock = (REPO / "app/clock.py").read_text()
    verbs = set(re.findall(r'"timedatectl", "(set-[a-z]+)"', clock))
    assert verbs == {"set-timezone", "set-ntp", "set-time"}
    for verb in verbs:
        assert f'"org.freedesktop.timedate1.{verb}"' in rules, verb
    assert '"systemctl", "try-restart", "systemd-timesyncd.service"' in clock
    assert 'unit === "systemd-timesyncd.service"' in rules and '"try-restart"' in rules
