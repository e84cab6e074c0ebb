"""满意度评价 and 不满意重办: one rule (FeedbackRule, data) for every way a closed case is rated
— the resident on the status page, a dispatcher recording the follow-up call (回访, also the
loop's `evaluate` step), an Open311 client.

A rating either ends the case (evaluated, with its satisfaction) or, when the rule says so,
reopens it for rework by the same department: the level is one of the rule's reopen levels,
the case was closed no more than `reopen_within_days` calendar days ago (counted on
Asia/Shanghai dates from `closed_at`), and it has been reopened fewer than `max_reopens`
times. A reopen counts as rework (`rework_count`) and as a reopen (`reopen_count`).

Clocks on a reopen: closing stopped every clock. The clocks whose goal lies beyond the state
the case goes back to (in_progress) — in the seeded policies the handling clock 办结/修复,
goal `handled` — start again from the reopen with their full amount, as 12345 practice gives
a reworked order a fresh time limit; the clocks already met before (到场处置, goal
in_progress) stay met: the department is on the case already. The clock row is reused (one
clock per code and case); the first round's deadline, warnings and breach stay on the
timeline.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from wangge.cases import access
from wangge.cases.actions import clocks
from wangge.cases.actions.common import record_event
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import Case, CaseClock, FeedbackRule, Rating
from wangge.cases.workflow import STEPS, State
from wangge.core import audit, outbox
from wangge.territory.models import Grid
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered

COMMENT_MAX = 500
DEFAULTS = {"reopen_levels": [1, 2], "reopen_within_days": 15, "max_reopens": 1,
            "followup_after_days": 2, "followup_channels": ["resident"]}
#: the goals still ahead of a case reopened to in_progress (their clocks run again)
LINE_AFTER_REOPEN = clocks.LINE[clocks.LINE.index(State.IN_PROGRESS) + 1:]


def feedback_rule() -> FeedbackRule:
    """The one rule (pk=1), created with the defaults the first time it is read."""
    return FeedbackRule.objects.get_or_create(pk=1, defaults=DEFAULTS)[0]


def days_since_close(case: Case, now: dt.datetime) -> int | None:
    """Calendar days from the close to now, on local dates (closed today: 0)."""
    if case.closed_at is None:
        return None
    return (timezone.localdate(now) - timezone.localdate(case.closed_at)).days


def reopens(rule: FeedbackRule, level: int, days: int | None, reopen_count: int) -> bool:
    """Whether a rating of `level`, `days` after the close, reopens a case already reopened
    `reopen_count` times (the rule, as a pure function the tests check against)."""
    return (level in [int(v) for v in rule.reopen_levels or []] and days is not None
            and 0 <= days <= rule.reopen_within_days and reopen_count < rule.max_reopens)


def _level(level: object) -> int:
    try:
        value = int(level)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5 or str(level).strip() not in {str(value), f"{value}.0"}:
        raise CaseError("level", "请选择满意度：1（非常不满意）到 5（非常满意）")
    return value


def _may_record_followup(actor: AbstractBaseUser | AnonymousUser | None, case: Case) -> None:
    """A follow-up call is recorded by the case's dispatchers (or its reporter)."""
    if actor is None or not actor.is_authenticated or not (
            access.actor_kinds(actor, case) & STEPS["evaluate"].actors):
        raise PermissionDenied("only the case's dispatchers record a follow-up call")


