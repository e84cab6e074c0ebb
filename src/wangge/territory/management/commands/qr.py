"""`wangge qr sheet --under CODE`: a printable SVG of the basic grids' QR codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.territory.models import Grid, Level
from wangge.territory.qr import sheet_svg


class Command(BaseCommand):
    help = "Write printable QR-code sheets."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sheet = sub.add_parser("sheet", help="QR codes of the basic grids under a grid (SVG)")
        sheet.add_argument("--under", required=True, metavar="CODE")
        sheet.add_argument("-o", "--output", type=Path, help="default qr-<CODE>.svg")

    def handle(self, *args: Any, **opts: Any) -> None:
        top = Grid.objects.filter(code=opts["under"]).first()
        if top is None:
            raise CommandError(f"--under: no grid with code {opts['under']}")
        grids = Grid.objects.filter(path__startswith=top.path, level=Level.BASIC).order_by("code")
        out = opts["output"] or Path(f"qr-{top.code}.svg")
        out.write_text(sheet_svg(grids), encoding="utf-8")
        self.stdout.write(f"wrote {grids.count()} codes to {out}")
