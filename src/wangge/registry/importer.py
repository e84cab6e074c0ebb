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
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from openpyxl import load_workbook

from wangge.core import crypto
from wangge.integration import outbox
from wangge.registry import access
from wangge.registry.columns import COLUMNS, REQUIRED
from wangge.registry.models import Building, House, Household, RegistryChange, Resident
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

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, Household] = {}

    def household(self, number: str) -> Household | None:
        found = self.households.get(number)
        if found is None:
            found = self.pending.setdefault(number, Household(number=number))
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
    resolver = _ImportResolver()
    data_rows = []
    for n, raw in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in raw):
            continue  # blank line
        data_rows.append((n, {k: _cell(v) for k, v in zip(keys, raw, strict=False) if k}))
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
        key, column = _natural_key(kind, values)
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
    if report.errors and mode == "all":
        return report
    with transaction.atomic():
        writer = {"residents": _write_residents, "buildings": _write_buildings,
                  "houses": _write_houses}[kind]
        writer(good, resolver, report, actor)
        if report.created or report.updated:
            outbox.enqueue("registry.imported", {
                "kind": kind, "created": report.created, "updated": report.updated,
            }, key=f"registry.import.{uuid.uuid4().hex}")
    if progress:
        progress(len(good) % BATCH)
    return report


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _natural_key(kind: str, values: dict[str, Any]) -> tuple[Any, str]:
    if kind == "residents":
        return values["id_number_hash"], "id_number"
    if kind == "buildings":
        return values["code"], "code"
    return (values["building_id"], values["number"]), "number"


def _editable_grid_ids(actor: AbstractBaseUser | None) -> set[int] | None:
    """None: no limit (an operator at the command line without --user)."""
    if actor is None:
        return None
    if actor.is_superuser:
        return None
    return set(access.editable_grids(actor).values_list("id", flat=True))


def _history(kind: str, objs: list[Any], action: str, changes: list[dict[str, Any]],
             actor: AbstractBaseUser | None) -> None:
    RegistryChange.objects.bulk_create(
        [RegistryChange(actor=actor, object_type=kind, object_id=o.pk, grid_id=o.grid_id,
                        action=action, changes=c, source="import")
         for o, c in zip(objs, changes, strict=True)],
        batch_size=BATCH,
    )


def _visible_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, dt.date | Decimal) else v) for k, v in values.items()
            if not k.endswith(("_enc", "_hash"))}


def _apply(kind: str, model: type, good: list[tuple[int, dict[str, Any]]],
           existing: dict[Any, Any], report: ImportReport,
           actor: AbstractBaseUser | None) -> None:
    """Create the new rows, update the changed ones, skip the unchanged."""
    to_create, to_update, diffs = [], [], []
    fields: set[str] = set()
    for _n, values in good:
        key, _col = _natural_key(kind, values)
        current = existing.get(key)
        if current is None:
            to_create.append(model(**values))
            continue
        changed = {}
        for k, v in values.items():
            if k.endswith("_enc"):
                continue  # compared through the hash / masked value beside it
            if getattr(current, k) != v:
                changed[k] = [_visible_values({k: getattr(current, k)}).get(k),
                              _visible_values({k: v}).get(k)]
        if not changed:
            report.unchanged += 1
            continue
        for k in list(changed):
            if k.endswith("_hash"):
                enc = k.replace("_hash", "_enc")
                setattr(current, enc, values[enc])
                fields.add(enc)
                changed.pop(k)
        for k, v in values.items():
            if not k.endswith(("_enc", "_hash")) or k in changed:
                setattr(current, k, v)
        fields.update(k for k in values if not k.endswith("_enc"))
        to_update.append(current)
        diffs.append(changed)
    model.objects.bulk_create(to_create, batch_size=BATCH)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=BATCH)
    _history(kind.rstrip("s"), to_create, "create",
             [{"after": _visible_values(v)} for _n, v in good
              if _natural_key(kind, v)[0] not in existing], actor)
    _history(kind.rstrip("s"), to_update, "update", diffs, actor)
    report.created += len(to_create)
    report.updated += len(to_update)


def _write_residents(good: list[tuple[int, dict[str, Any]]], resolver: _ImportResolver,
                     report: ImportReport, actor: AbstractBaseUser | None) -> None:
    new: dict[str, Household] = {}
    for _n, v in good:
        hh = v.pop("_household", None)
        if hh is not None:
            if hh.number not in new:  # the first row naming a new household places it
                hh.house_id, hh.grid_id = v["house_id"], v["grid_id"]
                new[hh.number] = hh
            v["_pending"] = hh
    Household.objects.bulk_create(list(new.values()), batch_size=BATCH)
    for _n, v in good:
        if (hh := v.pop("_pending", None)) is not None:
            v["household_id"] = hh.pk
    existing = {}
    hashes = [v["id_number_hash"] for _n, v in good]
    for i in range(0, len(hashes), BATCH):
        for r in Resident.objects.filter(id_number_hash__in=hashes[i:i + BATCH]):
            existing[r.id_number_hash] = r
    _apply("residents", Resident, good, existing, report, actor)


def _write_buildings(good: list[tuple[int, dict[str, Any]]], resolver: PreloadedResolver,
                     report: ImportReport, actor: AbstractBaseUser | None) -> None:
    existing = Building.objects.in_bulk([v["code"] for _n, v in good], field_name="code")
    _apply("buildings", Building, good, existing, report, actor)


def _write_houses(good: list[tuple[int, dict[str, Any]]], resolver: PreloadedResolver,
                  report: ImportReport, actor: AbstractBaseUser | None) -> None:
    existing = {(h.building_id, h.number): h
                for h in House.objects.filter(building_id__in={v["building_id"]
                                                               for _n, v in good})}
    _apply("houses", House, good, existing, report, actor)


def write_error_report(report: ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", "列", "原因"])
        for e in report.errors:
            w.writerow([e.row, e.column, e.reason])
