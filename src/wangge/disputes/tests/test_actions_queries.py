"""Read shapes of disputes (queries): screening coverage under each grid's own rule (a
weekly grid judged by its weeks, a month view by every week begun in it), the mediators'
workload of a month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from wangge.disputes import queries
from wangge.disputes.models import Screening, ScreeningRule
from wangge.disputes.tests.conftest import person

pytestmark = pytest.mark.django_db


def file_return(grid, user, start: dt.date) -> Screening:  # type: ignore[no-untyped-def]
    """A nil weekly return for the week of `start`, written directly (test data)."""
    at = timezone.make_aware(dt.datetime.combine(start, dt.time(10)))
    return Screening.objects.create(grid=grid, period="week", period_start=start,
                                    screened_at=min(at, timezone.now()),
                                    screened_by=person(user), nil=True, recorded_by=user)


def test_a_weekly_grid_is_judged_by_its_weeks(place, staff) -> None:  # type: ignore[no-untyped-def]
    ScreeningRule.objects.update_or_create(grid=place.basic, defaults={"period": "week"})
    Screening.objects.filter(grid=place.basic).delete()
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    month = today.replace(day=1)
    weeks = []
    week = month - dt.timedelta(days=month.weekday())
    while week <= today:
        weeks.append(week)
        week += dt.timedelta(days=7)
    assert weeks[-1] == monday

    def row(**kw: object) -> dict:
        cov = queries.coverage(staff.station, **kw)  # type: ignore[arg-type]
        return next(r for r in cov["grids"] if r["grid_id"] == place.basic.pk)

    r = row(month=month)
    assert (r["status"], r["period"], r["periods"], r["returned"]) == (
        "missing", "week", len(weeks), 0)
    for w in weeks:
        file_return(place.basic, staff.worker, w)
    r = row(month=month)
    # every week of the month begun so far returned: not missing on the month's map
    assert (r["status"], r["returned"]) == ("nil", len(weeks))
    assert r["period_start"] == weeks[0].isoformat()
    # the day's view: this week only, with its return
    r = row(day=today)
    assert (r["status"], r["period_start"], r["periods"]) == ("nil", monday.isoformat(), 1)
    assert r["screening_id"] == Screening.objects.get(grid=place.basic, period_start=monday).pk
    # one week without a return: missing for the month, not for another week's day
    if len(weeks) > 1:
        Screening.objects.filter(grid=place.basic, period_start=weeks[0]).delete()
        assert row(month=month)["status"] == "missing"
        assert row(day=today)["status"] == "nil"
    # the sibling grid keeps the monthly rule
    sib = next(r for r in queries.coverage(staff.station, month=month)["grids"]
               if r["grid_id"] == place.sibling.pk)
    assert (sib["period"], sib["period_start"], sib["periods"]) == ("month", month.isoformat(), 1)


def test_coverage_below_a_grid_in_few_queries(place, staff, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(12):
        cov = queries.coverage(staff.admin, month=timezone.localdate(), under=place.town)
    codes = {r["code"] for r in cov["grids"]}
    assert place.basic.code in codes and place.far.code not in codes
    assert cov["totals"]["grids"] == len(cov["grids"]) > 2
