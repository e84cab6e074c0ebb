"""社情民意: collected (`opinion.create`) → forwarded up → answered; one step to a case.

- Forwarding: the collector, or the workstation / grid chief above the grid.
- Answering: the opinion desk of the subtree (workstation, grid chief, sub-center, center),
  from recorded or forwarded (a station may answer what it collected itself).
- To a case: the collector or the desk; cases intake with the category the user chose,
  placed at the grid's label point (an opinion has no point of its own) unless a point is
  given; the opinion keeps the link. Once a case, never a second one.
A step that does not apply to the opinion's state is a Conflict (409) with its state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from wangge.cases.actions import do_report
from wangge.cases.actions.intake import allowed_channels
from wangge.cases.errors import CaseError
from wangge.cases.models import Case, new_follow_code
from wangge.cases.public_text import scrub
from wangge.core import audit, crypto, outbox
from wangge.fieldwork import access
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.fieldwork.models import Opinion, OpinionTopic
from wangge.org.models import Person, Role, RoleAssignment
from wangge.registry.identity import IdentityError, mask_phone, normalise_phone
from wangge.territory.models import Grid

#: who forwards an opinion of their subtree besides its collector
FORWARD_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF})


def opinion_row(o: Opinion) -> dict[str, Any]:
    return {
        "id": o.pk, "author_id": o.author_id, "grid": o.grid.code, "grid_name": o.grid.name,
        "topic": o.topic.code, "topic_name": o.topic.name, "content": o.content,
        "source": o.source, "people_concerned": o.people_concerned, "urgency": o.urgency,
        "state": o.state, "answer": o.answer,
        "case": o.case.register_no if o.case_id else None,
        "collected_at": o.collected_at.isoformat(),
        "forwarded_at": o.forwarded_at.isoformat() if o.forwarded_at else None,
        "answered_at": o.answered_at.isoformat() if o.answered_at else None,
        "kind": o.kind, "public_no": o.public_no,
    }


def _outbox_row(o: Opinion) -> dict[str, Any]:
    """opinion_row for an outbox payload: a resident's free text may carry a phone or an ID
    number they typed in, and personal data never travels in the outbox (scrubbed)."""
    row = opinion_row(o)
    row["content"], row["answer"] = scrub(row["content"]), scrub(row["answer"])
    return row


def opinion_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return opinion_row(Opinion.objects.select_related("grid", "topic", "case").get(pk=pk))


@register("opinion.create", "fieldwork.opinion", answer=opinion_answer)
def apply_opinion(user: AbstractBaseUser, env: Envelope) -> int:
    return do_record_opinion(user, env.payload).pk


def do_record_opinion(user: AbstractBaseUser, p: dict[str, Any]) -> Opinion:
    author = access.person_of(user)
    grid = access.home_grid(user)
    if author is None or grid is None:
        raise PermissionDenied("only field staff collect public opinions")
    collected_at = read.moment(p, "collected_at")
    topic = OpinionTopic.objects.filter(code=read.code(p, "topic")).first()
    if topic is None:
        raise FieldworkError("topic", "must be the code of an opinion topic", "choice")
    opinion = Opinion.objects.create(
        author=author, grid=grid, topic=topic, collected_at=collected_at,
        content=read.text(p, "content", required=True),
        source=read.choice(p, "source", list(Opinion.Source.values)),
        people_concerned=read.integer(p, "people_concerned", low=1, high=1_000_000,
                                      default=1),
        urgency=read.choice(p, "urgency", list(Opinion.Urgency.values),
                            Opinion.Urgency.NORMAL))
    audit.record("fieldwork.opinion_recorded", actor=user, object_type="fieldwork.opinion",
                 object_id=opinion.pk, grid=grid.code, topic=topic.code)
    outbox.enqueue("fieldwork.opinion", {**_outbox_row(opinion), "event": "recorded"})
    return opinion


def _locked(user: AbstractBaseUser, pk: int) -> Opinion:
    """The opinion if the user may see it (404 otherwise), locked for the step."""
    access.access_one(access.visible_opinions(user), pk)
    # of=self: PostgreSQL refuses to lock the nullable side (case) of the outer join
    return (Opinion.objects.select_for_update(of=("self",))
            .select_related("grid", "topic", "case").get(pk=pk))


def _is_author(user: AbstractBaseUser, o: Opinion) -> bool:
    return o.author.user_id == user.pk


def do_forward_opinion(user: AbstractBaseUser, pk: int) -> Opinion:
    with transaction.atomic():
        o = _locked(user, pk)
        if not (_is_author(user, o) or access.can_see_grid(user, o.grid, FORWARD_ROLES)):
            raise PermissionDenied("only the collector or the workstation forwards it")
        if o.state != Opinion.State.RECORDED:
            raise Conflict(f"already {o.state}", opinion_row(o))
        o.state, o.forwarded_at = Opinion.State.FORWARDED, timezone.now()
        o.save(update_fields=["state", "forwarded_at"])
        audit.record("fieldwork.opinion_forwarded", actor=user,
                     object_type="fieldwork.opinion", object_id=o.pk)
        outbox.enqueue("fieldwork.opinion", {**_outbox_row(o), "event": "forwarded"})
    return o


def do_answer_opinion(user: AbstractBaseUser, pk: int, answer: str) -> Opinion:
    answer = read.text({"answer": answer}, "answer", required=True)
    with transaction.atomic():
        o = _locked(user, pk)
        if not access.is_opinion_desk(user, o.grid):
            raise PermissionDenied("only the workstation, sub-center or center answers it")
        if o.state == Opinion.State.ANSWERED:
            raise Conflict("already answered", opinion_row(o))
        o.state, o.answer, o.answered_at = Opinion.State.ANSWERED, answer, timezone.now()
        o.save(update_fields=["state", "answer", "answered_at"])
        audit.record("fieldwork.opinion_answered", actor=user,
                     object_type="fieldwork.opinion", object_id=o.pk)
        outbox.enqueue("fieldwork.opinion", {**_outbox_row(o), "event": "answered"})
    return o


def _channel(user: AbstractBaseUser) -> str:
    allowed = allowed_channels(user)
    for channel in (Case.Channel.STATION, Case.Channel.GRID_WORKER):
        if channel in allowed:
            return channel
    if not allowed:
        raise PermissionDenied("you may not report cases")
    return allowed[0]


def do_opinion_to_case(user: AbstractBaseUser, pk: int, category: str,
                       lng: float | None = None, lat: float | None = None) -> Opinion:
    """One step: the case (cases intake) and the link, in one transaction."""
    with transaction.atomic():
        o = _locked(user, pk)
        if not (_is_author(user, o) or access.is_opinion_desk(user, o.grid)):
            raise PermissionDenied("only the collector or the opinion desk makes it a case")
        if o.case_id:
            raise Conflict("already a case", opinion_row(o))
        if (lng is None) != (lat is None):
            raise FieldworkError("lat" if lat is None else "lng", "give both or neither")
        if lng is None:
            lng, lat = o.grid.label_lng, o.grid.label_lat
        title = f"{o.topic.name}：{o.content}"
        try:
            case = do_report({"category": category, "title": title[:100],
                              "description": o.content, "lng": lng, "lat": lat},
                             user, channel=_channel(user))
        except CaseError as e:
            raise FieldworkError(e.field, str(e), e.code) from None
        o.case = case
        o.save(update_fields=["case"])
        audit.record("fieldwork.opinion_to_case", actor=user, object_type="fieldwork.opinion",
                     object_id=o.pk, case=case.register_no)
        outbox.enqueue("fieldwork.opinion", {**_outbox_row(o), "event": "case"})
    return o


# -- a resident's opinion or question from the public pages (issue 14) -------------------

#: the public number: MY-2026-000123 (民意); unique, not gapless (derived from the row id)
PUBLIC_PREFIX = "MY"
RESIDENT_CONTENT_MAX = 2000


def public_number(pk: int, at: dt.datetime) -> str:
    """MY-<year>-<6 digits> from the row's id: unique because the id is, with no counter row
    for every anonymous sender to wait on (gapless numbers are not needed here)."""
    return f"{PUBLIC_PREFIX}-{timezone.localtime(at).year}-{pk:06d}"


def resident_author(grid: Grid) -> Person:
    """Who a resident's opinion is handed to (the collector of record): the grid's
    responsible grid worker; else any current grid worker of the grid (a handover in
    progress); else the workstation staff of the grid's community, who answer it anyway.
    None of them: FieldworkError on `grid` (the page offers the station's phone)."""
    current = RoleAssignment.objects.filter(ended_on__isnull=True).select_related("person")
    for found in (
        current.filter(grid=grid, role=Role.GRID_WORKER, responsible=True).first(),
        current.filter(grid=grid, role=Role.GRID_WORKER).order_by("pk").first(),
        current.filter(grid_id=grid.parent_id, role=Role.STATION_STAFF).order_by("pk").first()
        if grid.parent_id else None,
    ):
        if found is not None:
            return found.person
    raise FieldworkError("grid", "该网格暂无网格员，请直接联系工作站", "no_worker")


def do_resident_opinion(*, grid: Grid, kind: str, topic: str, content: str,
                        phone: str = "") -> Opinion:
    """社情民意 or 咨询 sent by a signed-out resident. Source `resident`, handed to the grid's
    worker (resident_author), the phone sealed and masked, a public number and a follow
    code to read the answer with. Raises FieldworkError naming the field; nothing is
    written then. Retries are the caller's (the page keeps a form token: an anonymous
    sender has no user for core.IdempotencyKey)."""
    if kind not in Opinion.Kind.values:
        raise FieldworkError("kind", "须为 opinion 或 question", "choice")
    found = OpinionTopic.objects.filter(code=(topic or "").strip()).first()
    if found is None:
        raise FieldworkError("topic", "请选择类别", "choice")
    try:
        content = read.text({"content": content}, "content", required=True,
                            max_length=RESIDENT_CONTENT_MAX)
    except FieldworkError as e:
        raise FieldworkError("content", "请填写内容" if e.code == "required"
                             else f"内容最多 {RESIDENT_CONTENT_MAX} 个字" if e.code == "too_long"
                             else e.msg, e.code) from None
    sealed: dict[str, Any] = {}
    if raw := (phone or "").strip():
        try:
            number = normalise_phone(raw)
        except IdentityError:
            raise FieldworkError("phone", "请填写正确的手机或固定电话号码", "phone") from None
        sealed = {"phone_enc": crypto.seal(number, crypto.keyring()),
                  "phone_masked": mask_phone(number)}
    author = resident_author(grid)
    now = timezone.now()
    with transaction.atomic():
        opinion = Opinion.objects.create(
            author=author, grid=grid, topic=found, kind=kind, content=content,
            source=Opinion.Source.RESIDENT, collected_at=now, follow_code=new_follow_code(),
            **sealed)
        opinion.public_no = public_number(opinion.pk, now)
        opinion.save(update_fields=["public_no"])
        audit.record("fieldwork.opinion_recorded", actor=None, object_type="fieldwork.opinion",
                     object_id=opinion.pk, grid=grid.code, topic=found.code, kind=kind,
                     via="public")
        outbox.enqueue("fieldwork.opinion", {**_outbox_row(opinion), "event": "recorded"})
    return opinion
