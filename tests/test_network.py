"""Network settings (manual 7.5, 7.7.1): parsing, the subnet cross-check, saving the form in one
transaction, and the systemd-networkd file the appliance gets (commands recorded, not run)."""

from __future__ import annotations

import configparser
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from wsmeasure import settings
from wsmeasure.db import CONFIG_DB, open_config
from wsmeasure.network import NETWORK_FILE, ApplyError, apply_network, save_network
from wsmeasure.settings import ConfigError

FACTORY = Path(__file__).parent.parent / "rootfs" / NETWORK_FILE
NET_KEYS = ("net.address", "net.mask", "net.gateway", "net.dns")


@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path)
    yield db
    db.close()


def stored(data_dir: Path) -> dict:
    with sqlite3.connect(data_dir / CONFIG_DB) as conn:
        return dict(conn.execute("SELECT key, value FROM setting"))


def network(db) -> tuple:
    return tuple(settings.get(db, key) for key in NET_KEYS)


class Recorder:
    """Stands in for subprocess.run: records the commands the appliance would run."""

    def __init__(self):
        self.commands = []

    def __call__(self, argv, **kwargs):
        assert kwargs.get("check") is True
        self.commands.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")


# -- saving the form --------------------------------------------------------------------------------
def test_the_manual_example_is_saved_in_canonical_form(db, tmp_path):
    # 7.7.1: 172.168.1.101 / 255.255.255.0 / 172.168.1.1: another subnet, in one save
    values = save_network(db, " 172.168.1.101 ", "/24", "172.168.1.1", "172.168.1.1 9.9.9.9,1.1.1.1")
    assert values == {"address": "172.168.1.101", "mask": "255.255.255.0", "gateway": "172.168.1.1",
                      "dns": "172.168.1.1, 9.9.9.9, 1.1.1.1"}
    assert stored(tmp_path) == {"net.address": "172.168.1.101", "net.mask": "255.255.255.0",
                                "net.gateway": "172.168.1.1", "net.dns": "172.168.1.1, 9.9.9.9, 1.1.1.1"}


def test_no_gateway_and_no_dns(db):
    save_network(db, "10.0.0.5", "255.0.0.0", "", "")
    assert network(db) == ("10.0.0.5", "255.0.0.0", "", "")


REFUSED = [
    # address          mask               gateway         dns                     field      the message says
    ("192.168.1.300", "255.255.255.0",   "192.168.1.1",  "",                     "address", "not an IPv4 address"),
    ("127.0.0.1",     "255.0.0.0",       "",             "",                     "address", "except 127"),
    ("224.0.0.1",     "255.255.255.0",   "",             "",                     "address", "not the address of one host"),
    ("",              "255.255.255.0",   "192.168.1.1",  "",                     "address", "not an IPv4 address"),
    ("192.168.1.100", "255.255.0.255",   "192.168.1.1",  "",                     "mask", "contiguous"),
    ("192.168.1.100", "0.0.0.255",       "192.168.1.1",  "",                     "mask", "contiguous"),
    ("192.168.1.100", "255.255.255.254", "",             "",                     "mask", "255.255.255.252 (/30)"),
    ("192.168.1.100", "/33",             "",             "",                     "mask", "subnet mask"),
    ("192.168.1.100", "255.255.255.0",   "gw",           "",                     "gateway", "not an IPv4 address"),
    ("192.168.1.100", "255.255.255.0",   "192.168.1.1",  "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4", "dns", "up to 3"),
    ("192.168.1.100", "255.255.255.0",   "192.168.1.1",  "dns.example.com",      "dns", "not an IPv4 address"),
    # the cross-check
    ("192.168.1.0",   "255.255.255.0",   "",             "",                     "address", "network address"),
    ("192.168.1.255", "255.255.255.0",   "",             "",                     "address", "broadcast address"),
    ("10.1.2.3",      "255.255.255.0",   "192.168.1.1",  "",                     "gateway", "10.1.2.1 to 10.1.2.254"),
    ("192.168.1.100", "255.255.255.0",   "192.168.1.100", "",                    "gateway", "own address"),
    ("192.168.1.100", "255.255.255.0",   "192.168.1.255", "",                    "gateway", "not in the subnet"),
    ("192.168.1.100", "255.255.255.128", "192.168.1.129", "",                    "gateway", "192.168.1.1 to 192.168.1.126"),
]


