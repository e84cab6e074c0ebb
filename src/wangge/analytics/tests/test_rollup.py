"""The daily rollups: idempotent, rebuildable from a day on, kept by the worker's job, and
never read when they cannot be right (never built; built on another grid tree)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from wangge.analytics import jobs
from wangge.analytics.actions import do_rebuild, do_rollup
from wangge.analytics.headline import headline, raw_headline
from wangge.analytics.models import DailyTally, RollupState
from wangge.analytics.tests.test_headline import deliver, grids, write
from wangge.territory.models import Grid, TerritoryState

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def tallies() -> list[tuple]:
    return list(DailyTally.objects.order_by("grid_id", "day").values_list(
        "grid_id", "day", "visits", "events", "opinions", "leaflets", "proxy_items"))


def same_as_raw(*who: str, **span: dt.date) -> None:
    for name in who or ("gridworker", "station", "dispatcher", "admin"):
        user = get_user_model().objects.get(username=name)
        assert headline(user, **span) == raw_headline(user, **span), name


def test_a_rebuild_is_idempotent_and_covers_every_day_to_yesterday() -> None:
    reports = do_rebuild()
    state = RollupState.objects.get()
    yesterday = timezone.localdate() - DAY
    assert state.covers_from is None and state.last_day == yesterday
    assert sum(r.rows for r in reports) == DailyTally.objects.count() > 0
    # only grids above the basic level, and the city's visits are all visits
    assert not DailyTally.objects.filter(grid__level=4).exists()
    first = tallies()
    do_rebuild()
    assert tallies() == first
    same_as_raw()
    same_as_raw("station", since=yesterday - 3 * DAY, until=yesterday + DAY)


def test_rebuild_from_a_day_replaces_only_the_days_from_it(capsys) -> None:
    yesterday = timezone.localdate() - DAY
    where = grids()
    out = StringIO()
    call_command("analytics", "rebuild", stdout=out)
    assert "rebuilt" in out.getvalue()
    before = {t for t in tallies() if t[1] < yesterday - 2 * DAY}
    # records arrive for an old day and for a day inside the span to rebuild
    write(where["own"], yesterday - 10 * DAY, 7, 70, None)
    write(where["own"], yesterday - DAY, 5, 50, None)
    deliver(where["own"], yesterday - DAY)
    call_command("analytics", "rebuild", "--from", (yesterday - 2 * DAY).isoformat(),
                 stdout=out)
    # the old day is left as it was (a rebuild from an earlier day picks it up) ...
    assert {t for t in tallies() if t[1] < yesterday - 2 * DAY} == before
    # ... the later days are recomputed
    community = where["own"].parent
    row = DailyTally.objects.get(grid=community, day=yesterday - DAY)
    assert row.visits >= 5 and row.leaflets >= 50 and row.proxy_items >= 1
    call_command("analytics", "rebuild", "--from", (yesterday - 30 * DAY).isoformat(),
                 stdout=out)
    assert RollupState.objects.get().covers_from is None  # still all time
    same_as_raw()


def test_rebuild_from_a_day_on_a_fresh_install_reads_the_records_before_it() -> None:
    yesterday = timezone.localdate() - DAY
    do_rebuild(yesterday - 5 * DAY)
    state = RollupState.objects.get()
    assert state.covers_from == yesterday - 5 * DAY
    assert not DailyTally.objects.filter(day__lt=state.covers_from).exists()
    same_as_raw()
    same_as_raw(since=yesterday - 20 * DAY, until=yesterday - 3 * DAY)


def test_a_bad_from_is_refused_naming_the_option() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--from"):
        call_command("analytics", "rebuild", "--from", "2031-02-30")


def test_the_job_builds_once_then_keeps_a_window_and_catches_late_records() -> None:
    now = timezone.now()
    assert jobs.rollup(now).startswith("rebuilt")
    assert jobs.rollup(now + dt.timedelta(minutes=1)) == "up to date"
    where = grids()
    yesterday = timezone.localdate(now) - DAY
    write(where["own"], yesterday - 3 * DAY, 9, 90, None)  # synced late from a phone
    deliver(where["own"], yesterday - 3 * DAY)
    user = get_user_model().objects.get(username="station")
    assert headline(user) != raw_headline(user)  # until the next run
    assert "days" in jobs.rollup(now + dt.timedelta(seconds=2 * jobs.ROLLUP_EVERY_S))
    same_as_raw()


def test_a_changed_grid_tree_is_never_read_from_old_tallies() -> None:
    where = grids()
    write(where["own"], timezone.localdate() - 2 * DAY, 6, 60, None)
    do_rebuild()
    # the worker's grid moves under another community (every tree change bumps the
    # stamp): the old tallies still count it in the station's community
    other = Grid.objects.filter(level=3).exclude(pk=where["own"].parent_id).order_by("code")[0]
    Grid.objects.filter(pk=where["own"].pk).update(
        parent=other, path=f"{other.path}{where['own'].code}/")
    TerritoryState.objects.update_or_create(pk=1, defaults={"stamp": "another-tree"})
    same_as_raw("station", "dispatcher", "admin")
    assert jobs.rollup().startswith("rebuilt")
    assert RollupState.objects.get().territory_stamp == "another-tree"
    assert DailyTally.objects.get(grid=other, day=timezone.localdate() - 2 * DAY).visits >= 6
    same_as_raw("station", "dispatcher", "admin")


def test_the_window_never_leaves_a_hole_after_the_last_day() -> None:
    yesterday = timezone.localdate() - DAY
    do_rebuild(yesterday - 20 * DAY, today=timezone.localdate() - 10 * DAY)
    assert RollupState.objects.get().last_day == yesterday - 10 * DAY
    do_rollup(yesterday - 2 * DAY, yesterday)  # widened down to the day after the last
    assert RollupState.objects.get().last_day == yesterday
    days = set(DailyTally.objects.values_list("day", flat=True))
    assert days <= {yesterday - n * DAY for n in range(21)}
    same_as_raw()
