"""Read shapes of disputes, built only from what `access` returns: a dispute as lists show
it (parties masked unless the caller may see them whole), screening coverage of the basic
grids in scope, open disputes by risk and kind, the mediators' workload.

Lists name records from `access.visible_disputes` (sensitive ones left out for those who
may not see them); numbers that name no record (by kind × risk, per mediator) count from
`access.counted_disputes` (sensitive ones counted)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.utils import timezone

from wangge.disputes import access
from wangge.disputes.models import (
    Agreement,
    Dispute,
    DisputeKind,
    Event,
    FollowUp,
    Party,
    Risk,
    Screening,
    ScreeningRule,
    Session,
    Signature,
)
from wangge.territory.models import Grid


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def dispute_row(d: Dispute, whole: bool = False) -> dict[str, Any]:
    """A dispute as lists, the field app and exports show it: parties masked unless
    `whole` (the caller decides with access.sees_parties); the account only when whole.
    Wants kind, grid, handling_grid, mediator selected and parties prefetched."""
    return {
        "id": d.pk, "number": d.number, "kind": d.kind.code, "kind_name": d.kind.name,
        "grid": d.grid.code, "grid_name": d.grid.name, "subject": d.subject,
        "account": d.account if whole else "",
        "amount": str(d.amount) if d.amount is not None else None,
        "risk": d.risk, "risk_name": d.get_risk_display(), "source": d.source,
        "sensitive": d.sensitive, "state": d.state, "state_name": d.get_state_display(),
        "level": d.level, "level_name": d.get_level_display(),
        "handling_grid": d.handling_grid.code, "handling_grid_name": d.handling_grid.name,
        "mediator_id": d.mediator_id,
        "mediator": d.mediator.name if d.mediator_id else None,
        "stage": d.stage, "due_at": _iso(d.due_at), "warned": d.warned_at is not None,
        "late": d.breached_at is not None and bool(d.stage),
        "reported_at": _iso(d.reported_at), "settled_at": _iso(d.settled_at),
        "closed_at": _iso(d.closed_at), "screening_id": d.screening_id,
        "case_id": d.case_id, "visit_id": d.visit_id, "opinion_id": d.opinion_id,
        "parties": [party_row(p, whole=whole) for p in d.parties.all()],
        "version": _iso(d.updated_at),
    }


def rows_of(qs: Any) -> Any:
    """The related rows dispute_row reads, in a few queries."""
    return qs.select_related("kind", "grid", "handling_grid", "mediator").prefetch_related(
        "parties")


def screening_row(s: Screening) -> dict[str, Any]:
    return {"id": s.pk, "grid": s.grid.code, "grid_name": s.grid.name, "period": s.period,
            "period_start": s.period_start.isoformat(), "screened_at": _iso(s.screened_at),
            "screened_by": s.screened_by_id, "mediator_id": s.mediator_id, "nil": s.nil,
            "note": s.note,
            "disputes": list(s.disputes.order_by("pk").values_list("number", flat=True))}


def session_row(s: Session) -> dict[str, Any]:
    return {"id": s.pk, "dispute_id": s.dispute_id, "held_at": _iso(s.held_at),
            "place": s.place, "level": s.level, "mediator_id": s.mediator_id,
            "attendees": s.attendees, "notes": s.notes, "photo_hashes": list(s.photo_hashes)}


def signature_row(s: Signature) -> dict[str, Any]:
    a: Agreement = s.agreement
    return {"id": s.pk, "agreement_id": s.agreement_id, "agreement": a.number,
            "party_id": s.party_id, "method": s.method, "signed_at": _iso(s.signed_at),
            "complete": a.signed_at is not None}


def follow_up_row(f: FollowUp) -> dict[str, Any]:
    return {"id": f.pk, "dispute_id": f.dispute_id, "at": _iso(f.at), "by": f.by_id,
            "honoured": f.honoured, "note": f.note, "state": f.dispute.state}


def party_row(party: Party, *, whole: bool) -> dict[str, Any]:
    """A party as pages and the API show it: masked unless `whole` (names only; contact
    data opens through do_reveal_party)."""
    return {
        "id": party.pk, "role": party.role, "role_name": party.get_role_display(),
        "kind": party.kind, "resident_id": party.resident_id,
        "name": party.name if whole else party.name_masked,
        "phone": party.phone_masked, "id_number": party.id_number_masked,
        "has_phone": bool(party.phone_masked), "has_id_number": bool(party.id_number_masked),
    }


# -- coverage -------------------------------------------------------------------------------


def period_start(period: str, day: dt.date) -> dt.date:
    """The first day of the screening period (week from Monday, or month) holding `day`."""
    if period == ScreeningRule.Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def rule_periods(paths: dict[int, str]) -> dict[int, str]:
    """The screening period (month / week) of each grid {pk: path}: the rule of the deepest
    grid at or above it, month without any. One query for all of them."""
    above: set[str] = set()
    for path in paths.values():
        parts = path.strip("/").split("/")
        above.update("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
    rules = dict(ScreeningRule.objects.filter(grid__path__in=above)
                 .values_list("grid__path", "period"))
    out = {}
    for pk, path in paths.items():
        held = [r for r in rules if path.startswith(r)]
        out[pk] = rules[max(held, key=len)] if held else ScreeningRule.Period.MONTH
    return out


def _starts(period: str, day: dt.date | None, month: dt.date | None,
            today: dt.date) -> list[dt.date]:
    """The periods to look at: the one holding `day`; or each period of `month` that has
    begun (its weeks up to today's, the first one reaching back before the 1st)."""
    if month is None:
        assert day is not None
        return [period_start(period, day)]
    first = month.replace(day=1)
    if period != ScreeningRule.Period.WEEK:
        return [first]
    last = min((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
               - dt.timedelta(days=1), max(today, first))
    week, out = period_start(period, first), []
    while week <= last:
        out.append(week)
        week += dt.timedelta(days=7)
    return out


def coverage(user: AbstractBaseUser, day: dt.date | None = None, *,
             month: dt.date | None = None, under: Grid | None = None) -> dict[str, Any]:
    """Every basic grid in the user's scope (below `under` if given), judged under its own
    screening rule (month or week): for `day` (default today), the period holding it; for
    `month` (any day of it), every period of the month begun so far — a weekly grid is
    missing while one of those weeks has no return (`periods`, `returned` say how many).

    Each row: grid_id, code, name, community, period, period_start (the first period
    looked at), periods, returned, status (screened: a return listing disputes / nil: only
    nil returns / missing), screening_id and screened_at (the latest return), disputes and
    high_risk (found by those returns; sensitive ones counted, none named). With totals."""
    today = timezone.localdate()
    if day is None and month is None:
        day = today
    qs = access.screening_grids(user)
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    grids = list(qs.order_by("path").values("pk", "code", "name", "path", "parent__name"))
    periods = rule_periods({g["pk"]: g["path"] for g in grids})
    starts = {g["pk"]: _starts(periods[g["pk"]], day, month, today) for g in grids}
    returns: dict[int, list[dict[str, Any]]] = {}
    for s in Screening.objects.filter(
            grid_id__in=[g["pk"] for g in grids],
            period_start__in={x for v in starts.values() for x in v}).order_by(
            "screened_at").values("pk", "grid_id", "period_start", "nil", "screened_at"):
        if s["period_start"] in starts[s["grid_id"]]:
            returns.setdefault(s["grid_id"], []).append(s)
    found = {r["screening_id"]: r for r in access.counted_disputes(user).filter(
        screening_id__in=[s["pk"] for v in returns.values() for s in v]).values(
        "screening_id").annotate(n=Count("pk"), high=Count("pk", filter=Q(risk=Risk.HIGH)))}
    rows = []
    for g in grids:
        got = returns.get(g["pk"], [])
        if len(got) < len(starts[g["pk"]]):
            status = "missing"
        else:
            status = "nil" if all(s["nil"] for s in got) else "screened"
        latest = got[-1] if got else None
        rows.append({
            "grid_id": g["pk"], "code": g["code"], "name": g["name"],
            "community": g["parent__name"], "period": periods[g["pk"]],
            "period_start": starts[g["pk"]][0].isoformat(),
            "periods": len(starts[g["pk"]]), "returned": len(got), "status": status,
            "screening_id": latest["pk"] if latest else None,
            "screened_at": _iso(latest["screened_at"]) if latest else None,
            "disputes": sum(found.get(s["pk"], {}).get("n", 0) for s in got),
            "high_risk": sum(found.get(s["pk"], {}).get("high", 0) for s in got)})
    totals = {k: sum(1 for r in rows if r["status"] == k)
              for k in ("screened", "nil", "missing")}
    return {"day": _iso(day), "month": _iso(month.replace(day=1)) if month else None,
            "grids": rows, "totals": {**totals, "grids": len(rows),
                                      "disputes": sum(r["disputes"] for r in rows)}}


# -- open disputes by risk and kind ---------------------------------------------------------


def open_by_risk_and_kind(user: AbstractBaseUser) -> dict[str, Any]:
    """Open disputes (registered, mediating, agreed awaiting follow-up) of the user's scope,
    per kind × risk; every kind listed (zeros too), in the kinds' order."""
    counts: dict[tuple[int, str], int] = {
        (r["kind_id"], r["risk"]): r["n"] for r in access.counted_disputes(user).filter(
            state__in=access.OPEN_STATES).values("kind_id", "risk").annotate(n=Count("pk"))}
    rows = []
    for k in DisputeKind.objects.order_by("order", "code"):
        by_risk = {r: counts.get((k.pk, r), 0) for r in Risk.values}
        rows.append({"kind": k.code, "kind_name": k.name, **by_risk,
                     "total": sum(by_risk.values())})
    totals = {r: sum(row[r] for row in rows) for r in Risk.values}
    return {"rows": rows, "totals": {**totals, "total": sum(totals.values())}}


# -- the mediators' workload ----------------------------------------------------------------


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def workload(user: AbstractBaseUser, month_start: dt.date | None = None
             ) -> list[dict[str, Any]]:
    """Per mediator of the disputes of the user's scope (sensitive ones counted, none
    named): open now (waiting to be taken up, mediating, agreed awaiting the follow-up),
    late (a running stage past its deadline), and for the month of `month_start` (this
    month by default; Asia/Shanghai): agreements made, referrals, and the success rate
    (agreements ÷ agreements + referrals, as the analytics metric 调解成功率). Mediators
    with nothing open and nothing ended that month are left out. `mediator_id` and
    `agreements_this_month` repeat `id` and `agreements` for the earlier readers."""
    start = (month_start or timezone.localdate()).replace(day=1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(next_month(start), dt.time.min))
    opened = Q(state__in=access.OPEN_STATES)
    rows = (access.counted_disputes(user).filter(mediator__isnull=False)
            .values("mediator_id", "mediator__name")
            .annotate(
                open=Count("pk", filter=opened, distinct=True),
                registered=Count("pk", filter=Q(state=Dispute.State.REGISTERED),
                                 distinct=True),
                mediating=Count("pk", filter=Q(state=Dispute.State.MEDIATING), distinct=True),
                agreed=Count("pk", filter=Q(state=Dispute.State.AGREED), distinct=True),
                late=Count("pk", filter=opened & Q(breached_at__isnull=False) & ~Q(stage=""),
                           distinct=True),
                agreements=Count("pk", filter=Q(agreement__made_at__gte=since,
                                                agreement__made_at__lt=until), distinct=True),
                referred=Count("pk", filter=Q(referral__referred_at__gte=since,
                                              referral__referred_at__lt=until),
                               distinct=True))
            .order_by("mediator__name", "mediator_id"))
    out = []
    for r in rows:
        ended = r["agreements"] + r["referred"]
        if not (r["open"] or ended):
            continue
        out.append({"id": r["mediator_id"], "name": r["mediator__name"], **{
            k: r[k] for k in ("open", "registered", "mediating", "agreed", "late",
                              "agreements", "referred")},
            "rate": round(100 * r["agreements"] / ended) if ended else None,
            "mediator_id": r["mediator_id"], "agreements_this_month": r["agreements"]})
    out.sort(key=lambda r: (-r["open"], -r["agreements"], r["name"]))
    return out


#: the timeline's events whose note carries what the parties said (a follow-up's answer,
#: the reason a follow-up reopened the mediation): shown only with the parties whole, like
#: the account, the sessions' attendees and notes and the follow-ups' notes
PARTY_WORDS_EVENTS = frozenset({Event.Kind.FOLLOWED_UP, Event.Kind.REOPENED})


def event_note(e: Event, *, whole: bool) -> str:
    return e.note if whole or e.kind not in PARTY_WORDS_EVENTS else ""
