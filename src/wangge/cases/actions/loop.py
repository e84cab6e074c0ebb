"""The closed loop's transitions (workflow.STEPS) and the four systems' records:
consultations and assignments, supervision, merging duplicates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from wangge.cases import access
from wangge.cases.actions import clocks
from wangge.cases.actions.common import LEVEL_ABOVE, record_event
from wangge.cases.actions.external import on_case_closed, on_case_resumed, open_transfer
from wangge.cases.actions.rating import do_rate
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import Assignment, Case, Consultation, Supervision
from wangge.cases.routing import describe_rule, route
from wangge.cases.workflow import STEPS, Actor, State
from wangge.org.models import Department


def do_transition(case: Case, action: str, actor: AbstractBaseUser,
                  **fields: Any) -> Case:
    step = STEPS.get(action)
    if step is None:
        raise CaseError("action", f"unknown action {action!r}")
    if action == "reopen":  # 不满意重办 follows a rating under the rule, never a button
        if case.state not in step.sources:
            raise IllegalTransition(f"cannot {action} a case that is {case.state}")
        raise IllegalTransition("a case is reopened by an unsatisfied rating (do_rate), "
                                "not by hand")
    if action == "evaluate":
        return _evaluate(case, actor, fields)
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
        clocks.on_transition(case, action, timezone.now())
        record_event(case, actor, action, before, note, **extra)
        if action in ("dispatch", "verify_fail") and case.department is not None \
                and case.department.is_external:
            # 转12345 / 数字城管: the adapter sends it. After a failed on-the-spot check the
            # system gets a new order (their first one is handled and over on their side)
            open_transfer(case, case.department)
        elif action == "close":
            on_case_closed(case)  # the reply to a system that sent us this case
        elif action in ("resume", "reply"):
            on_case_resumed(case)  # what a system said meanwhile applies now
            case.refresh_from_db()
    return case


def _evaluate(case: Case, actor: AbstractBaseUser, fields: dict[str, Any]) -> Case:
    """回访 as a loop step: the rating goes through do_rate (via followup), so the
    FeedbackRule holds here too (an unsatisfied score may reopen the case). Checked in the
    order of every other step: state, who, fields."""
    if case.state not in STEPS["evaluate"].sources:
        raise IllegalTransition(f"cannot evaluate a case that is {case.state}")
    if not access.actor_kinds(actor, case) & STEPS["evaluate"].actors:
        raise PermissionDenied("you may not evaluate this case")
    try:
        score = int(fields.get("satisfaction"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise CaseError("satisfaction", "a rating from 1 to 5")
    do_rate(case, score, str(fields.get("followup_note") or ""), via="followup", actor=actor)
    return Case.objects.select_related("grid", "category").get(pk=case.pk)


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
    if action == "return":  # the timeline keeps the department it came back from
        returned_by = case.department.code if case.department is not None else None
        case.department = None
        return {"department": returned_by}
    elif action == "verify_fail":
        case.rework_count += 1
    elif action == "close" and case.assignments.filter(closed_at__isnull=True).exists():
        raise CaseError("assignments", "every assignment must be closed (with feedback) first")
    if action in ("close", "cancel", "reject"):
        case.closeout_reason = str(fields.get("closeout_reason") or fields.get("reason"))[:200]
        case.closed_at = now
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
    """分流交办: to the department the dispatcher chose, else the duty rule's target. A
    confidential case never goes to an external system (涉密事件不外转), whatever the rule."""
    code = fields.get("department")
    if code:
        dept = Department.objects.filter(code=code).first()
        if dept is None:
            raise CaseError("department", f"no department {code}")
        _check_not_outside(case, dept)
        case.department = dept
        return {"department": dept.code, "rule": None, "rule_text": f"调度员指定 → {dept.name}"}
    rule = case.routed_by or route(case.category, case.grid)
    if rule is None:
        raise CaseError("department", "no duty rule matches: choose a department")
    _check_not_outside(case, rule.department)
    case.routed_by = rule
    case.department = rule.department  # of kind `external`: transferred to that system
    return {"department": rule.department.code, "rule": rule.pk,
            "rule_text": describe_rule(rule)}


def _check_not_outside(case: Case, dept: Department) -> None:
    if case.confidential and dept.is_external:
        raise CaseError("department", f"a confidential case is never sent to an external "
                                      f"system ({dept.code}): choose a department")


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
        record_event(case, actor, "consult", case.state, decision,
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
        record_event(assignment.case, actor, "assignment_feedback", assignment.case.state, feedback,
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
        record_event(assignment.case, actor, "assignment_close", assignment.case.state,
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
        record_event(case, actor, "supervise", case.state, reason, level=level,
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
        clocks.on_transition(dup, "merge", timezone.now())
        record_event(dup, actor, "merge", before, dup.closeout_reason, master=master.register_no)
        record_event(master, actor, "absorb", master.state, duplicate=dup.register_no)
    return master

