"""Photos: checked by decoding, re-encoded without metadata, never twice, shown only to those
who may see the case."""

from __future__ import annotations

import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from wangge.cases.models import CasePhoto
from wangge.cases.tests.helpers import act, report

pytestmark = pytest.mark.django_db


def picture(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), exif: bool = False,
            color: str = "red") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "ACME Phone"  # Make
        data[0x013B] = "Artist Name"  # Artist
        extra["exif"] = data.tobytes()
    image.save(out, format=fmt, **extra)
    return out.getvalue()


def upload(client: Client, no: str, stage: str, *files: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/cases/{no}/photos", {
        "stage": stage,
        "photos": [SimpleUploadedFile(name, content) for name, content in files],
    })


def test_a_photo_is_stored_without_its_metadata(login_as, spot) -> None:
    worker = login_as("gridworker")
    no = report(worker, spot)["register_no"]
    r = upload(worker, no, "report", ("IMG_张三_17090000000.jpg", picture(exif=True)))
    assert r.status_code == 201, r.content
    (photo,) = r.json()
    assert photo["content_type"] == "image/jpeg" and (photo["width"], photo["height"]) == (64, 48)
    got = worker.get(photo["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    stored = b"".join(got.streaming_content)
    assert b"ACME Phone" not in stored and b"Artist Name" not in stored
    assert Image.open(io.BytesIO(stored)).getexif().get(0x010F) is None
    name = CasePhoto.objects.get(pk=photo["id"]).file.name
    assert "张三" not in name and "17090000000" not in name  # the uploader's file name is dropped
    assert worker.get(f"/api/v1/cases/{no}").json()["photos"][0]["id"] == photo["id"]


def test_a_retried_upload_makes_one_photo(login_as, spot) -> None:
    worker = login_as("gridworker")
    no = report(worker, spot)["register_no"]
    jpeg = picture()
    assert len(upload(worker, no, "report", ("a.jpg", jpeg)).json()) == 1
    assert upload(worker, no, "report", ("a.jpg", jpeg)).json() == []
    assert CasePhoto.objects.filter(case__register_no=no).count() == 1


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("a.jpg", b"not a picture at all", "not a readable picture"),
    ("a.gif", picture("GIF"), "only JPEG, PNG or WebP"),
    ("a.bmp", picture("BMP"), "only JPEG, PNG or WebP"),
    ("a.jpg", b"", "empty"),
    ("a.jpg", picture()[:200], "not a readable picture"),  # cut off in transfer
])
def test_bad_photos_are_422_naming_the_field(login_as, spot, name, content, reason) -> None:
    worker = login_as("gridworker")
    no = report(worker, spot)["register_no"]
    r = upload(worker, no, "report", ("ok.png", picture("PNG")), (name, content))
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"][-1] == "photos" and reason in detail["msg"]
    assert not CasePhoto.objects.filter(case__register_no=no).exists()  # nothing half-written


def test_size_and_count_limits(login_as, spot, settings) -> None:
    worker = login_as("gridworker")
    no = report(worker, spot)["register_no"]
    settings.WANGGE_PHOTO_MAX_BYTES = 1024 * 1024
    big = picture("PNG", size=(1200, 1200), color="white")
    noisy = Image.frombytes("RGB", (800, 800), random.Random(1).randbytes(800 * 800 * 3))
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 1024 * 1024
    r = upload(worker, no, "report", ("big.png", out.getvalue()))
    assert r.status_code == 422 and "at most 1 MB" in r.json()["detail"][0]["msg"]
    assert upload(worker, no, "report", ("ok.png", big)).status_code == 201
    settings.WANGGE_PHOTOS_PER_STAGE = 2
    r = upload(worker, no, "report", *[(f"{i}.jpg", picture(color=c))
                                       for i, c in enumerate(["blue", "green"])])
    assert r.status_code == 422 and "at most 2 photos" in r.json()["detail"][0]["msg"]


def test_stages_follow_the_loop(login_as, spot) -> None:
    worker, dispatcher, dept = (login_as(u) for u in ("gridworker", "dispatcher", "department"))
    no = report(worker, spot)["register_no"]
    assert upload(dept, no, "handle", ("h.jpg", picture())).status_code in (403, 404)
    for client, step, body in [(dispatcher, "register", {}), (dispatcher, "dispatch", {}),
                               (dept, "accept", {}), (dept, "start", {})]:
        assert act(client, no, step, **body).status_code == 200
    assert upload(worker, no, "report", ("r.jpg", picture())).status_code == 409  # too late
    assert upload(worker, no, "handle", ("h.jpg", picture())).status_code == 403  # not theirs
    assert upload(dept, no, "handle", ("h.jpg", picture(color="blue"))).status_code == 201
    act(dept, no, "handle", feedback="已补装井盖")
    assert upload(worker, no, "verify", ("v.jpg", picture(color="green"))).status_code == 201
    stages = [p["stage"] for p in worker.get(f"/api/v1/cases/{no}").json()["photos"]]
    assert stages == ["handle", "verify"]


def test_photos_are_seen_only_by_those_who_see_the_case(login_as, spot) -> None:
    worker = login_as("gridworker")
    r = worker.post("/api/v1/cases/with-photos", {
        "category": "1201", "title": "可疑人员", "lng": spot[0] + 0.002, "lat": spot[1],
        "client_key": "k-1", "photos": [SimpleUploadedFile("s.jpg", picture())]})
    assert r.status_code == 201, r.content
    no, (photo,) = r.json()["register_no"], r.json()["photos"]
    assert login_as("grid_police").get(photo["url"]).status_code == 200
    for username in ("station", "department", "gridworker"):
        assert login_as(username).get(photo["url"]).status_code == 404, username
        assert login_as(username).get(
            f"/console/cases/{no}/photos/{photo['id']}/").status_code == 404, username
    assert Client().get(photo["url"]).status_code == 401
