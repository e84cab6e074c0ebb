"""Checking a case photo before it is stored: size, real type (by decoding, not by the name
or the declared content type) and pixel count. Accepted pictures are re-encoded, turned
upright and shrunk to a sane size, which also drops EXIF metadata (the phone's model, its
owner's name, sometimes the home location)."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.http import Http404
from PIL import Image, ImageOps, UnidentifiedImageError

from wangge.cases.errors import CaseError

if TYPE_CHECKING:
    from wangge.cases.models import CasePhoto

log = logging.getLogger(__name__)

#: decoded format → (stored format, suffix, content type)
ACCEPTED = {
    "JPEG": ("JPEG", ".jpg", "image/jpeg"),
    "PNG": ("PNG", ".png", "image/png"),
    "WEBP": ("JPEG", ".jpg", "image/jpeg"),
    "MPO": ("JPEG", ".jpg", "image/jpeg"),  # what many phone cameras write
}
MAX_EDGE = 2560
MAX_PIXELS = 50_000_000  # a bigger picture is a decompression bomb, not a photo


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    suffix: str
    content_type: str
    width: int
    height: int
    sha256: str  # of the bytes as uploaded, so a retried upload is recognised


def check_photo(raw: bytes, field: str = "photos") -> CheckedPhoto:
    limit = settings.WANGGE_PHOTO_MAX_BYTES
    if not raw:
        raise CaseError(field, "the photo is empty")
    if len(raw) > limit:
        raise CaseError(field, f"a photo may be at most {limit // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format or ""
            if kind not in ACCEPTED:
                raise CaseError(field, "only JPEG, PNG or WebP photos are accepted")
            if probe.width * probe.height > MAX_PIXELS:
                raise CaseError(field, "the picture has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((MAX_EDGE, MAX_EDGE))
            stored, suffix, content_type = ACCEPTED[kind]
            if stored == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format=stored, **({"quality": 85} if stored == "JPEG" else {}))
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as e:
        raise CaseError(field, "not a readable picture") from e
    return CheckedPhoto(out.getvalue(), suffix, content_type, width, height,
                        hashlib.sha256(raw).hexdigest())


def open_stored(photo: CasePhoto) -> IO[bytes]:
    """The stored file of a photo the caller may see; a file gone from the disk (a restore
    without media, a manual clean-up) is a 404 for the reader and an error in the log."""
    try:
        return photo.file.open("rb")
    except FileNotFoundError as e:
        log.error("photo %s of case %s: file %s is missing", photo.pk, photo.case_id,
                  photo.file.name)
        raise Http404("the photo's file is missing") from e
