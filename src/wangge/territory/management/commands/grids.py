"""`wangge grids import FILE` / `wangge grids export [--level N] [--under CODE]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.territory.actions import GridValidationError, do_import_grids, existing_records
from wangge.territory.geojson import feature_collection, parse_feature_collection
from wangge.territory.models import Grid


class Command(BaseCommand):
    help = "Import or export the grid tree as GeoJSON (RFC 7946)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create/update grids from a FeatureCollection")
        imp.add_argument("file", type=Path)
        exp = sub.add_parser("export", help="write the tree (or part of it) as GeoJSON")
        exp.add_argument("--level", type=int, choices=range(5))
        exp.add_argument("--under", metavar="CODE", help="only this grid and its subtree")
        exp.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "import":
            self._import(opts["file"])
        else:
            self._export(opts["level"], opts["under"], opts["output"])

    def _import(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise CommandError(f"{path}: no such file") from e
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CommandError(f"{path}: not valid JSON ({e})") from e
        records, problems = parse_feature_collection(data)
        if not problems:
            try:
                result = do_import_grids(records)
            except GridValidationError as e:
                problems = e.problems
        if problems:
            for p in problems:
                self.stderr.write(f"  {p}")
            raise CommandError(f"{len(problems)} problem(s); nothing was imported")
        for w in result.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {w}"))
        self.stdout.write(self.style.SUCCESS(
            f"imported: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        ))

    def _export(self, level: int | None, under: str | None, output: Path | None) -> None:
        records = existing_records()
        codes = Grid.objects.order_by("path")
        if under:
            top = Grid.objects.filter(code=under).first()
            if top is None:
                raise CommandError(f"--under: no grid with code {under}")
            codes = codes.filter(path__startswith=top.path)
        if level is not None:
            codes = codes.filter(level=level)
        doc = feature_collection(records[c] for c in codes.values_list("code", flat=True))
        text = json.dumps(doc, ensure_ascii=False)
        if output:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {len(doc['features'])} grids to {output}")
        else:
            self.stdout.write(text)
