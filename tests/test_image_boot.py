"""The firmware image (issue 7): built from Debian packages, flashed to a partitioned disk image,
booted in QEMU, and working as a box.

image/build.sh --test-installation (base root cached in ~/.cache/wsmeasure-image), then
flash.sh --image, then image/qemu.py boots it: KVM when it shows a kernel line within 10 s,
else software emulation. The box's RS485 port (the guest's ttyS1) is a chardev socket wired to
simulated EMDX3 meters on this host (wsmeasure.simsocket, the devices the image's config.db
declares); user networking makes the box 192.168.1.100 and forwards 443, 80, 21 and 502 to free
ports of 127.0.0.1. Checked: HTTPS answers (the boot-to-HTTPS time is printed: target 45 s),
FTP logs in, Modbus TCP reads a meter's register through the box's gateway, and the meters'
live values reach My panel board. The console log is kept in tests/artifacts/qemu-console.log
when something fails.

Needs root (or passwordless sudo) for the image build, and the Debian packages tests/run.sh
installs (mmdebstrap, qemu-system-x86, e2fsprogs, fdisk). Marked `image`: `-m "not image"`
leaves it out of a quick run; CI runs it.
"""

from __future__ import annotations

import asyncio
import ftplib
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
sys.path.insert(0, str(REPO / "image"))
import qemu  # noqa: E402  (image/qemu.py: the QEMU runner, shared with bench/boot.py)

ADMIN = ("99999", "00000999900000")   # factory PIN and PUK of the administrator (manual 8.1.1)
HTTPS_TARGET_S = 45


def can_build() -> bool:
    if os.geteuid() == 0:
        return True
    return shutil.which("sudo") is not None and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0


def run(args, **kw):
    t0 = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise AssertionError(f"{' '.join(map(str, args))} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc, time.monotonic() - t0


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """The test image's files (image/build.sh) and the partitioned disk (flash.sh --image)."""
    if not can_build():
        pytest.skip("the image build needs root or passwordless sudo")
    out = tmp_path_factory.mktemp("image") / "out"
    build, build_s = run([REPO / "image/build.sh", "--test-installation", "--out", out], timeout=900)
    disk = out / "wsmeasure.img"
    flash, flash_s = run([REPO / "flash.sh", "--image", disk, "--images", out], timeout=300)
    print(build.stdout[-2000:], flash.stdout, f"build {build_s:.1f} s, flash {flash_s:.1f} s", sep="\n")
    return out, disk, build_s


@pytest.fixture(scope="module")
def box(images, tmp_path_factory, request):
    """The booted test image; its console log goes to tests/artifacts when a test here failed."""
    out, disk, _ = images
    failed_before = request.session.testsfailed
    workdir = tmp_path_factory.mktemp("qemu")
    guest = qemu.boot(out, disk, workdir, accel=os.environ.get("WSMEASURE_QEMU_ACCEL", "auto"))
    try:
        guest.https_s = guest.wait_https(240)
        yield guest
    finally:
        failed = request.session.testsfailed > failed_before or not hasattr(guest, "https_s")
        if failed:
            guest.wait_boot_report(60)   # kept with the console log below
        guest.stop()
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(guest.console, ARTIFACTS / "qemu-console.log")


def opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=qemu.TLS),
                                       urllib.request.HTTPCookieProcessor(jar))


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def logged_in(guest):
    """An HTTPS client logged in as the administrator, as a browser does (PIN, then PUK)."""
    web, base = opener(), f"https://127.0.0.1:{guest.ports['https']}"

    def post(path, **form):
        with web.open(base + path, urllib.parse.urlencode(form).encode(), timeout=60) as r:
            return r.read().decode()

    with web.open(base + "/login", timeout=60) as r:
        page = r.read().decode()
    page = post("/login", csrf=csrf_of(page), pin=ADMIN[0])
    assert 'name="puk"' in page, page[-2000:]
    post("/login/puk", csrf=csrf_of(page), puk=ADMIN[1])
    return web, base


