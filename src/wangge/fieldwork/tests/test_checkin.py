"""报到: place and late from the rules (data), once a day, only a grid worker."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.models import CheckIn, FieldRule
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)  # a Monday in the past


def at(h: int, m: int, s: int = 0, day: dt.date = DAY) -> str:
    return dt.datetime.combine(day, dt.time(h, m, s), tzinfo=SH).isoformat()


@pytest.fixture
def grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def rule(grid: Grid) -> FieldRule:
    """A rule on the community (the worker's grid's parent): 08:00 with 10 minutes' grace,
    the station 1 km north-east of the grid's label point."""
    FieldRule.objects.filter(grid=grid.parent).delete()
    return FieldRule.objects.create(
        grid=grid.parent, start_time=dt.time(8, 0), grace_minutes=10,
        station_lng=grid.label_lng + 0.01, station_lat=grid.label_lat + 0.01,
        station_radius_m=150)


@pytest.fixture
def worker(login_as):  # type: ignore[no-untyped-def]
    CheckIn.objects.filter(worker__user__username="gridworker").delete()
    return login_as("gridworker")


def post(client, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/fieldwork/checkins", json.dumps(body),
                    content_type="application/json")
    return r.status_code, r.json()


def test_in_the_grid_on_time(worker, rule, grid) -> None:  # type: ignore[no-untyped-def]
    code, body = post(worker, {"at": at(7, 55), "lng": grid.label_lng, "lat": grid.label_lat,
                               "accuracy_m": 12, "client_key": "c1"})
    assert code == 201, body
    assert body["place"] == "grid" and body["late"] is False and body["day"] == "2026-03-02"
    c = CheckIn.objects.get(pk=body["id"])
    assert c.grid == grid and c.worker.user.username == "gridworker"
    assert AuditEntry.objects.filter(object_type="fieldwork.checkin",
                                     object_id=str(c.pk)).exists()
    msg = OutboxMessage.objects.get(topic="fieldwork.checked_in", payload__checkin_id=c.pk)
    assert msg.payload["grid"] == grid.code and msg.payload["place"] == "grid"


def test_at_the_station_late(worker, rule) -> None:  # type: ignore[no-untyped-def]
    code, body = post(worker, {"at": at(8, 10, 1), "lng": rule.station_lng + 0.0005,
                               "lat": rule.station_lat})
    assert code == 201, body
    assert body["place"] == "station" and body["late"] is True


def test_elsewhere_and_without_gps(worker, rule, grid) -> None:  # type: ignore[no-untyped-def]
    code, body = post(worker, {"at": at(8, 0), "lng": rule.station_lng + 0.02,
                               "lat": rule.station_lat + 0.02})
    assert (code, body["place"]) == (201, "elsewhere")
    code, body = post(worker, {"at": at(8, 0, day=DAY + dt.timedelta(days=1))})
    assert (code, body["place"], body["late"]) == (201, "none", False)


def test_in_grid_does_not_count_when_the_rule_says_so(worker, rule, grid) -> None:  # type: ignore[no-untyped-def]
    rule.in_grid_counts = False
    rule.save()
    code, body = post(worker, {"at": at(7, 0), "lng": grid.label_lng, "lat": grid.label_lat})
    assert (code, body["place"]) == (201, "elsewhere")


def test_leave_is_never_late(worker, rule) -> None:  # type: ignore[no-untyped-def]
    code, body = post(worker, {"at": at(11, 0), "status": "leave"})
    assert (code, body["status"], body["late"]) == (201, "leave", False)


def test_default_rule_is_half_past_eight(worker, grid) -> None:  # type: ignore[no-untyped-def]
    FieldRule.objects.filter(grid__path__in=[grid.path, grid.parent.path,
                                             grid.parent.parent.path]).delete()
    FieldRule.objects.filter(grid__level__lt=2).delete()
    assert post(worker, {"at": at(8, 30)})[1]["late"] is False
    assert post(worker, {"at": at(8, 30, 1, day=DAY + dt.timedelta(days=1))})[1]["late"] is True


