"""The field app's sync (POST /api/v1/fieldwork/sync) and photo uploads, through the API as
the phone calls them: each envelope answered (created / replayed / invalid / conflict /
forbidden / not_found), in order, one failure never stopping the rest, a replayed batch
creating nothing, photos stored once per hash, limits refused with the field named."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image

from wangge.cases.models import Case, CasePhoto
from wangge.fieldwork import access
from wangge.fieldwork.models import Upload
from wangge.registry.models import RegistryChange, Resident

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/fieldwork/sync"
UPLOADS = "/api/v1/fieldwork/uploads"


def jpeg(colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


def env(kind: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"client_key": uuid.uuid4().hex, "kind": kind, "payload": payload, **extra}


def sync(client: Client, envelopes: list[dict[str, Any]]) -> Any:
    r = client.post(SYNC, {"envelopes": envelopes}, content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()


def upload(client: Client, raw: bytes, name: str = "p.jpg") -> Any:
    f = io.BytesIO(raw)
    f.name = name
    return client.post(UPLOADS, {"file": f})


def worker_resident() -> Resident:
    user = get_user_model().objects.get(username="gridworker")
    return Resident.objects.filter(grid=access.worker_grid(user)).order_by("id").first()


def report(title: str = "井盖缺失", **payload: Any) -> dict[str, Any]:
    return env("case.report", {"category": "0101", "title": title, **payload})


def test_each_envelope_answered_in_order_and_one_failure_does_not_stop_the_rest(
        login_as: Any) -> None:
    client = login_as("gridworker")
    batch = [report("第一件"), report(title=""), env("nonsense.kind", {}), report("第三件")]
    before = Case.objects.count()
    out = sync(client, batch)
    statuses = [o["status"] for o in out["outcomes"]]
    assert [o["client_key"] for o in out["outcomes"]] == [e["client_key"] for e in batch]
    assert statuses == ["created", "invalid", "invalid", "created"]
    assert out["outcomes"][1]["errors"][0]["loc"] == ["payload", "title"]
    assert out["outcomes"][2]["errors"][0]["loc"] == ["kind"]
    assert Case.objects.count() == before + 2
    first = Case.objects.get(pk=out["outcomes"][0]["id"])
    assert first.channel == Case.Channel.GRID_WORKER and first.title == "第一件"
    assert out["outcomes"][0]["record"]["register_no"] == first.register_no
    assert out["offline_version"]
    # a phone sending its queue in several calls asks for the version on the last only
    r = client.post(SYNC + "?version=false", {"envelopes": [report("第四件")]},
                    content_type="application/json")
    assert r.json()["offline_version"] is None
    assert r.json()["outcomes"][0]["status"] == "created"


def test_replaying_the_whole_batch_creates_nothing(login_as: Any) -> None:
    client = login_as("gridworker")
    batch = [report("甲"), report("乙")]
    first = sync(client, batch)
    count = Case.objects.count()
    again = sync(client, batch)
    assert [o["status"] for o in again["outcomes"]] == ["replayed", "replayed"]
    assert [o["id"] for o in again["outcomes"]] == [o["id"] for o in first["outcomes"]]
    assert again["outcomes"][0]["record"] == first["outcomes"][0]["record"]
    assert Case.objects.count() == count


def test_someone_who_is_not_field_staff_is_forbidden(login_as: Any) -> None:
    nobody = get_user_model().objects.create_user("nobody-app", password="x")
    client = Client()
    client.force_login(nobody)
    out = sync(client, [report()])
    assert out["outcomes"][0]["status"] == "forbidden"
    assert out["offline_version"] is None
    assert upload(client, jpeg()).status_code == 403
    assert Client().post(SYNC, {"envelopes": []}, content_type="application/json"
                         ).status_code == 401


def test_more_envelopes_than_a_call_takes_are_refused(login_as: Any) -> None:
    client = login_as("gridworker")
    r = client.post(SYNC, {"envelopes": [report() for _ in range(501)]},
                    content_type="application/json")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", "envelopes"]
    assert not Case.objects.filter(title="井盖缺失", channel="grid_worker",
                                   reporter__username="gridworker").exists()


def test_photos_are_uploaded_once_by_hash_and_used_by_a_case(login_as: Any) -> None:
    import hashlib

    client = login_as("gridworker")
    raw = jpeg()
    sha = hashlib.sha256(raw).hexdigest()
    assert client.head(f"{UPLOADS}/{sha}").status_code == 404
    first = upload(client, raw)
    assert first.status_code == 201 and first.json()["sha256"] == sha
    again = upload(client, raw)
    assert again.status_code == 200
    assert Upload.objects.filter(sha256=sha).count() == 1
    assert client.head(f"{UPLOADS}/{sha}").status_code == 200
    assert client.get(f"{UPLOADS}/{sha}").json()["size"] > 0
    # another user's upload is not theirs to name
    assert login_as("dispatcher").get(f"{UPLOADS}/{sha}").status_code in (403, 404)

    out = sync(client, [report("带照片", photo_hashes=[sha]),
                        report("不存在的照片", photo_hashes=["0" * 64])])
    created, missing = out["outcomes"]
    assert created["status"] == "created"
    assert CasePhoto.objects.filter(case_id=created["id"]).count() == 1
    assert missing["status"] == "invalid"
    assert missing["errors"][0]["loc"] == ["payload", "photo_hashes", "0"]


def test_an_upload_that_is_not_a_picture_is_refused_naming_the_field(login_as: Any) -> None:
    r = upload(login_as("gridworker"), b"not a picture at all", "x.jpg")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "file"
    assert not Upload.objects.filter(size=len(b"not a picture at all")).exists()


def test_a_register_edit_against_an_outdated_copy_is_a_conflict(login_as: Any) -> None:
    client = login_as("gridworker")
    resident = worker_resident()
    version = resident.updated_at.isoformat()
    edit = env("register.update", {"kind": "resident", "id": resident.pk,
                                   "changes": {"phone": "13912345678"}}, base_version=version)
    out = sync(client, [edit])["outcomes"][0]
    assert out["status"] == "created", out
    resident.refresh_from_db()
    assert resident.phone_masked.startswith("139") and "*" in resident.phone_masked
    assert out["record"]["v"] == resident.updated_at.isoformat()
    assert RegistryChange.objects.filter(object_type="resident", object_id=resident.pk,
                                         source="app").exists()
    # a second phone still holds the first copy
    stale = env("register.update", {"kind": "resident", "id": resident.pk,
                                    "changes": {"phone": "13800000000"}}, base_version=version)
    conflict = sync(client, [stale])["outcomes"][0]
    assert conflict["status"] == "conflict"
    assert conflict["current"]["v"] == resident.updated_at.isoformat()
    assert conflict["current"]["p"] == resident.phone_masked  # masked, never the number
    assert "13912345678" not in str(conflict)
    resident.refresh_from_db()
    assert resident.phone_masked.startswith("139"), "never silently overwritten"


def test_register_edit_refusals_name_the_field(login_as: Any) -> None:
    client = login_as("gridworker")
    resident = worker_resident()
    version = resident.updated_at.isoformat()
    outside = Resident.objects.exclude(grid=resident.grid).first()
    out = sync(client, [
        env("register.update", {"kind": "resident", "id": resident.pk,
                                "changes": {"id_number": "x"}}, base_version=version),
        env("register.update", {"kind": "household", "id": 1, "changes": {"number": "x"}},
            base_version=version),
        env("register.update", {"kind": "resident", "id": resident.pk,
                                "changes": {"phone": "12"}}, base_version=version),
        env("register.update", {"kind": "resident", "id": outside.pk,
                                "changes": {"phone": "13912345678"}},
            base_version=outside.updated_at.isoformat()),
        env("register.update", {"kind": "resident", "id": resident.pk,
                                "changes": {"phone": "13912345678"}}),
    ])["outcomes"]
    assert [o["status"] for o in out] == ["invalid", "invalid", "invalid", "not_found",
                                          "invalid"]
    assert out[0]["errors"][0]["loc"] == ["payload", "changes", "id_number"]
    assert out[1]["errors"][0]["loc"] == ["payload", "kind"]
    assert out[2]["errors"][0]["loc"][:3] == ["payload", "changes", "phone"]
    assert out[4]["errors"][0]["loc"] == ["payload", "base_version"]
    resident.refresh_from_db()
    assert resident.updated_at.isoformat() == version, "nothing half-written"