@pytest.mark.image
@pytest.mark.timeout(1200)
def test_the_box_answers_https_after_boot(box, images, capsys):
    status, page = box.https("/login")
    assert status == 200 and 'name="pin"' in page
    with capsys.disabled():
        print(f"\n  image: build {images[2]:.1f} s; boot to HTTPS {box.https_s:.1f} s with {box.accel.upper()} "
              f"(target {HTTPS_TARGET_S} s)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "image-boot.txt").write_text(f"build_s {images[2]:.1f}\naccel {box.accel}\nhttps_s {box.https_s:.1f}\n")


@pytest.mark.image
@pytest.mark.timeout(300)
def test_http_redirects_and_ftp_answers(box):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(f"http://127.0.0.1:{box.ports['http']}/", timeout=60)
    assert redirect.value.code in (301, 302, 303, 307, 308)
    assert redirect.value.headers["Location"].startswith("https://")
    with ftplib.FTP() as ftp:   # the control connection; a passive data port is not forwarded
        ftp.connect("127.0.0.1", box.ports["ftp"], timeout=60)
        assert "230" in ftp.login("wsmeasure", "wsmeasure")
        assert ftp.pwd() == "/"


@pytest.mark.image
@pytest.mark.timeout(300)
def test_modbus_tcp_gateway_reads_a_simulated_meter(box):
    from pymodbus.client import AsyncModbusTcpClient

    async def read():
        client = AsyncModbusTcpClient("127.0.0.1", port=box.ports["modbus_tcp"], timeout=30, retries=1)
        await client.connect()
        try:
            volts = await client.read_holding_registers(0xC558, count=2, device_id=7)   # meter "Workshop": V1
            absent = await client.read_holding_registers(0xC558, count=2, device_id=99)
            return volts, absent
        finally:
            client.close()

    served = box.sim.bus.replies
    volts, absent = asyncio.run(read())
    assert not volts.isError(), volts
    assert 22000 < (volts.registers[0] << 16 | volts.registers[1]) < 24000   # 0.01 V, from the twin
    assert absent.isError() and absent.exception_code == 0x0B                 # nobody at address 99
    assert box.sim.bus.replies > served   # through the box's RS485 port, to this host and back


@pytest.mark.image
@pytest.mark.timeout(300)
def test_live_values_of_the_simulated_meters_reach_my_panel_board(box):
    web, base = logged_in(box)
    deadline = time.monotonic() + 120
    while True:
        with web.open(base + "/api/panel/1", timeout=60) as r:
            device = json.loads(r.read())["device"]
        if device["status"] == "on" and device["values"]:
            break
        assert time.monotonic() < deadline, device
        time.sleep(2)
    assert device["name"] == "Main incomer" and str(device["address"]) == "1"
    v1 = device["values"]["V1"]["value"]
    assert 220 < v1 < 240, device["values"]["V1"]
    assert box.sim.bus.replies > 0   # the meters' answers the box polled


def next_version(steps: int) -> str:
    import wsmeasure

    parts = wsmeasure.__version__.split(".")
    return ".".join(parts[:-1] + [str(int(parts[-1]) + steps)])


def send_update(box, bundle: Path, version: str) -> float:
    """flash.sh --update to the box, as its administrator; the moment it was sent."""
    started = time.monotonic()
    sent, _ = run([REPO / "flash.sh", "--update", bundle, f"127.0.0.1:{box.ports['https']}"], timeout=300,
                  env={**os.environ, "WSMEASURE_PIN": ADMIN[0], "WSMEASURE_PUK": ADMIN[1]})
    assert f"wsmeasure {version}" in sent.stdout and "image-build.pub" in sent.stdout, sent.stdout
    return started


def wait_for_update_page(box, *texts: str, timeout: float = 420) -> tuple:
    """The Software update page's text once it shows every one of `texts`; the updater runs,
    then the daemon restarts (or fails to): the pages go away for a while."""
    deadline = time.monotonic() + timeout
    page = ""
    while True:
        try:
            web, base = logged_in(box)
            with web.open(base + "/server/update", timeout=60) as r:
                page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.read().decode()))
            if all(t in page for t in texts):
                return web, base, page
        except (OSError, AssertionError, AttributeError):
            pass
        assert time.monotonic() < deadline, f"the update page never showed {texts}: {page[-1500:]}"
        time.sleep(5)


