"""The worker's job for the monthly evaluation report (考核通报): on the first working day
of a month, last month's report of every root grid is generated and stored, once.

Run by `wangge worker` every `--sweep-every` seconds like every job (WANGGE_WORKER_JOBS);
on any other day, or once the reports exist, a run does nothing. Idempotent across workers
and restarts: the stored (month, grid) row is the record that the work is done, and two
workers racing on it leave one (the loser's insert meets the unique constraint and skips).
A month whose calendar year the working-day calendar does not cover falls back to Monday–
Friday, and the job's result says so. A worker down all of the first working day catches
up on a later day: the job generates any missing report of last month whenever it runs on
or after that day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wangge.analytics.actions_report import ReportExists, do_generate_report
from wangge.analytics.models import EvaluationReport
from wangge.territory.models import Grid
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered


def first_workday(month: dt.date) -> tuple[dt.date, bool]:
    """The first working day of `month` and whether the calendar covered it (False: the
    Monday–Friday rule was used)."""
    cal = workcal.current()
    day = month.replace(day=1)
    covered = True
    while True:
        try:
            works = cal.is_workday(day)
        except CalendarNotCovered:
            covered = False
            works = day.weekday() < 5
        if works:
            return day, covered
        day += dt.timedelta(days=1)


def monthly_report(now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first, covered = first_workday(today)
    note = "" if covered else f" (calendar {today.year} missing: Monday–Friday used)"
    if today < first:
        return f"waiting for {first}{note}"
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    done = set(EvaluationReport.objects.filter(month=last_month)
               .values_list("grid_id", flat=True))
    made: list[str] = []
    for grid in Grid.objects.filter(parent__isnull=True).order_by("code"):
        if grid.pk in done:
            continue
        try:
            do_generate_report(last_month, grid, now=now, replace=False)
        except ReportExists:
            continue
        made.append(grid.code)
    if not made:
        return f"{last_month:%Y-%m}: up to date{note}"
    return f"{last_month:%Y-%m}: generated {', '.join(made)}{note}"
