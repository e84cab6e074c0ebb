"""Retry-safe registry creates: a replayed client key answers 200 with exactly the first
body, also when the first request was still running (the key is read again after a
conflict); a duplicate natural key without a key is a 422 naming the field, never a 500;
a key never returns a record of another kind or of another user.

The concurrent version against a real server: tests/e2e/test_concurrent_replays.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.models import IdempotencyKey
from wangge.registry import actions
from wangge.registry.models import Building, House, KeyPlace, Organisation, RegistryChange, Resident
from wangge.registry.tests import factories
from wangge.registry.validation import RegistryError
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

GRID = "胜利社区第1网格"
MODELS = {"residents": Resident, "buildings": Building, "houses": House,
          "key-places": KeyPlace, "organisations": Organisation}


@pytest.fixture
def house() -> House:
    return factories.house(factories.building(Grid.objects.get(name=GRID)))


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/registry/{path}", json.dumps(body),
                       content_type="application/json")


def body_for(path: str, house: House) -> dict[str, Any]:
    grid = Grid.objects.get(name=GRID)
    tag = uuid.uuid4().hex[:8]
    point = {"lng": grid.label_lng, "lat": grid.label_lat}
    return {
        "residents": {"name": "重放", "id_number": factories.id_number(),
                      "residence_type": "registered", "building": house.building.code,
                      "house": house.number},
        "buildings": {"code": f"RP-{tag}", "name": "重放楼", "address": "重放路1号",
                      "floors": 5, "use": "residential", **point},
        "houses": {"building": house.building.code, "number": f"R-{tag}", "area": 70,
                   "use": "self_occupied"},
        "key-places": {"name": f"重放场所{tag}", "kind": "school", "address": "重放路2号",
                       **point},
        "organisations": {"name": f"重放组织{tag}", "kind": "enterprise",
                          "address": "重放路3号", **point},
    }[path]


@pytest.mark.parametrize("path", list(MODELS))
def test_a_replay_answers_200_with_the_first_body_and_makes_nothing(login_as, house,
                                                                    path) -> None:
    client = login_as("gridworker")
    body = {**body_for(path, house), "client_key": f"k-{uuid.uuid4().hex}"}
    first = post(client, path, body)
    assert first.status_code == 201, first.content
    records, history = MODELS[path].objects.count(), RegistryChange.objects.count()
    for _ in range(3):
        again = post(client, path, body)
        assert again.status_code == 200
        assert again.json() == first.json()
    assert MODELS[path].objects.count() == records
    assert RegistryChange.objects.count() == history


@pytest.mark.parametrize("path", list(MODELS))
def test_a_replay_still_answers_the_first_record_when_the_body_changed(login_as, house,
                                                                       path) -> None:
    """A replay is a replay: the first record, not a second one from the edited body."""
    client = login_as("gridworker")
    key = f"k-{uuid.uuid4().hex}"
    first = post(client, path, {**body_for(path, house), "client_key": key})
    again = post(client, path, {**body_for(path, house), "client_key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_a_key_used_for_another_kind_is_refused_naming_it(login_as, house) -> None:
    client = login_as("gridworker")
    key = f"k-{uuid.uuid4().hex}"
    made = post(client, "key-places", {**body_for("key-places", house), "client_key": key})
    assert made.status_code == 201
    before = Organisation.objects.count()
    r = post(client, "organisations", {**body_for("organisations", house), "client_key": key})
    assert r.status_code == 422, r.content
    assert [e["loc"][-1] for e in r.json()["detail"]] == ["client_key"]
    assert str(made.json()["id"]) not in r.content.decode()
    assert Organisation.objects.count() == before


def test_a_case_with_a_key_the_registry_used_is_refused_not_a_500(login_as, house) -> None:
    client = login_as("gridworker")
    key = f"k-{uuid.uuid4().hex}"
    assert post(client, "key-places", {**body_for("key-places", house),
                                       "client_key": key}).status_code == 201
    r = client.post("/api/v1/cases/", json.dumps({"category": "0101", "title": "井盖缺失",
                                                  "client_key": key}),
                    content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["loc"][-1] == "client_key"


def test_another_users_key_never_returns_their_record(login_as, house) -> None:
    key = f"shared-{uuid.uuid4().hex}"
    body = {**body_for("key-places", house), "client_key": key}
    mine = post(login_as("gridworker"), "key-places", body)
    theirs = post(login_as("station"), "key-places", {**body, "name": "另一处"})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["name"] == "另一处"


def test_a_key_longer_than_the_column_is_a_422_not_a_500(login_as, house) -> None:
    r = post(login_as("gridworker"), "key-places",
             {**body_for("key-places", house), "client_key": "k" * 65})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "client_key"


@pytest.mark.parametrize(("path", "field"), [("residents", "id_number"), ("buildings", "code"),
                                             ("houses", "number")])
def test_a_duplicate_without_a_key_is_a_422_naming_the_field(login_as, house, path,
                                                             field) -> None:
    client = login_as("gridworker")
    body = body_for(path, house)
    assert post(client, path, body).status_code == 201
    count = MODELS[path].objects.count()
    again = post(client, path, body)
    assert again.status_code == 422, again.content
    assert [e["loc"][-1] for e in again.json()["detail"]] == [field]
    assert MODELS[path].objects.count() == count


# -- the races, made to happen in one process: the first create commits between the second
# -- one's checks and its insert (what a concurrent request on PostgreSQL does)

def _blind_first(monkeypatch: pytest.MonkeyPatch, name: str, times: int) -> None:
    """Make actions.<name> answer None for its first `times` calls: the check ran before
    the concurrent first request committed."""
    real = getattr(actions, name)
    calls = {"n": 0}

    def late(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] <= times else real(*args, **kwargs)

    monkeypatch.setattr(actions, name, late)


@pytest.mark.parametrize("kind", ["resident", "building", "house", "key_place",
                                  "organisation"])
def test_a_key_committed_during_the_create_is_answered_as_a_replay(
        monkeypatch, django_user_model, house, kind) -> None:
    user = django_user_model.objects.get(username="gridworker")
    path = {"key_place": "key-places"}.get(kind, kind + "s")
    data = body_for(path, house)
    key = f"race-{uuid.uuid4().hex}"
    first = actions.create_or_replay(kind, data, user, client_key=key)
    assert not first.replayed
    # both key checks and the duplicate check miss: the insert itself hits the constraint
    _blind_first(monkeypatch, "_replayed", 2)
    _blind_first(monkeypatch, "_duplicate_error", 1)
    again = actions.create_or_replay(kind, data, user, client_key=key)
    assert again.replayed and again.obj.pk == first.obj.pk
    assert IdempotencyKey.objects.filter(user=user, key=key).count() == 1


@pytest.mark.parametrize("kind", ["resident", "building", "house"])
def test_a_duplicate_seen_before_the_key_is_answered_as_a_replay(
        monkeypatch, django_user_model, house, kind) -> None:
    """The key check missed the first request's key, then the duplicate check saw its
    record: with the same key this is a replay, not 'already registered'."""
    user = django_user_model.objects.get(username="gridworker")
    data = body_for(kind + "s", house)
    key = f"race-{uuid.uuid4().hex}"
    first = actions.create_or_replay(kind, data, user, client_key=key)
    _blind_first(monkeypatch, "_replayed", 2)
    again = actions.create_or_replay(kind, data, user, client_key=key)
    assert again.replayed and again.obj.pk == first.obj.pk


@pytest.mark.parametrize(("kind", "field"), [("resident", "id_number"), ("building", "code"),
                                             ("house", "number")])
def test_a_duplicate_committed_during_the_create_is_a_422_naming_the_field(
        monkeypatch, django_user_model, house, kind, field) -> None:
    user = django_user_model.objects.get(username="gridworker")
    data = body_for(kind + "s", house)
    actions.create_or_replay(kind, data, user)
    _blind_first(monkeypatch, "_duplicate_error", 1)  # the insert hits the constraint
    with pytest.raises(RegistryError) as refused:
        actions.create_or_replay(kind, data, user, client_key=f"other-{uuid.uuid4().hex}")
    assert list(refused.value.errors) == [field]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8),
       st.sampled_from(["key_place", "organisation"]))
def test_any_sequence_of_keys_makes_one_record_per_distinct_key(house, keys, kind) -> None:
    """Whatever order a phone retries in: one record per key, every replay the first one."""
    user = factories.admin()
    run = uuid.uuid4().hex[:8]
    seen: dict[str, int] = {}
    for k in keys:
        done = actions.create_or_replay(kind, {**body_for("key-places", house), "kind": (
            "school" if kind == "key_place" else "enterprise")}, user, client_key=f"{run}-{k}")
        assert done.replayed == (k in seen)
        assert seen.setdefault(k, done.obj.pk) == done.obj.pk
    model = KeyPlace if kind == "key_place" else Organisation
    assert model.objects.filter(pk__in=seen.values()).count() == len(set(keys))
