"""Consumptions: the chart model of the pages (Series, Chart, Report) and its outputs -- the
page's tables and the JSON of /api/consumptions/... (`payload`), and datalogger.csv. Periods,
labels and numbers: pages_consumptions_data.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wsmeasure import settings
from wsmeasure.history_format import BOM, DATE_HEADER, OFFSET_HEADER, CsvFormat, stamp

from .pages_consumptions_costs import COST_SCALE
from .pages_consumptions_data import (COST, Period, add, amount, bucket_labels, difference,
                                      number_format, period_title, raw_unit, scale_of)
from .pages_panel import number


# -- charts --------------------------------------------------------------------------------------------
@dataclass
class Series:
    key: str
    name: str
    colour: str
    values: list            # per bucket (or per category): int or None
    total: int | None
    previous: int | None    # total of the previous period


@dataclass
class Chart:
    id: str
    kind: str                # "bars" or "pie"
    title: str
    quantity: str            # "Ea+", "water", "gas" or COST
    series: list[Series]
    stacked: bool = False    # bars of the series on top of each other (their sum is a total)
    categories: list[str] | None = None   # bars per category (devices...) instead of per bucket
    note: str = ""

    def sums(self) -> list:
        """Each bucket summed over the series: the tops of stacked bars."""
        return [add(col) for col in zip(*(s.values for s in self.series))]


@dataclass
class Report:
    """What one page shows for one period: its charts and what the page adds around them."""

    page: str
    title: str
    period: Period
    charts: list[Chart] = field(default_factory=list)
    message: str = ""                  # why there is nothing to show, when so
    controls: list = field(default_factory=list)     # (name, label, [(value, text)], chosen)
    checks: list = field(default_factory=list)       # (name, label, [(value, text, colour)], chosen)
    devices: list | None = None        # section A (Details pages): device rows
    device_list: tuple | None = None   # (choices, chosen) of section A's filter
    params: dict = field(default_factory=dict)       # the page's own query (device, load, t...)
    summary: list = field(default_factory=list)      # extra (label, text) pairs
    counters: list = field(default_factory=list)     # Details: (label, quantity, total text, previous, diff, link)
    current: dict | None = None        # Details pages: the device shown
    table: dict | None = None          # Overall: its table of electricity, gas and water
    csv_series: list | None = None     # (Series, quantity) for datalogger.csv (default: the bars over time)
    currency: str = ""


def chart_payload(chart: Chart, lang: str, currency: str) -> dict:
    """A chart as JSON and as the template's table: raw values, texts, one unit."""
    values = [v for s in chart.series for v in s.values]
    if chart.kind == "pie":
        values = [s.total for s in chart.series]
    sums = chart.sums() if chart.stacked else None
    if sums is not None:
        values += sums
    scale = scale_of(chart.quantity, values, currency)
    series = []
    for s in chart.series:
        diff, diff_text, percent = difference(chart.quantity, s.total, s.previous, lang, currency)
        series.append({"key": s.key, "name": s.name, "colour": s.colour, "buckets": s.values,
                       "texts": [scale.text(v, lang) for v in s.values], "total": s.total,
                       "total_text": amount(chart.quantity, s.total, lang, currency), "previous_total": s.previous,
                       "previous_text": amount(chart.quantity, s.previous, lang, currency), "difference": diff,
                       "difference_text": diff_text, "percent_text": percent})
    out = {"id": chart.id, "type": chart.kind, "title": chart.title, "quantity": chart.quantity,
           "raw_unit": raw_unit(chart.quantity, currency), "unit": scale.unit, "divisor": scale.divisor,
           "decimals": scale.decimals, "stacked": chart.stacked, "note": chart.note, "series": series}
    if chart.categories is not None:
        out["categories"] = chart.categories
    # one total for the whole chart: a pie, stacked bars, one series; side by side, each its own
    out["combined"] = combined = chart.kind == "pie" or chart.stacked or len(series) == 1
    keys = ("total", "total_text", "previous_total", "previous_text", "difference", "difference_text", "percent_text")
    if not combined:
        out.update(dict.fromkeys(keys))
    elif len(series) == 1 and chart.kind != "pie":
        out.update({k: series[0][k] for k in keys})
    else:
        total = add([s.total for s in chart.series])
        previous = add([s.previous for s in chart.series])
        diff, diff_text, percent = difference(chart.quantity, total, previous, lang, currency)
        out.update(total=total, total_text=amount(chart.quantity, total, lang, currency), previous_total=previous,
                   previous_text=amount(chart.quantity, previous, lang, currency), difference=diff,
                   difference_text=diff_text, percent_text=percent)
    if sums is not None:
        out.update(buckets=sums, texts=[scale.text(v, lang) for v in sums])
    if chart.kind == "pie":
        whole = sum(s.total for s in chart.series if s.total and s.total > 0)
        for s in series:
            share = 100 * s["total"] / whole if whole and s["total"] and s["total"] > 0 else 0
            s["percent"] = share
            s["share_text"] = f"{number(share, 1, lang)}\u00a0%"
    return out


def payload(report: Report, _, lang: str) -> dict:
    """The JSON of /api/consumptions/...: the period, its labels and the charts."""
    p = report.period
    start, end = p.bounds()
    starts = p.starts()
    labels, short = bucket_labels(p.view, starts, _)
    nxt = p.next_day
    return {"ok": True, "page": report.page, "title": report.title, "view": p.view, "date": p.day.isoformat(),
            "period": period_title(p.view, p.day, _), "start": start.isoformat(), "end": end.isoformat(),
            "prev": p.previous_day.isoformat(), "next": nxt.isoformat() if nxt else None,
            "previous_period": period_title(p.view, p.previous_day, _),
            "labels": labels, "short": short, "starts": [s.isoformat() for s in starts],
            "lang": lang, "format": number_format(lang), "currency": report.currency,
            "message": report.message, "charts": [chart_payload(c, lang, report.currency) for c in report.charts]}


# -- datalogger.csv ----------------------------------------------------------------------------------------
def csv_series(report: Report) -> list[tuple[Series, str]]:
    """(series, quantity) of the CSV: the bars over time of every chart, unless the page chose."""
    if report.csv_series is not None:
        return report.csv_series
    out = []
    for c in report.charts:
        if c.kind == "bars" and c.categories is None:
            out += [(s, c.quantity) for s in c.series]
            if c.stacked and len(c.series) > 1:
                out.append((Series(f"{c.id}-total", c.title, "", c.sums(), None, None), c.quantity))
    return out


def datalogger_csv(box, report: Report) -> bytes:
    """The buckets of the period shown, one line each: date, UTC offset, one column per series
    (Wh, dm3 as whole numbers; costs in the currency), with the box's CSV separators, a BOM and
    CRLF line ends, like the CSV history (history_format)."""
    fmt = CsvFormat.from_settings(settings.get(box.db, "csv.field_separator"),
                                  settings.get(box.db, "csv.decimal_separator"))
    p = report.period
    starts = p.starts()
    columns = csv_series(report)
    header = [DATE_HEADER, OFFSET_HEADER] + [f"{s.name} ({raw_unit(q, report.currency)})" for s, q in columns]
    lines = [fmt.header(header)]
    for i, s in enumerate(starts):
        cells = list(stamp(int(s.timestamp()), p.tz))
        for series, q in columns:
            v = series.values[i]
            cells.append(fmt.number(None if v is None else v / COST_SCALE) if q == COST else fmt.integer(v))
        lines.append(fmt.line(cells))
    return (BOM + "".join(lines)).encode("utf-8")
