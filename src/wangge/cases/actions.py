"""Every write to a case: intake (上报 and 挂号) and the transitions of the closed loop.
Each runs in one transaction, appends to the timeline and writes an outbox row."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wangge.cases import access, sla
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import (
    Assignment,
    Case,
    CaseCategory,
    CaseClock,
    CaseEvent,
    CasePhoto,
    Consultation,
    DutyRule,
    InspectionItem,
    Notification,
    RegisterCounter,
    Supervision,
)
from wangge.cases.photos import CheckedPhoto, check_photo
from wangge.cases.workflow import PHOTO_STAGES, STEPS, Actor, State
from wangge.core import audit, idempotency
from wangge.core.bulk import insert_rows
from wangge.integration import outbox
from wangge.integration.models import ExternalSystem
from wangge.org.models import Department, Role, RoleAssignment
from wangge.territory import lookup
from wangge.territory.models import Grid
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered

#: 逐级上报: the level a case goes to when its level cannot solve it
LEVEL_ABOVE = {Case.Level.WORKSTATION: Case.Level.SUBCENTER,
               Case.Level.SUBCENTER: Case.Level.CENTER}


def route(category: CaseCategory, grid: Grid) -> DutyRule | None:
    """The most specific duty rule: the deepest grid on the case's path, and a small class
    before its big class."""
    rules = DutyRule.objects.filter(
        category_id__in=[c for c in (category.pk, category.parent_id) if c]
    ).select_related("category", "grid", "department", "external_system")
    matching = [r for r in rules if grid.path.startswith(r.grid.path)]
    if not matching:
        return None
    return max(matching, key=lambda r: (len(r.grid.path), r.category_id == category.pk))


def describe_rule(rule: DutyRule | None) -> str:
    """What the timeline keeps of a rule, so a routed case still shows which rule sent it
    where after the duty list has changed."""
    if rule is None:
        return ""
    target = rule.department or rule.external_system
    return f"{rule.category.code} {rule.category.name} @ {rule.grid.name} → {target.name}"


def next_register_no(now: dt.datetime) -> str:
    """The next number of the year, gapless: the counter row stays locked until the creating
    transaction ends, so a number is used exactly when its case is committed. Call it as late
    in the transaction as possible: every intake waits on this row."""
    year = timezone.localtime(now).year
    table = connection.ops.quote_name(RegisterCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last",
                       [year])
        row = cursor.fetchone()
    if row is None:  # the year's first case; a concurrent first one loses on the key, retries
        try:
            with transaction.atomic():
                RegisterCounter.objects.create(year=year, last=1)
        except IntegrityError:
            return next_register_no(now)
        row = (1,)
    return f"{settings.WANGGE_CASE_PREFIX}-{year}-{row[0]:06d}"


def _metres(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def find_duplicate(category: CaseCategory, lng: float | None, lat: float | None,
                   now: dt.datetime) -> int | None:
    """The id of the first open case of the same category within the radius and window."""
    if lng is None or lat is None:
        return None
    radius = settings.WANGGE_DUPLICATE_RADIUS_M
    dlat = radius / 111_320.0
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    since = now - dt.timedelta(hours=settings.WANGGE_DUPLICATE_HOURS)
    nearby = Case.objects.filter(
        category=category, created_at__gte=since,
        lng__range=(lng - dlng, lng + dlng), lat__range=(lat - dlat, lat + dlat),
    ).exclude(state__in=[State.REJECTED, State.CANCELLED]).order_by("created_at")
    return next((pk for pk, x, y in nearby.values_list("pk", "lng", "lat")
                 if _metres(lng, lat, x, y) <= radius), None)


def _reporter_grid(actor: AbstractBaseUser) -> Grid | None:
    row = RoleAssignment.objects.filter(person__user=actor, role=Role.GRID_WORKER,
                                        ended_on__isnull=True).select_related("grid").first()
    return row.grid if row else None


def _event(case: Case, actor: AbstractBaseUser | None, action: str, from_state: str,
           note: str = "", **data: Any) -> CaseEvent:
    outbox.enqueue(f"case.{action}", {"register_no": case.register_no, "state": case.state})
    return CaseEvent.objects.create(
        case=case, actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, from_state=from_state, to_state=case.state, note=note, data=data,
    )


def do_report(data: dict[str, Any], actor: AbstractBaseUser, *, channel: str,
              client_key: str | None = None, photos: Sequence[bytes] = ()) -> Case:
    """上报: a new case in state `reported`. The location fixes the basic grid, else the
    reporter's own grid. A replayed client key returns the first case."""
    return report_or_replay(data, actor, channel=channel, client_key=client_key,
                            photos=photos).case


