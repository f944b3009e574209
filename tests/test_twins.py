"""Virtual counters behave like real meters across daemon restarts: a function of wall time."""

import pytest

from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.drivers.counter_twins import PulseTwin
from wsmeasure.drivers.twins import ElectricTwin, cumulative_load, load_between

T = 1_780_000_000.0  # mid-2026


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def test_a_twin_created_later_reads_what_the_first_one_reads():
    fam = family("emdx3_meter")
    driver = fam.driver_for(DeviceSpec(1, fam.key, "0 146 68", 7))
    clock = Clock(T)
    first = ElectricTwin(driver, clock=clock)
    clock.t = T + 3 * 3600 + 17   # the daemon ran three hours, then was killed and restarted
    first.advance(clock.t)
    second = ElectricTwin(driver, clock=clock)
    assert int(first.energy["Ea+"]) == int(second.energy["Ea+"])
    assert first.energy["Ea+"] - ElectricTwin(driver, clock=Clock(T)).energy["Ea+"] > 0


def test_pulse_totals_follow_wall_time_too():
    fam = family("pulse_water")
    spec = DeviceSpec(1, fam.key, "WATER", 4, position=2, params={"concentrator": "0 046 87"})
    drivers = [fam.driver_for(spec)]
    clock = Clock(T)
    first = PulseTwin(drivers, seed=4, clock=clock)
    clock.t += 86400
    first.advance(clock.t)
    assert first.inputs[2].index() == PulseTwin(drivers, seed=4, clock=clock).inputs[2].index()


@pytest.mark.parametrize("t0, t1", [(T, T + 86400), (T - 400 * 86400, T), (1.0e9, 1.0e9 + 7200)])
def test_cumulative_load_is_additive_and_grows(t0, t1):
    mid = (t0 + t1) / 2
    assert load_between(t0, t1) == pytest.approx(load_between(t0, mid) + load_between(mid, t1))
    assert 0.1 * (t1 - t0) / 3600 < load_between(t0, t1) <= (t1 - t0) / 3600
    assert cumulative_load(t1) >= cumulative_load(t0)
