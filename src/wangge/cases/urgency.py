"""How urgent a case is, for the queues: its card (黄牌/红牌督办), whether a running SLA clock
is breached or in warning, the nearest running deadline, and the working time left until it.

The columns are annotations (Exists / Subquery), so a page of a queue costs the same number
of queries whatever its length; the time left is computed for the rows of one page from the
working-day calendar (`wangge.workcal`), never from calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    F,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as When_
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases import access
from wangge.cases.models import Case, CaseClock, Supervision
from wangge.cases.workflow import FINAL
from wangge.workcal.deadlines import CalendarNotCovered, WorkCalendar, to_shanghai

#: the card a case carries, as the rank the queues sort by
RED, YELLOW, NONE = 2, 1, 0
CARD_NAMES = {RED: "red", YELLOW: "yellow", NONE: ""}


def with_urgency(qs: QuerySet[Case], now: dt.datetime | None = None) -> QuerySet[Case]:
    """Annotate `card` (2 red, 1 yellow, 0 none), `breached` and `warned` (a running clock
    past its deadline or warning time — whether or not the sweep has marked it yet, as
    `access` judges 超期), `due` (the nearest deadline of a running clock) and `due_missing`
    (a year the calendar lacks for a running clock whose deadline is not known yet)."""
    now = now or timezone.now()
    running = CaseClock.objects.filter(case=OuterRef("pk"), status=CaseClock.Status.RUNNING)
    cards = Supervision.objects.filter(case=OuterRef("pk"))
    # Few cases have a running clock or a supervision: a set computed once marks them, and
    # only their rows run the correlated subqueries (CASE evaluates lazily), so sorting the
    # whole city costs about as much as sorting by date.
    live = Q(pk__in=CaseClock.objects.filter(status=CaseClock.Status.RUNNING)
             .values("case_id"))
    carded = Q(pk__in=Supervision.objects.filter(
        level__in=[Supervision.Level.RED, Supervision.Level.YELLOW]).values("case_id"))

    def if_live(expression: Any, output: Field, default: Any = None) -> When_:
        return When_(When(live, then=expression), default=Value(default),
                     output_field=output)

    return qs.annotate(
        card=When_(When(carded, then=When_(
            When(Exists(cards.filter(level=Supervision.Level.RED)), then=Value(RED)),
            When(Exists(cards.filter(level=Supervision.Level.YELLOW)), then=Value(YELLOW)),
            default=Value(NONE))), default=Value(NONE), output_field=IntegerField()),
        # 超期 as access defines it, the one definition every surface reads
        breached=if_live(Exists(access.late_clocks(now).filter(case=OuterRef("pk"))),
                         BooleanField(), False),
        warned=if_live(Exists(running.filter(Q(warned_at__isnull=False) | Q(warn_at__lt=now))),
                       BooleanField(), False),
        due=if_live(Subquery(running.filter(deadline__isnull=False).order_by("deadline")
                             .values("deadline")[:1]), DateTimeField()),
        due_missing=if_live(Subquery(running.filter(calendar_missing__isnull=False)
                                     .order_by("calendar_missing")
                                     .values("calendar_missing")[:1]), IntegerField()),
    )


def by_urgency(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Most urgent first: an open case's red card before a yellow one before none, then a
    breached clock before one in warning before the rest, then the nearest deadline (cases
    without a running deadline last), then the newest. Closed cases keep their card in the
    column but do not rise for it."""
    open_card = When_(When(state__in=list(FINAL), then=Value(NONE)), default=F("card"),
                      output_field=IntegerField())
    return qs.alias(open_card=open_card).order_by(
        F("open_card").desc(), F("breached").desc(), F("warned").desc(),
        F("due").asc(nulls_last=True), F("created_at").desc(), F("pk").desc())


@dataclass(frozen=True)
class TimeLeft:
    """Working time from now to a deadline (negative once it has passed)."""

    us: int  # microseconds of office time
    per_day: int  # office time of one working day
    overdue: bool  # the deadline has passed (even with no office time since)

    def __str__(self) -> str:
        left = abs(self.us)
        days, rest = divmod(left, self.per_day)
        minutes = rest // 60_000_000
        hours, minutes = divmod(minutes, 60)
        parts = []
        if days:
            parts.append(_("%d 个工作日") % days)
        if hours:
            parts.append(_("%d 小时") % hours)
        if minutes and not days:
            parts.append(_("%d 分") % minutes)
        if not parts:
            return _("刚超时") if self.overdue else _("即将到期")
        text = " ".join(parts)
        return (_("超 %s") if self.overdue else _("剩 %s")) % text


def _office_between(cal: WorkCalendar, a: dt.datetime, b: dt.datetime) -> int:
    """Office time between a and b (a <= b), counted on working days only."""
    oh = cal.office_hours
    la, lb = to_shanghai(a), to_shanghai(b)

    def tod(t: dt.datetime) -> int:
        return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond

    if la.date() == lb.date():
        if not cal.is_workday(la.date()):
            return 0
        return oh.used_before(tod(lb)) - oh.used_before(tod(la))
    first = oh.per_day - oh.used_before(tod(la)) if cal.is_workday(la.date()) else 0
    last = oh.used_before(tod(lb)) if cal.is_workday(lb.date()) else 0
    return first + cal.working_days_between(a, b) * oh.per_day + last


def time_left(cal: WorkCalendar, now: dt.datetime, deadline: dt.datetime | None
              ) -> TimeLeft | None:
    """The working time left until `deadline`, or None when there is no deadline or the
    calendar does not cover a day between now and it (shown as "—", never guessed)."""
    if deadline is None:
        return None
    try:
        if deadline >= now:
            us = _office_between(cal, now, deadline)
        else:
            us = -_office_between(cal, deadline, now)
    except CalendarNotCovered:
        return None
    return TimeLeft(us, cal.office_hours.per_day, deadline < now)


def in_order(qs: QuerySet[Case], ids: Iterable[int]) -> list[Case]:
    """The cases of `qs` with these ids, in the order given. A queue sorts the ids alone
    (narrow rows) and reads its full rows only for the page it shows."""
    ids = list(ids)
    found = {c.pk: c for c in qs.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]
