"""走访: a household or resident of the worker's own grid only (422 naming the field,
nothing written, otherwise); "last visited" moves forward only; a replayed client key
creates nothing; photos by the hash of the worker's own upload; lists in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.models import Upload, Visit
from wangge.fieldwork.tests.records_helpers import (
    get,
    login_with_role,
    my_grid,
    now_iso,
    post,
    seeded,
)
from wangge.org.models import Role
from wangge.registry.models import Household, Resident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue() -> None:
    seeded()


@pytest.fixture
def worker(login_as):  # type: ignore[no-untyped-def]
    return login_as("gridworker")


def mine() -> Household:
    return Household.objects.filter(grid=my_grid()).order_by("pk").first()  # type: ignore[return-value]


def elsewhere() -> Household:
    return Household.objects.exclude(grid=my_grid()).order_by("pk").first()  # type: ignore[return-value]


def body(**kw: object) -> dict:
    return {"visited_at": now_iso(), "kind": "hardship_aid", "household_id": mine().pk,
            "people_met": 2, "needs": "屋顶漏水", "help_given": "联系社区维修", **kw}


def test_a_visit_to_a_household_of_the_grid(worker) -> None:  # type: ignore[no-untyped-def]
    code, out = post(worker, "/visits", body(client_key="v-1"))
    assert code == 201, out
    v = Visit.objects.get(pk=out["id"])
    assert (v.grid, v.kind.code, v.people_met) == (my_grid(), "hardship_aid", 2)
    assert v.worker.user.username == "gridworker"
    assert mine().last_visited_on == timezone.localdate()
    assert AuditEntry.objects.filter(action="fieldwork.visited", object_id=str(v.pk)).exists()
    msg = OutboxMessage.objects.get(topic="fieldwork.visited", payload__visit_id=v.pk)
    assert msg.payload["people_met"] == 2 and msg.payload["grid"] == my_grid().code
    code, again = get(worker, f"/visits/{v.pk}")
    assert code == 200 and again["kind_name"] == "困难群众帮扶"


def test_a_household_outside_the_grid_is_refused_naming_it(worker) -> None:  # type: ignore[no-untyped-def]
    before = (Visit.objects.count(), OutboxMessage.objects.count(), AuditEntry.objects.count())
    other = elsewhere()
    code, out = post(worker, "/visits", body(household_id=other.pk))
    assert code == 422
    assert out["detail"][0]["loc"] == ["body", "household_id"]
    assert (Visit.objects.count(), OutboxMessage.objects.count(),
            AuditEntry.objects.count()) == before
    other.refresh_from_db()
    assert other.last_visited_on is None or other.last_visited_on < timezone.localdate()
    # the same answer for an id that does not exist at all (no probing)
    code, out = post(worker, "/visits", body(household_id=10**12))
    assert code == 422 and out["detail"][0]["loc"] == ["body", "household_id"]


def test_a_resident_outside_the_grid_is_refused(worker) -> None:  # type: ignore[no-untyped-def]
    resident = Resident.objects.exclude(grid=my_grid()).first()
    code, out = post(worker, "/visits", body(household_id=None, resident_id=resident.pk))
    assert code == 422 and out["detail"][0]["loc"] == ["body", "resident_id"]


def test_visiting_a_resident_marks_the_person_and_the_household(worker) -> None:  # type: ignore[no-untyped-def]
    r = Resident.objects.filter(grid=my_grid(), household__isnull=False).first()
    Household.objects.filter(pk=r.household_id).update(last_visited_on=None)
    code, out = post(worker, "/visits", {**body(resident_id=r.pk), "household_id": None})
    assert code == 201, out
    r.refresh_from_db()
    assert r.last_visited_on == timezone.localdate()
    assert Household.objects.get(pk=r.household_id).last_visited_on == timezone.localdate()


def test_last_visited_moves_forward_only(worker) -> None:  # type: ignore[no-untyped-def]
    h = mine()
    today = timezone.localdate()
    Household.objects.filter(pk=h.pk).update(last_visited_on=today)
    code, _ = post(worker, "/visits", body(visited_at=now_iso(days_ago=5)))
    assert code == 201
    h.refresh_from_db()
    assert h.last_visited_on == today
    Household.objects.filter(pk=h.pk).update(last_visited_on=today - dt.timedelta(days=30))
    post(worker, "/visits", body(visited_at=now_iso(days_ago=5)))
    h.refresh_from_db()
    assert h.last_visited_on == today - dt.timedelta(days=5)


def test_a_replay_creates_nothing(worker) -> None:  # type: ignore[no-untyped-def]
    code, first = post(worker, "/visits", body(client_key="v-replay"))
    assert code == 201
    n, msgs = Visit.objects.count(), OutboxMessage.objects.count()
    code, again = post(worker, "/visits", body(client_key="v-replay", people_met=5))
    assert code == 200 and again == first
    user = get_user_model().objects.get(username="gridworker")
    out = apply_envelope(user, Envelope("v-replay", "visit.create", body()))
    assert out.status == "replayed" and out.id == first["id"]
    assert (Visit.objects.count(), OutboxMessage.objects.count()) == (n, msgs)


@pytest.mark.parametrize(("change", "loc"), [
    ({"people_met": 0}, ["body", "people_met"]),
    ({"kind": "no-such-kind"}, ["body", "kind"]),
    ({"visited_at": "2026-01-01T08:00:00"}, ["body", "visited_at"]),
    ({"household_id": None}, ["body", "household_id"]),
    ({"photo_hashes": ["a" * 64]}, ["body", "photo_hashes", "0"]),
    ({"follow_up_on": "2000-01-01"}, ["body", "follow_up_on"]),
])
def test_bad_input_names_the_field(worker, change, loc) -> None:  # type: ignore[no-untyped-def]
    n = Visit.objects.count()
    code, out = post(worker, "/visits", body(**change))
    assert code == 422, out
    assert [str(x) for x in out["detail"][0]["loc"]] == loc
    assert Visit.objects.count() == n


def test_photos_by_the_hash_of_the_workers_own_upload(worker) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.get(username="gridworker")
    station = get_user_model().objects.get(username="station")
    Upload.objects.create(sha256="b" * 64, uploaded_by=user, file="x.jpg",
                          content_type="image/jpeg", size=10)
    Upload.objects.create(sha256="c" * 64, uploaded_by=station, file="y.jpg",
                          content_type="image/jpeg", size=10)
    code, out = post(worker, "/visits", body(photo_hashes=["B" * 64]))
    assert code == 201 and out["photo_hashes"] == ["b" * 64]
    code, out = post(worker, "/visits", body(photo_hashes=["c" * 64]))  # someone else's
    assert code == 422 and out["detail"][0]["loc"] == ["body", "photo_hashes", 0]


def test_lists_are_scoped(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    code, out = post(worker, "/visits", body())
    assert code == 201
    pk = out["id"]
    neighbour = login_with_role("rec-worker2", Role.GRID_WORKER,
                                my_grid().parent.children.exclude(pk=my_grid().pk).first())
    for client, sees in [(worker, True), (login_as("station"), True),
                         (login_as("subcenter"), True), (login_as("dispatcher"), True),
                         (neighbour, False), (login_as("water"), False)]:
        code, rows = get(client, "/visits?limit=500")
        assert code == 200
        assert (pk in {r["id"] for r in rows}) is sees
        assert get(client, f"/visits/{pk}")[0] == (200 if sees else 404)
    code, rows = get(login_as("station"), f"/visits?grid={my_grid().code}&kind=hardship_aid")
    assert pk in {r["id"] for r in rows}
    code, rows = get(login_as("station"), "/visits?kind=collect")
    assert pk not in {r["id"] for r in rows}


def test_who_reads_a_grid_but_does_no_field_work_there_is_refused(login_as) -> None:  # type: ignore[no-untyped-def]
    n = Visit.objects.count()
    for username in ("subcenter", "dispatcher", "police"):
        code, _ = post(login_as(username), "/visits", body())
        assert code == 403, username
    code, out = post(login_as("station"), "/visits", body())  # the community's own station
    assert code == 201, out
    assert Visit.objects.count() == n + 1
