"""Read shapes of the GeoReport endpoints, built only from `cases.access` (requests:
`listed_public_cases()`, the kinds about places and things; a token: `public_cases()`, it
names only a number) and `public_categories()`.

A page of requests is one query: the cases of a `created_at` range, newest first, with a
LIMIT (the index on created_at answers it), their department, rule, grid names and resident
report joined, and the time of the last timeline event and the deadline of the running (or
else the latest) SLA clock as correlated subqueries that touch only the rows on the page.
The resident-facing categories are a second, small query (`fields.Shaper`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from wangge.cases.access import listed_public_cases, public_cases, public_categories
from wangge.cases.models import Case, CaseClock, CaseEvent, PublicCategory, ResidentReport
from wangge.cases.workflow import FINAL
from wangge.open311.fields import DEFAULT_DAYS, PAGE, default_kinds
from wangge.workcal.policies import UnknownPolicy, clocks_for

#: only the columns a request record shows (joins: department, rule, three grid levels, the
#: resident's report; all single-valued, so a case is one row)
_COLUMNS = (
    "register_no", "state", "title", "channel", "lng", "lat", "created_at",
    "category_id", "department__name", "routed_by__department__name",
    "grid__name", "grid__parent__name", "grid__parent__parent__name",
    "resident_report__address", "resident_report__media_url",
    "resident_report__public_category_id",
)


@dataclass
class Filters:
    ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    status: set[str] = field(default_factory=set)


def _shaped(qs: QuerySet[Case]) -> QuerySet[Any]:
    """Plain values of the columns a request shows (no model instances: 1,000 cases with
    seven joined objects each were most of a page's time)."""
    last_event = (CaseEvent.objects.filter(case=OuterRef("pk"))
                  .order_by("-at", "-id").values("at")[:1])
    running_first = SqlCase(When(status=CaseClock.Status.RUNNING, then=Value(0)),
                            default=Value(1), output_field=IntegerField())
    deadline = (CaseClock.objects.filter(case=OuterRef("pk"), deadline__isnull=False)
                .annotate(running=running_first)
                .order_by("running", "-started_at", "-id").values("deadline")[:1])
    return (qs.annotate(last_event_at=Subquery(last_event), clock_deadline=Subquery(deadline))
            .values(*_COLUMNS, "last_event_at", "clock_deadline"))


def categories() -> list[PublicCategory]:
    return list(public_categories())


def service(code: str) -> PublicCategory | None:
    return public_categories().filter(code=code).first()


def _of_services(qs: QuerySet[Case], chosen: list[PublicCategory],
                 kinds: list[PublicCategory]) -> QuerySet[Case]:
    """The cases `fields.Shaper` lists under one of the chosen services: a resident's case
    under the category they chose while it is of that kind, any other under its kind's
    first category. The kinds' case categories come first, as a plain IN: with the
    (category, created_at) index a page of one service over a million cases reads about
    its own 1,000 rows (34 → 3 ms in EXPLAIN ANALYZE) instead of the whole window's."""
    defaults = default_kinds(kinds)
    report_kind = "resident_report__public_category_id"
    which = Q(pk__in=[])  # no case, then OR each kind of case in turn
    # per case category (a few): ids only, no join to the categories, so the planner keeps
    # the index walk and looks each case's report up by its key
    for category_id in sorted({k.category_id for k in chosen}):
        of_kind = [k.pk for k in kinds if k.category_id == category_id]
        mine = [k.pk for k in chosen if k.category_id == category_id]
        which |= Q(category_id=category_id, **{f"{report_kind}__in": mine})
        if defaults[category_id] in chosen:  # also what no standing choice names
            which |= Q(category_id=category_id) & (
                Q(**{f"{report_kind}__isnull": True}) | ~Q(**{f"{report_kind}__in": of_kind}))
    return qs.filter(category_id__in={k.category_id for k in chosen}).filter(which)


def requests_page(f: Filters, kinds: list[PublicCategory],
                  now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """GET requests: by id (the other filters are ignored, as the spec says), else by
    service, window (default: the last 90 days) and status; newest first, at most 1,000."""
    qs = listed_public_cases()
    if f.ids:
        return list(_shaped(qs.filter(register_no__in=f.ids)).order_by("-created_at")[:PAGE])
    if f.codes:
        qs = _of_services(qs, [k for k in kinds if k.code in f.codes], kinds)
    # at most 90 days: from start_date on, up to end_date, else back from end_date / now
    span = dt.timedelta(days=DEFAULT_DAYS)
    if f.start and not f.end:
        start, end = f.start, min(f.start + span, now or timezone.now())
    else:
        end = f.end or (now or timezone.now())
        start = f.start or (end - span)
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    if f.status == {"open"}:
        qs = qs.exclude(state__in=FINAL)
    elif f.status == {"closed"}:
        qs = qs.filter(state__in=FINAL)
    return list(_shaped(qs).order_by("-created_at", "-id")[:PAGE])


def request(register_no: str) -> dict[str, Any] | None:
    return _shaped(listed_public_cases().filter(register_no=register_no)).first()


def by_token(token: str) -> Case | None:
    """The public case a POST's token stands for."""
    return public_cases().filter(resident_report__token=token).only("register_no").first()


def report_token(case: Case) -> str:
    return ResidentReport.objects.values_list("token", flat=True).get(case=case)


def promise(case: Case) -> str:
    """service_notice of a new request: registered within the working day, and the
    working-day promise of its kind's SLA policy (its longest clock), if it has one."""
    text = "我们已收到，将在一个工作日内核实登记；登记后可凭编号查询办理进度。"
    policy = case.category.sla_policy
    try:
        specs = clocks_for(policy) if policy else []
    except UnknownPolicy:
        specs = []
    days = [s for s in specs if s.unit == "working_days"]
    if days:
        longest = max(days, key=lambda s: s.amount)
        text += f"我们将在{int(longest.amount)}个工作日内处理。"
    return text
