"""部门职责清单 in the console: list the rules, add or change one, delete one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wangge.cases import access, actions
from wangge.cases.errors import CaseError
from wangge.cases.labels import FIELD_LABELS
from wangge.cases.models import CaseCategory
from wangge.org.models import Department


@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            rule = actions.do_set_duty_rule(
                request.user, category=request.POST.get("category", ""),
                grid=request.POST.get("grid", "").strip(),
                department=request.POST.get("department", ""),
                external_system=request.POST.get("external_system", ""))
        except CaseError as e:
            messages.error(request, f"{FIELD_LABELS.get(e.field, e.field)}: {e}")
        except PermissionDenied as e:
            messages.error(request, str(e))
        else:
            messages.success(request, str(rule))
        return redirect("cases:rules")
    rules = access.visible_duty_rules(request.user).select_related(
        "category", "grid", "department").order_by("category__code", "grid__path")
    return render(request, "cases/rules.html", {
        "rules": rules, "categories": CaseCategory.objects.order_by("code"),
        "departments": Department.objects.filter(kind=Department.Kind.DEPARTMENT)
        .order_by("name"),
        "systems": Department.objects.filter(kind=Department.Kind.EXTERNAL).order_by("name"),
    })


@login_required
@require_POST
def delete_rule(request: HttpRequest, pk: int) -> HttpResponse:
    rule = access.visible_duty_rules(request.user).select_related(
        "category", "grid").filter(pk=pk).first()
    if rule is None:
        raise Http404("no such rule")
    try:
        actions.do_delete_duty_rule(request.user, rule)
    except PermissionDenied as e:
        messages.error(request, str(e))
    return redirect("cases:rules")
