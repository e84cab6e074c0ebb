"""Fieldwork API for the field app (see fieldwork/api.py): the batch `sync` of queued writes,
photo `uploads` addressed by hash, and the worker's `offline` data. Thin: parse, call the
sync engine / actions / offline, answer."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import Field

from wangge.core.models import IdempotencyKey
from wangge.core.schema import ModelText, Text, responses
from wangge.fieldwork.actions.sync import apply_batch
from wangge.fieldwork.actions.uploads import SHA256, check_upload, do_upload, find_upload
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.offline import offline_data

router = Router(tags=["fieldwork"])

#: envelopes per sync call: a phone with more sends them in turns (the app does)
MAX_ENVELOPES = 500
#: gzip only what is worth it
GZIP_FROM = 1024


class EnvelopeIn(Schema):
    client_key: ModelText(IdempotencyKey, "key")  # type: ignore[valid-type]
    kind: Text(40)  # type: ignore[valid-type]
    payload: dict[str, Any] = Field(default_factory=dict)
    base_version: Text(64) | None = None  # type: ignore[valid-type]
    device_time: dt.datetime | None = None


class SyncIn(Schema):
    envelopes: list[EnvelopeIn] = Field(max_length=MAX_ENVELOPES)


class OutcomeOut(Schema):
    client_key: str
    status: str
    id: int | None = None
    record: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None


class SyncOut(Schema):
    outcomes: list[OutcomeOut]
    offline_version: str | None = None


@router.post("/sync", response=responses(SyncOut), summary="同步离线队列（批量）")
def sync(request: HttpRequest, body: SyncIn, version: bool = True) -> Any:
    """Each envelope in its own transaction, in the order sent; every one answered
    (created / replayed / conflict / invalid / forbidden / not_found). One that fails does
    not stop the rest. `offline_version` tells the phone whether to fetch `offline` again;
    a phone sending its queue in several calls asks for it on the last one only
    (`version=false` before), as working it out reads the whole grid."""
    outcomes = apply_batch(request.auth, [
        Envelope(e.client_key, e.kind, e.payload, e.base_version, e.device_time)
        for e in body.envelopes])
    offline_version = None
    # not a grid worker (PermissionDenied): no offline data to refresh
    with contextlib.suppress(PermissionDenied):
        offline_version = offline_data(request.auth)["v"] if version else None
    return {"outcomes": [o.__dict__ for o in outcomes], "offline_version": offline_version}


class UploadOut(Schema):
    sha256: str
    size: int
    content_type: str


def _upload_out(upload: Any) -> dict[str, Any]:
    return {"sha256": upload.sha256, "size": upload.size, "content_type": upload.content_type}


@router.post("/uploads", response=responses({201: UploadOut, 200: UploadOut}),
             summary="上传照片（按内容哈希，重复上传只存一份）")
def upload(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Multipart field `file`. 201 stored, 200 already stored (same bytes before)."""
    row, created = do_upload(request.auth, file.read(), file.content_type or "")
    return Status(201 if created else 200, _upload_out(row))


@router.api_operation(["GET", "HEAD"], "/uploads/{sha256}", response=responses(UploadOut),
                      summary="照片是否已上传")
def upload_known(request: HttpRequest, sha256: Text(64)) -> Any:  # type: ignore[valid-type]
    """200 when this user already uploaded these bytes (the phone asks before sending)."""
    check_upload(request.auth)
    row = find_upload(request.auth, sha256) if SHA256.match(sha256) else None
    if row is None:
        raise Http404("not uploaded")
    return _upload_out(row)


class OfflineOut(Schema):
    v: str
    unchanged: bool | None = None


@router.get("/offline", response=responses(OfflineOut), summary="网格员离线数据")
def offline(request: HttpRequest, since: Text(64) = "") -> Any:  # type: ignore[valid-type]
    """The worker's grid (masked register), catalogues, inspection list, today's plan and
    open tasks, with a version `v`. `since=<v>` answers `{"unchanged": true}` when nothing
    changed. Gzipped when the client accepts it."""
    data = offline_data(request.auth)
    if since and since == data["v"]:
        data = {"v": data["v"], "unchanged": True}
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(content_type="application/json")
    response["Vary"] = "Accept-Encoding, Cookie, Authorization"
    response["Cache-Control"] = "private, no-cache"
    if len(raw) >= GZIP_FROM and "gzip" in request.headers.get("Accept-Encoding", ""):
        raw = gzip.compress(raw, compresslevel=6)
        response["Content-Encoding"] = "gzip"
    response.content = raw
    return response
