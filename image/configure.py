"""The test image's config.db, written at image build time with the project's own code.

Run by build.sh (--test-installation) with the image's own Python (slot A, in the image root),
so the schema is the one of the wsmeasure the image carries:

    python configure.py DATA_DIR

after the factory settings (rootfs/usr/libexec/wsmeasure/factory-settings), whose RS485 port
/dev/ttyRS485 is the emulated UART (without a port the daemon would attach its own virtual
installation: refused here); the devices of TEST_DEVICES are declared on the Local gateway, and the host
plays their twins on the other end of that UART (wsmeasure.simsocket); a fast poll; Modbus
TCP ON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wsmeasure import settings
from wsmeasure.db import open_config
from wsmeasure.installation import add_device, local_gateway

# The simulated installation of the QEMU boot test: EMDX3 meters at known addresses.
TEST_DEVICES = (
    dict(family="emdx3_meter", model="0 146 69", address=1, name="Main incomer"),
    dict(family="emdx3_meter", model="0 146 68", address=2, name="Lighting", load="lighting"),
    dict(family="emdx3_meter", model="0 146 68", address=7, name="Workshop"),
)
TEST_SETTINGS = {"poll.interval_s": "2", "modbus_tcp.enabled": "on", "virtual.seeded": "on"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_dir", type=Path)
    args = p.parse_args()
    db = open_config(args.data_dir)
    try:
        if not settings.get(db, "serial.port"):
            raise SystemExit("configure.py: no serial.port: write the factory settings first")
        for key, value in TEST_SETTINGS.items():
            settings.set(db, key, value)
        gateway = local_gateway(db)
        for row in TEST_DEVICES:
            device = add_device(db, gateway.id, **row)
            print(f"  device {device.id}: {row['name']} ({row['model']}) at address {row['address']}")
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
