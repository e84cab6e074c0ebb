"""Console pages of disputes (矛盾纠纷) under /console/disputes/: the list (open disputes by
risk and kind, filters, high-risk alerts), one dispute with the forms of the next moves,
and its printable agreement (调解协议书) with the signatures' images. The coverage map and
the mediators' workload are in views_figures.py.

Thin: scope from disputes.access, every write through a do_* of disputes.actions; a do_*'s
refusal is shown beside the field it names, with the page answered 4xx (nothing written:
each do_* is one transaction)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core.schema import MAX_ID
from wangge.disputes import access, queries
from wangge.disputes.actions import mediation, outcome, records, screening
from wangge.disputes.errors import IllegalMove
from wangge.disputes.forms import (
    STEP_FORMS,
    AcceptForm,
    AssignForm,
    ReferForm,
    RevealForm,
    SignForm,
    StepForm,
)
from wangge.disputes.models import (
    Agreement,
    Alert,
    Dispute,
    DisputeKind,
    Party,
    Referral,
    Risk,
    Signature,
)
from wangge.fieldwork.actions.uploads import do_upload
from wangge.fieldwork.errors import FieldworkError
from wangge.org.access import TERRITORY_READ_ROLES, in_scope
from wangge.org.models import Department
from wangge.territory.models import Grid

PER_PAGE = 50
#: the moves the page offers in each state (the do_* decides again on POST)
STEPS_BY_STATE: dict[str, list[str]] = {
    Dispute.State.REGISTERED: ["accept", "session", "escalate", "withdraw", "sensitive"],
    Dispute.State.MEDIATING: ["session", "agree", "assign", "refer", "escalate",
                              "withdraw", "sensitive"],
    Dispute.State.AGREED: ["sign", "follow_up", "sensitive"],
}


# -- the list -------------------------------------------------------------------------------

def _grid_choices(user: Any) -> QuerySet[Grid]:
    """Towns and communities of the user's scope, for the grid filter."""
    return Grid.objects.filter(in_scope(user, roles=TERRITORY_READ_ROLES),
                               level__in=[2, 3]).order_by("path")


def _filter_grid(request: HttpRequest) -> Grid | None:
    code = (request.GET.get("grid") or "").strip()[:40]
    if not code:
        return None
    grid = _grid_choices(request.user).filter(code=code).first()
    if grid is None:
        raise Http404("no such grid in your scope")
    return grid


def _query(request: HttpRequest) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


