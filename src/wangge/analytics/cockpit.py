"""The leaders' dashboard (驾驶舱): everything one wall screen shows, for one scope, as a
plain JSON-ready dict. The page (views_cockpit) draws it and fetches it again every few
seconds; nothing here knows about HTML.

Sections (docs/analytics.md, "The cockpit"):

- `headline`: the five counters of analytics.headline, today and cumulative.
- `flow`: today's cases reported (Case.created_at), handled (handle events) and closed
  (close events) per hour in Asia/Shanghai, confidential cases counted; and `ticker`, the
  latest case events of the scope — time, category, grid, action — never of a
  confidential case and never a title, a note or a person.
- `rates`: this month's 按期处置率, 结案率, 满意率 and 返工率 (analytics.figures.totals and
  analytics.metrics), None where the denominator is 0.
- `map`: this month's case density per grid of one level (analytics.hotspots.map_level:
  the deepest level with at most MAP_MAX_AREAS grids in the scope — a city's basic grids,
  a province's towns — or a deeper one the page asks for): every refresh has the numbers
  by grid code (`grids`), the outlines come only when asked for (`geojson`, the page asks
  once), from a cache per territory stamp, scope and level.
- `rankings`: this month's top 5 departments and the top and bottom 5 grids by composite
  score (analytics.ranking).
- `late`: the number of open late cases (cases.access.overdue, the one definition every
  surface reads; confidential ones counted) and the 10 late the longest, without the
  confidential ones.
- `disputes`: the open disputes (registered or being mediated) by risk, sensitive ones
  counted, never listed; this month's screening (排查) returns against those due
  (analytics.metrics' screening_rate) with the nil returns; this month's 调解成功率 and
  协议履行率 and what they are made of.

A section whose source is not available (a sibling module not built yet, or failing) is
None and named in `unavailable`, so the rest of the screen still shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.analytics.access import Scope
from wangge.analytics.headline import day_start, headline
from wangge.cases import access as case_access
from wangge.cases.labels import ACTION_LABELS
from wangge.cases.models import Case, CaseEvent
from wangge.cases.queries import late_reasons
from wangge.org.access import AnyUser

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: how long one scope's live figures (counters, today's flow, ticker, late cases) are reused
#: (seconds): several screens on one scope cost one computation, and a change shows within
#: this plus one refresh
CACHE_SECONDS = 3
#: the month's figures (rates, map, rankings) move slowly and cost the most: reused longer
MONTH_CACHE_SECONDS = 60
LIVE: tuple[str, ...] = ("headline", "flow", "ticker", "late")
MONTHLY: tuple[str, ...] = ("rates", "map", "rankings", "disputes")
#: the steps of the loop the ticker shows (internal events — photos, SLA marks, transfers —
#: are not news on a wall screen)
TICKER_ACTIONS: tuple[str, ...] = (
    "report", "register", "reject", "dispatch", "accept", "return", "start", "handle",
    "verify_pass", "verify_fail", "close", "evaluate", "reopen", "escalate", "cancel",
    "supervise", "reply",
)
TICKER_SIZE = 10
LATE_SIZE = 10
#: the most late case ids passed back as a list (see late_section)
LATE_IDS_MAX = 20_000
RANK_SIZE = 5
#: this month's rates shown, in order: metric code → label
RATES: tuple[str, ...] = ("on_time_handle_rate", "close_rate", "satisfaction_rate",
                          "rework_rate")


class Unavailable(Exception):
    """A section's source cannot answer (e.g. no active evaluation scheme)."""


def scope_key(scope: Scope) -> str:
    """A short stable name for a scope, for the cache."""
    text = repr((sorted(scope.paths) if scope.paths is not None else None,
                 sorted(scope.departments) if scope.departments is not None else None))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_data(user: AnyUser, scope: Scope, *, geometry: bool = False,
                map_level: int | None = None) -> dict[str, Any]:
    """`data` for the scope: the live sections reused for CACHE_SECONDS, the month's for
    MONTH_CACHE_SECONDS (each computed afresh once its time is up). The month's figures
    are cached without the map's outlines, which have their own cache (map_outlines), so
    a page asking for them once costs no recomputation of the numbers."""
    name = scope_key(scope)
    live_key = f"cockpit:{name}:live"
    month_key = f"cockpit:{name}:month:{map_level}"
    live = cache.get(live_key)
    if live is None:
        live = data(user, scope, parts=LIVE)
        cache.set(live_key, live, CACHE_SECONDS)
    month = cache.get(month_key)
    if month is None:
        month = data(user, scope, parts=MONTHLY, map_level=map_level)
        cache.set(month_key, month, MONTH_CACHE_SECONDS)
    out = {**month, **live, "unavailable": month["unavailable"] + live["unavailable"]}
    if geometry and out.get("map") is not None:
        out["map"] = {**out["map"], "geojson": map_outlines(scope, out["map"]["level"])}
    return out


