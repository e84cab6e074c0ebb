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
    FollowUp,
    Party,
    Risk,
    Screening,
    Session,
    Signature,
)
from wangge.org.models import Person


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


def coverage(user: AbstractBaseUser, period_start: dt.date) -> dict[str, Any]:
    """Every basic grid in the user's scope for the period starting `period_start`:
    screened (with disputes), nil (a nil return) or missing, with the disputes found and the
    high-risk ones (visible ones only), and the totals."""
    grids = list(access.screening_grids(user).select_related("parent").order_by("path")
                 .values("pk", "code", "name", "parent__name"))
    returns = {s["grid_id"]: s for s in Screening.objects.filter(
        period_start=period_start, grid_id__in=[g["pk"] for g in grids]).values(
        "pk", "grid_id", "nil", "screened_at")}
    found = {r["screening_id"]: r for r in access.counted_disputes(user).filter(
        screening_id__in=[s["pk"] for s in returns.values()]).values("screening_id").annotate(
        n=Count("pk"), high=Count("pk", filter=Q(risk=Risk.HIGH)))}
    rows = []
    for g in grids:
        s = returns.get(g["pk"])
        status = "missing" if s is None else ("nil" if s["nil"] else "screened")
        n = found.get(s["pk"], {}) if s else {}
        rows.append({"grid_id": g["pk"], "code": g["code"], "name": g["name"],
                     "community": g["parent__name"], "status": status,
                     "screened_at": _iso(s["screened_at"]) if s else None,
                     "disputes": n.get("n", 0), "high_risk": n.get("high", 0)})
    totals = {k: sum(1 for r in rows if r["status"] == k)
              for k in ("screened", "nil", "missing")}
    return {"period_start": period_start.isoformat(), "grids": rows,
            "totals": {**totals, "grids": len(rows),
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


def workload(user: AbstractBaseUser, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per mediator of the user's scope (current disputes assigned to them): open
    (registered, mediating or agreed awaiting follow-up), mediating, late (a running
    stage past its deadline), agreements made this month (Asia/Shanghai)."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    scope = access.counted_disputes(user).filter(mediator__isnull=False)
    per = {r["mediator_id"]: r for r in scope.values("mediator_id").annotate(
        open=Count("pk", filter=Q(state__in=access.OPEN_STATES)),
        mediating=Count("pk", filter=Q(state=Dispute.State.MEDIATING)),
        late=Count("pk", filter=Q(state__in=access.OPEN_STATES, breached_at__isnull=False)
                   & ~Q(stage="")))}
    agreements = dict(Agreement.objects.filter(
        dispute__in=access.counted_disputes(user), made_at__gte=since).values(
        "mediator_id").annotate(n=Count("pk")).values_list("mediator_id", "n"))
    ids = set(per) | set(agreements)
    names = dict(Person.objects.filter(pk__in=ids).values_list("pk", "name"))
    out = []
    for pk in ids:
        r = per.get(pk, {})
        out.append({"mediator_id": pk, "name": names.get(pk, ""),
                    "open": r.get("open", 0), "mediating": r.get("mediating", 0),
                    "late": r.get("late", 0), "agreements_this_month": agreements.get(pk, 0)})
    out.sort(key=lambda r: (-r["open"], -r["agreements_this_month"], r["name"]))
    return out