def polls_again(box, timeout: float = 60) -> None:
    replies = box.sim.bus.replies
    deadline = time.monotonic() + timeout
    while box.sim.bus.replies == replies:   # the running version polls the meters
        assert time.monotonic() < deadline, "the daemon does not poll the RS485 port"
        time.sleep(1)


def bundle_of(tmp_path: Path, version: str, *source: Path) -> Path:
    """A bundle of `version` (of this checkout, or of a source tree), signed with the image build's key."""
    key = qemu.default_cache() / "update.key"
    assert key.exists(), "image/build.sh keeps the image's update key pair in its cache"
    bundle = tmp_path / f"wsmeasure-{version}.bundle"
    run([sys.executable, "-m", "wsmeasure.bundle", "build", "--key", key, "--set-version", version, "--out", bundle,
         *(("--source", source[0]) if source else ())], timeout=300)
    return bundle


def config_kept_and_meters_polled(box, web, base) -> None:
    with web.open(base + "/api/panel/1", timeout=60) as r:
        assert json.loads(r.read())["device"]["name"] == "Main incomer"   # config.db kept
    polls_again(box)


@pytest.mark.image
@pytest.mark.timeout(600)
def test_a_signed_update_whose_daemon_does_not_start_is_rolled_back_by_the_box(box, tmp_path, capsys):
    """A well signed bundle of a version whose daemon exits at start: the box installs it into
    slot B, systemd starts it three times, slot-guard then switches back to slot A by itself; the
    page tells it; the previous version polls the meters of the kept configuration."""
    import wsmeasure

    source = tmp_path / "broken"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("app", "drivers", "web"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    cli = source / "app" / "cli.py"
    text = cli.read_text()
    assert '    if args.command == "run":\n' in text
    cli.write_text(text.replace('    if args.command == "run":\n', '    if args.command == "run":\n'
                                '        raise SystemExit("wsmeasure: broken on purpose (tests/test_image_boot.py)")\n', 1))
    broken = next_version(1)
    started = send_update(box, bundle_of(tmp_path, broken, source), broken)
    web, base, page = wait_for_update_page(
        box, f"Version {broken} was not marked good after", f"went back to version {wsmeasure.__version__}")
    assert f"Installed version {wsmeasure.__version__}" in page and "Active slot slot-a" in page, page
    config_kept_and_meters_polled(box, web, base)
    with capsys.disabled():
        print(f"\n  image: broken update {broken} sent, installed, failed and rolled back to "
              f"{wsmeasure.__version__} in {time.monotonic() - started:.0f} s ({box.accel.upper()})")


@pytest.mark.image
@pytest.mark.timeout(600)
def test_flash_sends_a_signed_update_that_the_box_installs_and_keeps_its_configuration(box, tmp_path, capsys):
    """flash.sh --update: the Software update page verifies the bundle (signed with the image
    build's throw-away key), the root updater installs it into slot B, the daemon restarts with
    it; the meters declared in config.db are polled again. Last: it restarts the daemon."""
    import wsmeasure

    new = next_version(2)
    started = send_update(box, bundle_of(tmp_path, new), new)
    web, base, page = wait_for_update_page(box, f"Installed version {new}")
    assert "Active slot slot-b" in page, page
    # on trial until it has worked for a minute (then marked good; app/update.py), or already kept
    assert "On trial" in page or f"Previous version {wsmeasure.__version__} in slot-a" in page, page
    config_kept_and_meters_polled(box, web, base)
    with capsys.disabled():
        print(f"\n  image: update {wsmeasure.__version__} -> {new} sent, installed and running in "
              f"{time.monotonic() - started:.0f} s ({box.accel.upper()})")


@pytest.mark.image
@pytest.mark.timeout(300)
def test_the_images_follow_the_layout(images):
    """Partitions, labels and the application slot, read from the files without mounting them."""
    out, disk, _ = images
    table = json.loads(run(["sfdisk", "--json", disk])[0].stdout)["partitiontable"]
    assert table["label"] == "gpt" and [p["name"] for p in table["partitions"]] == ["wsm-system", "wsm-data"]
    labels = [run(["e2label", out / f])[0].stdout.strip() for f in ("system.ext4", "data.ext4")]
    assert labels == ["WSM-SYSTEM", "WSM-DATA"]

    def debugfs(image, request):
        return run(["debugfs", "-R", request, image])[0].stdout

    assert "slot-a" in debugfs(out / "system.ext4", "stat /opt/wsmeasure/current")   # a symlink to slot-a
    assert "wsmeasure" in debugfs(out / "system.ext4", "ls /opt/wsmeasure/slot-a/bin")
    assert "wsmeasure.service" in debugfs(out / "system.ext4", "ls /etc/systemd/system/multi-user.target.wants")
    for path in (p.relative_to(REPO / "rootfs") for p in (REPO / "rootfs").rglob("*") if p.is_file()):
        assert "File not found" not in run(["debugfs", "-R", f"stat /{path}", out / "system.ext4"])[0].stderr, path
    assert "config.db" in debugfs(out / "data.ext4", "ls /")


@pytest.mark.image
@pytest.mark.timeout(600)
def test_flash_writes_a_disk_only_once_its_name_is_typed_back_and_the_data_takes_the_rest(images, tmp_path):
    """--device on a loop device (a disk here; removable disks are none): a wrong answer writes
    nothing; the right one writes both partitions, moves the backup GPT to the end and grows
    the data partition and its file system to fill the disk."""
    if not Path("/dev/loop-control").exists():
        pytest.skip("no loop devices here")
    out, _, _ = images
    MiB = 1 << 20
    disk = tmp_path / "stick.img"
    spare = 300 * MiB
    disk_bytes = 2 * MiB + (out / "system.ext4").stat().st_size + (out / "data.ext4").stat().st_size + spare
    with open(disk, "wb") as f:
        f.truncate(disk_bytes)
    loop = run(["losetup", "--find", "--show", "--partscan", disk])[0].stdout.strip()
    try:
        refused = subprocess.run([REPO / "flash.sh", "--device", loop, "--images", out], input="/dev/sdz\n",
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and "not confirmed: nothing written" in refused.stderr, refused.stderr
        assert "EVERYTHING on " + loop in refused.stdout and "loop device of" in refused.stdout
        with open(disk, "rb") as f:
            assert f.read(4 * MiB) == bytes(4 * MiB)   # not one byte written
        written, _ = run([REPO / "flash.sh", "--device", loop, "--images", out], input=f"{loop}\n", timeout=600)
        table = json.loads(run(["sfdisk", "--json", loop])[0].stdout)["partitiontable"]
        system, data = table["partitions"]
        assert [system["name"], data["name"]] == ["wsm-system", "wsm-data"]
        assert (data["start"] + data["size"]) * 512 > disk_bytes - 2 * MiB   # to the disk's end
        assert data["size"] * 512 > (out / "data.ext4").stat().st_size + spare - 2 * MiB
        part = f"{loop}p2"
        assert run(["e2label", part])[0].stdout.strip() == "WSM-DATA"
        assert run(["e2fsck", "-fn", part])[0].returncode == 0
        fs = run(["dumpe2fs", "-h", part])[0].stdout
        blocks = int(re.search(r"Block count:\s+(\d+)", fs).group(1)) * int(re.search(r"Block size:\s+(\d+)", fs).group(1))
        assert blocks > data["size"] * 512 - 4 * MiB   # the file system grew with its partition
        assert "config.db" in run(["debugfs", "-R", "ls /", part])[0].stdout   # the data kept
        assert "WSM-SYSTEM" in run(["e2label", f"{loop}p1"])[0].stdout
    finally:
        subprocess.run(["losetup", "--detach", loop], capture_output=True)


def test_frames_are_split_by_length_and_crc_as_qemu_delivers_them():
    """No pacing, no boundaries: pieces, glued frames and noise still give the requests."""
    from wsmeasure.rtu import adu, read_pdu
    from wsmeasure.simsocket import split_requests

    a, b = adu(1, read_pdu(3, 0xC558, 2)), adu(7, bytes([16, 0, 10, 0, 1, 2, 0, 5]))   # a read, a write
    buf = bytearray()
    got = []
    for piece in (b"\xff\x00", a[:3], a[3:] + b[:4], b[4:9], b[9:] + a):   # noise first, then split and glued
        buf += piece
        got += split_requests(buf)
    assert got == [a, b, a] and not buf
    torn = bytearray(a[:5] + b)      # a frame cut short by a reset, then a good one: resynchronised
    assert split_requests(torn) == [b] and not torn


def test_simulated_meters_answer_on_a_socket_like_qemus(tmp_path):
    """The host side of the RS485 chardev: a server socket (QEMU's end), the twins on ours."""
    import socket
    import threading

    from wsmeasure.rtu import adu, crc_ok, read_pdu
    from wsmeasure.simsocket import Background
    from wsmeasure.specs import DeviceSpec
    from wsmeasure.virtual import build_twins

    path = tmp_path / "rs485.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    sim = Background(path, build_twins([DeviceSpec(1, "emdx3_meter", "0 146 69", 5)])).start()
    try:
        server.settimeout(10)
        conn, _ = server.accept()
        conn.settimeout(10)
        request = adu(5, read_pdu(3, 0xC558, 2))
        for i in range(len(request)):          # one byte at a time, as a slow UART would
            conn.send(request[i:i + 1])
            threading.Event().wait(0.01)
        reply = b""
        while len(reply) < 9:
            reply += conn.recv(64)
        assert reply[:3] == bytes([5, 3, 4]) and crc_ok(reply)
        assert 22000 < int.from_bytes(reply[3:7], "big") < 24000
        conn.send(adu(9, read_pdu(3, 0xC558, 2)))   # nobody at 9: silence
        conn.settimeout(0.5)
        with pytest.raises(socket.timeout):
            conn.recv(64)
        assert sim.bus.requests == 2 and sim.bus.replies == 1
        conn.close()
    finally:
        sim.stop()
        server.close()


def test_flash_refuses_what_is_not_a_whole_removable_disk(tmp_path):
    """Never a guess: a file, a missing device and a fixed disk are refused before anything is written."""
    target = tmp_path / "not-a-device"
    target.write_bytes(b"keep me")
    for device, message in ((target, "is not a block device"), ("/dev/wsm-nonexistent", "is not a block device")):
        proc = subprocess.run([REPO / "flash.sh", "--device", str(device)], capture_output=True, text=True,
                              input="", timeout=60)
        assert proc.returncode != 0 and message in proc.stderr
    assert target.read_bytes() == b"keep me"
    fixed = next((f"/dev/{d}" for d in ("vda", "sda", "nvme0n1", "xvda")
                  if Path(f"/sys/block/{d}/removable").exists()
                  and Path(f"/sys/block/{d}/removable").read_text().strip() == "0"), None)
    if fixed:
        proc = subprocess.run([REPO / "flash.sh", "--device", fixed], capture_output=True, text=True, input="",
                              timeout=60)
        assert proc.returncode != 0 and "not a removable disk" in proc.stderr
    usage = subprocess.run([REPO / "flash.sh"], capture_output=True, text=True, timeout=60)
    assert usage.returncode != 0 and "--device" in usage.stderr
