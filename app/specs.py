"""The installation as the acquisition side sees it: plain data, built from the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from wsmeasure.drivers.base import DeviceSpec

LOCAL = "local"      # the box's own RS485 port ("Local" gateway, 127.0.0.1)
IP = "ip"            # a Modbus TCP gateway (another box, or a third-party RTU-to-TCP gateway)
VIRTUAL = "virtual"  # a slave wsmeasure box read through its unit 247 (master/slave function)


@dataclass
class GatewaySpec:
    id: int
    name: str
    kind: str
    address: str = "127.0.0.1"
    port: int = 502
    enabled: bool = True
    devices: list[DeviceSpec] = field(default_factory=list)  # enabled devices only

    @property
    def has_greenup(self) -> bool:
        from wsmeasure.drivers.catalogue import family

        return any(family(d.family).greenup for d in self.devices)


__all__ = ["DeviceSpec", "GatewaySpec", "LOCAL", "IP", "VIRTUAL"]