@dataclass
class Reported:
    case: Case
    replayed: bool
    #: for a new case, what the response shows without reading it back
    timeline: list[CaseEvent] | None = None
    photos: list[CasePhoto] | None = None


def report_or_replay(data: dict[str, Any], actor: AbstractBaseUser, *, channel: str,
                     client_key: str | None = None,
                     photos: Sequence[bytes] = ()) -> Reported:
    """do_report, also saying whether the client key was a replay (the API answers 200
    instead of 201)."""
    if (earlier := idempotency.replayed(actor, client_key, "case")) is not None:
        return Reported(Case.objects.get(pk=earlier), True)
    checked = _check_photos(photos, already=0)
    category = CaseCategory.objects.filter(code=str(data.get("category") or "")).first()
    if category is None or category.parent_id is None:
        raise CaseError("category", "must be the code of a small class of the classification")
    title = str(data.get("title") or "").strip()
    if not title:
        raise CaseError("title", "required")
    if len(title) > 100:
        raise CaseError("title", "at most 100 characters")
    lng, lat = data.get("lng"), data.get("lat")
    grid = None
    if lng is not None and lat is not None:
        chain = lookup.locate(float(lng), float(lat))
        if chain is None:
            raise CaseError("lat", "the location lies outside the territory")
        grid = Grid.objects.get(code=chain[-1].code)
    else:
        grid = _reporter_grid(actor)
        if grid is None:
            raise CaseError("lat", "a location is required (the reporter has no grid)")
    now = timezone.now()
    try:
        with transaction.atomic():
            duplicate = find_duplicate(category, lng, lat, now)  # before the counter's lock
            case = Case.objects.create(
                register_no=next_register_no(now), category=category, grid=grid, lng=lng,
                lat=lat, title=title, description=str(data.get("description") or ""),
                channel=channel, reporter=actor, state=State.REPORTED,
                confidential=category.confidential, duplicate_of_id=duplicate,
            )
            idempotency.remember(actor, client_key, "case", case.pk)
            stored = _store_photos(case, CasePhoto.Stage.REPORT, checked, actor)
            event = _event(case, actor, "report", "", possible_duplicate=duplicate is not None,
                           photos=len(checked))
    except IntegrityError:
        # the same key sent twice at once: the other request made the case
        if (earlier := idempotency.replayed(actor, client_key, "case")) is not None:
            return Reported(Case.objects.get(pk=earlier), True)
        raise
    return Reported(case, False, [event], stored)


def _check_photos(photos: Sequence[bytes], already: int) -> list[CheckedPhoto]:
    if already + len(photos) > settings.WANGGE_PHOTOS_PER_STAGE:
        raise CaseError("photos", f"at most {settings.WANGGE_PHOTOS_PER_STAGE} photos per stage")
    return [check_photo(raw) for raw in photos]


def _store_photos(case: Case, stage: str, checked: list[CheckedPhoto],
                  actor: AbstractBaseUser) -> list[CasePhoto]:
    stored = []
    known = set(case.photos.values_list("sha256", flat=True)) if checked else set()
    for photo in checked:
        if photo.sha256 in known:  # a retried upload: the first one stands
            continue
        known.add(photo.sha256)
        row = CasePhoto(case=case, stage=stage, content_type=photo.content_type,
                        size=len(photo.content), width=photo.width, height=photo.height,
                        sha256=photo.sha256, uploaded_by=actor)
        row.file.save(f"photo{photo.suffix}", ContentFile(photo.content), save=False)
        row.save()
        stored.append(row)
    return stored


