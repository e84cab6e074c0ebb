"""/api/v1/disputes: screenings, disputes, sessions, agreements, referrals, follow-ups.
Thin: parse, call access / actions, answer.

Scope comes from disputes.access only: a dispute outside the caller's scope answers 404
(the same as one that does not exist); a step the caller may not take answers 403; a step
the dispute's state does not allow answers 409 (IllegalMove); bad input 422 naming the
field. Parties' names are masked in lists and whole on the dispute's own page only for
those `access.sees_parties` lets see them; outsiders' contact data opens through
`parties/{id}/reveal` with a stated purpose (logged).

The creates a phone or an external system may retry (a dispute, a screening return, a
mediation session, a follow-up, a signature) are the field app's envelopes applied through
the sync engine (`fieldwork.actions.sync.apply_envelope`), exactly as fieldwork's REST
creates are: a `client_key` in the body or an `Idempotency-Key` header names the create, and
the same key again answers the first record (200) instead of making a second one (201)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status

from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.disputes import access, queries
from wangge.disputes.actions import mediation, outcome, records
from wangge.disputes.errors import IllegalMove
from wangge.disputes.models import (
    Agreement,
    Dispute,
    DisputeKind,
    Event,
    FollowUp,
    Party,
    Referral,
    Risk,
    Screening,
    Session,
    Signature,
)
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.api_common import answer
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.errors import FieldworkError
from wangge.territory.models import Grid

router = Router(tags=["disputes"])

ClientKey = ModelText(IdempotencyKey, "key")
#: the header a retrying system sends instead of a body's client_key
IdempotencyHeader = Annotated[ModelText(IdempotencyKey, "key") | None,  # type: ignore[misc]
                              Header(alias="Idempotency-Key")]
Limit = Annotated[int, Query(ge=1, le=200)]
StateName = Literal[tuple(Dispute.State.values)]  # type: ignore[valid-type]
RiskName = Literal[tuple(Risk.values)]  # type: ignore[valid-type]
SourceName = Literal[tuple(Dispute.Source.values)]  # type: ignore[valid-type]
RoleName = Literal[tuple(Party.Role.values)]  # type: ignore[valid-type]
PartyKindName = Literal[tuple(Party.Kind.values)]  # type: ignore[valid-type]
HonouredName = Literal[tuple(FollowUp.Honoured.values)]  # type: ignore[valid-type]
MethodName = Literal[tuple(Signature.Method.values)]  # type: ignore[valid-type]
BodyName = Literal[tuple(Referral.Body.values)]  # type: ignore[valid-type]
Sha = Text(64)


# -- input shapes ------------------------------------------------------------------------------

class DisputePartyIn(Schema):
    role: RoleName  # type: ignore[valid-type]
    kind: PartyKindName = Party.Kind.PERSON  # type: ignore[valid-type]
    #: a person in the register the caller may see; else `name` (and contact data)
    resident_id: Id | None = None
    name: ModelText(Party, "name") | None = None  # type: ignore[valid-type]
    phone: Text(20) | None = None  # type: ignore[valid-type]
    id_number: Text(18) | None = None  # type: ignore[valid-type]


class DisputeItemIn(Schema):
    """One tension found by a screening (a dispute without grid and source)."""

    kind: Code  # type: ignore[valid-type]
    risk: RiskName  # type: ignore[valid-type]
    subject: ModelText(Dispute, "subject")  # type: ignore[valid-type]
    account: Text() = ""  # type: ignore[valid-type]
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    reported_at: dt.datetime | None = None
    sensitive: bool | None = None
    parties: Annotated[list[DisputePartyIn], Field(min_length=1, max_length=20)]


class DisputeIn(DisputeItemIn):
    grid_id: Id
    source: SourceName  # type: ignore[valid-type]
    case_id: Id | None = None
    visit_id: Id | None = None
    opinion_id: Id | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DisputeScreeningIn(Schema):
    #: default: the caller's own grid (a grid worker's)
    grid_id: Id | None = None
    screened_at: dt.datetime | None = None
    mediator_id: Id | None = None
    #: nothing to report this period (a nil return): then no items
    nil: bool = False
    note: Text() = ""  # type: ignore[valid-type]
    items: Annotated[list[DisputeItemIn], Field(max_length=50)] = []
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DisputeAcceptIn(Schema):
    mediator_id: Id | None = None


class DisputeAssignIn(Schema):
    mediator_id: Id


class DisputeReasonIn(Schema):
    reason: Text(min_length=1)  # type: ignore[valid-type]


class DisputeSessionIn(Schema):
    held_at: dt.datetime
    place: ModelText(Session, "place", min_length=1)  # type: ignore[valid-type]
    attendees: Text(min_length=1)  # type: ignore[valid-type]
    notes: Text(min_length=1)  # type: ignore[valid-type]
    photo_hashes: Annotated[list[Sha], Field(max_length=9)] = []  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DisputeAgreementIn(Schema):
    terms: Text(min_length=1)  # type: ignore[valid-type]
    perform_by: dt.date | None = None


class DisputeSignatureIn(Schema):
    party_id: Id
    #: an Upload this caller sent (fieldwork's uploads, addressed by hash)
    image_hash: Sha  # type: ignore[valid-type]
    method: MethodName = Signature.Method.PHONE  # type: ignore[valid-type]
    signed_at: dt.datetime | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DisputeReferralIn(Schema):
    body: BodyName  # type: ignore[valid-type]
    department_id: Id | None = None
    reason: Text(min_length=1)  # type: ignore[valid-type]


class DisputeFollowUpIn(Schema):
    at: dt.datetime | None = None
    honoured: HonouredName  # type: ignore[valid-type]
    note: Text() = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DisputeSensitiveIn(Schema):
    sensitive: bool
    reason: Text(min_length=1)  # type: ignore[valid-type]


class DisputeRevealIn(Schema):
    purpose: Text(200, min_length=1)  # type: ignore[valid-type]


# -- output shapes -----------------------------------------------------------------------------

class DisputePartyOut(Schema):
    id: int
    role: str
    role_label: str
    kind: str
    resident_id: int | None
    #: masked unless the caller sees the parties (the dispute's page, in scope)
    name: str
    phone: str
    id_number: str


class DisputeRowOut(Schema):
    """A dispute in a list: parties masked."""

    id: int
    number: str
    kind: str
    kind_name: str
    grid: str
    grid_name: str
    subject: str
    amount: str | None
    risk: str
    risk_label: str
    source: str
    sensitive: bool
    state: str
    state_label: str
    level: str
    level_label: str
    handling_grid: str
    mediator_id: int | None
    mediator: str | None
    stage: str
    due_at: dt.datetime | None
    breached_at: dt.datetime | None
    reported_at: dt.datetime
    settled_at: dt.datetime | None
    closed_at: dt.datetime | None
    parties: list[DisputePartyOut]


class DisputePage(Schema):
    total: int
    items: list[DisputeRowOut]


class DisputeEventOut(Schema):
    at: dt.datetime
    kind: str
    label: str
    note: str
    actor: str | None


class DisputeSessionOut(Schema):
    id: int
    dispute_id: int
    held_at: dt.datetime
    place: str
    level: str
    mediator_id: int
    mediator: str
    attendees: str
    notes: str
    photo_hashes: list[str]


class DisputeSignatureOut(Schema):
    id: int
    agreement_id: int
    party_id: int
    method: str
    signed_at: dt.datetime


class DisputeAgreementOut(Schema):
    id: int
    number: str
    terms: str
    perform_by: dt.date | None
    made_at: dt.datetime
    mediator: str
    signed_at: dt.datetime | None
    signatures: list[DisputeSignatureOut]


class DisputeReferralOut(Schema):
    body: str
    body_label: str
    department: str | None
    reason: str
    case: str | None
    referred_at: dt.datetime


class DisputeFollowUpOut(Schema):
    id: int
    dispute_id: int
    at: dt.datetime
    by: str
    honoured: str
    honoured_label: str
    note: str


class DisputeDetailOut(DisputeRowOut):
    account: str
    screening_id: int | None
    case_id: int | None
    visit_id: int | None
    opinion_id: int | None
    #: whether the caller sees the parties whole (and may reveal their contact data)
    sees_parties: bool
    #: whether the caller may take the mediation steps (accept, sessions, outcome …)
    may_mediate: bool
    timeline: list[DisputeEventOut]
    sessions: list[DisputeSessionOut]
    agreement: DisputeAgreementOut | None
    referral: DisputeReferralOut | None
    follow_ups: list[DisputeFollowUpOut]


class DisputeScreeningOut(Schema):
    id: int
    grid: str
    grid_name: str
    period: str
    period_start: dt.date
    screened_at: dt.datetime
    screened_by: str
    mediator: str | None
    nil: bool
    note: str
    #: the disputes the return listed (those the caller may see)
    disputes: list[str]


class DisputeScreeningPage(Schema):
    total: int
    items: list[DisputeScreeningOut]


class DisputeCoverageRow(Schema):
    grid: str
    grid_name: str
    period: str
    period_start: dt.date
    screened: bool
    nil: bool | None
    screening_id: int | None


class DisputeCoverageOut(Schema):
    day: dt.date
    total: int
    screened: int
    items: list[DisputeCoverageRow]


class DisputeRevealOut(Schema):
    """A party's whole data (the read is logged with its purpose)."""

    party_id: int
    name: str
    phone: str = ""
    id_number: str = ""


