"""The PDF reports of manual 8.5.2, drawn with fpdf2: a report_data.Report, its labels and a
number formatter in, the PDF's bytes out. Nothing here reads the box or speaks a language: every
word comes from `labels` (the pages pass them translated: web/pages_reports_pdf.py), every number
through `fmt(value, decimals)` (the pages' formatting for the user's language).

fpdf2 is imported when a report is drawn, never when this module is: the daemon imports the pages
at start and must stay light. Text is set in DejaVu Sans (Debian fonts-dejavu-core), which has
Greek and Cyrillic; without it the PDF falls back on Helvetica and shows "?" for what Latin-1 lacks.

Summary: per energy kind, the total with the period before, a bar chart of the days (monthly) or
months (yearly), and the loads and measure groups as bars with their share. Detailed: a table of
the chosen devices, then one page per device with its chart and its days or months.
"""

from __future__ import annotations

import math
import os
from typing import Callable, Mapping, Sequence

from .tariffs import COST_SCALE   # costs are stored in millionths of the currency

FONT_DIR = os.environ.get("WSM_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"

# every key the pages must give; "months" is the 12 month names, the others are texts
LABEL_KEYS = ("title", "period", "generated", "page", "electricity", "gas", "water", "total", "previous",
              "change", "cost", "share", "loads", "groups", "devices", "device", "energy", "day", "month",
              "consumption", "no_data", "per_day", "per_month", "excluded", "none", "months")
DISPLAY = {"electricity": ("kWh", 1000), "gas": ("m³", 1000), "water": ("m³", 1000)}   # unit, Wh or dm3 per unit
ENERGY_DECIMALS, SHARE_DECIMALS = 3, 1
NA = "\u2014"

MARGIN, WIDTH = 15.0, 180.0           # mm on A4 portrait
INK, MUTED, LINE, ACCENT, SOFT, BAND = (29, 39, 51), (91, 107, 122), (213, 221, 229), (11, 95, 138), \
    (143, 188, 212), (244, 246, 248)
ROW_H = 5.6


def render(report, labels: Mapping[str, object], fmt: Callable[[float, int], str], cost_decimals: int = 2) -> bytes:
    """The PDF of a report_data.Report (summary or detailed); costs shown with `cost_decimals`
    (the currency's minor units: EUR 2, JPY 0)."""
    missing = [k for k in LABEL_KEYS if k not in labels]
    if missing:
        raise KeyError(f"labels missing: {missing}")
    doc = _Doc(labels, fmt)
    doc.cost_decimals = cost_decimals
    doc.start(report)
    if report.type == "summary":
        doc.summary(report)
    else:
        doc.detailed(report)
    return bytes(doc.pdf.output())


def _font_files() -> dict[str, str] | None:
    files = {style: os.path.join(FONT_DIR, name) for style, name in FONTS.items()}
    return files if all(os.path.isfile(f) for f in files.values()) else None


def _nice(top: float) -> tuple[float, float, int]:
    """(axis top, step, decimals) of about four steps covering `top` (> 0)."""
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    decimals = next((d for d in range(0, 7) if abs(round(step, d) - step) < step * 1e-6), 6)
    return step * math.ceil(top / step - 1e-9), step, decimals


class _Doc:
    def __init__(self, labels: Mapping[str, object], fmt: Callable[[float, int], str]):
        from fpdf import FPDF

        self.l, self.fmt = labels, fmt
        self.cost_decimals = 2
        doc = self

        class Pdf(FPDF):
            def footer(self):
                self.set_y(-11)
                doc.font(7.5, color=MUTED)
                self.cell(0, 5, doc.t(str(doc.l["page"]).format(page=self.page_no(), pages="{nb}")), align="C")

        self.pdf = pdf = Pdf(orientation="P", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=16)
        pdf.alias_nb_pages("{nb}")
        files = _font_files()
        self.unicode = files is not None
        if files:
            for style, path in files.items():
                pdf.add_font(FAMILY, style, path)
        pdf.set_title(self.t(str(labels["title"])))
        pdf.set_creator("wsmeasure")

    # -- text --------------------------------------------------------------------------------------
    def t(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False, color=INK) -> None:
        self.pdf.set_font(FAMILY if self.unicode else "helvetica", "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def fit(self, text: str, width: float) -> str:
        """The text, shortened with an ellipsis to fit `width` mm in the current font."""
        text = self.t(text)
        if self.pdf.get_string_width(text) <= width:
            return text
        dots = "\u2026" if self.unicode else "..."
        while text and self.pdf.get_string_width(text + dots) > width:
            text = text[:-1]
        return text + dots

    def energy(self, kind: str, value) -> str:
        return NA if value is None else self.fmt(value / DISPLAY[kind][1], ENERGY_DECIMALS)

    def money(self, micro) -> str:
        return NA if micro is None else self.fmt(micro / COST_SCALE, self.cost_decimals)

    def need(self, height: float) -> None:
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def heading(self, text: str, size: float = 13, space: float = 3) -> None:
        self.need(size * 0.6 + 30)
        self.pdf.ln(space)
        self.font(size, bold=True, color=ACCENT)
        self.pdf.multi_cell(WIDTH, size * 0.5, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def note(self, text: str) -> None:
        self.font(8.5, color=MUTED)
        self.pdf.multi_cell(WIDTH, 4.2, self.t(text), new_x="LMARGIN", new_y="NEXT")

    # -- page head ---------------------------------------------------------------------------------
    def start(self, report) -> None:
        pdf = self.pdf
        pdf.add_page()
        self.font(18, bold=True)
        pdf.multi_cell(WIDTH, 9, self.t(str(self.l["title"])), new_x="LMARGIN", new_y="NEXT")
        self.font(13)
        pdf.multi_cell(WIDTH, 7, self.t(str(self.l["period"])), new_x="LMARGIN", new_y="NEXT")
        self.font(8.5, color=MUTED)
        pdf.multi_cell(WIDTH, 5, self.t(str(self.l["generated"])), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.6)
        pdf.line(MARGIN, pdf.get_y() + 1.5, MARGIN + WIDTH, pdf.get_y() + 1.5)
        pdf.ln(4)

    # -- tables ------------------------------------------------------------------------------------
    def table(self, columns: Sequence[tuple[str, float, str]], rows: Sequence[Sequence[str]],
              x: float = MARGIN, bold_last: bool = False, bars: Sequence[float | None] | None = None,
              bar_column: int | None = None) -> float:
        """A table at x: columns (heading, width mm, align L/R); rows of texts. A bar column draws,
        for each row, a bar of bars[i] (0..1) of its width. Returns the y below it."""
        pdf = self.pdf

        def head():
            pdf.set_x(x)
            self.font(8, bold=True, color=(255, 255, 255))
            pdf.set_fill_color(*ACCENT)
            for text, width, align in columns:
                pdf.cell(width, ROW_H + 0.6, self.fit(text, width - 1.5), align=align, fill=True)
            pdf.ln(ROW_H + 0.6)

        self.need(2 * ROW_H + 2)
        head()
        for i, row in enumerate(rows):
            if pdf.get_y() + ROW_H > pdf.page_break_trigger:
                pdf.add_page()
                head()
            last = bold_last and i == len(rows) - 1
            self.font(8, bold=last)
            pdf.set_fill_color(*BAND)
            pdf.set_x(x)
            y = pdf.get_y()
            for j, ((_, width, align), text) in enumerate(zip(columns, row)):
                cx = pdf.get_x()
                pdf.cell(width, ROW_H, self.fit(text, width - 1.5), align=align, fill=i % 2 == 1)
                if bars is not None and j == bar_column and bars[i]:
                    pdf.set_fill_color(*ACCENT)
                    pdf.rect(cx + 1, y + 1.2, max(0.3, (width - 2) * min(1.0, bars[i])), ROW_H - 2.4, style="F")
                    pdf.set_fill_color(*BAND)
            pdf.ln(ROW_H)
            if last:
                pdf.set_draw_color(*INK)
                pdf.set_line_width(0.2)
                pdf.line(x, pdf.get_y() - ROW_H, x + sum(w for _, w, _ in columns), pdf.get_y() - ROW_H)
        return pdf.get_y()

    # -- charts ------------------------------------------------------------------------------------
    def chart(self, title: str, labels: Sequence[str], values: Sequence[float | None], height: float = 58) -> None:
        """Vertical bars (a month's days or a year's months) on a scaled axis; "no data" when empty."""
        pdf = self.pdf
        self.need(height + 14)
        self.font(8.5, bold=True, color=MUTED)
        pdf.cell(WIDTH, 5, self.t(title), new_x="LMARGIN", new_y="NEXT")
        shown = [v for v in values if v is not None]
        if not shown:
            self.note(str(self.l["no_data"]))
            pdf.ln(2)
            return
        top, step, decimals = _nice(max(max(shown), 0) or 1)
        axis_w, x0, y0 = 20.0, MARGIN + 20.0, pdf.get_y() + 2
        plot_w, plot_h = WIDTH - axis_w, height - 10
        base = y0 + plot_h
        pdf.set_line_width(0.15)
        self.font(6.5, color=MUTED)
        ticks = int(round(top / step))
        for k in range(ticks + 1):
            value = k * step
            y = base - plot_h * value / top
            pdf.set_draw_color(*LINE)
            pdf.line(x0, y, x0 + plot_w, y)
            pdf.set_xy(MARGIN, y - 2)
            pdf.cell(axis_w - 1.5, 4, self.t(self.fmt(value, decimals)), align="R")
        n = max(1, len(values))
        slot = plot_w / n
        pdf.set_fill_color(*ACCENT)
        for i, v in enumerate(values):
            if v is not None and v > 0:
                h = plot_h * v / top
                pdf.rect(x0 + i * slot + slot * 0.15, base - h, slot * 0.7, h, style="F")
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.3)
        pdf.line(x0, base, x0 + plot_w, base)
        self.font(6 if n > 12 else 7.5, color=MUTED)
        for i, text in enumerate(labels):
            pdf.set_xy(x0 + i * slot, base + 0.8)
            pdf.cell(slot, 4, self.t(text), align="C")
        pdf.set_xy(MARGIN, base + 6)
        pdf.ln(2)

    def bucket_labels(self, energy) -> list[str]:
        months = list(self.l["months"])
        if energy.view == "year":
            return [months[b.start.month - 1][:3] for b in energy.buckets]
        return [str(b.start.day) for b in energy.buckets]

    def per(self, energy, kind: str) -> str:
        key = "per_month" if energy.view == "year" else "per_day"
        return str(self.l[key]).format(unit=DISPLAY[kind][0])

    def energy_chart(self, energy, kind: str, height: float = 58) -> None:
        """The bars of a view's days or months, in the kind's display unit."""
        scale = DISPLAY[kind][1]
        self.chart(self.per(energy, kind), self.bucket_labels(energy),
                   [None if b.value is None else b.value / scale for b in energy.buckets], height)

    # -- summary -----------------------------------------------------------------------------------
    def summary(self, report) -> None:
        l, costs = self.l, bool(report.currency)
        self.note(str(l["excluded"]))
        if not report.lines:
            self.note(str(l["none"]))
        for line in report.lines:
            unit = DISPLAY[line.kind][0]
            self.heading(str(l[line.kind]))
            change = NA
            if line.previous and line.energy.total is not None:
                pct = (line.energy.total - line.previous) * 100 / line.previous
                change = ("+" if pct > 0 else "") + self.fmt(pct, SHARE_DECIMALS) + " %"
            columns = [(f"{l['total']} ({unit})", 50, "R"), (f"{l['previous']} ({unit})", 50, "R"),
                       (str(l["change"]), 35, "R")]
            row = [self.energy(line.kind, line.energy.total), self.energy(line.kind, line.previous), change]
            if costs:
                columns.append((f"{l['cost']} ({report.currency})", 45, "R"))
                row.append(self.money(line.cost.total if line.cost else None))
            self.table(columns, [row])
            self.pdf.ln(3)
            self.energy_chart(line.energy, line.kind)
            for title, rows in ((l["loads"], report.loads), (l["groups"], report.groups)):
                rows = [r for r in rows if r.kind == line.kind]
                if rows:
                    self.shares(str(title), rows, line, report.currency)

    def shares(self, title: str, rows, whole, currency: str) -> None:
        """Loads or groups of one kind: name, a bar of the share of the kind's total, value, share."""
        l = self.l
        unit = DISPLAY[whole.kind][0]
        total = whole.energy.total or 0
        biggest = max((r.energy.total or 0 for r in rows), default=0)
        self.need(ROW_H * (len(rows) + 2) if len(rows) < 12 else 30)
        columns = [(title, 50, "L"), ("", 45, "L"), (f"{l['consumption']} ({unit})", 40, "R"),
                   (str(l["share"]), 20, "R")]
        if currency:
            columns = [(title, 45, "L"), ("", 30, "L"), *columns[2:], (f"{l['cost']} ({currency})", 45, "R")]
        table_rows, bars = [], []
        for r in rows:
            value = r.energy.total
            share = NA if not total or value is None else self.fmt(value * 100 / total, SHARE_DECIMALS) + " %"
            cells = [r.name, "", self.energy(r.kind, value), share]
            if currency:
                cells.append(self.money(r.cost.total if r.cost else None))
            table_rows.append(cells)
            bars.append((value or 0) / biggest if biggest else None)
        self.table(columns, table_rows, bars=bars, bar_column=1)
        self.pdf.ln(3)

    # -- detailed ----------------------------------------------------------------------------------
    def detailed(self, report) -> None:
        l, costs = self.l, bool(report.currency)
        if not report.lines:
            self.note(str(l["none"]))
            return
        self.heading(str(l["devices"]), 12, 1)
        columns = [(str(l["device"]), 80 if costs else 100, "L"), (str(l["energy"]), 30, "L"),
                   (str(l["total"]), 35, "R"), ("", 15, "L")]
        if costs:
            columns.append((f"{l['cost']} ({report.currency})", 40, "R"))
        rows = []
        for line in report.lines:
            row = [line.name, str(l[line.kind]), self.energy(line.kind, line.energy.total), DISPLAY[line.kind][0]]
            if costs:
                row.append(self.money(line.cost.total if line.cost else None))
            rows.append(row)
        self.table(columns, rows)
        for i, line in enumerate(report.lines):
            # a month's device fills a page; two yearly ones share one
            if line.energy.view != "year" or i % 2 == 0:
                self.pdf.add_page()
            else:
                self.pdf.ln(6)
            self.device(line, report.currency)

    def device(self, line, currency: str) -> None:
        l, unit = self.l, DISPLAY[line.kind][0]
        self.heading(line.name, 13, 0)
        self.font(9, color=MUTED)
        self.pdf.cell(WIDTH, 5, self.t(str(l[line.kind])), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)
        columns = [(f"{l['total']} ({unit})", 50, "R")]
        row = [self.energy(line.kind, line.energy.total)]
        if currency:
            columns.append((f"{l['cost']} ({currency})", 45, "R"))
            row.append(self.money(line.cost.total if line.cost else None))
        self.table(columns, [row])
        self.pdf.ln(3)
        self.energy_chart(line.energy, line.kind, height=46 if line.energy.view == "year" else 58)
        # the days or months in two blocks side by side
        months = list(l["months"])
        first = str(l["month"] if line.energy.view == "year" else l["day"])
        cost_of = {b.start: b.value for b in line.cost.buckets} if currency and line.cost else {}
        rows = []
        for b in line.energy.buckets:
            label = months[b.start.month - 1] if line.energy.view == "year" else b.start.strftime("%d")
            cells = [label, self.energy(line.kind, b.value)]
            if currency:
                cells.append(self.money(cost_of.get(b.start)))
            rows.append(cells)
        half = (len(rows) + 1) // 2
        width = (WIDTH - 6) / 2
        columns = [(first, width * (0.34 if currency else 0.45), "L"),
                   (unit, width * (0.33 if currency else 0.55), "R")]
        if currency:
            columns.append((currency, width * 0.33, "R"))
        self.need(ROW_H * (half + 1) + 2)
        y = self.pdf.get_y()
        bottom = self.table(columns, rows[:half])
        if rows[half:]:
            self.pdf.set_y(y)
            bottom = max(bottom, self.table(columns, rows[half:], x=MARGIN + width + 6))
        self.pdf.set_y(bottom + 2)