def do_add_photos(case: Case, actor: AbstractBaseUser, *, stage: str,
                  photos: Sequence[bytes]) -> list[CasePhoto]:
    """Photos of the report, of the handling (处置反馈) or of the verification (核查)."""
    if stage not in PHOTO_STAGES:
        raise CaseError("stage", f"must be one of {', '.join(PHOTO_STAGES)}")
    if not photos:
        raise CaseError("photos", "at least one photo")
    actors, states = PHOTO_STAGES[stage]
    if not access.actor_kinds(actor, case) & actors:
        raise PermissionDenied(f"you may not add {stage} photos to this case")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.state not in states:
            raise IllegalTransition(f"cannot add {stage} photos to a case that is {case.state}")
        checked = _check_photos(photos, case.photos.filter(stage=stage).count())
        stored = _store_photos(case, stage, checked, actor)
        if stored:
            _event(case, actor, "photos", case.state, stage=stage, photos=len(stored))
    return stored


def do_transition(case: Case, action: str, actor: AbstractBaseUser,
                  **fields: Any) -> Case:
    step = STEPS.get(action)
    if step is None:
        raise CaseError("action", f"unknown action {action!r}")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("grid", "category").get(
            pk=case.pk)
        if case.state not in step.sources:
            raise IllegalTransition(f"cannot {action} a case that is {case.state}")
        if not access.actor_kinds(actor, case) & step.actors:
            raise PermissionDenied(f"you may not {action} this case")
        for name in step.needs:
            if fields.get(name) in (None, ""):
                raise CaseError(name, "required")
        before = case.state
        note = str(fields.get("reason") or fields.get("feedback") or fields.get("reply")
                   or fields.get("closeout_reason") or fields.get("followup_note") or "")
        extra = _apply(case, action, actor, fields)
        case.state = step.target or extra.pop("previous")
        case.save()
        sla.on_transition(case, action, timezone.now())
        _event(case, actor, action, before, note, **extra)
    return case


def _apply(case: Case, action: str, actor: AbstractBaseUser,
           fields: dict[str, Any]) -> dict[str, Any]:
    """What an action changes beyond the state; returns data for the timeline."""
    now = timezone.now()
    if action == "register":
        case.registered_at = now
        rule = route(case.category, case.grid)
        case.routed_by = rule
        return {"rule": rule.pk if rule else None, "rule_text": describe_rule(rule)}
    if action == "dispatch":
        return _dispatch(case, fields)
    if action == "escalate":
        up = LEVEL_ABOVE.get(case.handling_level)
        if up is None:
            raise CaseError("action", "the center is the top level; it cannot escalate")
        before, case.handling_level = case.handling_level, up
        return {"previous": case.state, "from_level": before, "to_level": up}
    if action == "return":
        case.department = case.external_system = None
    elif action == "verify_fail":
        case.rework_count += 1
    elif action == "close" and case.assignments.filter(closed_at__isnull=True).exists():
        raise CaseError("assignments", "every assignment must be closed (with feedback) first")
    if action in ("close", "cancel", "reject"):
        case.closeout_reason = str(fields.get("closeout_reason") or fields.get("reason"))[:200]
        case.closed_at = now
    elif action == "evaluate":
        try:
            score = int(fields["satisfaction"])
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            raise CaseError("satisfaction", "a rating from 1 to 5")
        case.satisfaction = score
        case.followup_note = str(fields.get("followup_note") or "")
    elif action == "suspend":
        try:
            planned = dt.date.fromisoformat(str(fields["planned_date"]))
        except ValueError as e:
            raise CaseError("planned_date", "must be a date YYYY-MM-DD") from e
        return {"previous": case.state, "planned_date": planned.isoformat()}
    elif action == "reply_due":
        return {"previous": case.state}
    elif action in ("resume", "reply"):
        if action == "reply":
            case.written_reply, case.replied_at = str(fields["reply"]).strip(), now
        entered = "suspend" if action == "resume" else "reply_due"
        last = case.events.filter(action=entered).order_by("-at", "-id").first()
        return {"previous": (last.data.get("previous") if last else None) or State.REGISTERED}
    return {}


