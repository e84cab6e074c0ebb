"""Report photos kept between a refused submit and its retry.

A browser cannot fill a file input again, so when the report form comes back with an error
(a missing title, a point outside the territory) the photos that passed the check are kept
on the server, under the reporter's own folder and the form's client key, and shown as
thumbnails; the retry refers to them by name. Only checked pictures are kept (re-encoded,
without EXIF), they are deleted once the case is made, and a reporter's kept photos older
than a day go whenever they keep new ones. Nothing here is a record: the case and its photos
are written by `actions.do_report` only."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from wangge.cases.photos import CheckedPhoto
from wangge.org.access import AnyUser

ROOT = "kept"
KEEP_FOR = dt.timedelta(hours=24)
NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")
THUMB_EDGE = 240


@dataclass(frozen=True)
class Kept:
    name: str  # the sha256 of the upload as it came, and the stored suffix
    content: bytes
    thumbnail: str  # a data: URL (the CSP allows data: images)

    @property
    def sha256(self) -> str:
        return self.name.split(".", 1)[0]


def _folder(user: AnyUser, client_key: str) -> str | None:
    if not client_key or not user.is_authenticated:
        return None
    token = hashlib.sha256(client_key.encode()).hexdigest()[:32]  # any key, a safe path
    return f"{ROOT}/{user.pk}/{token}"


def thumbnail(content: bytes) -> str:
    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail((THUMB_EDGE, THUMB_EDGE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def keep(user: AnyUser, client_key: str, photo: CheckedPhoto) -> Kept | None:
    """Keep a checked photo for the retry of this form; None without a client key."""
    folder = _folder(user, client_key)
    if folder is None:
        return None
    _purge_old(user)
    name = f"{photo.sha256}{photo.suffix}"
    path = f"{folder}/{name}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(photo.content))
    return Kept(name, photo.content, thumbnail(photo.content))


def load(user: AnyUser, client_key: str, names: Iterable[str]) -> list[Kept]:
    """The kept photos of this form that the retry still wants (by name, in order, once)."""
    folder = _folder(user, client_key)
    found: list[Kept] = []
    if folder is None:
        return found
    for name in dict.fromkeys(names):
        path = f"{folder}/{name}"
        if not NAME.match(name) or not default_storage.exists(path):
            continue  # a forged or expired name is simply not kept
        with default_storage.open(path, "rb") as f:
            content = f.read()
        found.append(Kept(name, content, thumbnail(content)))
    return found


def discard(user: AnyUser, client_key: str) -> None:
    folder = _folder(user, client_key)
    if folder is not None:
        _remove(folder)


def _remove(folder: str) -> None:
    if not default_storage.exists(folder):
        return
    for name in default_storage.listdir(folder)[1]:
        default_storage.delete(f"{folder}/{name}")
    default_storage.delete(folder)


def _purge_old(user: AnyUser) -> None:
    mine = f"{ROOT}/{user.pk}"
    if not default_storage.exists(mine):
        return
    cutoff = timezone.now() - KEEP_FOR
    for token in default_storage.listdir(mine)[0]:
        folder = f"{mine}/{token}"
        if default_storage.get_modified_time(folder) < cutoff:
            _remove(folder)