def followup_due_before(now: dt.datetime, working_days: int) -> dt.datetime:
    """回访 is due for a case closed before this moment: at least `working_days` working
    days (from workcal, holidays and make-up days included) follow its close day up to
    today — closed on a Monday with 2, due from Wednesday; on a Saturday, from Tuesday.
    Where the calendar lacks a year the days are counted as Monday to Friday (a list to
    call, not a deadline: no reason to hide it)."""
    calendar = workcal.current()
    day, counted = timezone.localdate(now), 0
    # step back over the working days after the close day, today included: a case closed
    # on `day` or before has at least `working_days` of them
    while counted < working_days:
        try:
            working = calendar.is_workday(day)
        except CalendarNotCovered:
            working = day.weekday() < 5
        counted += int(working)
        day -= dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def do_rate(case: Case, level: int, comment: str, *, via: str,
            actor: AbstractBaseUser | AnonymousUser | None = None) -> Rating:
    """Rate a closed case (5 = 非常满意 … 1 = 非常不满意) and apply the FeedbackRule.

    `via="resident"` and `via="open311"` trust the caller to have checked the follow code
    or the key (the resident has no login); `via="followup"` needs an actor who dispatches
    the case (or reported it). Raises CaseError (level, comment, via), IllegalTransition
    (the case is not closed: open, or already rated) or PermissionDenied; nothing is
    written then."""
    if via not in Rating.Via.values:
        raise CaseError("via", f"one of {', '.join(Rating.Via.values)}")
    value = _level(level)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise CaseError("comment", f"评价意见最多 {COMMENT_MAX} 个字")
    rule = feedback_rule()
    user = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("grid", "category").get(
            pk=case.pk)
        if case.state != State.CLOSED:
            raise IllegalTransition(
                "这件事已经评价过了" if case.state == State.EVALUATED
                else "只有已办结的事件可以评价")
        if via == Rating.Via.FOLLOWUP:
            _may_record_followup(actor, case)
        now = timezone.now()
        reopen = reopens(rule, value, days_since_close(case, now), case.reopen_count)
        rating = Rating.objects.create(case=case, level=value, comment=comment, via=via,
                                       entered_by=user, reopened=reopen)
        data = {"level": value, "via": via, "rating": rating.pk}
        if reopen:
            record_event(case, user, "rate", case.state, comment, reopened=True, **data)
            case.state = State.IN_PROGRESS
            case.rework_count += 1
            case.reopen_count += 1
            case.closed_at = None
            case.closeout_reason = ""
            case.save()
            _restart_clocks(case, now)
            record_event(case, user, "reopen", State.CLOSED, comment,
                         reopen_count=case.reopen_count, **data)
        else:
            case.state = State.EVALUATED
            case.satisfaction = value
            if via == Rating.Via.FOLLOWUP:
                case.followup_note = comment
            case.save()
            clocks.on_transition(case, "evaluate", now)
            record_event(case, user, "evaluate", State.CLOSED, comment, **data)
    return rating


def _restart_clocks(case: Case, now: dt.datetime) -> None:
    """The clocks whose goal is still ahead of the reopened case run again from now with
    their full amount (see the module's docstring)."""
    calendar = workcal.current()
    for clock in case.clocks.filter(goal__in=LINE_AFTER_REOPEN):
        clock.status = CaseClock.Status.RUNNING
        clock.started_at = now
        clock.paused_at = clock.met_at = clock.warned_at = clock.breached_at = None
        clocks.set_deadline(clock, calendar)
        clock.save()


def do_set_feedback_rule(actor: AbstractBaseUser, *, reopen_levels: list[int],
                         reopen_within_days: int, max_reopens: int,
                         followup_after_days: int,
                         followup_channels: list[str]) -> FeedbackRule:
    """Change the rule (the admin saves through this): the city's admins and dispatchers
    only; audited, announced in the outbox. Ratings already given keep their outcome."""
    city = Grid.objects.filter(level=0).first()
    if not (actor.is_superuser or (city is not None and access.can_manage_rules(actor, city))):
        raise PermissionDenied("only the center's admins and dispatchers set the rule")
    try:
        levels = sorted({int(v) for v in reopen_levels})
    except (TypeError, ValueError):
        raise CaseError("reopen_levels", "levels from 1 to 5") from None
    if not set(levels) <= {1, 2, 3, 4, 5}:
        raise CaseError("reopen_levels", "levels from 1 to 5")
    channels = sorted({str(c) for c in followup_channels})
    if not set(channels) <= set(Case.Channel.values):
        raise CaseError("followup_channels", f"among {', '.join(Case.Channel.values)}")
    for name, value in (("reopen_within_days", reopen_within_days),
                        ("max_reopens", max_reopens),
                        ("followup_after_days", followup_after_days)):
        if not isinstance(value, int) or not 0 <= value <= 365:
            raise CaseError(name, "a whole number from 0 to 365")
    values = {"reopen_levels": levels, "reopen_within_days": reopen_within_days,
              "max_reopens": max_reopens, "followup_after_days": followup_after_days,
              "followup_channels": channels}
    with transaction.atomic():
        rule, _created = FeedbackRule.objects.update_or_create(pk=1, defaults=values)
        audit.record("cases.feedback_rule_set", actor=actor, object_type="feedback_rule",
                     object_id=rule.pk, **values)
        outbox.enqueue("cases.feedback_rule_set", values)
    return rule