def _dispatch(case: Case, fields: dict[str, Any]) -> dict[str, Any]:
    """分流交办: to the department the dispatcher chose, else the duty rule's target."""
    code = fields.get("department")
    if code:
        dept = Department.objects.filter(code=code).first()
        if dept is None:
            raise CaseError("department", f"no department {code}")
        case.department, case.external_system = dept, None
        return {"department": dept.code, "rule": None, "rule_text": f"调度员指定 → {dept.name}"}
    rule = case.routed_by or route(case.category, case.grid)
    if rule is None:
        raise CaseError("department", "no duty rule matches: choose a department")
    case.routed_by = rule
    case.department, case.external_system = rule.department, rule.external_system
    target = rule.department.code if rule.department else rule.external_system.code
    return {"department": target, "rule": rule.pk, "rule_text": describe_rule(rule)}


def do_seed_classification(rows: list[dict[str, Any]], city: Grid) -> int:
    """Load a classification list and its city-wide duty rules (data, per city). `duty` is
    "department:<code>" or "system:<code>"."""
    with transaction.atomic():
        by_code: dict[str, CaseCategory] = {}
        for row in rows:
            by_code[row["code"]] = CaseCategory.objects.create(
                code=row["code"], name=row["name"], parent=by_code.get(row["parent"] or ""),
                sla_policy=row.get("sla_policy", ""), confidential=row.get("confidential", False),
                intake_condition=row.get("intake_condition", ""),
                closeout_condition=row.get("closeout_condition", ""),
            )
        for row in rows:
            kind, _, code = (row.get("duty") or "").partition(":")
            if kind == "department":
                DutyRule.objects.create(category=by_code[row["code"]], grid=city,
                                        department=Department.objects.get(code=code))
            elif kind == "system":
                DutyRule.objects.create(category=by_code[row["code"]], grid=city,
                                        external_system=ExternalSystem.objects.get(code=code))
        outbox.enqueue("cases.classification_seeded", {"categories": len(rows)})
    return len(rows)


def do_seed_inspection_items(rows: list[dict[str, Any]]) -> int:
    """Load the daily inspection list (data, per city)."""
    categories = dict(CaseCategory.objects.values_list("code", "id"))
    with transaction.atomic():
        InspectionItem.objects.bulk_create([
            InspectionItem(grid_kind=r["grid_kind"], name=r["name"], guidance=r["guidance"],
                           category_id=categories.get(r["category"]), order=r["order"])
            for r in rows
        ])
        outbox.enqueue("cases.inspection_items_seeded", {"items": len(rows)})
    return len(rows)


def do_consult(case: Case, actor: AbstractBaseUser, *, held_on: dt.date, participants: str,
               decision: str, tasks: list[tuple[str, str, dt.date]]) -> Consultation:
    """集体会商: record the consultation and create one assignment per (department code,
    task, deadline)."""
    if Actor.DISPATCH not in access.actor_kinds(actor, case):
        raise PermissionDenied("only dispatchers hold a consultation")
    if not participants.strip():
        raise CaseError("participants", "required")
    if not decision.strip():
        raise CaseError("decision", "required")
    if not tasks:
        raise CaseError("tasks", "a consultation assigns at least one task")
    departments = {d.code: d for d in Department.objects.filter(code__in=[t[0] for t in tasks])}
    for code, _task, _deadline in tasks:
        if code not in departments:
            raise CaseError("tasks", f"no department {code}")
    with transaction.atomic():
        meeting = Consultation.objects.create(case=case, held_on=held_on,
                                              participants=participants, decision=decision)
        for code, task, deadline in tasks:
            Assignment.objects.create(case=case, consultation=meeting, task=task,
                                      department=departments[code], deadline=deadline)
        _event(case, actor, "consult", case.state, decision,
               departments=sorted(departments))
    return meeting