# -- rows --------------------------------------------------------------------------------------

def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value))


def _actor(user: Any) -> str | None:
    if user is None:
        return None
    person = getattr(user, "person", None)
    return person.name if person else (user.get_full_name() or user.get_username())


#: queries' row keys the API names otherwise (its response schema predates them)
API_NAMES = {"risk_name": "risk_label", "state_name": "state_label",
             "level_name": "level_label", "role_name": "role_label"}


def _named(row: dict[str, Any]) -> dict[str, Any]:
    return {API_NAMES.get(k, k): v for k, v in row.items()}


def dispute_row(d: Dispute, *, whole: bool = False) -> dict[str, Any]:
    """queries.dispute_row (parties masked and the account blank unless `whole`) in the
    API's names."""
    row = _named(queries.dispute_row(d, whole=whole))
    return {**row, "parties": [_named(p) for p in row["parties"]],
            "breached_at": d.breached_at}



def session_out(s: Session, *, whole: bool) -> dict[str, Any]:
    """queries.session_row with the mediator's name; who attended and what was said only
    for those who see the parties whole."""
    row = {**queries.session_row(s), "mediator": s.mediator.name}
    return row if whole else {**row, "attendees": "", "notes": ""}


def signature_out(s: Signature) -> dict[str, Any]:
    return queries.signature_row(s)