def scope_cases(scope: Scope) -> QuerySet[Case]:
    """Every case in the scope, confidential ones included (for counting only)."""
    return Case.objects.filter(scope.grid_q("grid__path"))


def data(user: AnyUser, scope: Scope, *, now: dt.datetime | None = None,
         geometry: bool = False, parts: tuple[str, ...] = LIVE + MONTHLY,
         map_level: int | None = None) -> dict[str, Any]:
    """The dashboard's figures for `scope` (user: whose scope it is, for the headline):
    the sections named in `parts`."""
    now = now or timezone.now()
    local = timezone.localtime(now, SHANGHAI)
    today = local.date()
    month = today.replace(day=1)
    out: dict[str, Any] = {
        "as_of": local.isoformat(timespec="seconds"),
        "time": local.strftime("%H:%M:%S"),
        "today": today.isoformat(),
        "month": month.strftime("%Y-%m"),
        "unavailable": [],
    }
    sections: dict[str, Callable[[], Any]] = {
        "headline": lambda: headline_section(user, today),
        "flow": lambda: flow_section(scope, local),
        "ticker": lambda: ticker_section(scope),
        "rates": lambda: rates_section(scope, month, today),
        "map": lambda: map_section(scope, month, today, geometry=geometry, level=map_level),
        "rankings": lambda: rankings_section(scope, month, today),
        "late": lambda: late_section(scope, now),
        "disputes": lambda: disputes_section(scope, month, today),
    }
    for name, compute in sections.items():
        if name not in parts:
            continue
        try:
            out[name] = compute()
        except (ImportError, NotImplementedError, Unavailable) as e:
            # a sibling's module that is not there yet (or not yet what it promises):
            # the rest of the screen still shows; the log says why
            log.warning("cockpit section %s unavailable: %r", name, e)
            out[name] = None
            out["unavailable"].append(name)
    return out


# ---- the sections --------------------------------------------------------------------------

def headline_section(user: AnyUser, today: dt.date) -> dict[str, dict[str, int]]:
    return {"today": headline(user, since=today, until=today).as_dict(),
            "total": headline(user).as_dict()}


def _per_hour(qs: QuerySet, at: str, hours: int) -> list[int]:
    counts = [0] * hours
    for h, n in (qs.annotate(h=ExtractHour(at, tzinfo=SHANGHAI)).values("h")
                 .annotate(n=Count("id")).order_by().values_list("h", "n")):
        if h is not None and 0 <= h < hours:
            counts[h] += n
    return counts


def flow_section(scope: Scope, local: dt.datetime) -> dict[str, Any]:
    """Today's cases reported, handled and closed, per hour up to the current one."""
    start = day_start(local.date())
    hours = local.hour + 1
    cases = scope_cases(scope)
    events = CaseEvent.objects.filter(case__in=cases.values("pk"), at__gte=start)
    reported = _per_hour(cases.filter(created_at__gte=start), "created_at", hours)
    handled = _per_hour(events.filter(action="handle"), "at", hours)
    closed = _per_hour(events.filter(action="close"), "at", hours)
    return {
        "hours": [f"{h:02d}:00" for h in range(hours)],
        "reported": reported, "handled": handled, "closed": closed,
        "totals": {"reported": sum(reported), "handled": sum(handled), "closed": sum(closed)},
    }


def ticker_section(scope: Scope) -> list[dict[str, str]]:
    """The latest case events: never a confidential case; category and grid, not a title."""
    rows = (CaseEvent.objects
            .filter(action__in=TICKER_ACTIONS, case__confidential=False)
            .filter(scope.grid_q("case__grid__path"))
            .order_by("-at", "-pk")
            .values_list("pk", "at", "action", "case__category__name", "case__grid__name")
            [:TICKER_SIZE])
    today = timezone.localdate(timezone.now(), SHANGHAI)

    def when(at: dt.datetime) -> str:  # today's as 08:11, earlier ones with their day
        local = timezone.localtime(at, SHANGHAI)
        return local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")

    return [{"id": pk, "time": when(at),
             "day": timezone.localtime(at, SHANGHAI).date().isoformat(),
             "action": str(ACTION_LABELS.get(action, action)),
             "category": category or "", "grid": grid or ""}
            for pk, at, action, category, grid in rows]


