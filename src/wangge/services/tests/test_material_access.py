"""Materials over the API: checked by decoding (an HTML page named .jpg is refused naming the
field), size-limited, and never reachable without access: another department's staff,
another grid's worker and anonymous callers get 404; the reviewer, the worker who applied and
the applicant by number and follow code get the file."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from PIL import Image

from wangge.services import access
from wangge.services.models import Application, MaterialFile
from wangge.services.tests.prereview_helpers import (
    ID_NUMBER,
    PHONE,
    make_item,
    make_other_worker,
    pdf,
    png,
    worker_grid_id,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/services/applications"


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def upload(client: Client, pk: int, key: str, name: str, raw: bytes,
           kind: str = "image/jpeg") -> Any:
    return client.post(f"{API}/{pk}/materials",
                       {"material_key": key, "file": SimpleUploadedFile(name, raw, kind)})


@pytest.fixture
def opened(login_as: Any) -> dict[str, Any]:
    make_item()
    worker = login_as("gridworker")
    r = post(worker, API, {"client_key": "open-1", "item_code": "T-MZ-001",
                           "grid_id": worker_grid_id(),
                           "applicant": {"name": "王秀英", "id_number": ID_NUMBER,
                                         "phone": PHONE}})
    assert r.status_code == 201, r.content
    return r.json()


def test_retried_post_with_the_same_client_key_is_one_application(
        login_as: Any, opened: dict) -> None:
    worker = login_as("gridworker")
    before = Application.objects.count()
    r = post(worker, API, {"client_key": "open-1", "item_code": "T-MZ-001",
                           "grid_id": worker_grid_id(), "applicant": {"name": "王秀英"}})
    assert r.status_code == 200 and r.json()["id"] == opened["id"]
    assert Application.objects.count() == before
    assert opened["follow_code"]  # the worker hands it to the resident


def test_masked_in_lists_and_detail(login_as: Any, opened: dict) -> None:
    text = login_as("gridworker").get(API).content.decode()
    assert opened["no"] in text
    assert ID_NUMBER not in text and PHONE not in text and "王秀英" not in text
    assert "110105********002X" in text and "138****5678" in text
    detail = login_as("gridworker").get(f"{API}/{opened['id']}").content.decode()
    assert ID_NUMBER not in detail and PHONE not in detail


def test_html_named_jpg_is_refused_naming_the_field(login_as: Any, opened: dict) -> None:
    worker = login_as("gridworker")
    r = upload(worker, opened["id"], "id_card", "id.jpg",
               b"<html><script>alert(1)</script></html>")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "file"]
    assert not MaterialFile.objects.filter(application_id=opened["id"]).exists()


def test_unknown_material_is_refused(login_as: Any, opened: dict) -> None:
    r = upload(login_as("gridworker"), opened["id"], "passport", "a.png", png(), "image/png")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "material_key"]


def test_broken_pdf_is_refused(login_as: Any, opened: dict) -> None:
    r = upload(login_as("gridworker"), opened["id"], "hukou", "a.pdf", b"%PDF-1.4 truncated",
               "application/pdf")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]


def test_oversize_is_refused(login_as: Any, opened: dict, settings: Any) -> None:
    settings.WANGGE_MATERIAL_MAX_BYTES = 2000
    noise = io.BytesIO()
    Image.frombytes("RGB", (60, 60), os.urandom(60 * 60 * 3)).save(noise, format="PNG")
    assert len(noise.getvalue()) > 2000
    r = upload(login_as("gridworker"), opened["id"], "id_card", "big.png", noise.getvalue(),
               "image/png")
    assert r.status_code in (413, 422)
    assert r.json()["detail"][0]["loc"][-1] == "file"
    assert not MaterialFile.objects.filter(application_id=opened["id"]).exists()


def _submitted_with_files(login_as: Any, opened: dict) -> list[int]:
    worker = login_as("gridworker")
    a = upload(worker, opened["id"], "id_card", "id.png", png(), "image/png")
    b = upload(worker, opened["id"], "hukou", "hukou.pdf", pdf(), "application/pdf")
    assert a.status_code == 201 and b.status_code == 201, (a.content, b.content)
    r = worker.post(f"{API}/{opened['id']}/submit")
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    return [a.json()["id"], b.json()["id"]]


def test_files_only_with_access(login_as: Any, opened: dict) -> None:
    image, document = _submitted_with_files(login_as, opened)
    pk = opened["id"]
    reviewer = login_as("civil_affairs")
    r = reviewer.get(f"{API}/{pk}/files/{image}")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    r = reviewer.get(f"{API}/{pk}/files/{document}")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF-")
    assert "attachment" in r["Content-Disposition"]
    assert login_as("gridworker").get(f"{API}/{pk}/files/{image}").status_code == 200
    # console page of the file, through the same access
    assert reviewer.get(f"/console/services/review/{pk}/files/{image}/").status_code == 200
    make_other_worker()
    for outsider in (login_as("water"), login_as("other_worker")):
        assert outsider.get(f"{API}/{pk}/files/{image}").status_code == 404
        assert outsider.get(f"{API}/{pk}").status_code == 404
        assert outsider.get(
            f"/console/services/review/{pk}/files/{image}/").status_code == 404
    anonymous = Client()
    assert anonymous.get(f"{API}/{pk}/files/{image}").status_code in (401, 404)
    r = anonymous.get(f"/console/services/review/{pk}/files/{image}/")
    assert r.status_code in (302, 404)  # the console sends strangers to the login page
    # a file of another application through this one's id: 404
    assert reviewer.get(f"{API}/{pk}/files/{image + 10**6}").status_code == 404
    # every read that was let in is on record, with who read which material; refusals
    # read nothing
    from wangge.core.models import AuditEntry
    reads = AuditEntry.objects.filter(action="services.file_read", object_id=str(pk))
    assert reads.count() == 4
    assert {(e.actor.username, e.detail["file"]) for e in reads} >= {
        ("civil_affairs", "id_card#1"), ("civil_affairs", "hukou#1"), ("gridworker", "id_card#1")}


def test_applicant_by_number_and_follow_code(login_as: Any, opened: dict) -> None:
    image, _ = _submitted_with_files(login_as, opened)
    a = Application.objects.get(pk=opened["id"])
    assert access.public_material_file(a.no, a.follow_code, image).pk == image
    assert access.public_material_file(a.no, a.follow_code.lower(), image).pk == image
    for code in ("", "WRONG1"):
        with pytest.raises(Http404):
            access.public_material_file(a.no, code, image)


def test_review_over_the_api(login_as: Any, opened: dict) -> None:
    _submitted_with_files(login_as, opened)
    pk = opened["id"]
    reviewer = login_as("civil_affairs")
    r = post(reviewer, f"{API}/{pk}/checks", {"material_key": "hukou", "verdict": "correct"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
    for key in ("id_card", "hukou"):
        r = post(reviewer, f"{API}/{pk}/checks", {"material_key": key, "verdict": "accepted"})
        assert r.status_code == 200, r.content
    assert post(login_as("water"), f"{API}/{pk}/decide",
                {"decision": "pass"}).status_code == 404
    r = post(reviewer, f"{API}/{pk}/decide", {"decision": "pass"})
    assert r.status_code == 200 and r.json()["state"] == "passed"
    assert r.json()["follow_code"] is None  # the reviewer does not act for the applicant
    r = post(reviewer, f"{API}/{pk}/decide", {"decision": "reject", "reason": "x"})
    assert r.status_code == 409 and "预审通过" in r.json()["detail"]
    listed = reviewer.get(f"{API}?state=passed&department=civil-affairs").json()
    assert listed["total"] >= 1 and any(i["id"] == pk for i in listed["items"])
    assert reviewer.get(f"{API}?overdue=true").status_code == 200


def test_huge_ids_and_odd_strings_are_4xx(login_as: Any, opened: dict) -> None:
    worker = login_as("gridworker")
    assert worker.get(f"{API}/{2**70}").status_code == 422
    assert worker.get(f"{API}?offset=-1").status_code == 422
    r = post(worker, API, {"item_code": "T-MZ-001", "applicant": {"name": "a\u0000b"}})
    assert r.status_code == 422
    r = worker.post(f"{API}/{opened['id']}/materials", {"material_key": "id_card"})
    assert r.status_code == 422