def follow_up_out(f: FollowUp, *, whole: bool) -> dict[str, Any]:
    """queries.follow_up_row with the visitor's name and the answer's label; the note only
    for those who see the parties whole."""
    row = {**queries.follow_up_row(f), "by": f.by.name,
           "honoured_label": _label(FollowUp.Honoured.choices, f.honoured)}
    return row if whole else {**row, "note": ""}


def _agreement(d: Dispute) -> dict[str, Any] | None:
    a = Agreement.objects.filter(dispute=d).select_related("mediator").first()
    if a is None:
        return None
    return {"id": a.pk, "number": a.number, "terms": a.terms, "perform_by": a.perform_by,
            "made_at": a.made_at, "mediator": a.mediator.name, "signed_at": a.signed_at,
            "signatures": [signature_out(s) for s in a.signatures.select_related("agreement")
                           .order_by("signed_at", "pk")]}


def _referral(d: Dispute) -> dict[str, Any] | None:
    r = Referral.objects.filter(dispute=d).select_related("department", "case").first()
    if r is None:
        return None
    return {"body": r.body, "body_label": _label(Referral.Body.choices, r.body),
            "department": r.department.name if r.department_id else None,
            "reason": r.reason, "case": getattr(r.case, "number", None) if r.case_id else None,
            "referred_at": r.referred_at}