def test_deepest_rule_wins(worker, rule, grid) -> None:  # type: ignore[no-untyped-def]
    FieldRule.objects.create(grid=grid, start_time=dt.time(9, 0))
    assert post(worker, {"at": at(8, 30)})[1]["late"] is False


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=-3600, max_value=3600))
def test_late_exactly_after_start_plus_grace(worker, rule, offset: int) -> None:  # type: ignore[no-untyped-def]
    CheckIn.objects.filter(worker__user__username="gridworker").delete()
    moment = dt.datetime.combine(DAY, dt.time(8, 10), tzinfo=SH) + dt.timedelta(seconds=offset)
    code, body = post(worker, {"at": moment.isoformat()})
    assert code == 201
    assert body["late"] is (offset > 0)


def test_second_check_in_same_day_refused(worker, rule) -> None:  # type: ignore[no-untyped-def]
    assert post(worker, {"at": at(7, 50), "client_key": "a"})[0] == 201
    code, body = post(worker, {"at": at(9, 0), "client_key": "b"})
    assert code == 422
    assert body["detail"][0]["loc"] == ["body", "at"]
    assert body["detail"][0]["code"] == "already_checked_in"
    assert CheckIn.objects.filter(worker__user__username="gridworker").count() == 1


def test_replay_answers_the_first(worker, rule) -> None:  # type: ignore[no-untyped-def]
    first = post(worker, {"at": at(7, 50), "client_key": "same"})
    again = post(worker, {"at": at(7, 50), "client_key": "same"})
    assert first[0] == 201 and again[0] == 200 and again[1]["id"] == first[1]["id"]


@pytest.mark.parametrize("body, field", [
    ({"at": "yesterday"}, "at"),
    ({"at": "2026-03-02T08:00:00"}, "at"),  # no offset
    ({"at": "2026-02-30T08:00:00+08:00"}, "at"),  # well-formed, impossible
    ({"at": "2099-01-01T08:00:00+08:00"}, "at"),
    ({"at": at(8, 0), "lng": 113.0}, "lat"),
    ({"at": at(8, 0), "lng": 500.0, "lat": 27.0}, "lng"),
    ({"at": at(8, 0), "status": "holiday"}, "status"),
])
def test_bad_input_names_the_field(worker, body, field) -> None:  # type: ignore[no-untyped-def]
    code, answer = post(worker, body)
    assert code == 422, answer
    assert answer["detail"][0]["loc"][:2] == ["body", field]
    assert not CheckIn.objects.filter(worker__user__username="gridworker").exists()


@pytest.mark.parametrize("username", ["station", "grid_chief", "dispatcher", "grid_police"])
def test_only_a_grid_worker_checks_in(login_as, username) -> None:  # type: ignore[no-untyped-def]
    before = CheckIn.objects.count()
    code, _ = post(login_as(username), {"at": at(8, 0)})
    assert code == 403
    assert CheckIn.objects.count() == before


def test_a_former_worker_cannot_check_in(login_as) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.get(username="gridworker")
    user.person.roles.filter(role="grid_worker").update(ended_on=DAY)
    code, _ = post(login_as("gridworker"), {"at": at(8, 0)})
    assert code == 403


def test_checkins_list_is_scoped(worker, login_as, rule) -> None:  # type: ignore[no-untyped-def]
    assert post(worker, {"at": at(8, 0)})[0] == 201
    mine = worker.get("/api/v1/fieldwork/checkins?date=2026-03-02").json()
    assert mine and {c["grid"] for c in mine} == {Grid.objects.get(
        name="胜利社区第1网格").code}
    station = login_as("station").get("/api/v1/fieldwork/checkins?date=2026-03-02").json()
    assert any(c["id"] == mine[0]["id"] for c in station)
    assert login_as("water").get("/api/v1/fieldwork/checkins?date=2026-03-02").json() == []
