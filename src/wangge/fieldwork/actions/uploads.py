"""Photos (and signatures) a phone sends ahead of the envelopes that use them, addressed by
the SHA-256 of the bytes the phone holds (DESIGN: the field app in outline). The same bytes
twice are one row: a phone that lost the answer just sends them again, or asks first
(`HEAD uploads/{sha256}`).

The limits are the case photos' (cases.photos.check_photo): size, a real JPEG/PNG/WebP by
decoding, pixel count. What is stored is the re-encoded picture (upright, shrunk, EXIF and
with it the phone's location history gone); the address stays the hash of what the phone
sent, so the phone can name it without ever seeing the server's copy."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from wangge.cases.errors import CaseError
from wangge.cases.photos import check_photo
from wangge.core import audit
from wangge.fieldwork.access import person_of
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Upload

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_upload(user: AbstractBaseUser) -> None:
    """Uploads are for people of the organisation (grid workers and their chain)."""
    if not user.is_authenticated or person_of(user) is None:
        raise PermissionDenied("only people of the organisation upload field photos")


def find_upload(user: AbstractBaseUser, sha256: str) -> Upload | None:
    """This user's upload with that hash (another user's is never theirs to use)."""
    if not SHA256.match(sha256 or ""):
        return None
    return Upload.objects.filter(uploaded_by=user, sha256=sha256).first()


def do_upload(user: AbstractBaseUser, raw: bytes, content_type: str = "") -> tuple[Upload, bool]:
    """Store the picture once per user and hash: (upload, created)."""
    check_upload(user)
    sha = hashlib.sha256(raw).hexdigest()
    if (earlier := find_upload(user, sha)) is not None:
        return earlier, False
    try:
        checked = check_photo(raw, field="file")
    except CaseError as e:
        raise FieldworkError("file", str(e), e.code) from None
    try:
        with transaction.atomic():
            row = Upload(sha256=sha, uploaded_by=user, content_type=checked.content_type,
                         size=len(checked.content))
            row.file.save(f"{sha[:16]}{checked.suffix}", ContentFile(checked.content),
                          save=False)
            row.save()
            audit.record("fieldwork.upload", actor=user, object_type="fieldwork.upload",
                         object_id=row.pk, sha256=sha, size=row.size,
                         declared_type=content_type[:64])
    except IntegrityError:
        # the same photo sent twice at once: the other request stored it
        if (earlier := find_upload(user, sha)) is not None:
            return earlier, False
        raise
    return row, True


def photos_by_hash(user: AbstractBaseUser, hashes: Sequence[str], field: str = "photo_hashes"
                   ) -> list[bytes]:
    """The stored bytes of this user's uploads, in the order named; an unknown hash is an
    error naming its place (the phone uploads before it syncs the envelope)."""
    if not isinstance(hashes, list | tuple):
        raise FieldworkError(field, "must be a list of SHA-256 hashes")
    out = []
    for i, sha in enumerate(hashes):
        upload = find_upload(user, str(sha))
        if upload is None:
            raise FieldworkError(f"{field}.{i}", "no upload with this hash (upload it first)",
                                 "unknown_upload")
        with upload.file.open("rb") as f:
            out.append(f.read())
    return out
