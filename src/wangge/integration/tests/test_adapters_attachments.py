"""The signed links to the photos we attach: the photo to anyone with the link, for 30 days;
a bad or expired token, or a confidential case's photo, is a 404."""

from __future__ import annotations

import io
import time
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from wangge.cases.models import CasePhoto
from wangge.integration.adapters import attachments
from wangge.integration.tests.adapters_peer import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_URL = "https://wangge.example.org"


def photo(category: str = "1001") -> CasePhoto:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    case = make_case(category)
    row = CasePhoto(case=case, stage=CasePhoto.Stage.REPORT, content_type="image/jpeg",
                    size=len(buf.getvalue()), width=8, height=8, sha256="a" * 64)
    row.file.save("p.jpg", ContentFile(buf.getvalue()), save=False)
    row.save()
    return row


def path_of(url: str) -> str:
    assert url.startswith("https://wangge.example.org/integration/attachments/")
    return url.removeprefix("https://wangge.example.org")


def test_the_link_serves_the_photo_signed_out() -> None:
    p = photo()
    r = Client().get(path_of(attachments.url_for(p)))
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    with p.file.open("rb") as f:
        assert b"".join(r.streaming_content) == f.read()


def test_an_expired_link_is_gone() -> None:
    p = photo()
    with mock.patch("time.time", return_value=time.time() - 31 * 24 * 3600):
        old = attachments.url_for(p)
    with mock.patch("time.time", return_value=time.time() - 29 * 24 * 3600):
        recent = attachments.url_for(p)
    assert Client().get(path_of(old)).status_code == 404
    assert Client().get(path_of(recent)).status_code == 200


def test_bad_tokens_are_404_and_nothing_is_listed() -> None:
    p = photo()
    token = attachments.token_for(p)
    client = Client()
    other = str(p.pk + 1) + token[len(str(p.pk)):]  # another pk under the same signature
    for bad in (other, token[:-2] + "xx", "1", "abc:def:ghi", str(p.pk)):
        assert client.get(f"/integration/attachments/{bad}").status_code == 404, bad
    assert client.get("/integration/attachments/").status_code == 404
    assert client.post(f"/integration/attachments/{token}").status_code == 405


def test_a_confidential_cases_photo_is_never_served() -> None:
    p = photo("1201")
    assert Client().get(path_of(attachments.url_for(p))).status_code == 404