def do_assignment_feedback(assignment: Assignment, actor: AbstractBaseUser, *,
                           feedback: str) -> Assignment:
    """交办反馈: the assigned department says what it did."""
    if assignment.department_id not in access.user_department_ids(actor):
        raise PermissionDenied("only the assigned department gives feedback")
    if not feedback.strip():
        raise CaseError("feedback", "required")
    with transaction.atomic():
        assignment.feedback, assignment.fed_back_at = feedback.strip(), timezone.now()
        assignment.save(update_fields=["feedback", "fed_back_at"])
        _event(assignment.case, actor, "assignment_feedback", assignment.case.state, feedback,
               department=assignment.department.code)
    return assignment


def do_close_assignment(assignment: Assignment, actor: AbstractBaseUser) -> Assignment:
    """Close an assignment (销号): never without feedback."""
    if Actor.DISPATCH not in access.actor_kinds(actor, assignment.case):
        raise PermissionDenied("only dispatchers close assignments")
    if not assignment.feedback:
        raise CaseError("feedback", "no assignment closes without feedback")
    with transaction.atomic():
        assignment.closed_at = timezone.now()
        assignment.save(update_fields=["closed_at"])
        _event(assignment.case, actor, "assignment_close", assignment.case.state,
               department=assignment.department.code)
    return assignment


def do_supervise(case: Case, actor: AbstractBaseUser, *, level: str, reason: str,
                 deadline: dt.date) -> Supervision:
    """督办: open a supervision (normal, yellow card, red card) with its own deadline."""
    if not access.can_supervise(actor, case):
        raise PermissionDenied("only supervisors and center roles supervise")
    if level not in Supervision.Level.values:
        raise CaseError("level", f"must be one of {', '.join(Supervision.Level.values)}")
    if not reason.strip():
        raise CaseError("reason", "required")
    with transaction.atomic():
        sup = Supervision.objects.create(case=case, level=level, reason=reason.strip(),
                                         deadline=deadline, opened_by=actor)
        _event(case, actor, "supervise", case.state, reason, level=level,
               deadline=deadline.isoformat())
    return sup


def do_merge(duplicate: Case, master: Case, actor: AbstractBaseUser) -> Case:
    """Merge a duplicate into its master: the duplicate is cancelled with the reason, its
    reporter (and followers) follow the master."""
    if duplicate.pk == master.pk:
        raise CaseError("master", "a case cannot be merged into itself")
    if master.state in (State.REJECTED, State.CANCELLED):
        raise CaseError("master", "merge into an open case")
    if Actor.DISPATCH not in access.actor_kinds(actor, duplicate):
        raise PermissionDenied("only dispatchers merge cases")
    with transaction.atomic():
        dup = Case.objects.select_for_update().get(pk=duplicate.pk)
        if dup.state not in (State.REPORTED, State.REGISTERED):
            raise IllegalTransition(f"cannot merge a case that is {dup.state}")
        before = dup.state
        dup.state, dup.merged_into = State.CANCELLED, master
        dup.closeout_reason = f"合并至 {master.register_no}"
        dup.closed_at = timezone.now()
        dup.save()
        followers = list(dup.followers.all()) + ([dup.reporter] if dup.reporter_id else [])
        master.followers.add(*followers)
        sla.on_transition(dup, "merge", timezone.now())
        _event(dup, actor, "merge", before, dup.closeout_reason, master=master.register_no)
        _event(master, actor, "absorb", master.state, duplicate=dup.register_no)
    return master


def check_manage_rules(actor: AbstractBaseUser, grid: Grid) -> None:
    if not access.can_manage_rules(actor, grid):
        raise PermissionDenied("only the center (or the sub-center, for its subtree) keeps "
                               "the duty list")


def do_set_duty_rule(actor: AbstractBaseUser, *, category: str, grid: str,
                     department: str = "", external_system: str = "") -> DutyRule:
    """Add or change the rule for (category, subtree): one target, a department or an
    external system."""
    cat = CaseCategory.objects.filter(code=category).first()
    if cat is None:
        raise CaseError("category", f"no category {category}")
    where = Grid.objects.filter(code=grid).first()
    if where is None:
        raise CaseError("grid", f"no grid {grid}")
    check_manage_rules(actor, where)
    if bool(department) == bool(external_system):
        raise CaseError("department", "name either a department or an external system")
    dept = system = None
    if department and (dept := Department.objects.filter(code=department).first()) is None:
        raise CaseError("department", f"no department {department}")
    if external_system and (system := ExternalSystem.objects.filter(
            code=external_system).first()) is None:
        raise CaseError("external_system", f"no external system {external_system}")
    with transaction.atomic():
        rule, created = DutyRule.objects.update_or_create(
            category=cat, grid=where, defaults={"department": dept, "external_system": system})
        target = department or external_system
        audit.record("cases.duty_rule_set", actor=actor, object_type="duty_rule",
                     object_id=rule.pk, category=category, grid=grid, target=target,
                     created=created)
        outbox.enqueue("cases.duty_rule_set", {"rule": rule.pk, "category": category,
                                               "grid": grid, "target": target})
    return rule


