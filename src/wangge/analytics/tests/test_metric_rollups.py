"""The evaluation rollups (MetricTally) give exactly what the records give: after a rebuild,
figures (read from the rollups where they can be) == raw_figures (GROUP BY over the
records), for every breakdown, over spans of days and whole months, in the whole city and
in subtrees; a run twice changes nothing; a late record of a past day appears after the
window's run; `wangge analytics rebuild --from` rebuilds them."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.analytics import jobs
from wangge.analytics.access import Scope
from wangge.analytics.actions import do_rebuild, do_rollup
from wangge.analytics.facts import day_start
from wangge.analytics.figures import Query, figures, raw_figures, resolve
from wangge.analytics.metrics import DIMS, SCOPE_LEVELS
from wangge.analytics.models import MetricTally, RollupState
from wangge.cases.models import Case, CaseEvent
from wangge.fieldwork.models import BuildingPass, Patrol, Visit
from wangge.registry.models import Building
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
EVERYTHING = Scope(None, None)


def tallies() -> list[tuple]:
    return list(MetricTally.objects.order_by("period", "start", "dim", "scope_id", "key")
                .values_list("period", "start", "dim", "key", "scope_id", "level",
                             "reported", "handled", "handling_minutes", "visit_people",
                             "buildings_covered", "patrol_minutes", "closed_on_time"))


def same(scope: Scope, q: Query) -> dict:
    got = figures(scope, q)
    rq, paths = resolve(scope, q)
    want = raw_figures(rq, paths=paths, departments=scope.departments)
    assert got == want, (q.by, q.since, q.until, q.within)
    return got


def busy_grids() -> dict[int, Grid]:
    """A grid of each level with cases in its subtree."""
    case = Case.objects.order_by("pk").select_related("grid").first()
    assert case is not None
    out = {}
    for path in case.grid.ancestor_paths():
        g = Grid.objects.get(path=path)
        out[g.level] = g
    return out


#: the rollups of the tests cover the last days only (a whole demo year takes a minute
#: to build here); figures read the records before them, which the spans below cross
ROLLED_DAYS = 75


@pytest.fixture
def rolled() -> dt.date:
    yesterday = timezone.localdate() - DAY
    do_rebuild(yesterday - ROLLED_DAYS * DAY)
    return yesterday


def month_before(day: dt.date) -> tuple[dt.date, dt.date]:
    last = day.replace(day=1) - DAY
    return last.replace(day=1), last


def test_rollups_equal_the_records_for_every_breakdown(rolled: dt.date) -> None:
    assert MetricTally.objects.filter(period="d").exists()
    assert MetricTally.objects.filter(period="m").exists()
    first, last = month_before(rolled)
    spans = [(first - 9 * DAY, rolled + DAY),  # days, a whole month, days, today
             (first, last),  # exactly a month
             (rolled - 40 * DAY, rolled - 3 * DAY)]
    for since, until in spans:
        for by in DIMS:
            got = same(EVERYTHING, Query(by, since, until))
            # the session's demo has disputes over its two weeks of fieldwork only
            assert got or (by == "dispute_kind" and until < rolled - 14 * DAY), by
    # subtrees: grid and worker rows filter on the scope's path; other breakdowns read
    # rows of the SCOPE_LEVELS grids, and below them count the records
    where = busy_grids()
    for grid in where.values():
        for by in DIMS:
            same(EVERYTHING, Query(by, first - 9 * DAY, rolled + DAY, within=grid))
    for level in range(5):
        same(EVERYTHING, Query("grid", first, last, level=level))
    # a workstation's scope, a department's
    same(Scope([where[3].path], None), Query("category", first, rolled))
    same(Scope([], frozenset({1, 2, 3})), Query("department", first, rolled))


def test_the_rows_are_what_the_rollups_are_read_from(rolled: dt.date) -> None:
    """Month rows are the sums of their days (buildings apart); breakdown rows exist only
    at the scope levels; grid rows at every level."""
    first, last = month_before(rolled)
    month = {(r.dim, r.key, r.scope_id): r for r in MetricTally.objects.filter(
        period="m", start=first)}
    assert month
    days = MetricTally.objects.filter(period="d", start__gte=first, start__lte=last)
    sums: dict[tuple, int] = {}
    for r in days:
        k = (r.dim, r.key, r.scope_id)
        sums[k] = sums.get(k, 0) + r.reported + r.handling_minutes + r.visit_people
    assert sums == {k: r.reported + r.handling_minutes + r.visit_people
                    for k, r in month.items()}
    levels = set(MetricTally.objects.filter(dim="category").values_list("level", flat=True))
    assert levels <= set(SCOPE_LEVELS)
    assert set(MetricTally.objects.filter(dim="grid").values_list("level", flat=True)) == {
        0, 1, 2, 3, 4}


def test_a_run_twice_changes_nothing_and_a_late_record_appears(rolled: dt.date) -> None:
    before = tallies()
    do_rollup(rolled - 34 * DAY, rolled)
    assert tallies() == before
    # a late visit synced for a day inside the window, a late handle event
    visit = Visit.objects.order_by("pk").first()
    assert visit is not None
    visit.pk = None
    visit.visited_at = timezone.make_aware(dt.datetime.combine(rolled - 5 * DAY,
                                                               dt.time(10)))
    visit.people_met = 7
    visit.save()
    grid_level4 = visit.grid
    q = Query("grid", rolled - 5 * DAY, rolled - 5 * DAY, within=grid_level4)
    stale = figures(EVERYTHING, q)
    assert stale != raw_figures(q, paths=[grid_level4.path])  # the rows are a day behind
    out = jobs.rollup(timezone.now() + dt.timedelta(hours=2))  # past the hour
    assert "35 days" in out
    assert figures(EVERYTHING, q)[grid_level4.pk]["visit_people"] == \
        stale.get(grid_level4.pk, {}).get("visit_people", 0) + 7
    same(EVERYTHING, Query("worker", rolled - 30 * DAY, rolled))


def test_rebuild_from_a_day_via_the_command(rolled: dt.date) -> None:
    first, last = month_before(rolled)
    event = CaseEvent.objects.filter(action="handle", at__lt=timezone.now() - 3 * DAY).order_by(
        "-at").first()
    assert event is not None
    day = timezone.localtime(event.at).date()
    CaseEvent.objects.filter(pk=event.pk).update(action="handle_withdrawn")
    out = StringIO()
    call_command("analytics", "rebuild", "--from", day.isoformat(), stdout=out)
    assert "rebuilt" in out.getvalue()
    assert RollupState.objects.get().covers_from == rolled - ROLLED_DAYS * DAY
    for by in ("department", "grid", "category"):
        same(EVERYTHING, Query(by, day - 3 * DAY, rolled))
        same(EVERYTHING, Query(by, first, last))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(by=st.sampled_from(DIMS), start=st.integers(1, 100), length=st.integers(0, 70),
       level=st.sampled_from([None, 0, 2, 3, 4]))
def test_random_spans_over_the_demo(rolled: dt.date, by: str, start: int, length: int,
                                    level: int | None) -> None:
    since = rolled - start * DAY
    until = since + length * DAY
    within = busy_grids()[level] if level is not None else None
    same(EVERYTHING, Query(by, since, until, within=within))  # type: ignore[arg-type]


def test_a_late_record_of_an_earlier_day_corrects_the_month_by_its_difference(
        rolled: dt.date) -> None:
    """Rolling one day of a month that has month rows corrects them by the day's old and
    new rows (the delta path): they equal the records of the month, a run twice changes
    nothing, and summing the month whole gives the very same rows."""
    first, last = month_before(rolled)
    event = CaseEvent.objects.filter(action="handle", at__gte=day_start(first),
                                     at__lt=day_start(last + DAY)).order_by("at").first()
    assert event is not None
    day = timezone.localtime(event.at).date()
    assert MetricTally.objects.filter(period="m", start=first).exists()
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    # records that arrive late for that day: a visit, a patrol passing a building nobody
    # passed that month; and a handle event of the day withdrawn (the month loses it)
    visit = Visit.objects.order_by("pk").first()
    assert visit is not None
    visit.pk = None
    visit.visited_at, visit.people_met = at, 7
    visit.save()
    patrol = Patrol.objects.filter(passes__isnull=False).order_by("pk").first()
    assert patrol is not None
    patrol.pk = None
    patrol.started_at, patrol.ended_at, patrol.duration_s = at, at + dt.timedelta(hours=1), 3600
    patrol.save()
    month_passes = BuildingPass.objects.filter(at__gte=day_start(first),
                                               at__lt=day_start(last + DAY))
    building = Building.objects.exclude(
        pk__in=month_passes.values("building_id")).order_by("pk").first()
    assert building is not None
    BuildingPass.objects.create(patrol=patrol, building=building, at=at)
    CaseEvent.objects.filter(pk=event.pk).update(action="handle_withdrawn")
    stale = figures(EVERYTHING, Query("grid", first, last, level=0))
    report = do_rollup(day, day)
    assert report.days == 1
    for by in DIMS:
        same(EVERYTHING, Query(by, first, last))
    fresh = figures(EVERYTHING, Query("grid", first, last, level=0))
    assert fresh != stale
    after = tallies()
    do_rollup(day, day)
    assert tallies() == after
    do_rollup(first, last)  # the whole month: summed from its days
    assert tallies() == after


def test_buildings_passed_alone_give_the_month_a_row_by_the_difference_too(
        rolled: dt.date) -> None:
    """A worker whose only activity on the day rolled up again is a building passed (their
    patrol began the evening before, so its minutes count on that day, not this one) gets
    a month row with that building, as a month summed whole gives them."""
    from wangge.org.models import Person

    first, last = month_before(rolled)
    day = first + 10 * DAY
    assert MetricTally.objects.filter(period="m", start=first).exists()
    newcomer = Person.objects.create(name="测试新网格员")
    grid = Grid.objects.filter(level=4).order_by("path").first()
    building = Building.objects.filter(grid=grid).order_by("pk").first()
    assert grid is not None and building is not None
    evening = timezone.make_aware(dt.datetime.combine(day - DAY, dt.time(23)))
    patrol = Patrol.objects.create(worker=newcomer, grid=grid, started_at=evening,
                                   ended_at=evening + 2 * dt.timedelta(hours=1),
                                   duration_s=7200)
    BuildingPass.objects.create(patrol=patrol, building=building,
                                at=evening + dt.timedelta(minutes=90))

    def covered() -> list[int]:
        return list(MetricTally.objects.filter(
            period="m", start=first, dim="worker", key=newcomer.pk
        ).values_list("buildings_covered", flat=True))

    do_rollup(day, day)  # the delta path: their month row has no other count
    assert covered() == [1]
    do_rollup(first, last)  # the month summed whole agrees
    assert covered() == [1]


def test_month_rows_that_drifted_below_their_days_are_summed_again(rolled: dt.date) -> None:
    """Month rows that no longer equal their days' sum (here: handled cleared by hand) would
    go below 0 by the difference; the run sums that month whole instead, and the month
    equals the records again."""
    first, last = month_before(rolled)
    event = CaseEvent.objects.filter(action="handle", at__gte=day_start(first),
                                     at__lt=day_start(last + DAY)).order_by("at").first()
    assert event is not None
    day = timezone.localtime(event.at).date()
    MetricTally.objects.filter(period="m", start=first).update(handled=0)
    CaseEvent.objects.filter(pk=event.pk).update(action="handle_withdrawn")
    do_rollup(day, day)
    for by in DIMS:
        same(EVERYTHING, Query(by, first, last))