def rates_section(scope: Scope, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    from wangge.analytics.figures import Query, totals
    from wangge.analytics.metrics import METRIC_BY_CODE, evaluate

    values = evaluate(totals(scope, Query(by="grid", since=since, until=until)))
    return [{"code": code, "name": METRIC_BY_CODE[code].name, "value": values.get(code),
             "higher_is_better": METRIC_BY_CODE[code].higher_is_better} for code in RATES]


#: how long a scope's map outlines are kept (seconds); the territory stamp is in the key,
#: so a new grid tree is drawn at once
OUTLINE_CACHE_SECONDS = 24 * 3600


def map_section(scope: Scope, since: dt.date, until: dt.date, *, geometry: bool,
                level: int | None = None) -> dict[str, Any]:
    """The month's density per grid of the map's level (hotspots.map_level, or `level`
    when at least that deep): the numbers by grid code, with the legend's class ranges;
    the outlines (`geojson`) only with `geometry`."""
    from wangge.analytics.hotspots import area_density, quantile_classes

    shallowest = _map_level(scope)
    level = shallowest if level is None else min(4, max(level, _floor(scope)))
    rows = area_density(scope, since=since, until=until, level=level)
    classes = quantile_classes([r.per_km2 for r in rows])
    ranges: dict[int, list[float]] = {0: [0.0, 0.0]}
    grids = {}
    for r, k in zip(rows, classes, strict=True):
        grids[r.code] = {"cases": r.cases, "class": k, "per_km2": r.per_km2, "name": r.name}
        if k:
            lo, hi = ranges.setdefault(k, [r.per_km2, r.per_km2])
            ranges[k] = [min(lo, r.per_km2), max(hi, r.per_km2)]
    out: dict[str, Any] = {
        "level": level, "default_level": shallowest, "grids": grids,
        "classes": [{"class": k, "min": lo, "max": hi} for k, (lo, hi) in sorted(ranges.items())],
        "total": sum(r.cases for r in rows),
    }
    if geometry:
        out["geojson"] = map_outlines(scope, level)
    return out


def _map_level(scope: Scope) -> int:
    """hotspots.map_level (kept per territory stamp and scope in the process)."""
    from wangge.analytics.hotspots import map_level

    return map_level(scope)


def _floor(scope: Scope) -> int:
    """The shallowest level the map may draw: the scope's deepest top grid."""
    return max((g.level for g in scope.top_grids()), default=0)


def map_outlines(scope: Scope, level: int) -> dict[str, Any]:
    """The outlines of the scope's grids of `level` (a FeatureCollection, properties code
    and name), kept per territory stamp, scope and level: built once, then a cache read."""
    from wangge.analytics.hotspots import area_outlines
    from wangge.analytics.rollup import territory_stamp

    key = f"cockpit:outlines:{territory_stamp()}:{scope_key(scope)}:{level}"
    found = cache.get(key)
    if found is None:
        found = area_outlines(scope, level)
        cache.set(key, found, OUTLINE_CACHE_SECONDS)
    return found


def _ranked(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"rank": r.rank, "label": r.label,
             "score": None if r.score is None else round(float(r.score), 1)} for r in rows]


def rankings_section(scope: Scope, since: dt.date, until: dt.date) -> dict[str, Any]:
    """This month's top departments, and the 红榜 / 黑榜 of the grids two levels below the
    scope's top (a city's towns, a town's basic grids), by the active schemes."""
    from wangge.analytics.ranking import board

    tops = scope.top_grids()
    level = min(4, min((g.level for g in tops), default=0) + 2)
    try:
        departments = board(scope, dim="department", since=since, until=until)
        grids = board(scope, dim="grid", since=since, until=until, level=level)
    except LookupError as e:  # no active evaluation scheme
        raise Unavailable(str(e)) from e
    # labels only for the rows shown (a province's level holds 100,000 basic grids)
    red, black = grids.red_black(RANK_SIZE)
    return {"departments": _ranked(departments.rows(0, min(RANK_SIZE, departments.scored))),
            "grid_level": level, "grids_top": _ranked(red), "grids_bottom": _ranked(black)}