def do_delete_duty_rule(actor: AbstractBaseUser, rule: DutyRule) -> None:
    """Cases already routed keep pointing at the rule's id in their timeline."""
    check_manage_rules(actor, rule.grid)
    with transaction.atomic():
        audit.record("cases.duty_rule_deleted", actor=actor, object_type="duty_rule",
                     object_id=rule.pk, category=rule.category.code, grid=rule.grid.code)
        outbox.enqueue("cases.duty_rule_deleted", {"rule": rule.pk})
        rule.delete()


@dataclass
class _Entry:
    """A timeline entry the sweep writes in bulk with the rest of its batch."""

    case: Case
    action: str
    from_state: str
    #: taken when the entry is made: the batch may change the case's state afterwards
    to_state: str
    note: str
    data: dict[str, Any]


def _record(entries: list[_Entry]) -> None:
    """The timeline entries and their outbox rows of a batch, one statement each (COPY on
    PostgreSQL): one INSERT per entry was most of a sweep's time."""
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    insert_rows(CaseEvent, ["case", "at", "action", "from_state", "to_state", "note", "data"], (
        (e.case.pk, when, e.action, e.from_state, e.to_state, e.note,
         json.dumps(e.data, ensure_ascii=False)) for e in entries))
    # the note travels too: the notification sender tells the people responsible with it
    outbox.enqueue_many([(f"case.{e.action}", {"register_no": e.case.register_no,
                                              "state": e.to_state, "note": e.note})
                         for e in entries])


def do_clock_warnings(clocks: Sequence[CaseClock], now: dt.datetime) -> None:
    """预警: these clocks have used their warning share; the timeline and the outbox say so.
    The sweep calls this with the clocks (and their cases) it has claimed and locked."""
    with transaction.atomic():
        CaseClock.objects.filter(pk__in=[c.pk for c in clocks]).update(warned_at=now)
        entries = []
        for clock in clocks:
            assert clock.deadline is not None
            clock.warned_at = now
            state = clock.case.state
            entries.append(_Entry(clock.case, "sla_warning", state, state,
                                  f"{clock.name}即将到期", {
                                      "clock": clock.code,
                                      "deadline": clock.deadline.isoformat()}))
        _record(entries)


def supervision_deadline(now: dt.datetime) -> tuple[dt.date, str]:
    """Two working days to answer an automatic supervision; if the calendar lacks the year,
    two days, and the supervision says why (never a silent guess)."""
    try:
        return timezone.localtime(workcal.current().add_working_days(now, 2)
                                  - dt.timedelta(seconds=1)).date(), ""
    except CalendarNotCovered as e:
        return (timezone.localdate(now) + dt.timedelta(days=2),
                f"（{e.year}年日历未录入，督办期限按自然日计）")


