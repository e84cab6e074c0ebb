"""Case endpoints: report, list and read in scope, take an action; public status by number."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Path, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError, ValidationError

from wangge.cases import access, actions, public_limits, queues
from wangge.cases.filters import CaseFilter
from wangge.cases.models import (
    Assignment,
    Case,
    CaseCategory,
    CaseEvent,
    CasePhoto,
    DutyRule,
    InspectionItem,
    Supervision,
)
from wangge.cases.notice import shown_title
from wangge.cases.photos import open_stored
from wangge.cases.public_text import scrub
from wangge.cases.routing import routing_text
from wangge.cases.urgency import CARD_NAMES, in_order
from wangge.cases.workflow import STEPS, State
from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, ErrorOut, Id, ModelText, Offset, Text, responses
from wangge.org.models import Department
from wangge.territory.models import Grid

router = Router(tags=["cases"])
public_router = Router(tags=["public"])
log = logging.getLogger(__name__)

Channel = Literal[tuple(Case.Channel.values)]  # type: ignore[valid-type]
ActionName = Literal[tuple(STEPS)]  # type: ignore[valid-type]
SupervisionLevel = Literal[tuple(Supervision.Level.values)]  # type: ignore[valid-type]
RegisterNo = Annotated[ModelText(Case, "register_no"), Path()]
CategoryCode = ModelText(CaseCategory, "code")
DepartmentCode = ModelText(Department, "code")
ClientKey = ModelText(IdempotencyKey, "key")
#: at most this many items in one request's list
MAX_ITEMS = 100


class CaseIn(Schema):
    category: CategoryCode
    title: ModelText(Case, "title")  # type: ignore[valid-type]
    description: Text() = ""  # type: ignore[valid-type]
    lng: float | None = Query(None, ge=-180, le=180)
    lat: float | None = Query(None, ge=-90, le=90)
    channel: Channel = Case.Channel.GRID_WORKER.value
    client_key: ClientKey | None = None


class EventOut(Schema):
    at: dt.datetime
    actor: str | None
    action: str
    from_state: str
    to_state: str
    note: str


class PhotoOut(Schema):
    id: int
    stage: str
    url: str
    content_type: str
    width: int
    height: int
    size: int


class CaseOut(Schema):
    register_no: str
    channel: str
    confidential: bool
    handling_level: int
    category: str
    category_name: str
    title: str
    description: str
    state: str
    grid: str
    grid_name: str
    lng: float | None
    lat: float | None
    department: str | None
    routed_by_rule: int | None
    routed_by: str
    possible_duplicate_of: str | None
    rework_count: int
    closeout_reason: str
    satisfaction: int | None
    written_reply: str
    #: 关注码: given to the reporter with the register number; opens the public reply
    follow_code: str
    allowed_actions: list[str]
    photos: list[PhotoOut]
    timeline: list[EventOut]


def _photo(photo: CasePhoto) -> dict[str, Any]:
    return {"id": photo.pk, "stage": photo.stage, "content_type": photo.content_type,
            "width": photo.width, "height": photo.height, "size": photo.size,
            "url": f"/api/v1/cases/{photo.case.register_no}/photos/{photo.pk}"}


def _out(request: HttpRequest, case: Case, events: list[CaseEvent] | None = None,
         photos: list[CasePhoto] | None = None) -> dict[str, Any]:
    if events is None:
        events = list(case.events.select_related("actor"))
    if photos is None:
        photos = list(case.photos.all())
    return {
        "register_no": case.register_no, "channel": case.channel,
        "confidential": case.confidential, "handling_level": case.handling_level,
        "category": case.category.code,
        "category_name": case.category.name, "title": case.title,
        "description": case.description, "state": case.state, "grid": case.grid.code,
        "grid_name": case.grid.name, "lng": case.lng, "lat": case.lat,
        "department": case.department.code if case.department_id else None,
        "routed_by_rule": case.routed_by_id, "routed_by": routing_text(events),
        "possible_duplicate_of": case.duplicate_of.register_no if case.duplicate_of_id else None,
        "rework_count": case.rework_count, "closeout_reason": case.closeout_reason,
        "satisfaction": case.satisfaction, "written_reply": case.written_reply,
        "follow_code": case.follow_code,
        "allowed_actions": access.allowed_actions(request.auth, case),
        "photos": [_photo(p) for p in photos],
        "timeline": [
            {"at": e.at, "actor": e.actor.get_username() if e.actor else None,
             "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "note": e.note}
            for e in events
        ],
    }


def _report(request: HttpRequest, body: CaseIn, photos: list[bytes]) -> Any:
    done = actions.report_or_replay(body.dict(), request.auth, channel=body.channel,
                                    client_key=body.client_key, photos=photos)
    if done.replayed and not access.can_see_case(request.auth, done.case):
        # A reporter who may not read the case now (confidential, moved on) gets back what
        # the first answer told them, never what happened to it since.
        return Status(200, _as_reported(request, done.case))
    return Status(200 if done.replayed else 201,
                  _out(request, done.case, done.timeline, done.photos))


def _as_reported(request: HttpRequest, case: Case) -> dict[str, Any]:
    first = case.events.select_related("actor").order_by("at", "pk")[:1]
    photos = list(case.photos.filter(stage=CasePhoto.Stage.REPORT))
    out = _out(request, case, list(first), photos)
    out.update(state=State.REPORTED, handling_level=Case.Level.WORKSTATION, department=None,
               routed_by_rule=None, routed_by="", rework_count=0, closeout_reason="",
               satisfaction=None, written_reply="", allowed_actions=[])
    return out


@router.post("/", response=responses({201: CaseOut, 200: CaseOut}), summary="上报事件")
def report(request: HttpRequest, body: CaseIn) -> Any:
    return _report(request, body, [])


@router.post("/with-photos", response=responses({201: CaseOut, 200: CaseOut}),
             summary="上报事件（multipart，附照片）")
def report_with_photos(request: HttpRequest, body: Form[CaseIn],
                       photos: File[list[UploadedFile]]) -> Any:
    """The same report as a form with its photos in one request: what a phone sends, and
    the only way a reporter attaches photos to a confidential case they cannot read back."""
    return _report(request, body, [f.read() for f in photos])


class CaseRow(Schema):
    register_no: str
    title: str
    state: str
    category: str
    grid: str
    created_at: dt.datetime
    #: the nearest deadline of a running SLA clock; 督办牌 "red", "yellow" or ""
    deadline: dt.datetime | None = None
    card: str = ""
    breached: bool = False
    warned: bool = False


@router.get("/", response=responses(list[CaseRow]),
            summary="事件队列（我的待办、本人范围、超期），按紧急程度排序，可搜索、筛选")
def list_cases(request: HttpRequest,
               queue: Literal["mine", "scope", "overdue"] = "scope",
               state: State | None = None,
               q: str | None = None, grid: str | None = None, category: str | None = None,
               department: str | None = None, channel: str | None = None,
               card: str | None = None,
               limit: int = Query(50, ge=1, le=500), offset: Offset = 0) -> Any:
    """The same queues, filters and urgency order as the console (cases.filters): a value
    refused is a 422 naming the field; a grid outside the caller's scope gives []."""
    given = {"q": q, "grid": grid, "category": category, "department": department,
             "state": state, "channel": channel, "card": card}
    filterset = CaseFilter({k: v for k, v in given.items() if v}, user=request.auth,
                           queryset=queues.queue(request.auth, queue, timezone.localdate()))
    if not filterset.is_valid():
        raise ValidationError([{"loc": ["query", field], "msg": msg, "type": "invalid"}
                               for field, msg in filterset.problems()])
    return [{"register_no": c.register_no, "title": c.title, "state": c.state,
             "category": c.category.code, "grid": c.grid.code, "created_at": c.created_at,
             "deadline": c.due, "card": CARD_NAMES[c.card], "breached": c.breached,
             "warned": c.warned}
            for c in in_order(filterset.qs, filterset.qs.values_list("pk", flat=True)[
                offset:offset + limit])]


