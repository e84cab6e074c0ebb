"""A chart with its table beside it and its downloads: what the include
`analytics/_chart.html` draws and `static/analytics/charts.js` wires to ECharts.

A block carries a chart spec (plain data: kind, categories, series, unit; the page passes
it through json_script, the script reads it and draws), and a core.tables.Table: the very
table the download writes, so the page and the file show the same numbers. Column styles say
how a cell is shown (a 环比/同比 change gets an arrow, good or bad by the metric's direction);
each cell keeps its raw value in data-value.

Chart kinds, one function each in charts.js: "bar" (one value across keys), "hbar" (a
ranking: horizontal bars, best on top), "line" (a trend over buckets), "pie" (a donut of
shares)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wangge.core.tables import Cell, Table

Kind = Literal["bar", "hbar", "line", "pie"]
#: how a column is shown: "text", "num" (a figure), "up" / "down" (a change where a rise is
#: good / bad)
Style = Literal["text", "num", "up", "down"]


@dataclass(frozen=True)
class Series:
    name: str
    data: list[float | int | None]


def spec(kind: Kind, categories: Sequence[str], series: Sequence[Series], *,
         unit: str = "", title: str = "") -> dict[str, Any]:
    """A chart spec as charts.js reads it (JSON-ready)."""
    return {"kind": kind, "title": title, "unit": unit, "categories": list(categories),
            "series": [{"name": s.name, "data": list(s.data)} for s in series]}


@dataclass(frozen=True)
class Shown:
    text: str  # what the cell says ("—" for no value)
    raw: str  # the value as the CSV writes it ("" for none)
    css: str  # class names
    arrow: str  # "▲", "▼" or ""
    href: str = ""


@dataclass
class ChartBlock:
    """One chart + its table + its downloads. `id` is unique on the page (the chart element
    is `<id>-chart`, its spec `<id>-spec`, the table `<id>-table`)."""

    id: str
    title: str
    chart: dict[str, Any] | None  # None: a table without a chart
    table: Table
    styles: list[Style] = field(default_factory=list)  # per column; default num but the 1st
    downloads: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    links: list[str] = field(default_factory=list)  # per row: an href for the first cell
    note: str = ""
    empty: str = ""  # the text shown when the table has no rows
    #: the last row is a total (shown bold, kept out of nothing: it is in the download too)
    total_last: bool = False

    @property
    def has_chart(self) -> bool:
        return bool(self.chart and self.chart["categories"])

    def style(self, i: int) -> Style:
        if i < len(self.styles):
            return self.styles[i]
        return "text" if i == 0 else "num"

    def shown_rows(self) -> list[list[Shown]]:
        out = []
        for r, row in enumerate(self.table.rows):
            cells = []
            for i, value in enumerate(row):
                cells.append(show(value, self.style(i),
                                  self.links[r] if i == 0 and r < len(self.links) else ""))
            out.append(cells)
        return out

    def header_styles(self) -> list[tuple[str, str]]:
        return [(h, self.style(i)) for i, h in enumerate(self.table.headers)]


def show(value: Cell, style: Style, href: str = "") -> Shown:
    raw = "" if value is None else str(value)
    if style == "text":
        return Shown(raw or "—", raw, "text", "", href)
    if value is None or value == "":
        return Shown("—", "", "num none", "", href)
    if style in ("up", "down") and isinstance(value, int | float):
        if value == 0:
            return Shown(raw, raw, "num change flat", "", href)
        rising = value > 0
        good = rising == (style == "up")
        sign = "+" if rising else ""
        return Shown(f"{sign}{raw}", raw,
                     f"num change {'good' if good else 'bad'}", "▲" if rising else "▼", href)
    return Shown(raw, raw, "num", "", href)


def merge(first: Table, second: Table, title: str | None = None) -> Table:
    """Two tables of the same rows side by side (the second's first column, the key, is
    dropped)."""
    if len(first.rows) != len(second.rows):
        raise ValueError("tables of different rows")
    return Table(title=title or first.title, headers=[*first.headers, *second.headers[1:]],
                 rows=[[*a, *b[1:]] for a, b in zip(first.rows, second.rows, strict=True)])
