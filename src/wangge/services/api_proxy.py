"""`/api/v1/services/proxies`: proxy requests (代办), thin over services.access and
services.actions.proxy.

The steps the field app also sends offline (book, collect, submit, recollect, deliver, rate)
go through the sync engine as envelopes (`fieldwork.api_common.send`), so a retried POST
with the same `client_key` and a replayed envelope are one rule: 201 the first time, 200
with the same request after. An illegal step answers 409 with the request as it stands
(`current`), bad input 422 naming the field, a request outside the caller's scope 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.fieldwork.api_common import send
from wangge.fieldwork.models import Upload
from wangge.services import access
from wangge.services.actions import proxy as actions
from wangge.services.actions import proxy_sync
from wangge.services.actions.reads import do_log_file_read
from wangge.services.models import ProxyRequest
from wangge.services.proxy_queries import detail
from wangge.territory.models import Grid

router = Router(tags=["services"])

ClientKey = ModelText(IdempotencyKey, "key")
Sha = Text(64)
Limit = Annotated[int, Query(ge=1, le=200)]
State = Literal[tuple(ProxyRequest.State.values)]  # type: ignore[valid-type]
Channel = Literal[tuple(ProxyRequest.Channel.values)]  # type: ignore[valid-type]


# -- shapes ----------------------------------------------------------------------------------

class ProxyMaterialOut(Schema):
    key: str | None
    name: str | None
    form: str | None
    count: int | None
    required: bool | None
    condition: str | None
    note: str | None


class ProxyItemOut(Schema):
    code: str
    name: str
    short_name: str
    materials: list[ProxyMaterialOut]


class ProxyApplicantOut(Schema):
    name: str
    id_number: str
    phone: str


class ProxyApplicationLink(Schema):
    id: int
    no: str
    state: str


class ProxyEventOut(Schema):
    at: dt.datetime
    action: str
    label: str


class ProxyOut(Schema):
    """The request as the phone holds it (the answer of every envelope kind)."""

    id: int
    no: str
    state: str
    state_label: str
    item: ProxyItemOut
    applicant_masked: ProxyApplicantOut
    address: str
    building: str | None
    building_id: int | None
    grid: str
    worker_id: int
    resident_id: int | None
    house_id: int | None
    at: dt.datetime | None
    originals: list[dict[str, Any]]
    originals_returned: bool
    application: ProxyApplicationLink | None
    stage_due_at: dt.datetime | None
    rating: int | None
    allowed: list[str]
    events: list[ProxyEventOut]


class ProxyTimelineOut(Schema):
    at: dt.datetime
    action: str
    label: str
    from_state: str
    to_state: str
    note: str
    actor: str | None


class ProxyAuthorizationOut(Schema):
    signer_name: str
    signed_at: dt.datetime
    text: str
    signature_url: str


class ProxyDeliveryOut(Schema):
    recipient_name: str
    delivered_at: dt.datetime | None
    originals_returned_at: dt.datetime | None
    signature_url: str | None
    photo_url: str | None


class ProxyDetailOut(ProxyOut):
    worker: str
    channel: str
    note: str
    follow_code: str | None
    overdue: bool
    timeline: list[ProxyTimelineOut]
    authorization: ProxyAuthorizationOut | None
    delivery: ProxyDeliveryOut | None
    rating_label: str | None
    rating_comment: str


class ProxyPage(Schema):
    total: int
    items: list[ProxyOut]


class ProxyApplicantIn(Schema):
    name: Text(50) = ""  # type: ignore[valid-type]
    phone: Text(20) = ""  # type: ignore[valid-type]
    id_number: Text(18) = ""  # type: ignore[valid-type]


class ProxyBookIn(Schema):
    item_code: Code  # type: ignore[valid-type]
    grid_id: Id | None = None
    applicant: ProxyApplicantIn | None = None
    at: dt.datetime | None = None
    channel: Channel = ProxyRequest.Channel.IN_PERSON  # type: ignore[valid-type]
    house_id: Id | None = None
    resident_id: Id | None = None
    note: Text(300) = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyOriginalIn(Schema):
    name: Text(100)  # type: ignore[valid-type]
    count: int = Field(1, ge=1, le=99)


Materials = Annotated[dict[Text(40), Annotated[list[Sha], Field(min_length=1, max_length=9)]],  # type: ignore[valid-type]
                      Field(min_length=1, max_length=40)]


class ProxyCollectIn(Schema):
    materials: Materials
    signature: Sha  # type: ignore[valid-type]
    signer_name: Text(50)  # type: ignore[valid-type]
    originals: Annotated[list[ProxyOriginalIn], Field(max_length=20)] = []
    at: dt.datetime | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyStepIn(Schema):
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyRecollectIn(Schema):
    materials: Materials
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyDeliverIn(Schema):
    recipient_name: Text(50)  # type: ignore[valid-type]
    signature: Sha  # type: ignore[valid-type]
    photo: Sha  # type: ignore[valid-type]
    originals_returned: bool = False
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyRateIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: Text(300) = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ProxyReadyIn(Schema):
    note: Text(300) = ""  # type: ignore[valid-type]


class ProxyCancelIn(Schema):
    reason: Text(300)  # type: ignore[valid-type]


# -- reads -----------------------------------------------------------------------------------

def _list_rows(user: AbstractBaseUser, qs: Any) -> list[dict[str, Any]]:
    rows = qs.select_related("item__current", "grid", "house__building", "appointment",
                             "application__version").prefetch_related("events")
    return [proxy_sync.proxy_row(p) for p in rows]


@router.get("/proxies", response=responses(ProxyPage), summary="代办列表（本人范围）")
def list_proxies(request: HttpRequest, state: State | None = None,  # type: ignore[valid-type]
                 grid: Code = "", worker: Id | None = None,  # type: ignore[valid-type]
                 limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = access.visible_proxies(request.auth)
    if state:
        qs = qs.filter(state=state)
    if grid:
        found = Grid.objects.filter(code=grid).first()
        qs = qs.filter(grid__path__startswith=found.path) if found else qs.none()
    if worker is not None:
        qs = qs.filter(worker_id=worker)
    total = qs.count()
    page = qs.order_by("-created_at", "-id")[offset:offset + limit]
    return {"total": total, "items": _list_rows(request.auth, page)}


@router.get("/proxies/{pk}", response=responses(ProxyDetailOut), summary="一件代办")
def get_proxy(request: HttpRequest, pk: Id) -> Any:
    return detail(request.auth, pk)


def _file(request: HttpRequest, pk: int, what: str, upload: Upload) -> FileResponse:
    try:
        handle = upload.file.open("rb")
    except FileNotFoundError as e:
        raise Http404("the file is missing") from e
    do_log_file_read(request.auth, object_type="services.proxy", object_id=pk, what=what)
    response = FileResponse(handle, content_type=upload.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/proxies/{pk}/signature", response=responses({}), summary="委托书签名")
def get_signature(request: HttpRequest, pk: Id) -> FileResponse:
    return _file(request, pk, "signature", access.proxy_signature(request.auth, pk))


@router.get("/proxies/{pk}/delivery-signature", response=responses({}), summary="签收签名")
def get_delivery_signature(request: HttpRequest, pk: Id) -> FileResponse:
    return _file(request, pk, "delivery-signature",
                 access.proxy_delivery(request.auth, pk, "signature"))


@router.get("/proxies/{pk}/delivery-photo", response=responses({}), summary="送达照片")
def get_delivery_photo(request: HttpRequest, pk: Id) -> FileResponse:
    return _file(request, pk, "delivery-photo", access.proxy_delivery(request.auth, pk, "photo"))


# -- steps -----------------------------------------------------------------------------------

Created = responses({201: ProxyOut, 200: ProxyOut})


@router.post("/proxies", response=Created, summary="预约代办")
def book(request: HttpRequest, body: ProxyBookIn) -> Any:
    return send(request, "proxy.book", body)


@router.post("/proxies/{pk}/collect", response=Created, summary="上门收件")
def collect(request: HttpRequest, pk: Id, body: ProxyCollectIn) -> Any:
    return send(request, "proxy.collect", body, proxy_id=pk)


@router.post("/proxies/{pk}/submit", response=Created, summary="提交部门预审")
def submit(request: HttpRequest, pk: Id, body: ProxyStepIn) -> Any:
    return send(request, "proxy.submit", body, proxy_id=pk)


@router.post("/proxies/{pk}/recollect", response=Created, summary="补正收件")
def recollect(request: HttpRequest, pk: Id, body: ProxyRecollectIn) -> Any:
    return send(request, "proxy.recollect", body, proxy_id=pk)


@router.post("/proxies/{pk}/deliver", response=Created, summary="送证上门")
def deliver(request: HttpRequest, pk: Id, body: ProxyDeliverIn) -> Any:
    return send(request, "proxy.deliver", body, proxy_id=pk)


@router.post("/proxies/{pk}/rate", response=Created, summary="满意度评价")
def rate(request: HttpRequest, pk: Id, body: ProxyRateIn) -> Any:
    return send(request, "proxy.rate", body, proxy_id=pk)


@router.post("/proxies/{pk}/ready", response=responses(ProxyOut), summary="出证待送（部门）")
def ready(request: HttpRequest, pk: Id, body: ProxyReadyIn) -> Any:
    proxy = actions.do_mark_ready(request.auth, access.access_proxy(request.auth, pk),
                                  body.note)
    return proxy_sync.proxy_answer(request.auth, proxy.pk)


@router.post("/proxies/{pk}/return-originals", response=responses(ProxyOut),
             summary="未送达而结束的代办：登记原件已归还")
def return_originals(request: HttpRequest, pk: Id) -> Any:
    proxy = actions.do_return_originals(request.auth, access.access_proxy(request.auth, pk))
    return proxy_sync.proxy_answer(request.auth, proxy.pk)


@router.post("/proxies/{pk}/cancel", response=responses(ProxyOut), summary="取消代办")
def cancel(request: HttpRequest, pk: Id, body: ProxyCancelIn) -> Any:
    proxy = actions.do_cancel(request.auth, access.access_proxy(request.auth, pk), body.reason)
    return proxy_sync.proxy_answer(request.auth, proxy.pk)