@router.get("/stats", response=responses(dict), summary="事件统计（涉密事件只计数）")
def stats(request: HttpRequest) -> Any:
    return queues.statistics(request.auth)


class NotificationOut(Schema):
    id: int
    kind: str
    register_no: str
    title: str
    note: str
    created_at: dt.datetime
    read: bool


@router.get("/notifications", response=responses(list[NotificationOut]),
            summary="我的提醒（时限预警、超时督办）")
def list_notifications(request: HttpRequest, unread: bool = False,
                       limit: int = Query(50, ge=1, le=500),
                       offset: Offset = 0) -> Any:
    qs = access.notifications(request.auth).select_related("case")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return [{"id": n.pk, "kind": n.kind, "register_no": n.case.register_no,
             "title": shown_title(n.case), "note": n.note, "created_at": n.created_at,
             "read": n.read_at is not None} for n in qs[offset:offset + limit]]


class ReadIn(Schema):
    #: these notifications; all of the user's when left out
    ids: Annotated[list[Id], Field(max_length=1000)] | None = None


@router.post("/notifications/read", response=responses(dict), summary="提醒标为已读")
def read_notifications(request: HttpRequest, body: ReadIn) -> Any:
    return {"read": actions.do_mark_notifications_read(request.auth, body.ids)}


class InspectionItemOut(Schema):
    grid_kind: str
    name: str
    guidance: str
    category: str | None


@router.get("/inspection-items", response=responses(list[InspectionItemOut]),
            summary="日常巡查清单")