def working_days_late(deadline: dt.datetime | dt.date | None, now: dt.datetime) -> int | None:
    """Working days after the deadline's day up to and including today (0: late since
    today); None when the calendar does not cover the days."""
    if deadline is None:
        return None
    from wangge.workcal.calendar import current

    if not isinstance(deadline, dt.datetime):
        deadline = timezone.make_aware(dt.datetime.combine(deadline, dt.time(12)), SHANGHAI)
    today = timezone.localtime(now, SHANGHAI).date()
    due_day = timezone.localtime(deadline, SHANGHAI).date()
    if due_day >= today:
        return 0
    try:
        cal = current()
        return cal.working_days_between(deadline, now) + int(cal.is_workday(today))
    except Exception:  # a year missing from the calendar: say nothing rather than guess
        return None


def late_section(scope: Scope, now: dt.datetime) -> dict[str, Any]:
    # A late case has a late clock, assignment or supervision: those few (a few thousand
    # at province scale, read through their indexes) are the candidates the one
    # definition (overdue) is then applied to — not every open case (108,000 at 2M
    # cases, read by the heap one by one). Found once, then counted and listed by id.
    candidates = (set(case_access.late_clocks(now).values_list("case_id", flat=True))
                  | set(case_access.late_assignments(now).values_list("case_id", flat=True))
                  | set(case_access.late_supervisions(now).values_list("case_id", flat=True)))
    late = scope_cases(scope).filter(case_access.overdue(now)).order_by()
    if len(candidates) <= LATE_IDS_MAX:
        late = late.filter(pk__in=sorted(candidates))
    found = list(late.values_list("pk", "confidential"))
    count = len(found)
    clock_due = Subquery(case_access.late_clocks(now).filter(case=OuterRef("pk"))
                         .order_by("deadline").values("deadline")[:1])
    plain = [pk for pk, secret in found if not secret]
    # a list of ids as a parameter while it is small; past that (a backlog of tens of
    # thousands, or SQLite's parameter limit) the overdue test again
    listed = (Case.objects.filter(pk__in=plain) if len(plain) <= LATE_IDS_MAX else
              scope_cases(scope).filter(case_access.overdue(now), confidential=False))
    shown = list(listed
                 .annotate(due=clock_due)
                 .order_by(F("due").asc(nulls_last=True), "created_at", "pk")
                 .select_related("category", "grid", "department")[:LATE_SIZE])
    rows = []
    for item in late_reasons(shown, now):
        due = item.reasons[0].deadline if item.reasons else None
        rows.append({
            "register_no": item.case.register_no,
            "category": item.case.category.name,
            "grid": item.case.grid.name,
            "department": item.department if item.case.department_id else _("中心（未分流）"),
            "days_late": working_days_late(due, now),
        })
    rows.sort(key=lambda r: -(r["days_late"] if r["days_late"] is not None else -1))
    return {"count": count, "cases": rows}


#: the disputes still to settle (waiting for a mediator, or being mediated)
OPEN_DISPUTES: tuple[str, ...] = ("registered", "mediating")


def disputes_section(scope: Scope, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Open disputes by risk (every one in the scope, sensitive ones included: numbers
    only), and this month's screening, mediation and follow-up figures from the same
    base counts the metrics pages read (analytics.figures)."""
    from wangge.analytics.figures import Query, totals
    from wangge.analytics.metrics import evaluate
    from wangge.disputes.models import Dispute, Risk

    counts = dict(Dispute.objects.filter(scope.grid_q("grid__path"), state__in=OPEN_DISPUTES)
                  .order_by().values("risk").annotate(n=Count("id")).values_list("risk", "n"))
    by_risk = [{"risk": code, "name": str(label), "count": counts.get(code, 0)}
               for code, label in reversed(Risk.choices)]  # high first
    base = totals(scope, Query(by="grid", since=since, until=until))
    values = evaluate(base)
    return {
        "open": sum(counts.values()), "by_risk": by_risk,
        "screenings": base.get("screenings", 0), "screenings_due": base.get("screenings_due", 0),
        "screenings_nil": base.get("screenings_nil", 0),
        "screening_rate": values.get("screening_rate"),
        "found": base.get("disputes_found", 0),
        "agreements": base.get("agreements", 0),
        "concluded": base.get("mediations_concluded", 0),
        "success_rate": values.get("mediation_success_rate"),
        "follow_ups": base.get("follow_ups", 0),
        "honour_rate": values.get("honour_rate"),
    }
