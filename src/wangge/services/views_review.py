"""The department's reviewer inbox (`/console/services/review/`) and the service hall's
console landing page (`services:home`, which sends each role to its page).

The inbox lists the department's applications: 待预审 by due time with the overdue ones (超期,
escalated by the clock sweep) first, 退回补正 (waiting on the applicant), and the decided
ones. An application's page shows each material of the pinned guide with its files of every
round (pictures inline through the access-checked file view, PDFs as downloads), the verdict
per material, and the decision with its reason. Thin: reads through services.access and
services.application_queries, writes through services.actions.applications."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core.schema import MAX_ID, form_text
from wangge.services import access
from wangge.services import application_queries as queries
from wangge.services.actions import applications as actions
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import Application, MaterialCheck, MaterialFile

#: rows per section: the overdue and waiting ones by due time (the most urgent first), the
#: returned and decided ones newest first; the heading gives the whole count
SECTION_ROWS = 100


class CheckForm(forms.Form):
    material_key = form_text(MaterialFile, "material_key")
    verdict = forms.ChoiceField(choices=MaterialCheck.Verdict.choices)
    reason = form_text(MaterialCheck, "reason", required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("pass", "pass"), ("return", "return"),
                                          ("reject", "reject")])
    reason = form_text(Application, "reason", required=False)


def _first_url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def landing_links(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the service hall's console pages this user may open. The proxy board
    and the catalogue are other slices' pages: linked only once their URLs exist."""
    links: list[tuple[str, str]] = []
    if reviews_any(user):
        links.append((_("预审收件箱"), reverse("services:review")))
    board = _first_url("services:proxy_board")
    if board and access.sees_some_proxy_board(user):
        links.append((_("代办看板"), board))
    catalogue = _first_url("services:catalogue")
    if catalogue and access.can_edit_catalogue(user):
        links.append((_("事项目录"), catalogue))
    return links


def reviews_any(user: Any) -> bool:
    return access.is_reviewer(user)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """便民服务: straight to the user's page when there is one, else the choices."""
    links = landing_links(request.user)
    if len(links) == 1:
        return redirect(links[0][1])
    return render(request, "services/review/home.html", {
        "links": links, "hall": _first_url("services_public:hall")})


def _inbox_set(user: Any) -> QuerySet[Application]:
    if not reviews_any(user):
        raise Http404("no inbox")
    qs = access.visible_applications(user).select_related("item", "department", "grid")
    departments = access.review_departments(user)
    return qs.filter(department_id__in=departments) if departments else qs


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = _inbox_set(request.user)
    now = timezone.now()
    submitted = qs.filter(state=Application.State.SUBMITTED)
    overdue = queries.overdue(submitted, now).order_by("due_at", "pk")
    waiting = submitted.exclude(due_at__lte=now).order_by("due_at", "submitted_at", "pk")
    returned = qs.filter(state=Application.State.RETURNED).order_by("-decided_at", "-pk")
    decided = qs.filter(state__in=[Application.State.PASSED, Application.State.REJECTED]
                        ).order_by("-decided_at", "-pk")
    sections = [(code, label, [queries.row(a, now) for a in rows[:SECTION_ROWS]], rows.count())
                for code, label, rows in (
                    ("overdue", _("超期"), overdue), ("waiting", _("待预审"), waiting),
                    ("returned", _("退回补正（等待申请人）"), returned),
                    ("decided", _("已办结"), decided))]
    return render(request, "services/review/inbox.html", {"sections": sections})


def _rounds(materials: list[dict[str, Any]]) -> list[int]:
    return sorted({f["round"] for m in materials for f in m["files"]})


@login_required
def application(request: HttpRequest, pk: int) -> HttpResponse:
    if pk > MAX_ID:
        raise Http404("no such application")
    a = access.access_application(request.user, pk)
    data = queries.detail(a, follow_code=access.can_apply_for(request.user, a))
    reviewing = (a.state == Application.State.SUBMITTED
                 and access.can_review(request.user, a))
    return render(request, "services/review/application.html", {
        "a": data, "reviewing": reviewing, "rounds": _rounds(data["materials"]),
        "verdicts": MaterialCheck.Verdict.choices,
        "decisions": [("pass", _("预审通过")), ("return", _("退回补正")),
                      ("reject", _("不予通过"))],
    })


def _back(pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("services:review_application", args=[pk]) + anchor)


def _refused(request: HttpRequest, e: Exception) -> None:
    messages.error(request, e.msg if isinstance(e, ServiceError) else str(e))


@login_required
@require_POST
def check(request: HttpRequest, pk: int) -> HttpResponse:
    if pk > MAX_ID:
        raise Http404("no such application")
    a = access.access_application(request.user, pk)
    form = CheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审查结果并检查理由的长度。"))
        return _back(pk)
    key = form.cleaned_data["material_key"]
    try:
        actions.do_check_material(request.user, a, key, form.cleaned_data["verdict"],
                                  form.cleaned_data["reason"])
    except (ServiceError, IllegalStep) as e:
        _refused(request, e)
    else:
        messages.success(request, _("已记录审查结果。"))
    return _back(pk, f"#m-{key}")


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    if pk > MAX_ID:
        raise Http404("no such application")
    a = access.access_application(request.user, pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择预审结论。"))
        return _back(pk)
    try:
        actions.do_decide(request.user, a, form.cleaned_data["decision"],
                          form.cleaned_data["reason"])
    except (ServiceError, IllegalStep) as e:
        _refused(request, e)
        return _back(pk, "#decide")
    messages.success(request, _("预审结论已保存，申请人会收到通知。"))
    return redirect("services:review")


@login_required
def material_file(request: HttpRequest, pk: int, file_id: int) -> FileResponse:
    if pk > MAX_ID or file_id > MAX_ID:
        raise Http404("no such file")
    return queries.serve_file(access.access_material_file(request.user, pk, file_id),
                              request.user)