def inspection_items(request: HttpRequest, grid_kind: Code = "") -> Any:
    qs = InspectionItem.objects.select_related("category")
    if grid_kind:
        qs = qs.filter(grid_kind=grid_kind)
    return [{"grid_kind": i.grid_kind, "name": i.name, "guidance": i.guidance,
             "category": i.category.code if i.category_id else None} for i in qs]


class RuleIn(Schema):
    category: CategoryCode
    grid: ModelText(Grid, "code")  # type: ignore[valid-type]
    department: DepartmentCode = ""
    external_system: DepartmentCode = ""


class RuleOut(Schema):
    id: int
    category: str
    category_name: str
    grid: str
    grid_name: str
    #: the target's code, a line department's or an external system's
    department: str
    #: the same code when the target is an external system (a department of kind external)
    external_system: str | None


def _rule(r: DutyRule) -> dict[str, Any]:
    return {"id": r.pk, "category": r.category.code, "category_name": r.category.name,
            "grid": r.grid.code, "grid_name": r.grid.name,
            "department": r.department.code,
            "external_system": r.department.code if r.department.is_external else None}


@router.get("/duty-rules", response=responses(list[RuleOut]), summary="部门职责清单")
def list_rules(request: HttpRequest) -> Any:
    return [_rule(r) for r in access.visible_duty_rules(request.auth).select_related(
        "category", "grid", "department").order_by("category__code", "grid__path")]


@router.put("/duty-rules", response=responses(RuleOut), summary="设置职责规则（分类 × 网格子树）")
def set_rule(request: HttpRequest, body: RuleIn) -> Any:
    return _rule(actions.do_set_duty_rule(request.auth, **body.dict()))


@router.delete("/duty-rules/{pk}", response=responses({204: None}), summary="删除职责规则")
def delete_rule(request: HttpRequest, pk: Id) -> Any:
    rule = access.visible_duty_rules(request.auth).select_related(
        "category", "grid").filter(pk=pk).first()
    if rule is None:
        raise Http404("no such rule")
    actions.do_delete_duty_rule(request.auth, rule)
    return Status(204, None)


@router.get("/{register_no}", response=responses(CaseOut), summary="事件详情与时间线")
def get_case(request: HttpRequest, register_no: RegisterNo) -> Any:
    return _out(request, access.access_case(request.auth, register_no))


class MergeIn(Schema):
    master: ModelText(Case, "register_no")  # type: ignore[valid-type]


@router.post("/{register_no}/merge", response=responses(CaseOut), summary="合并重复事件")
def merge(request: HttpRequest, register_no: RegisterNo, body: MergeIn) -> Any:
    duplicate = access.access_case(request.auth, register_no)
    master = access.access_case(request.auth, body.master)
    master = actions.do_merge(duplicate, master, request.auth)
    return _out(request, Case.objects.select_related("category", "grid", "department")
                .get(pk=master.pk))


#: a reason may become the case's closeout reason (reject, cancel): the same column limit
Reason = ModelText(Case, "closeout_reason")


class ActionIn(Schema):
    reason: Reason = ""
    feedback: Text() = ""  # type: ignore[valid-type]
    reply: Text() = ""  # type: ignore[valid-type]
    closeout_reason: Reason = ""
    department: DepartmentCode = ""
    satisfaction: int | None = Field(None, ge=1, le=5)
    followup_note: Text() = ""  # type: ignore[valid-type]
    planned_date: Text(32) = ""  # type: ignore[valid-type]


@router.post("/{register_no}/photos", response=responses({201: list[PhotoOut]}),
             summary="上传照片")
def add_photos(request: HttpRequest, register_no: RegisterNo,
               stage: Form[Literal["report", "handle", "verify"]],
               photos: File[list[UploadedFile]]) -> Any:
    case = access.access_case(request.auth, register_no)
    stored = actions.do_add_photos(case, request.auth, stage=stage,
                                   photos=[f.read() for f in photos])
    return Status(201, [_photo(p) for p in stored])


@router.get("/{register_no}/photos/{pk}", response=responses({}),
            summary="照片（仅有权查看事件者）")
def get_photo(request: HttpRequest, register_no: RegisterNo, pk: Id) -> FileResponse:
    photo = access.access_photo(request.auth, register_no, pk)
    return FileResponse(open_stored(photo), content_type=photo.content_type)


@router.post("/{register_no}/actions/{action}", response=responses(CaseOut),
             summary="办理动作")
def take_action(request: HttpRequest, register_no: RegisterNo, action: ActionName,
                body: ActionIn) -> Any:
    case = access.access_case(request.auth, register_no)
    case = actions.do_transition(case, action, request.auth, **body.dict())
    return _out(request, Case.objects.select_related("category", "grid", "department")
                .get(pk=case.pk))


