"""Limits at the door (web/limits.py): a body is refused by its declared size before it is
read, an oversized photo as soon as it passes the limit; the API answers in its own shape,
and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.cases.models import Case, CaseEvent
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture
def case_body() -> dict[str, object]:
    grid = Grid.objects.get(name="胜利社区第1网格")
    return {"category": "0601", "title": "井盖缺失", "lng": grid.label_lng,
            "lat": grid.label_lat}


def counts() -> tuple[int, int]:
    return Case.objects.count(), CaseEvent.objects.count()


def test_a_json_body_over_the_limit_is_413_naming_the_body(login_as, case_body) -> None:
    worker, before = login_as("gridworker"), counts()
    body = json.dumps({**case_body, "description": "长" * (3 * MB // 3)})
    r = worker.post("/api/v1/cases/", body, content_type="application/json")
    assert r.status_code == 413
    assert r.json()["detail"] == [{"loc": ["body", "body"], "code": "too_large",
                                   "msg": "the request body may be at most 2 MB"}]
    assert counts() == before


def test_a_declared_size_is_refused_before_a_byte_is_read(login_as) -> None:
    # The test client's payload raises if it is read past what it holds: declaring 100 MB
    # over a tiny body proves the answer came from the header alone.
    worker = login_as("gridworker")
    r = worker.post("/api/v1/cases/with-photos", {"title": "x"},
                    CONTENT_LENGTH=str(100 * MB))
    assert r.status_code == 413 and r.json()["detail"][0]["loc"] == ["body", "photos"]
    r = worker.post("/api/v1/cases/", "{}", content_type="application/json",
                    CONTENT_LENGTH=str(100 * MB))
    assert r.status_code == 413


def test_a_broken_content_length_is_400(login_as) -> None:
    r = login_as("gridworker").post("/api/v1/cases/", "{}", content_type="application/json",
                                    CONTENT_LENGTH="lots")
    assert r.status_code == 400 and r.json()["detail"][0]["code"] == "bad_length"


def test_an_oversized_photo_is_422_naming_photos_and_makes_no_case(
        login_as, case_body, settings) -> None:
    settings.WANGGE_PHOTO_MAX_BYTES = MB
    worker, before = login_as("gridworker"), counts()
    photo = SimpleUploadedFile("big.jpg", b"\xff" * (3 * MB), content_type="image/jpeg")
    r = worker.post("/api/v1/cases/with-photos", {**case_body, "photos": [photo]})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body", "photos"], "code": "photo_too_large",
                                   "msg": "a photo may be at most 1 MB"}]
    assert counts() == before


def test_a_page_gets_the_refusal_in_chinese(login_as) -> None:
    worker = login_as("gridworker")
    r = worker.post("/console/cases/new/", {"title": "长" * MB})
    assert r.status_code == 413 and r["Content-Type"].startswith("text/plain")
    assert "过大" in r.content.decode()


def test_an_ordinary_upload_still_goes_through(login_as, case_body) -> None:
    from wangge.cases.tests.test_photos import picture

    worker = login_as("gridworker")
    photo = SimpleUploadedFile("ok.jpg", picture(), content_type="image/jpeg")
    r = worker.post("/api/v1/cases/with-photos", {**case_body, "photos": [photo]})
    assert r.status_code == 201 and len(r.json()["photos"]) == 1


def test_limits_follow_settings(login_as, settings) -> None:
    settings.WANGGE_MAX_BODY_BYTES = 1000
    r = login_as("gridworker").post("/api/v1/cases/", json.dumps({"title": "x" * 2000}),
                                    content_type="application/json")
    assert r.status_code == 413
