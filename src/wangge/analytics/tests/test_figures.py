"""figures() within a user's scope: a workstation sees its subtree, department staff their
own department only, a grid worker their grid; today is always counted from the records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.actions import do_rebuild
from wangge.analytics.figures import Query, figures, labels, series, totals
from wangge.fieldwork.models import Visit
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def scope_of(username: str) -> Scope:
    return analytics_scope(get_user_model().objects.get(username=username))


def year() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - 365 * DAY, today


def test_a_workstation_sees_only_its_subtree() -> None:
    scope = scope_of("station")
    assert scope.paths
    since, until = year()
    by_grid = figures(scope, Query("grid", since, until))
    assert by_grid
    for key in by_grid:
        assert scope.covers(Grid.objects.get(pk=key))
    mine = totals(scope, Query("grid", since, until))
    everything = totals(Scope(None, None), Query("grid", since, until))
    assert 0 < mine["reported"] < everything["reported"]
    # a grid outside the scope is refused
    outside = Grid.objects.exclude(path__startswith=scope.paths[0]).filter(level=3).first()
    with pytest.raises(PermissionDenied):
        figures(scope, Query("category", since, until, within=outside))


def test_department_staff_see_their_own_department_only() -> None:
    scope = scope_of("water")
    assert scope.department_only and scope.departments
    since, until = year()
    rows = figures(scope, Query("department", since, until))
    assert set(rows) <= set(scope.departments) and rows
    everyone = figures(Scope(None, None), Query("department", since, until))
    assert len(everyone) > len(rows)
    for key in rows:
        assert rows[key] == everyone[key]
    for by in ("grid", "category", "channel", "worker"):
        with pytest.raises(PermissionDenied):
            figures(scope, Query(by, since, until))  # type: ignore[arg-type]


def test_a_grid_worker_sees_their_grid() -> None:
    scope = scope_of("gridworker")
    since, until = year()
    rows = figures(scope, Query("worker", since, until))
    assert rows
    grid = Grid.objects.get(path=scope.paths[0])
    assert set(figures(scope, Query("grid", since, until))) <= {grid.pk}


def test_today_is_counted_from_the_records_after_a_rollup() -> None:
    today = timezone.localdate()
    do_rebuild(today - 5 * DAY)
    everyone = Scope(None, None)
    q = Query("grid", today - 3 * DAY, today)
    before = totals(everyone, q).get("visit_people", 0)
    visit = Visit.objects.order_by("pk").first()
    assert visit is not None
    visit.pk, visit.visited_at, visit.people_met = None, timezone.now(), 4
    visit.save()
    assert totals(everyone, q)["visit_people"] == before + 4


def test_series_has_every_bucket_and_labels_name_keys() -> None:
    today = timezone.localdate()
    s = series(Scope(None, None), Query("channel", today - 40 * DAY, today), "week")
    starts = [b for b, _ in s]
    assert starts == sorted(starts) and all(b.weekday() == 0 for b in starts)
    assert len(s) in (6, 7)
    names = labels("channel", [0, 2])
    assert names == {0: "网格员上报", 2: "居民反映"}
    assert labels("department", [0])[0] == "未派遣"
    assert labels("worker", [0])[0] == "非网格员上报"
