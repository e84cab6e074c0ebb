"""A record's time before 2000-01-01 (a device's mistake; 0001-01-01 with an offset once
overflowed on its way to the database) is refused naming the field — through the REST API
and the sync engine alike, where the batch goes on with the next envelope."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from wangge.fieldwork.actions.sync import apply_batch
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.models import Visit
from wangge.fieldwork.tests.records_helpers import API, my_grid, now_iso, seeded
from wangge.registry.models import Household

pytestmark = pytest.mark.django_db
ANCIENT = ["0001-01-01T00:00:00+08:00", "1999-12-31T23:59:59+00:00"]


def visit(at: str) -> dict[str, object]:
    household = Household.objects.filter(grid=my_grid()).order_by("pk").first()
    assert household is not None
    return {"visited_at": at, "kind": "care_visit", "household_id": household.pk,
            "people_met": 1}


@pytest.mark.parametrize("at", ANCIENT)
def test_an_ancient_time_is_a_422_naming_it(login_as, at) -> None:  # type: ignore[no-untyped-def]
    seeded()
    client = login_as("gridworker")
    before = Visit.objects.count()
    r = client.post(f"{API}/visits", visit(at), content_type="application/json")
    assert r.status_code == 422, r.content
    assert "visited_at" in str(r.json()["detail"][0]["loc"])
    assert Visit.objects.count() == before


def test_through_sync_it_is_invalid_and_the_next_envelope_applies(login_as) -> None:  # type: ignore[no-untyped-def]
    seeded()
    login_as("gridworker")
    user = get_user_model().objects.get(username="gridworker")
    out = apply_batch(user, [
        Envelope("ancient-1", "visit.create", visit(ANCIENT[0])),
        Envelope("fine-1", "visit.create", visit(now_iso())),
    ])
    assert out[0].status == "invalid"
    assert out[0].errors[0]["loc"] == ["payload", "visited_at"]
    assert out[1].status == "created", out[1].errors
    assert Visit.objects.filter(pk=out[1].id).exists()
