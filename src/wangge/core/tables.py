"""A table of figures as a download: CSV (with a BOM, so Excel opens the Chinese as UTF-8)
or XLSX (openpyxl). Cells are typed (numbers stay numbers); text that a spreadsheet would
take for a formula (= + - @) is kept as text in both formats."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Cell = str | int | float | None


@dataclass
class Table:
    title: str  # the sheet's name and the file name's stem
    headers: list[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@")


def to_csv(table: Table) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if v is None else ("'" + v if _formula_like(v) else v)
                         for v in row])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def xlsx_cells(ws: WriteOnlyWorksheet, row: Sequence[object]) -> list[object]:
    """A row for ws.append: cells as typed, except that formula-like text is always text
    (openpyxl would store "=HYPERLINK(…)" as a live formula that runs in Excel). For exports
    that stream their rows into a write-only sheet of their own instead of building a Table."""
    cells: list[object] = []
    for v in row:
        if _formula_like(v):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(v)
    return cells


def to_xlsx(table: Table) -> bytes:
    wb = Workbook(write_only=True)
    # a sheet name may not hold []:*?/\ and is at most 31 characters
    name = "".join(c for c in table.title if c not in "[]:*?/\\")[:31] or "Sheet1"
    ws = wb.create_sheet(name)
    ws.append(table.headers)
    for row in table.rows:
        ws.append(xlsx_cells(ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render(table: Table, fmt: Format) -> bytes:
    return to_xlsx(table) if fmt == "xlsx" else to_csv(table)


def response(table: Table, fmt: Format, filename: str | None = None) -> HttpResponse:
    """The table as a download (Content-Disposition with the UTF-8 file name)."""
    stem = filename or table.title
    resp = HttpResponse(render(table, fmt), content_type=CONTENT_TYPES[fmt])
    resp["Content-Disposition"] = (f"attachment; filename=\"export.{fmt}\"; "
                                   f"filename*=UTF-8''{quote(stem)}.{fmt}")
    return resp