class PublicStatus(Schema):
    register_no: str
    category: str
    state: str
    reported_at: dt.datetime
    closed_at: dt.datetime | None
    #: null unless the request carried the case's follow code (关注码)
    written_reply: str | None
    steps: list[dict[str, Any]]


@public_router.get("/cases/{register_no}",
                   response=responses({200: PublicStatus, 429: ErrorOut}), auth=None,
                   summary="事件办理进度（公开：状态与时间；书面答复须凭关注码，"
                           "宜用请求头 X-Follow-Code）")
def public_status(request: HttpRequest, register_no: str, code: Code = "") -> Any:
    # the code is better sent as the X-Follow-Code header (a query string lands in logs);
    # wrong ones count with the status page's (429 after ten an hour from one address)
    code = request.headers.get("X-Follow-Code", "").strip()[:16] or code
    case = access.public_case(register_no)
    opened = False
    if code:
        if public_limits.too_many_wrong_codes(request):
            raise HttpError(429, "too many wrong follow codes from this address; try later")
        opened = access.follow_code_opens(case, code)
        if not opened:
            public_limits.count_wrong_code(request)
    return {"register_no": case.register_no, "category": case.category.name,
            "state": case.state, "reported_at": case.created_at, "closed_at": case.closed_at,
            "written_reply": scrub(case.written_reply) if opened else None,
            "steps": [{"at": e.at, "state": e.to_state} for e in access.public_steps(case)]}


class TaskIn(Schema):
    department: DepartmentCode
    task: ModelText(Assignment, "task")  # type: ignore[valid-type]
    deadline: dt.date


class ConsultIn(Schema):
    held_on: dt.date
    participants: Text()  # type: ignore[valid-type]
    decision: Text()  # type: ignore[valid-type]
    tasks: Annotated[list[TaskIn], Field(max_length=MAX_ITEMS)]


class AssignmentOut(Schema):
    id: int
    department: str
    task: str
    deadline: dt.date
    feedback: str
    closed: bool


def _assignment(a: Any) -> dict[str, Any]:
    return {"id": a.pk, "department": a.department.code, "task": a.task,
            "deadline": a.deadline, "feedback": a.feedback, "closed": a.closed_at is not None}


@router.post("/{register_no}/consultations", response=responses({201: list[AssignmentOut]}),
             summary="集体会商（生成交办单）")
def consult(request: HttpRequest, register_no: RegisterNo, body: ConsultIn) -> Any:
    case = access.access_case(request.auth, register_no)
    meeting = actions.do_consult(
        case, request.auth, held_on=body.held_on, participants=body.participants,
        decision=body.decision, tasks=[(t.department, t.task, t.deadline) for t in body.tasks])
    return Status(201, [_assignment(a) for a in meeting.assignments.select_related(
        "department")])


@router.get("/{register_no}/assignments", response=responses(list[AssignmentOut]),
            summary="交办单")
def list_assignments(request: HttpRequest, register_no: RegisterNo) -> Any:
    case = access.access_case(request.auth, register_no)
    return [_assignment(a) for a in case.assignments.select_related("department")]


class FeedbackIn(Schema):
    feedback: Text()  # type: ignore[valid-type]


def _own_assignment(request: HttpRequest, register_no: str, pk: int) -> Any:
    case = access.access_case(request.auth, register_no)
    assignment = case.assignments.select_related("department", "case__grid").filter(
        pk=pk).first()
    if assignment is None:
        raise Http404("no such assignment")
    return assignment


@router.post("/{register_no}/assignments/{pk}/feedback", response=responses(AssignmentOut),
             summary="交办反馈")
def assignment_feedback(request: HttpRequest, register_no: RegisterNo, pk: Id,
                        body: FeedbackIn) -> Any:
    a = actions.do_assignment_feedback(_own_assignment(request, register_no, pk), request.auth,
                                       feedback=body.feedback)
    return _assignment(a)


@router.post("/{register_no}/assignments/{pk}/close", response=responses(AssignmentOut),
             summary="交办单销号（须已反馈）")
def assignment_close(request: HttpRequest, register_no: RegisterNo, pk: Id) -> Any:
    return _assignment(actions.do_close_assignment(_own_assignment(request, register_no, pk),
                                                   request.auth))


class SuperviseIn(Schema):
    level: SupervisionLevel
    reason: ModelText(Supervision, "reason")  # type: ignore[valid-type]
    deadline: dt.date


@router.post("/{register_no}/supervisions", response=responses({201: dict}), summary="督办")
def supervise(request: HttpRequest, register_no: RegisterNo, body: SuperviseIn) -> Any:
    case = access.access_case(request.auth, register_no)
    sup = actions.do_supervise(case, request.auth, level=body.level, reason=body.reason,
                               deadline=body.deadline)
    return Status(201, {"id": sup.pk, "level": sup.level, "deadline": sup.deadline})

