"""Printable QR-code sheets: one code per basic grid, labelled, laid out on A4 width."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

import segno
from django.conf import settings
from django.urls import reverse

from wangge.territory.models import Grid

COLUMNS = 3
CELL_W, CELL_H = 70, 88  # millimetres
QR_SIZE = 52


def qr_url(grid: Grid) -> str:
    return settings.PUBLIC_URL + reverse("web:qr", args=[grid.qr_token])


def sheet_svg(grids: Iterable[Grid]) -> str:
    cells = []
    grids = list(grids)
    for i, grid in enumerate(grids):
        col, row = i % COLUMNS, i // COLUMNS
        x, y = col * CELL_W, row * CELL_H
        uri = segno.make(qr_url(grid), error="m").svg_data_uri(border=1)
        cx = x + CELL_W / 2
        cells.append(
            f'<g class="code" data-code="{grid.code}">'
            f'<rect x="{x + 2}" y="{y + 2}" width="{CELL_W - 4}" height="{CELL_H - 4}" '
            f'fill="none" stroke="#999" stroke-width="0.2" stroke-dasharray="1,1"/>'
            f'<text x="{cx}" y="{y + 10}" font-size="4.2" text-anchor="middle">'
            "扫码找格 · 扫码找人</text>"
            f'<image x="{cx - QR_SIZE / 2}" y="{y + 13}" width="{QR_SIZE}" height="{QR_SIZE}" '
            f'href="{escape(uri)}"/>'
            f'<text x="{cx}" y="{y + 73}" font-size="4.6" text-anchor="middle" '
            f'font-weight="bold">{escape(grid.name)}</text>'
            f'<text x="{cx}" y="{y + 80}" font-size="3.2" text-anchor="middle">{grid.code}</text>'
            "</g>"
        )
    rows = max(1, -(-len(grids) // COLUMNS))
    width, height = COLUMNS * CELL_W, rows * CELL_H
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">'
        + "".join(cells)
        + "</svg>\n"
    )
