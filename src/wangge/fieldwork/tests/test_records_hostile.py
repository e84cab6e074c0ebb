"""Hostile input to the records endpoints, through the REST API and the sync engine alike:
every bad value is a 4xx naming where it was (never a 500) and nothing is written."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.models import DiaryEntry, Distribution, Opinion, Visit
from wangge.fieldwork.tests.records_helpers import API, now_iso, seeded

pytestmark = pytest.mark.django_db
HUGE = 2**64
JUNK = [None, True, -1, 0, HUGE, 1.5, "", "x" * 6000, "\x00", [], {}, [HUGE], ["\x00"],
        {"a": 1}, "2026-02-30", "9999-12-31T23:59:59+14:00"]
BODIES = {
    "visits": ("visit.create", {"visited_at": now_iso(), "kind": "care_visit",
                                "household_id": 1, "people_met": 1}),
    "opinions": ("opinion.create", {"collected_at": now_iso(), "topic": "other",
                                    "content": "x", "source": "resident"}),
    "diary": ("diary.create", {"day": now_iso()[:10], "text": "x"}),
    "outreach/distributions": ("distribution.create", {"day": now_iso()[:10],
                                                       "material": "anti_fraud", "count": 1}),
}
EXTRA = {"visits": ["resident_id", "follow_up_on", "photo_hashes", "needs"],
         "opinions": ["people_concerned", "urgency"],
         "diary": ["tags", "household_ids", "case_ids", "opinion_ids", "opinion_keys"],
         "outreach/distributions": ["household_id", "place"]}


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Visit, Opinion, DiaryEntry, Distribution,
                                             AuditEntry, OutboxMessage))


@pytest.mark.parametrize("path", list(BODIES))
def test_junk_in_every_field_is_a_4xx(login_as, path) -> None:  # type: ignore[no-untyped-def]
    seeded()
    client = login_as("gridworker")
    user = get_user_model().objects.get(username="gridworker")
    kind, good = BODIES[path]
    before = counts()
    for field in [*good, *EXTRA[path]]:
        for value in JUNK:
            body = {**good, field: value}
            if field in good and value == good[field]:
                continue
            r = client.post(f"{API}/{path}", body, content_type="application/json")
            assert 400 <= r.status_code < 500 or r.status_code in (200, 201), (field, value)
            if r.status_code == 422:
                assert r.json()["detail"][0]["loc"][0] == "body"
            out = apply_envelope(user, Envelope(f"junk-{path}-{field}-{value!r}"[:64], kind,
                                                body))
            assert out.status in ("invalid", "not_found", "forbidden", "created"), (
                field, value, out)
            if out.status == "invalid":
                assert out.errors[0]["loc"][0] in ("payload", "client_key")
    # only the values that are valid for an optional field may have written anything
    assert counts()[0] >= before[0]


@pytest.mark.parametrize("step", ["forward", "answer", "case"])
def test_junk_to_the_opinion_steps(login_as, step) -> None:  # type: ignore[no-untyped-def]
    seeded()
    station = login_as("station")
    for pk in (0, -1, HUGE, "x"):
        r = station.post(f"{API}/opinions/{pk}/{step}", {}, content_type="application/json")
        assert r.status_code in (404, 422), (pk, r.status_code)
    for body in ({"answer": "\x00"}, {"answer": "x" * 6000}, {"category": "x" * 500},
                 {"category": "a", "lng": "nan"}, {"category": "a", "lat": HUGE}):
        r = station.post(f"{API}/opinions/1/{step}", body, content_type="application/json")
        assert r.status_code < 500, (body, r.status_code)
