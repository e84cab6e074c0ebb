"""Attachments of what we send an external system: signed, expiring links to a case's photos.

A link names one photo by a token (django.core.signing.TimestampSigner over its pk, with a
salt of its own), valid ATTACHMENT_MAX_AGE_S. The view behind it serves exactly that photo,
to anyone holding the link (their system fetches it without an account), and answers 404 for
a bad, expired or unknown token and for a photo of a confidential case. It lists nothing.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_safe

from wangge.cases.models import Case, CasePhoto
from wangge.cases.photos import open_stored

log = logging.getLogger(__name__)

#: how long a link works: their operator may open the order weeks later
ATTACHMENT_MAX_AGE_S = 30 * 24 * 3600
_SALT = "wangge.integration.attachment"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def token_for(photo: CasePhoto) -> str:
    return _signer().sign(str(photo.pk))


def photo_pk(token: str) -> int | None:
    """The photo a token names, or None when it is bad or older than the limit."""
    try:
        value = _signer().unsign(token, max_age=ATTACHMENT_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return int(value) if value.isdigit() else None


def url_for(photo: CasePhoto) -> str:
    path = reverse("integration_attachments:photo", kwargs={"token": token_for(photo)})
    return f"{settings.PUBLIC_URL}{path}"


def _stored_sha256(photo: CasePhoto) -> str | None:
    """The digest of the file as served (the stored, re-encoded one, not the upload's)."""
    digest = hashlib.sha256()
    try:
        with photo.file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                digest.update(chunk)
    except (FileNotFoundError, ValueError):
        log.error("photo %s of case %s: file %s is missing; not attached", photo.pk,
                  photo.case_id, photo.file.name)
        return None
    return digest.hexdigest()


def links(case: Case, stages: tuple[str, ...]) -> list[dict[str, Any]]:
    """`[{"name", "url", "sha256"}]` for the case's photos of these stages, oldest first; a
    photo whose file is gone is left out (and logged)."""
    out = []
    photos = CasePhoto.objects.filter(case=case, stage__in=stages).order_by("uploaded_at", "pk")
    for n, photo in enumerate(photos, start=1):
        sha256 = _stored_sha256(photo)
        if sha256 is None:
            continue
        suffix = "." + photo.file.name.rsplit(".", 1)[-1] if "." in photo.file.name else ""
        # never the uploader's file name: it can carry a name or a phone number
        out.append({"name": f"{case.register_no}-{photo.stage}-{n}{suffix}",
                    "url": url_for(photo), "sha256": sha256})
    return out


@require_safe
def photo(request: HttpRequest, token: str) -> FileResponse:
    pk = photo_pk(token)
    found = CasePhoto.objects.select_related("case").filter(pk=pk).first() if pk else None
    if found is None or found.case.confidential:
        raise Http404("no such attachment")
    response = FileResponse(open_stored(found), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