def do_clock_breaches(clocks: Sequence[CaseClock], now: dt.datetime,
                      due: tuple[dt.date, str] | None = None) -> None:
    """超时: for each breached clock, escalate its case one level, open an automatic
    supervision (a yellow card, a red one if the case was supervised before), and where the
    policy says so make a written reply due.

    The sweep calls this with the clocks (and their cases) it has claimed and locked, once
    per clock. The decisions are made clock by clock in memory, in deadline order, so two
    clocks of one case breaching together act as if swept one after the other; the writes
    are one statement per kind. `due` is the supervision deadline, computed once a sweep."""
    deadline, why = due or supervision_deadline(now)
    with transaction.atomic():
        CaseClock.objects.filter(pk__in=[c.pk for c in clocks]).update(breached_at=now)
        cases = {c.case_id: c.case for c in clocks}
        supervised = set(Supervision.objects.filter(case__in=list(cases))
                         .values_list("case", flat=True).distinct())
        entries: list[_Entry] = []
        cards: list[tuple[Case, str, str]] = []
        escalated: set[int] = set()
        replies: set[int] = set()
        for clock in clocks:
            case = cases[clock.case_id]
            assert clock.deadline is not None
            clock.breached_at = now
            reason = f"{clock.name}超时（期限 {timezone.localtime(clock.deadline):%Y-%m-%d %H:%M}）"
            entries.append(_Entry(case, "sla_breach", case.state, case.state, reason,
                                  {"clock": clock.code}))
            up = LEVEL_ABOVE.get(case.handling_level)
            if up is not None:
                entries.append(_Entry(case, "escalate", case.state, case.state, reason, {
                    "from_level": case.handling_level, "to_level": up, "automatic": True}))
                case.handling_level = up
                escalated.add(case.pk)
            level = Supervision.Level.RED if case.pk in supervised else Supervision.Level.YELLOW
            supervised.add(case.pk)
            cards.append((case, level, reason + why))
            entries.append(_Entry(case, "supervise", case.state, case.state, reason,
                                  {"level": level, "automatic": True}))
            if clock.on_breach == "reply_due" and case.state in STEPS["reply_due"].sources:
                entries.append(_Entry(case, "reply_due", case.state, State.REPLY_DUE,
                                      "超期未办结，须向反映人书面答复",
                                      {"previous": case.state, "automatic": True}))
                case.state = State.REPLY_DUE
                replies.add(case.pk)
        by_level: dict[str, list[int]] = {}
        for pk in escalated:
            by_level.setdefault(cases[pk].handling_level, []).append(pk)
        for handling_level, ids in by_level.items():
            Case.objects.filter(pk__in=ids).update(handling_level=handling_level)
        if replies:
            Case.objects.filter(pk__in=replies).update(state=State.REPLY_DUE)
        opened_at = connection.ops.adapt_datetimefield_value(timezone.now())
        insert_rows(Supervision, ["case", "level", "reason", "deadline", "opened_at"], (
            (case.pk, card, text[:200], connection.ops.adapt_datefield_value(deadline),
             opened_at) for case, card, text in cards))
        _record(entries)


def do_fill_clock_deadlines(clocks: list[CaseClock]) -> int:
    """Clocks that waited for a year of the calendar get their deadline once it is entered;
    the timeline says so. Returns how many were filled."""
    filled = 0
    with transaction.atomic():
        for clock in clocks:
            sla.set_deadline(clock, workcal.current())
            if clock.deadline is None:
                continue
            clock.save(update_fields=["deadline", "warn_at", "calendar_missing"])
            _event(clock.case, None, "sla_deadline", clock.case.state, clock.name,
                   clock=clock.code, deadline=clock.deadline.isoformat())
            filled += 1
    return filled


def do_notify(case: Case, users: Sequence[AbstractBaseUser], *, kind: str, note: str,
              source: str) -> int:
    """提醒: tell these people of their case. `source` is the outbox message's idempotency
    key: the first delivery of a message decides who is told, and a message delivered again
    (the worker died before recording the send) adds nobody — not even someone who has
    become responsible since. Returns how many were told."""
    if kind not in Notification.Kind.values:
        raise CaseError("kind", f"must be one of {', '.join(Notification.Kind.values)}")
    with transaction.atomic():
        if Notification.objects.filter(source=source).exists():
            return 0
        made = Notification.objects.bulk_create(
            [Notification(user_id=u.pk, case=case, kind=kind, note=note[:200], source=source)
             for u in users], ignore_conflicts=True)  # (two workers racing past the check)
        return len(made)


def do_mark_notifications_read(user: AbstractBaseUser, pks: Sequence[int] | None = None) -> int:
    """Mark the user's own notifications read: these, or all of them. Returns how many."""
    unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    return unread.update(read_at=timezone.now())
