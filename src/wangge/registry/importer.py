"""Bulk import of residents, buildings and houses from CSV or XLSX.

Every row is validated with the same cleaners as the API. Two modes: "all" writes nothing
unless every row is good; "valid" writes the good rows. Errors come back as (row, column,
reason), rows numbered as in the spreadsheet (the header is row 1). Re-importing a file is
idempotent: a known ID number (building code, building + house number) updates the record,
and an update that changes nothing writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from openpyxl import load_workbook

from wangge.core import crypto
from wangge.registry import access
from wangge.registry.actions import do_import_rows, held_outside, natural_key
from wangge.registry.columns import COLUMNS, REQUIRED
from wangge.registry.models import Household
from wangge.registry.resolvers import PreloadedResolver
from wangge.registry.validation import RegistryError, clean_building, clean_house, clean_resident

BATCH = 2000
KINDS = ("residents", "buildings", "houses")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    mode: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def written(self) -> bool:
        return self.mode == "valid" or not self.errors


def read_table(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and data rows of a CSV (UTF-8, with or without BOM) or the first XLSX sheet."""
    if path.suffix.lower() == ".xlsx":
        wb = load_workbook(path, read_only=True, data_only=True)
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, [])]
        return header, (list(r) for r in rows)
    fh = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    return header, reader


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel turns house numbers like 301 into 301.0
    if isinstance(value, dt.datetime):
        return value.date()
    return value


class _ImportResolver(PreloadedResolver):
    """Unknown household numbers become new households (created with the rows)."""

    def __init__(self, **only: set[str]) -> None:
        super().__init__(**only)
        self.pending: dict[str, Household] = {}

    def household(self, number: str) -> Household | None:
        found = self.households.get(number) or self.pending.get(number)
        if found is None:
            found = self.pending[number] = Household(number=number)
        return found


def import_file(
    path: Path,
    kind: str,
    *,
    mode: str = "all",
    actor: AbstractBaseUser | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if mode not in ("all", "valid"):
        raise ValueError("mode must be 'all' or 'valid'")
    report = ImportReport(kind=kind, mode=mode)
    header, rows = read_table(path)
    labels = dict(COLUMNS[kind])
    keys = [labels.get(h) or (h if h in labels.values() else None) for h in header]
    label_of = {k: lbl for lbl, k in COLUMNS[kind]}
    missing = REQUIRED[kind] - set(filter(None, keys))
    if missing:
        report.errors = [RowError(1, label_of[k], "column is missing") for k in sorted(missing)]
        return report
    data_rows = []
    for n, raw in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in raw):
            continue  # blank line
        data_rows.append((n, {k: _cell(v) for k, v in zip(keys, raw, strict=False) if k}))
    # Preload only what the file names: a small file into a big city stays quick.
    resolver = _ImportResolver(
        building_codes={str(d.get("building") or "").strip() for _n, d in data_rows},
        household_numbers={str(d.get("household") or "").strip() for _n, d in data_rows},
    )
    report.total = len(data_rows)
    if kind == "buildings":
        resolver.prime_points([_num(d.get("lng")) for _, d in data_rows],
                              [_num(d.get("lat")) for _, d in data_rows])
    cleaner = {"residents": clean_resident, "buildings": clean_building, "houses": clean_house}
    ring = crypto.keyring()
    editable = _editable_grid_ids(actor)
    good: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for n, data in data_rows:
        try:
            if kind == "residents":
                values = clean_resident(data, resolver, ring)
            else:
                values = cleaner[kind](data, resolver)
        except RegistryError as e:
            report.errors += [RowError(n, label_of.get(k, k), why) for k, why in e.errors.items()]
            continue
        pending = resolver.pending.get(str(data.get("household") or "").strip())
        if kind == "residents" and pending is not None:
            values["_household"] = pending
        key, column = natural_key(kind, values)
        if key in seen:
            report.errors.append(RowError(n, label_of[column],
                                          f"duplicate of row {seen[key]} in this file"))
            continue
        seen[key] = n
        if editable is not None and values["grid_id"] not in editable:
            report.errors.append(RowError(n, label_of[column], "outside the grids you may edit"))
            continue
        good.append((n, values))
        if progress and len(good) % BATCH == 0:
            progress(BATCH)
    if editable is not None and good:  # never take over a record outside the editable grids
        refused = held_outside(kind, [natural_key(kind, v)[0] for _n, v in good], editable)
        for n, v in good:
            if (key := natural_key(kind, v))[0] in refused:
                report.errors.append(RowError(n, label_of[key[1]], refused[key[0]]))
        good = [(n, v) for n, v in good if natural_key(kind, v)[0] not in refused]
    if report.errors and mode == "all":
        return report
    counts = do_import_rows(kind, [v for _n, v in good], actor)
    report.created, report.updated, report.unchanged = (
        counts["created"], counts["updated"], counts["unchanged"])
    if progress:
        progress(len(good) % BATCH)
    return report


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _editable_grid_ids(actor: AbstractBaseUser | None) -> set[int] | None:
    """None: no limit (an operator at the command line without --user)."""
    if actor is None:
        return None
    if actor.is_superuser:
        return None
    return set(access.editable_grids(actor).values_list("id", flat=True))


def write_error_report(report: ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", "列", "原因"])
        for e in report.errors:
            w.writerow([e.row, _inert(e.column), _inert(e.reason)])


def _inert(text: str) -> str:
    """A spreadsheet opening the CSV must not run a reason that quotes a cell as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
