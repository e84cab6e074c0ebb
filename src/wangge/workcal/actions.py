"""Every write to the calendar and the SLA policies: one transaction, an audit entry, an
outbox row, and (for the calendar) a new version stamp so every process rebuilds its
WorkCalendar."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from wangge.core import audit, outbox
from wangge.workcal import seed
from wangge.workcal.access import can_edit_calendar
from wangge.workcal.models import CalendarDay, CalendarState, CalendarYear, SlaClock, SlaPolicy
from wangge.workcal.specs import DayRow
from wangge.workcal.validation import (
    Problem,
    WorkcalError,
    check_day,
    check_policy_rows,
    parse_day_rows,
)

Actor = AbstractBaseUser | AnonymousUser | None
NORMAL = "normal"  # do_set_day: back to the Monday–Friday rule


@dataclass
class CalendarImport:
    years: list[int]
    days: int
    version: int


@dataclass
class PolicySeed:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _bump() -> int:
    CalendarState.objects.get_or_create(pk=1)
    CalendarState.objects.filter(pk=1).update(version=F("version") + 1, stamp=uuid.uuid4().hex)
    return CalendarState.objects.values_list("version", flat=True).get(pk=1)


def _announce(action: str, actor: Actor, years: list[int], **detail: Any) -> int:
    version = _bump()
    audit.record(action, actor=actor, object_type="calendar", object_id=version,
                 years=years, **detail)
    outbox.enqueue("workcal.calendar_changed", {"version": version, "years": years,
                                                "action": action},
                   key=f"workcal.calendar.v{version}")
    return version


def _replace_years(rows: Sequence[DayRow], years: set[int], source: str, note: str) -> None:
    CalendarDay.objects.filter(date__year__in=years).delete()
    CalendarDay.objects.bulk_create(
        CalendarDay(date=r.date, is_workday=r.is_workday, kind=r.kind, name=r.name)
        for r in rows)
    for year in years:
        CalendarYear.objects.update_or_create(
            year=year, defaults={"source": source, "note": note, "covered": True})


def do_import_calendar(
    rows: Iterable[Mapping[str, Any]], actor: Actor = None, *, note: str = "",
    first_row: int = 2,
) -> CalendarImport:
    """Enter official schedules from rows (date, is_workday, name), all or nothing.

    Every year that appears in the rows is replaced as a whole and marked covered: the file
    is that year's complete schedule as published. Raises WorkcalError naming each bad
    row and field; then nothing is written."""
    days = parse_day_rows(rows, first_row=first_row)
    years = sorted({d.date.year for d in days})
    with transaction.atomic():
        _replace_years(days, set(years), CalendarYear.Source.IMPORT, note[:200])
        version = _announce("workcal.calendar_import", actor, years, days=len(days),
                            note=note[:200])
    return CalendarImport(years, len(days), version)


def do_seed_calendar_from_package(
    years: Iterable[int] | None = None, *, actor: Actor = None, replace: bool = False,
) -> list[int]:
    """Take the schedules of `years` (default: every year from 2020 the installed
    chinesecalendar holds) from the package. Years already in the database are left alone
    unless `replace`: a city's own edits win over a package upgrade. Returns the years
    written."""
    available = set(seed.package_years(since=1900 if years is not None else
                                       seed.SEED_FROM_YEAR))
    wanted = set(years) if years is not None else available
    unknown = sorted(wanted - available)
    if unknown:
        raise WorkcalError([Problem(None, "years", f"{y}: the installed package has no "
                                                   "schedule for this year") for y in unknown])
    with transaction.atomic():
        if not replace:
            wanted -= set(CalendarYear.objects.values_list("year", flat=True))
        if not wanted:
            return []
        note = seed.package_version()
        _replace_years(seed.package_days(wanted), wanted, CalendarYear.Source.PACKAGE, note)
        _announce("workcal.calendar_seed", actor, sorted(wanted), package=note)
    return sorted(wanted)


def check_edit_calendar(user: AbstractBaseUser | AnonymousUser) -> None:
    """Raise PermissionDenied unless the user may change a day or a year's coverage (the
    center's administrators and superusers: every deadline in the city moves with it)."""
    if not can_edit_calendar(user):
        raise PermissionDenied("只有中心管理员可以修改工作日历")