def dispute_detail(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    """The dispute's page: 404 outside the caller's scope."""
    d = access.access_dispute(user, pk)
    d = queries.rows_of(Dispute.objects.filter(pk=d.pk)).get()
    whole = access.sees_parties(user, d)
    events = Event.objects.filter(dispute=d).select_related("actor__person").order_by("at", "pk")
    sessions = Session.objects.filter(dispute=d).select_related("mediator")
    follow_ups = FollowUp.objects.filter(dispute=d).select_related("by", "dispute")
    return {
        **dispute_row(d, whole=whole), "screening_id": d.screening_id,
        "case_id": d.case_id, "visit_id": d.visit_id, "opinion_id": d.opinion_id,
        "sees_parties": whole, "may_mediate": access.can_mediate(user, d),
        "timeline": [{"at": e.at, "kind": e.kind, "label": _label(Event.Kind.choices, e.kind),
                      "note": queries.event_note(e, whole=whole), "actor": _actor(e.actor)}
                     for e in events],
        "sessions": [session_out(s, whole=whole) for s in sessions],
        "agreement": _agreement(d), "referral": _referral(d),
        "follow_ups": [follow_up_out(f, whole=whole) for f in follow_ups],
    }


def screening_out(s: Screening, visible: set[int] | None = None) -> dict[str, Any]:
    disputes = [d.number for d in s.disputes.all() if visible is None or d.pk in visible]
    return {"id": s.pk, "grid": s.grid.code, "grid_name": s.grid.name, "period": s.period,
            "period_start": s.period_start, "screened_at": s.screened_at,
            "screened_by": s.screened_by.name,
            "mediator": s.mediator.name if s.mediator_id else None, "nil": s.nil,
            "note": s.note, "disputes": disputes}


def _screenings(qs: QuerySet[Screening]) -> QuerySet[Screening]:
    return qs.select_related("grid", "screened_by", "mediator").prefetch_related("disputes")


def _visible_ids(user: AbstractBaseUser, screenings: list[Screening]) -> set[int]:
    ids = [d.pk for s in screenings for d in s.disputes.all()]
    return set(access.visible_disputes(user).filter(pk__in=ids).values_list("pk", flat=True))


# -- creates through the sync engine -----------------------------------------------------------

def _key(body: Schema, header: str | None) -> str:
    """The create's idempotency key: the body's client_key, else the Idempotency-Key
    header, else a fresh one (a create that is never retried)."""
    mine = getattr(body, "client_key", None)
    if mine and header and mine != header:
        raise FieldworkError("client_key", "与 Idempotency-Key 请求头不一致", "key_mismatch")
    return mine or header or uuid.uuid4().hex


Row = Callable[[AbstractBaseUser, int], dict[str, Any]]


def _create(request: HttpRequest, kind: str, body: Schema, header: str | None, row: Row,
            **extra: Any) -> Status:
    """The body as envelope `kind`: 201 with the record, 200 with the same record when the
    key was seen before (nothing written), else the engine's refusal as HTTP."""
    payload = {**body.model_dump(mode="json", exclude={"client_key"}, exclude_none=True),
               **extra}
    done = apply_envelope(request.auth, Envelope(_key(body, header), kind, payload))
    if done.ok and done.id is not None:
        return Status(201 if done.status == "created" else 200, row(request.auth, done.id))
    return answer(done)


def _dispute_created(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    # the creator's answer: they may lose sight of it (a sensitive kind narrows it), so
    # the page if they still see it, else the masked row
    try:
        return dispute_detail(user, pk)
    except Http404:
        d = queries.rows_of(Dispute.objects.filter(pk=pk)).get()
        return {**dispute_row(d), "account": "", "screening_id": d.screening_id,
                "case_id": None, "visit_id": None, "opinion_id": None, "sees_parties": False,
                "may_mediate": False, "timeline": [], "sessions": [], "agreement": None,
                "referral": None, "follow_ups": []}


def _screening_created(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    s = _screenings(Screening.objects.filter(pk=pk)).get()
    return screening_out(s, _visible_ids(user, [s]))


def _session_created(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    s = Session.objects.select_related("mediator", "dispute").get(pk=pk)
    return session_out(s, whole=access.sees_parties(user, s.dispute))


def _follow_up_created(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    f = FollowUp.objects.select_related("by", "dispute").get(pk=pk)
    return follow_up_out(f, whole=access.sees_parties(user, f.dispute))


def _signature_created(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return signature_out(Signature.objects.select_related("agreement").get(pk=pk))


# -- disputes ----------------------------------------------------------------------------------

def _under(qs: QuerySet, code: str, field: str = "grid") -> QuerySet:
    """Rows under grid `code` (a code that names no grid gives none)."""
    if not code:
        return qs
    grid = Grid.objects.filter(code=code).first()
    if grid is None:
        return qs.none()
    return qs.filter(**{f"{field}__path__startswith": grid.path})


@router.get("/", response=responses(DisputePage), summary="矛盾纠纷列表（本人范围，当事人打码）")
def list_disputes(request: HttpRequest, state: StateName | None = None,  # type: ignore[valid-type]
                  risk: RiskName | None = None,  # type: ignore[valid-type]
                  kind: Code = "", grid: Code = "",  # type: ignore[valid-type]
                  limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = _under(access.visible_disputes(request.auth), grid)
    if state:
        qs = qs.filter(state=state)
    if risk:
        qs = qs.filter(risk=risk)
    if kind:
        qs = qs.filter(kind__code=kind)
    total = qs.count()
    page = queries.rows_of(qs.order_by("-reported_at", "-pk"))[offset:offset + limit]
    return {"total": total, "items": [dispute_row(d) for d in page]}


Created = responses({201: DisputeDetailOut, 200: DisputeDetailOut})


@router.post("/", response=Created, summary="登记矛盾纠纷")
def create_dispute(request: HttpRequest, body: DisputeIn,
                   idempotency_key: IdempotencyHeader = None) -> Any:
    return _create(request, "dispute.create", body, idempotency_key, _dispute_created)


# -- screenings (before /{pk}: fixed paths first) ---------------------------------------------

@router.get("/screenings", response=responses(DisputeScreeningPage),
            summary="矛盾纠纷排查记录（本人范围）")
def list_screenings(request: HttpRequest, grid: Code = "",  # type: ignore[valid-type]
                    period_start: dt.date | None = None, nil: bool | None = None,
                    limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = _under(access.visible_screenings(request.auth), grid)
    if period_start:
        qs = qs.filter(period_start=period_start)
    if nil is not None:
        qs = qs.filter(nil=nil)
    total = qs.count()
    page = list(_screenings(qs.order_by("-period_start", "grid__code", "-pk"))[
        offset:offset + limit])
    visible = _visible_ids(request.auth, page)
    return {"total": total, "items": [screening_out(s, visible) for s in page]}


@router.post("/screenings", response=responses({201: DisputeScreeningOut,
                                                200: DisputeScreeningOut}),
             summary="报送矛盾纠纷排查（含无矛盾纠纷的零报告）")
def create_screening(request: HttpRequest, body: DisputeScreeningIn,
                     idempotency_key: IdempotencyHeader = None) -> Any:
    return _create(request, "screening.create", body, idempotency_key, _screening_created)


@router.get("/coverage", response=responses(DisputeCoverageOut),
            summary="排查覆盖：本期哪些网格已排查、哪些未排查")
def coverage(request: HttpRequest, day: dt.date | None = None,
             grid: Code = "", screened: bool | None = None,  # type: ignore[valid-type]
             limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Offset = 0) -> Any:
    """Every basic grid in the caller's scope that must screen, with the period `day` falls
    in under its rule (default today) and its return for that period, if any
    (disputes.queries.coverage, in the API's names)."""
    day = day or timezone.localdate()
    under = None
    if grid:
        under = Grid.objects.filter(code=grid).first()
        if under is None:
            return {"day": day, "total": 0, "screened": 0, "items": []}
    grids = queries.coverage(request.auth, day, under=under)["grids"]
    rows = [{"grid": g["code"], "grid_name": g["name"], "period": g["period"],
             "period_start": g["period_start"], "screened": g["status"] != "missing",
             "nil": None if g["status"] == "missing" else g["status"] == "nil",
             "screening_id": g["screening_id"]} for g in grids]
    rows.sort(key=lambda r: r["grid"])
    done = sum(1 for r in rows if r["screened"])
    if screened is not None:
        rows = [r for r in rows if r["screened"] == screened]
    return {"day": day, "total": len(grids), "screened": done,
            "items": rows[offset:offset + limit]}


@router.get("/screenings/{pk}", response=responses(DisputeScreeningOut), summary="一次排查")
def get_screening(request: HttpRequest, pk: Id) -> Any:
    s = _screenings(access.visible_screenings(request.auth).filter(pk=pk)).first()
    if s is None:
        raise Http404("no such screening")
    return screening_out(s, _visible_ids(request.auth, [s]))


class DisputeKindOut(Schema):
    code: str
    name: str
    sensitive: bool
    money: bool


@router.get("/kinds", response=responses(list[DisputeKindOut]), summary="矛盾纠纷类别（13类）")
def list_kinds(request: HttpRequest) -> Any:
    return [{"code": k.code, "name": k.name, "sensitive": k.sensitive, "money": k.money}
            for k in DisputeKind.objects.filter(active=True)]


@router.post("/parties/{pk}/reveal", response=responses(DisputeRevealOut),
             summary="查看当事人完整信息（须说明用途，记录在案）")
def reveal_party(request: HttpRequest, pk: Id, body: DisputeRevealIn) -> Any:
    if not body.purpose.strip():
        raise FieldworkError("purpose", "请说明查看用途", "required")
    return records.do_reveal_party(request.auth, pk, purpose=body.purpose.strip())


# -- one dispute -------------------------------------------------------------------------------

Detail = responses(DisputeDetailOut)


@router.get("/{pk}", response=Detail, summary="一件矛盾纠纷（时间线、调解、协议、移交、回访）")
def get_dispute(request: HttpRequest, pk: Id) -> Any:
    return dispute_detail(request.auth, pk)


def _mine(request: HttpRequest, pk: int) -> Dispute:
    """The dispute if the caller sees it (404 otherwise, before any step is tried)."""
    return access.access_dispute(request.auth, pk)


@router.post("/{pk}/accept", response=Detail, summary="受理（调解员接手）")
def accept(request: HttpRequest, pk: Id, body: DisputeAcceptIn) -> Any:
    _mine(request, pk)
    mediation.do_accept(request.auth, pk, mediator_id=body.mediator_id)
    return dispute_detail(request.auth, pk)


@router.post("/{pk}/assign", response=Detail, summary="指派调解员")
def assign(request: HttpRequest, pk: Id, body: DisputeAssignIn) -> Any:
    _mine(request, pk)
    mediation.do_assign(request.auth, pk, mediator_id=body.mediator_id)
    return dispute_detail(request.auth, pk)


@router.post("/{pk}/escalate", response=Detail, summary="逐级上报（上一级调解组织）")
def escalate(request: HttpRequest, pk: Id, body: DisputeReasonIn) -> Any:
    _mine(request, pk)
    mediation.do_escalate(request.auth, pk, reason=body.reason)
    return _after_step(request.auth, pk)


def _after_step(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    """The page after a step that may move the dispute out of the caller's sight (an
    escalation to a body above them): the masked row then, never a 404 for their own
    step."""
    try:
        return dispute_detail(user, pk)
    except Http404:
        return _dispute_created(user, pk)


@router.post("/{pk}/sessions", response=responses({201: DisputeSessionOut,
                                                   200: DisputeSessionOut}),
             summary="记录一次调解")
def record_session(request: HttpRequest, pk: Id, body: DisputeSessionIn,
                   idempotency_key: IdempotencyHeader = None) -> Any:
    _mine(request, pk)
    return _create(request, "dispute.session", body, idempotency_key, _session_created,
                   dispute_id=pk)


@router.post("/{pk}/withdraw", response=Detail, summary="撤回")
def withdraw(request: HttpRequest, pk: Id, body: DisputeReasonIn) -> Any:
    _mine(request, pk)
    mediation.do_withdraw(request.auth, pk, reason=body.reason)
    return dispute_detail(request.auth, pk)


@router.post("/{pk}/agreement", response=responses({201: DisputeDetailOut}),
             summary="达成调解协议（生成调解协议书）")
def make_agreement(request: HttpRequest, pk: Id, body: DisputeAgreementIn) -> Any:
    _mine(request, pk)
    outcome.do_make_agreement(request.auth, pk, terms=body.terms, perform_by=body.perform_by)
    return Status(201, dispute_detail(request.auth, pk))


@router.post("/{pk}/signatures", response=responses({201: DisputeSignatureOut,
                                                     200: DisputeSignatureOut}),
             summary="当事人在调解协议书上签名（手机签名或扫描件）")
def sign(request: HttpRequest, pk: Id, body: DisputeSignatureIn,
         idempotency_key: IdempotencyHeader = None) -> Any:
    d = _mine(request, pk)
    agreement = Agreement.objects.filter(dispute=d).only("pk").first()
    if agreement is None:
        raise IllegalMove(d.state, "signed")
    return _create(request, "agreement.sign", body, idempotency_key, _signature_created,
                   agreement_id=agreement.pk)


@router.post("/{pk}/referral", response=responses({201: DisputeDetailOut}),
             summary="调解不成，移交（法院、仲裁、信访或职能部门）")
def refer(request: HttpRequest, pk: Id, body: DisputeReferralIn) -> Any:
    _mine(request, pk)
    outcome.do_refer(request.auth, pk, body=body.body, department_id=body.department_id,
                     reason=body.reason)
    return Status(201, _after_step(request.auth, pk))


@router.post("/{pk}/follow-ups", response=responses({201: DisputeFollowUpOut,
                                                     200: DisputeFollowUpOut}),
             summary="回访（协议履行情况）")
def record_follow_up(request: HttpRequest, pk: Id, body: DisputeFollowUpIn,
                     idempotency_key: IdempotencyHeader = None) -> Any:
    _mine(request, pk)
    return _create(request, "dispute.follow_up", body, idempotency_key, _follow_up_created,
                   dispute_id=pk)


@router.post("/{pk}/sensitive", response=Detail, summary="标记或取消敏感")
def set_sensitive(request: HttpRequest, pk: Id, body: DisputeSensitiveIn) -> Any:
    _mine(request, pk)
    records.do_set_sensitive(request.auth, pk, sensitive=body.sensitive, reason=body.reason)
    return _after_step(request.auth, pk)