@pytest.mark.parametrize("address, mask, gateway, dns, field, fragment", REFUSED)
def test_a_refused_form_names_the_field_and_stores_nothing(db, tmp_path, address, mask, gateway, dns, field,
                                                           fragment):
    save_network(db, "192.168.1.100", "255.255.255.0", "192.168.1.1", "192.168.1.1")   # now stored rows
    before = stored(tmp_path)
    with pytest.raises(ConfigError) as exc:
        save_network(db, address, mask, gateway, dns)
    assert exc.value.field == field
    assert fragment in exc.value.message, exc.value.message
    assert stored(tmp_path) == before


def test_one_by_one_a_move_to_another_subnet_needs_the_gateway_changed_first(db, tmp_path):
    with pytest.raises(ConfigError) as exc:   # the CLI's way: the default gateway is left behind
        settings.set(db, "net.address", "10.0.0.5")
    assert exc.value.field == "net.gateway" and "192.168.1.1" in exc.value.message
    assert stored(tmp_path) == {}
    with pytest.raises(ConfigError) as exc:
        settings.set(db, "net.address", "192.168.1.0")
    assert exc.value.field == "net.address"
    settings.set(db, "net.gateway", "")
    settings.set(db, "net.address", "10.0.0.5")
    settings.set(db, "net.mask", "8")
    settings.set(db, "net.gateway", "10.0.0.1")
    assert network(db) == ("10.0.0.5", "255.0.0.0", "10.0.0.1", "192.168.1.1")


def test_each_setting_alone_is_checked_against_the_other_two(db):
    settings.set(db, "net.mask", "255.255.255.128")   # 192.168.1.0/25 still holds .1 and .100
    with pytest.raises(ConfigError) as exc:
        settings.set(db, "net.gateway", "192.168.1.200")
    assert exc.value.field == "net.gateway"
    with pytest.raises(ConfigError) as exc:
        settings.set(db, "net.mask", "255.255.255.240")   # .96/28 leaves the gateway .1 outside
    assert exc.value.field == "net.gateway"
    assert network(db)[:3] == ("192.168.1.100", "255.255.255.128", "192.168.1.1")


# -- applying it on the appliance ----------------------------------------------------------------------
def directives(text: str) -> dict:
    parser = configparser.ConfigParser(strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return {section: dict(parser[section]) for section in parser.sections()}


def test_the_factory_settings_give_the_factory_file_plus_its_dns(db, tmp_path):
    run = Recorder()
    path = apply_network(db, tmp_path, run)
    assert path == tmp_path / "etc/systemd/network/20-ethernet.network"
    ours, factory = directives(path.read_text()), directives(FACTORY.read_text())
    assert ours["Match"] == factory["Match"] == {"Type": "ether"}   # never an interface name
    assert ours["Network"] == {**factory["Network"], "DNS": "192.168.1.1"}
    assert run.commands == [["networkctl", "reload"]]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_the_file_follows_the_saved_form(db, tmp_path):
    save_network(db, "172.16.5.20", "255.255.240.0", "172.16.0.1", "172.16.0.2, 172.16.0.3")
    run = Recorder()
    text = apply_network(db, tmp_path, run).read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert lines == ["[Match]", "Type=ether", "[Network]", "Address=172.16.5.20/20", "Gateway=172.16.0.1",
                     "DNS=172.16.0.2", "DNS=172.16.0.3"]
    save_network(db, "172.16.5.20", "255.255.240.0", "", "")
    text = apply_network(db, tmp_path, run).read_text()
    assert "Gateway=" not in text and "DNS=" not in text and "Address=172.16.5.20/20" in text
    assert run.commands == [["networkctl", "reload"]] * 2
    assert sorted(p.name for p in (tmp_path / NETWORK_FILE).parent.iterdir()) == ["20-ethernet.network"]


def test_a_failing_reload_says_why(db, tmp_path):
    def run(argv, **kwargs):   # a real process that fails the way networkctl would
        return subprocess.run(["sh", "-c", "echo 'Failed to reload network settings: Access denied' >&2; exit 1"],
                              **kwargs)

    with pytest.raises(ApplyError, match="networkctl reload: Failed to reload network settings: Access denied"):
        apply_network(db, tmp_path, run)
    assert (tmp_path / NETWORK_FILE).exists()   # written: the next reload or a reboot takes it