def risk_table(user: Any) -> dict[str, Any]:
    """queries.open_by_risk_and_kind with a heat class (0–4) per cell for the coloured
    table (sensitive disputes counted, never named)."""
    table = queries.open_by_risk_and_kind(user)
    risks = [r for r, _label in Risk.choices]
    top = max((row[r] for row in table["rows"] for r in risks), default=0)

    def heat(n: int) -> int:
        return 0 if n == 0 or top == 0 else min(4, 1 + (4 * (n - 1)) // top)

    rows = [{**row, "cells": [{"n": row[r], "heat": heat(row[r]), "risk": r} for r in risks]}
            for row in table["rows"]]
    return {"risks": Risk.choices, "rows": rows,
            "totals": [table["totals"][r] for r in risks], "total": table["totals"]["total"]}


#: unseen alerts listed at most on the page (the count says how many there are)
ALERTS_SHOWN = 20


def _alerts(user: Any) -> tuple[list[Alert], int]:
    """The user's unseen high-risk alerts, newest first, and how many there are."""
    unseen = access.visible_alerts(user).filter(seen_at__isnull=True)
    shown = list(unseen.select_related("dispute", "dispute__kind", "dispute__grid")
                 .order_by("-raised_at", "-pk")[:ALERTS_SHOWN])
    return shown, (len(shown) if len(shown) < ALERTS_SHOWN else unseen.count())


@login_required
def index(request: HttpRequest) -> HttpResponse:
    grid = _filter_grid(request)
    qs = access.visible_disputes(request.user)
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    state = request.GET.get("state", "open")
    if state == "open":
        qs = qs.filter(state__in=access.OPEN_STATES)
    elif state == "late":
        qs = qs.filter(state__in=access.OPEN_STATES, breached_at__isnull=False)
    elif state in Dispute.State.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    risk = request.GET.get("risk", "")
    if risk in Risk.values:
        qs = qs.filter(risk=risk)
    else:
        risk = ""
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind__code=kind)
    alerts, alerts_total = _alerts(request.user)
    rows = (qs.select_related("kind", "grid", "mediator")
            .prefetch_related("parties").order_by("-reported_at", "-pk"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "disputes/index.html", {
        "page": page, "query": _query(request), "table": risk_table(request.user),
        "grid": grid, "grids": _grid_choices(request.user), "state": state, "risk": risk,
        "kind": kind, "kinds": DisputeKind.objects.all(), "risks": Risk.choices,
        "states": Dispute.State.choices, "alerts": alerts, "alerts_total": alerts_total,
        # high-risk sensitive disputes alerting the user's body, counted, never named
        "unnamed_alerts": access.unnamed_alerts(request.user),
        "now": timezone.now(),
    })


@login_required
@require_POST
def alert_seen(request: HttpRequest, pk: int) -> HttpResponse:
    if pk > MAX_ID:
        raise Http404("no such alert")
    screening.do_see_alert(request.user, pk)
    messages.success(request, _("预警已阅。"))
    return redirect("disputes:index")


# -- one dispute ----------------------------------------------------------------------------

def _dispute(request: HttpRequest, pk: int) -> Dispute:
    if pk > MAX_ID:
        raise Http404("no such dispute")
    return access.access_dispute(request.user, pk)


def _mediator_choices(d: Dispute) -> list[tuple[int, str]]:
    return [(p.pk, p.name) for p in access.mediator_candidates(d.handling_grid)]


def _unsigned(d: Dispute) -> list[Party]:
    agreement = Agreement.objects.filter(dispute=d).first()
    if agreement is None:
        return []
    signed = set(agreement.signatures.values_list("party_id", flat=True))
    return [p for p in d.parties.all() if p.pk not in signed]


def _make_form(step: str, d: Dispute, data: Any = None, files: Any = None) -> StepForm:
    cls = STEP_FORMS[step]
    kw: dict[str, Any] = {}
    if cls in (AcceptForm, AssignForm):
        kw["mediators"] = _mediator_choices(d)
    elif cls is SignForm:
        kw["parties"] = [(p.pk, f"{p.get_role_display()} {p.name_masked}") for p in _unsigned(d)]
    elif cls is ReferForm:
        kw["departments"] = list(Department.objects.filter(kind=Department.Kind.DEPARTMENT)
                                 .order_by("name").values_list("pk", "name"))
    if step == "sensitive" and data is None:
        kw["initial"] = {"sensitive": d.sensitive}
    return cls(data, files, **kw) if data is not None else cls(**kw)


def _steps(user: Any, d: Dispute) -> list[str]:
    if not access.can_mediate(user, d):
        return ["follow_up"] if (d.state == Dispute.State.AGREED
                                 and access.can_follow_up(user, d)) else []
    steps = list(STEPS_BY_STATE.get(d.state, []))
    if "sign" in steps and not _unsigned(d):
        steps.remove("sign")
    return steps


def _render_dispute(request: HttpRequest, d: Dispute, *, bound: StepForm | None = None,
                    revealed: dict[int, dict[str, Any]] | None = None,
                    reveal_form: tuple[int, RevealForm] | None = None,
                    status: int = 200) -> HttpResponse:
    user = request.user
    whole = access.sees_parties(user, d)
    steps = _steps(user, d)
    if bound is not None and bound.step not in steps:
        steps.append(bound.step)
    forms = [bound if bound is not None and bound.step == s else _make_form(s, d)
             for s in steps]
    revealed = revealed or {}
    parties = [{"p": p, "name": p.name if whole else p.name_masked,
                "revealed": revealed.get(p.pk),
                "reveal_form": reveal_form[1] if reveal_form and reveal_form[0] == p.pk
                else RevealForm(prefix=f"reveal-{p.pk}"),
                "can_reveal": whole and p.resident_id is None
                and bool(p.phone_masked or p.id_number_masked)}
               for p in d.parties.all()]
    agreement = Agreement.objects.filter(dispute=d).first()
    referral = Referral.objects.filter(dispute=d).select_related("department", "case").first()
    return render(request, "disputes/dispute.html", {
        "d": d, "whole": whole, "parties": parties, "forms": forms,
        "events": [{"e": e, "note": queries.event_note(e, whole=whole)} for e in
                   d.events.select_related("actor", "actor__person").order_by("at", "pk")],
        "sessions": d.sessions.select_related("mediator").order_by("held_at", "pk"),
        "assignments": d.assignments.select_related("mediator", "handling_grid")
        .order_by("assigned_at", "pk"),
        "agreement": agreement,
        "signed": agreement.signatures.count() if agreement else 0,
        "referral": referral, "follow_ups": d.follow_ups.select_related("by"),
        "now": timezone.now(),
    }, status=status)


@login_required
def dispute_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_dispute(request, _dispute(request, pk))


DONE = {
    "accept": _("已受理。"), "assign": _("已改派调解员。"), "escalate": _("已上报上一级。"),
    "session": _("调解记录已保存。"), "agree": _("调解协议书已生成。"),
    "sign": _("签名已保存。"), "refer": _("已移交。"), "withdraw": _("已撤回。"),
    "follow_up": _("回访已保存。"), "sensitive": _("敏感标记已保存。"),
}


def _apply(user: Any, d: Dispute, form: StepForm, request: HttpRequest) -> None:
    """Call the step's do_* with what the form parsed."""
    c = form.cleaned_data
    step = form.step
    if step == "accept":
        mediation.do_accept(user, d.pk, mediator_id=c["mediator"])
    elif step == "assign":
        mediation.do_assign(user, d.pk, mediator_id=c["mediator"])
    elif step == "escalate":
        mediation.do_escalate(user, d.pk, reason=c["reason"])
    elif step == "session":
        mediation.do_record_session(user, {"dispute_id": d.pk, **form.payload()})
    elif step == "withdraw":
        mediation.do_withdraw(user, d.pk, reason=c["reason"])
    elif step == "agree":
        outcome.do_make_agreement(user, d.pk, terms=c["terms"], perform_by=c["perform_by"])
    elif step == "refer":
        outcome.do_refer(user, d.pk, body=c["body"], department_id=c["department"],
                         reason=c["reason"])
    elif step == "follow_up":
        outcome.do_record_follow_up(user, {"dispute_id": d.pk, **form.payload()})
    elif step == "sensitive":
        records.do_set_sensitive(user, d.pk, sensitive=c["sensitive"], reason=c["reason"])
    elif step == "sign":
        agreement = Agreement.objects.filter(dispute=d).first()
        if agreement is None:
            raise IllegalMove(d.state, "signed")
        # the scanned page is stored as the field app's uploads are; a refused signature
        # takes its upload row back with it
        with transaction.atomic():
            upload, _created = do_upload(user, c["file"].read(),
                                         getattr(c["file"], "content_type", "") or "")
            outcome.do_sign(user, {"agreement_id": agreement.pk, "party_id": c["party"],
                                   "image_hash": upload.sha256, "method": Signature.Method.SCAN,
                                   "signed_at": timezone.now().isoformat()})


@login_required
@require_POST
def step_view(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    d = _dispute(request, pk)
    if step not in STEP_FORMS:
        raise Http404("no such step")
    form = _make_form(step, d, request.POST, request.FILES)
    status = 422
    if form.is_valid():
        try:
            _apply(request.user, d, form, request)
        except FieldworkError as e:  # DisputeError, and the upload's refusals
            form.add_refusal(e.field, e.msg)
        except IllegalMove as e:
            form.add_error(None, _("当前状态（%(state)s）不能进行此操作。") % {
                "state": Dispute.State(e.state).label if e.state in Dispute.State.values
                else e.state})
            status = 409
        except PermissionDenied as e:
            form.add_error(None, str(e) or _("无权进行此操作。"))
            status = 403
        else:
            messages.success(request, DONE[step])
            return redirect(reverse("disputes:dispute", args=[d.pk]) + f"#{step}")
    # the dispute as it is now (a refused step changed nothing)
    return _render_dispute(request, _dispute(request, pk), bound=form, status=status)


@login_required
@require_POST
def reveal(request: HttpRequest, pk: int, party_pk: int) -> HttpResponse:
    """An outsider's contact data, opened with a purpose (logged by do_reveal_party)."""
    d = _dispute(request, pk)
    party = d.parties.filter(pk=party_pk).first() if party_pk <= MAX_ID else None
    if party is None:
        raise Http404("no such party")
    form = RevealForm(request.POST, prefix=f"reveal-{party.pk}")
    if form.is_valid():
        try:
            data = records.do_reveal_party(request.user, party.pk,
                                           purpose=form.cleaned_data["purpose"])
        except FieldworkError as e:
            form.add_refusal(e.field, e.msg)
        except PermissionDenied as e:
            form.add_error(None, str(e) or _("无权查看。"))
            return _render_dispute(request, d, reveal_form=(party.pk, form), status=403)
        else:
            return _render_dispute(request, d, revealed={party.pk: data})
    return _render_dispute(request, d, reveal_form=(party.pk, form), status=422)


# -- the agreement --------------------------------------------------------------------------

@login_required
def agreement_page(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dispute(request, pk)
    agreement = Agreement.objects.filter(dispute=d).select_related("mediator").first()
    if agreement is None or d.state not in (Dispute.State.AGREED, Dispute.State.CLOSED):
        # none yet, or one not honoured and the mediation reopened: no longer in force
        raise Http404("no agreement in force")
    whole = access.sees_parties(request.user, d)
    signatures = {s.party_id: s for s in agreement.signatures.all()}
    parties = [{"p": p, "name": p.name if whole else p.name_masked,
                "signature": signatures.get(p.pk)} for p in d.parties.all()]
    return render(request, "disputes/agreement.html", {
        "d": d, "a": agreement, "parties": parties, "whole": whole,
        "applicants": [x for x in parties if x["p"].role == Party.Role.APPLICANT],
        "respondents": [x for x in parties if x["p"].role != Party.Role.APPLICANT],
    })


@login_required
def signature_image(request: HttpRequest, pk: int, sig_pk: int) -> FileResponse:
    """A party's signature: only for those who see the parties whole."""
    d = _dispute(request, pk)
    if sig_pk > MAX_ID or not access.sees_parties(request.user, d):
        raise Http404("no such signature")
    sig = Signature.objects.filter(pk=sig_pk, agreement__dispute=d).select_related(
        "image").first()
    if sig is None:
        raise Http404("no such signature")
    try:
        f = sig.image.file.open("rb")
    except FileNotFoundError as e:
        raise Http404("the signature's file is missing") from e
    response = FileResponse(f, content_type=sig.image.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response

