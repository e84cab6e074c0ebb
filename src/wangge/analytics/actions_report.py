"""The write path of the monthly evaluation report (月度考核通报).

`do_generate_report(month, grid, now=)` builds the report of `month` for `grid`'s subtree
(analytics.report, everything the city may see), renders the PDF (analytics.report_pdf),
and in one transaction stores both in the month's EvaluationReport row, replacing an
earlier one of the same month and grid (its old PDF file is removed once the new row is
committed), with an audit entry. The job (jobs_report) calls it once per month and root
grid. (No CLI command or console button regenerates a month yet: call it from
`wangge manage shell`.)"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from wangge.analytics import report as rpt
from wangge.analytics import report_pdf
from wangge.analytics.access import Scope
from wangge.analytics.models import EvaluationReport
from wangge.core import audit
from wangge.territory.models import Grid

#: the system's own view: every grid, every department
EVERYTHING = Scope(None, None)


class ReportExists(Exception):
    """The month's report of this grid is already stored (and `replace` was False)."""


def do_generate_report(month: dt.date, grid: Grid, *, now: dt.datetime,
                       replace: bool = True,
                       actor: AbstractBaseUser | AnonymousUser | None = None
                       ) -> EvaluationReport:
    """Generate and store the report of `month` (any day of it) for `grid`. With `replace`
    False, ReportExists when one is stored already (also when another worker stores one
    at the same moment: the unique (month, grid) row decides)."""
    first = month.replace(day=1)
    data = rpt.build(EVERYTHING, first, grid, now=now)
    pdf = report_pdf.render(data)
    old_file = ""
    try:
        with transaction.atomic():
            row = (EvaluationReport.objects.select_for_update()
                   .filter(month=first, grid=grid).first())
            if row is not None and not replace:
                raise ReportExists(f"{first:%Y-%m} {grid.code}")
            if row is None:
                row = EvaluationReport(month=first, grid=grid)
            else:
                old_file = row.pdf.name
            row.generated_at = now
            row.figures = rpt.to_json(data)
            row.pdf.save(f"{first:%Y-%m}-{grid.code}.pdf", ContentFile(pdf), save=False)
            new_file = row.pdf.name
            transaction.on_commit(lambda: _forget(old_file, keep=new_file))
            try:
                row.save()
            except IntegrityError:
                default_storage.delete(new_file)
                raise
            audit.record("analytics.report_generated", actor=actor,
                         object_type="evaluation_report", object_id=row.pk,
                         month=f"{first:%Y-%m}", grid=grid.code, replaced=bool(old_file),
                         bytes=len(pdf))
    except IntegrityError:
        raise ReportExists(f"{first:%Y-%m} {grid.code}") from None
    return row


def _forget(name: str, *, keep: str) -> None:
    if name and name != keep:
        default_storage.delete(name)
