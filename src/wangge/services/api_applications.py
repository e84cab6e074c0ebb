"""`/api/v1/services/applications`: online pre-review over the API (a grid worker opening an
application for a resident on the phone, a department's own system reviewing). Thin over
services.access and services.actions.applications: every record through access (404 outside
scope), every write through an action (422 naming the field, 409 for a step the state does
not allow). Opening is retry-safe with `client_key` (201 created, 200 the same key again)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from wangge.core import idempotency
from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.services import access
from wangge.services import application_queries as queries
from wangge.services.actions import applications as actions
from wangge.services.errors import ServiceError
from wangge.services.models import Application, MaterialCheck, MaterialFile

router = Router(tags=["services"])

ClientKey = ModelText(IdempotencyKey, "key")
State = Literal[tuple(Application.State.values)]  # type: ignore[valid-type]
Verdict = Literal[tuple(MaterialCheck.Verdict.values)]  # type: ignore[valid-type]
Limit = Annotated[int, Query(ge=1, le=200)]
MaterialKey = ModelText(MaterialFile, "material_key")


class ApplicantIn(Schema):
    name: ModelText(Application, "applicant_name")  # type: ignore[valid-type]
    id_number: Text(30) = ""  # type: ignore[valid-type]
    phone: Text(30) = ""  # type: ignore[valid-type]


class ApplicationIn(Schema):
    client_key: ClientKey | None = None  # type: ignore[valid-type]
    item_code: Code  # type: ignore[valid-type]
    applicant: ApplicantIn
    grid_id: Id | None = None
    resident_id: Id | None = None
    #: a grid worker applies for a resident ("worker"); a resident's own is "public"
    channel: Literal["public", "worker"] = "worker"


class VerdictIn(Schema):
    material_key: MaterialKey  # type: ignore[valid-type]
    verdict: Verdict  # type: ignore[valid-type]
    reason: ModelText(MaterialCheck, "reason") = ""  # type: ignore[valid-type]


class DecideIn(Schema):
    decision: Literal["pass", "return", "reject"]
    reason: ModelText(Application, "reason") = ""  # type: ignore[valid-type]


class ApplicationOut(Schema):
    id: int
    no: str
    state: str
    state_label: str
    item_code: str
    item_name: str
    department: str
    department_name: str
    grid: str | None
    grid_name: str | None
    channel: str
    round: int
    applicant_masked: str
    id_number_masked: str
    phone_masked: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    overdue: bool
    breached_at: dt.datetime | None
    escalated_at: dt.datetime | None
    reason: str


class ApplicationPage(Schema):
    total: int
    items: list[ApplicationOut]


class FileOut(Schema):
    id: int
    material_key: str
    round: int
    content_type: str
    size: int
    sha256: str
    is_image: bool
    uploaded_at: dt.datetime


class VerdictOut(Schema):
    round: int
    verdict: str
    reason: str
    at: dt.datetime


class ApplicationMaterialOut(Schema):
    key: str
    name: str
    form: str
    count: int
    required: bool
    condition: str
    note: str
    verdict: str | None
    verdict_label: str | None
    verdict_round: int | None
    reason: str
    files: list[FileOut]
    checks: list[VerdictOut]


class ApplicationEventOut(Schema):
    at: dt.datetime
    action: str
    label: str
    from_state: str
    to_state: str
    note: str
    round: int | None


class ApplicationDetail(ApplicationOut):
    version: int
    materials: list[ApplicationMaterialOut]
    events: list[ApplicationEventOut]
    #: given to whoever acts for the applicant (to hand on to the resident), else null
    follow_code: str | None


class MaterialCheckOut(Schema):
    material_key: str
    round: int
    verdict: str
    reason: str


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    a = access.access_application(request.auth, pk)
    return queries.detail(a, follow_code=access.can_apply_for(request.auth, a))


@router.post("/applications", response=responses({201: ApplicationDetail,
                                                  200: ApplicationDetail}),
             summary="新建预审办件（client_key 重试安全）")
def open_application(request: HttpRequest, body: ApplicationIn) -> Any:
    try:
        earlier = idempotency.replayed(request.auth, body.client_key, actions.OBJECT_TYPE)
    except idempotency.KeyRefused as e:
        raise ServiceError("client_key", str(e)) from None
    a = actions.do_open_application(
        request.auth, item_code=body.item_code, applicant=body.applicant.dict(),
        grid_id=body.grid_id, resident_id=body.resident_id, channel=body.channel,
        client_key=body.client_key)
    return Status(200 if earlier == a.pk else 201, _detail(request, a.pk))


@router.get("/applications", response=responses(ApplicationPage), summary="预审办件（范围内）")
def list_applications(request: HttpRequest, state: State | None = None,  # type: ignore[valid-type]
                      department: Code = "", overdue: bool = False,  # type: ignore[valid-type]
                      limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = access.visible_applications(request.auth).select_related("item", "department", "grid")
    if state:
        qs = qs.filter(state=state)
    if department:
        qs = qs.filter(department__code=department)
    if overdue:
        qs = queries.overdue(qs)
    qs = qs.order_by("due_at", "-created_at", "-pk") if overdue else qs.order_by("-created_at",
                                                                                   "-pk")
    return {"total": qs.count(), "items": [queries.row(a) for a in qs[offset:offset + limit]]}


@router.get("/applications/{pk}", response=responses(ApplicationDetail), summary="一件预审办件")
def get_application(request: HttpRequest, pk: Id) -> Any:
    return _detail(request, pk)


@router.post("/applications/{pk}/materials", response=responses({201: FileOut}),
             summary="上传一项材料（图片或 PDF）")
def upload_material(request: HttpRequest, pk: Id, material_key: Form[MaterialKey],  # type: ignore[valid-type]
                    file: File[UploadedFile]) -> Any:
    a = access.access_application(request.auth, pk)
    if (file.size or 0) > actions.material_max_bytes():
        raise ServiceError("file", f"文件不能超过 {actions.material_max_bytes() // 1048576} MB",
                           "too_large")
    stored = actions.do_upload_material(request.auth, a, material_key, file.read(),
                                        file.content_type or "")
    return Status(201, queries.file_row(stored))


@router.get("/applications/{pk}/files/{file_id}", response=responses({}),
            summary="材料文件（仅有权查看办件者）")
def get_file(request: HttpRequest, pk: Id, file_id: Id) -> FileResponse:
    found = access.access_material_file(request.auth, pk, file_id)
    return queries.serve_file(found, request.auth)


@router.post("/applications/{pk}/submit", response=responses(ApplicationDetail),
             summary="提交预审（退回后为再次提交）")
def submit(request: HttpRequest, pk: Id) -> Any:
    a = actions.do_submit(request.auth, access.access_application(request.auth, pk))
    return _detail(request, a.pk)


@router.post("/applications/{pk}/checks", response=responses(MaterialCheckOut),
             summary="审查一项材料（合格 / 需补正）")
def check_material(request: HttpRequest, pk: Id, body: VerdictIn) -> Any:
    a = access.access_application(request.auth, pk)
    check = actions.do_check_material(request.auth, a, body.material_key, body.verdict,
                                      body.reason)
    return {"material_key": check.material_key, "round": check.round,
            "verdict": check.verdict, "reason": check.reason}


@router.post("/applications/{pk}/decide", response=responses(ApplicationDetail),
             summary="预审结论：通过、退回补正、不予通过")
def decide(request: HttpRequest, pk: Id, body: DecideIn) -> Any:
    a = access.access_application(request.auth, pk)
    actions.do_decide(request.auth, a, body.decision, body.reason)
    return _detail(request, pk)


@router.post("/applications/{pk}/withdraw", response=responses(ApplicationDetail),
             summary="撤回办件")
def withdraw(request: HttpRequest, pk: Id) -> Any:
    actions.do_withdraw(request.auth, access.access_application(request.auth, pk))
    return _detail(request, pk)


