"""Local-time buckets of the history: where hours, days, months and years start.

Every bucket is named by the UTC epoch of its first second, cut at the installation's LOCAL
boundaries (peers cut days at UTC midnight and their users saw yesterday's evening in today's
bars: emonCMS #397, RRDtool #1284):
  - an hour starts at a local xx:00, and also at each change of UTC offset, so a 23-hour day has
    23 hour buckets, a 25-hour day 25 (the repeated hour is a bucket of its own), and a 30-minute
    shift (Australia/Lord_Howe) makes a 30-minute bucket rather than a 90-minute one;
  - a day starts at local midnight (or at the first instant of the date when midnight does not
    exist), a month on the 1st, a year on 1 January.
A slot belongs to the bucket that holds its start.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, tzinfo

SLOT, HOUR, DAY, MONTH, YEAR = 0, 1, 2, 3, 4
LEVELS = (SLOT, HOUR, DAY, MONTH, YEAR)
LEVEL_NAMES = ("slot", "hour", "day", "month", "year")


def zone(name: str) -> tzinfo:
    """The zone of setting `time.zone`; "" is the system's: $TZ, else /etc/localtime, else UTC.

    Always a real zone with its DST rules: a fixed offset would cut half the year wrong.
    """
    import zoneinfo

    if name:
        return zoneinfo.ZoneInfo(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return zoneinfo.ZoneInfo(env)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass   # a POSIX rule string ("CET-1CEST,M3.5.0,M10.5.0/3"): fall back to the file
    try:
        with open("/etc/localtime", "rb") as f:
            return zoneinfo.ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _offset_change(tz: tzinfo, lo: int, hi: int) -> int:
    """The first second in (lo, hi] whose UTC offset differs from lo's (caller knows there is one)."""
    before = datetime.fromtimestamp(lo, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi


def _hour_start(tz: tzinfo, ts: int) -> int:
    local = datetime.fromtimestamp(ts, tz)
    floor = local.replace(minute=0, second=0, microsecond=0)   # keeps `fold`: the repeated hour stays apart
    start = min(int(floor.timestamp()), ts)
    if datetime.fromtimestamp(start, tz).utcoffset() != local.utcoffset():
        start = _offset_change(tz, start, ts)                 # the offset changed inside this hour
    return start


def midnight(tz: tzinfo, day: date) -> int:
    """First instant of a local date (a missing midnight resolves to the jump, fold=0)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def bucket_start(tz: tzinfo, level: int, ts: int) -> int:
    """Start (UTC epoch) of the bucket of `level` that holds the instant `ts`; SLOT returns ts."""
    if level == SLOT:
        return ts
    if level == HOUR:
        return _hour_start(tz, ts)
    d = datetime.fromtimestamp(ts, tz).date()
    if level == DAY:
        start = midnight(tz, d)
    elif level == MONTH:
        start = midnight(tz, d.replace(day=1))
    elif level == YEAR:
        start = midnight(tz, d.replace(month=1, day=1))
    else:
        raise ValueError(f"no bucket level {level}")
    return min(start, ts)   # zones that repeat the hour before midnight: keep the bucket around ts


def next_start(tz: tzinfo, level: int, start: int) -> int:
    """Start of the bucket after the one starting at `start`."""
    if level == HOUR:
        nxt = _hour_start(tz, start + 3600)   # hour buckets last at most 3600 s...
        while (back := _hour_start(tz, nxt - 1)) > start:
            nxt = back                        # ...but one may be shorter: step back onto it
        return nxt
    d = datetime.fromtimestamp(start, tz).date()
    if level == DAY:
        return midnight(tz, d + timedelta(days=1))
    if level == MONTH:
        return midnight(tz, date(d.year + d.month // 12, d.month % 12 + 1, 1))
    if level == YEAR:
        return midnight(tz, date(d.year + 1, 1, 1))
    raise ValueError(f"no next bucket for level {level}")


def starts(tz: tzinfo, level: int, lo: int, hi: int) -> list[int]:
    """Bucket starts of `level` from the bucket holding lo up to (not including) hi."""
    out, t = [], bucket_start(tz, level, lo)
    while t < hi:
        out.append(t)
        t = next_start(tz, level, t)
    return out


def local(tz: tzinfo, ts: int) -> datetime:
    """The aware local datetime of an epoch: a page label (offset and fold included)."""
    return datetime.fromtimestamp(ts, tz)