def do_set_day(
    day: dt.date, *, kind: str, name: str = "", actor: Actor = None,
) -> CalendarDay | None:
    """Make one day a holiday (``holiday``), a make-up working day (``makeup``), or put it
    back under the Monday–Friday rule (``normal``). A year met for the first time is
    created uncovered: mark it covered (do_set_year) once its whole schedule is in."""
    if kind not in (CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.MAKEUP, NORMAL):
        raise WorkcalError([Problem(None, "kind", f"{kind!r}: expected holiday, makeup or "
                                                  "normal")])
    name = name.strip()
    if kind != NORMAL:
        problems = check_day(day, kind == CalendarDay.Kind.MAKEUP, name)
        if problems:
            raise WorkcalError(problems)
    with transaction.atomic():
        CalendarYear.objects.get_or_create(
            year=day.year, defaults={"source": CalendarYear.Source.MANUAL, "covered": False})
        if kind == NORMAL:
            CalendarDay.objects.filter(date=day).delete()
            row = None
        else:
            row, _ = CalendarDay.objects.update_or_create(date=day, defaults={
                "is_workday": kind == CalendarDay.Kind.MAKEUP, "kind": kind, "name": name})
        _announce("workcal.day_set", actor, [day.year], date=day.isoformat(), kind=kind,
                  name=name)
    return row


def do_set_year(
    year: int, *, covered: bool, note: str | None = None, actor: Actor = None,
) -> CalendarYear:
    """Declare a year's schedule complete (covered) or not."""
    if not 1900 <= year <= 2200:
        raise WorkcalError([Problem(None, "year", f"{year} is out of range")])
    with transaction.atomic():
        row, _ = CalendarYear.objects.get_or_create(
            year=year, defaults={"source": CalendarYear.Source.MANUAL})
        row.covered = covered
        if note is not None:
            row.note = note[:200]
        row.save()
        _announce("workcal.year_set", actor, [year], covered=covered)
    return row


# ---------------------------------------------------------------------- policies


def do_seed_policies(
    rows: Sequence[Mapping[str, Any]], *, actor: Actor = None, replace: bool = False,
) -> PolicySeed:
    """Create the policies in `rows` (policies.json's shape) that do not exist yet; with
    `replace`, also overwrite existing ones and their clocks. All or nothing."""
    clean = check_policy_rows(rows)
    result = PolicySeed()
    with transaction.atomic():
        existing = {p.code: p for p in SlaPolicy.objects.filter(
            code__in=[r["code"] for r in clean])}
        for row in clean:
            policy = existing.get(row["code"])
            if policy is not None and not replace:
                result.kept.append(row["code"])
                continue
            fields = {k: row[k] for k in ("name", "description", "active")}
            if policy is None:
                policy = SlaPolicy.objects.create(code=row["code"], **fields)
                result.created.append(row["code"])
            else:
                SlaPolicy.objects.filter(pk=policy.pk).update(**fields)
                policy.clocks.all().delete()
                result.updated.append(row["code"])
            SlaClock.objects.bulk_create(SlaClock(policy=policy, **c) for c in row["clocks"])
        if result.created or result.updated:
            announce_policy_change(actor, result.created + result.updated, "workcal.policy_seed")
    return result


def announce_policy_change(actor: Actor, codes: list[str], action: str) -> None:
    """Audit entry and outbox row for a policy change (also used by the admin's save,
    which Django runs in its own transaction)."""
    specs = {code: [c.spec().to_dict() for c in SlaClock.objects.filter(policy__code=code)]
             for code in codes}
    audit.record(action, actor=actor, object_type="sla_policy", object_id=",".join(codes),
                 clocks=specs)
    outbox.enqueue("workcal.policies_changed", {"codes": codes, "clocks": specs})


def seed_defaults(actor: Actor = None) -> tuple[list[int], PolicySeed]:
    """What `wangge setup` runs after migrating: the package's years not yet present and
    the policies of policies.json not yet present. Idempotent."""
    years = do_seed_calendar_from_package(actor=actor)
    return years, do_seed_policies(seed.policy_rows(), actor=actor)
