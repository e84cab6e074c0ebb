"""XLSX export of residents, masked (the export never holds an unmasked value)."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.db.models import QuerySet
from openpyxl import Workbook

from wangge.core.tables import xlsx_cells
from wangge.org.access import AnyUser
from wangge.registry import queries
from wangge.registry.columns import RESIDENT_COLUMNS
from wangge.registry.models import Resident

BATCH = 2000


Reveal = Callable[[list[Resident]], dict[int, dict[str, str]]]


def residents_workbook(user: AnyUser, residents: QuerySet[Resident],
                       reveal: Reveal | None = None) -> bytes:
    """Masked unless `reveal` is given (actions.do_unmask_many: permission, purpose, log)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人口")
    headers = [label for label, _key in RESIDENT_COLUMNS] + ["性别", "出生日期", "所属网格"]
    ws.append(headers)
    residents = residents.select_related("grid", "house__building", "household")
    start = 0
    while batch := list(residents[start:start + BATCH]):
        plain = reveal(batch) if reveal else {}
        for r, row in zip(batch, queries.resident_rows(user, batch), strict=True):
            shown = plain.get(r.pk, row)
            # rows are streamed batch by batch, not built into a core.tables.Table
            ws.append(xlsx_cells(ws, [
                row["name"], shown["id_number"], shown["phone"], row["ethnicity"],
                str(dict(Resident.ResidenceType.choices)[row["residence_type"]]),
                row["building"], row["house"], r.household.number if r.household_id else "",
                str(dict(Resident.Relation.choices).get(row["relation"], "")),
                r.moved_in.isoformat() if r.moved_in else "",
                r.moved_out.isoformat() if r.moved_out else "",
                str(dict(Resident.Gender.choices)[row["gender"]]),
                row["birth_date"].isoformat(), row["grid"],
            ]))
        start += BATCH
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
