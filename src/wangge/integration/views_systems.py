"""/console/systems/: the external systems (12345, 数字城管) as the center's dispatchers work
them — per system its adapter, open orders, dead letters with a resend per failed order, the
calls it made to us (refusals highlighted), drift found by reconciliation, and the category
mapping with a form to add or fix a row (the usual repair: fix the mapping, then resend)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wangge.cases.actions.external import do_recall
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import CaseCategory, ExternalOrder
from wangge.integration import queries
from wangge.integration.access import check_work_systems
from wangge.integration.actions.external import AdapterError, do_resend_order, do_set_mapping
from wangge.org.models import Department

#: a mapping row's fields as the form names them (an error names one of these)
MAPPING_LABELS = {
    "category": gettext_lazy("我方小类编码"),
    "their_code": gettext_lazy("对方分类编码"),
    "their_parent_code": gettext_lazy("对方大类编码"),
    "their_name": gettext_lazy("对方分类名称"),
    "their_kind": gettext_lazy("对方类型"),
}


class MappingForm(forms.Form):
    category = forms.CharField(label=MAPPING_LABELS["category"], max_length=16)
    their_code = forms.CharField(label=MAPPING_LABELS["their_code"], max_length=32)
    their_parent_code = forms.CharField(label=MAPPING_LABELS["their_parent_code"],
                                        max_length=32, required=False)
    their_name = forms.CharField(label=MAPPING_LABELS["their_name"], max_length=100,
                                 required=False)
    their_kind = forms.CharField(label=MAPPING_LABELS["their_kind"], max_length=8,
                                 required=False)

    def clean_category(self) -> CaseCategory:
        code = self.cleaned_data["category"].strip()
        category = CaseCategory.objects.filter(code=code).first()
        if category is None:
            raise forms.ValidationError(_("没有编码为 %(code)s 的事件分类") % {"code": code})
        if category.parent_id is None:
            raise forms.ValidationError(
                _("%(code)s 是大类：请映射它下面的小类") % {"code": code})
        return category


def _system(code: str) -> Department:
    system = Department.objects.filter(kind=Department.Kind.EXTERNAL, code=code).select_related(
        "adapter").first()
    if system is None:
        raise Http404("no such external system")
    return system


@login_required
@require_GET
def systems_page(request: HttpRequest) -> HttpResponse:
    check_work_systems(request.user)
    return render(request, "integration/systems/index.html", {"rows": queries.system_rows()})


def _system_page(request: HttpRequest, system: Department, *, form: MappingForm | None = None,
                 status: int = 200) -> HttpResponse:
    adapter = getattr(system, "adapter", None)
    context: dict[str, Any] = {
        "system": system, "adapter": adapter,
        "orders": queries.system_orders(system),
        "dead": queries.system_dead_letters(system),
        "inbound": queries.inbound_calls(adapter),
        "drift": queries.system_drift(system),
        "mappings": queries.mappings(adapter),
        "form": form or MappingForm(),
    }
    return render(request, "integration/systems/system.html", context, status=status)


@login_required
@require_GET
def system_page(request: HttpRequest, code: str) -> HttpResponse:
    check_work_systems(request.user)
    return _system_page(request, _system(code))


@login_required
@require_POST
def resend_order(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    check_work_systems(request.user)
    system = _system(code)
    order = get_object_or_404(ExternalOrder, pk=pk, system=system)
    try:
        do_resend_order(order, actor=request.user)
    except (IllegalTransition, CaseError):
        messages.error(request, _("转办单 %(no)s 不是发送失败状态，无需重发。")
                       % {"no": order.our_no})
    else:
        messages.success(request, _("转办单 %(no)s 已重新排队发送。") % {"no": order.our_no})
    return redirect("systems:system", code=system.code)


@login_required
@require_POST
def recall_order(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """收回: a failed order's case back to the dispatcher, to dispatch elsewhere."""
    check_work_systems(request.user)
    system = _system(code)
    order = get_object_or_404(ExternalOrder, pk=pk, system=system)
    try:
        case = do_recall(order, request.user,
                         reason=request.POST.get("reason") or _("转外部系统失败，收回改派"))
    except (IllegalTransition, CaseError, PermissionDenied) as e:
        messages.error(request, _("转办单 %(no)s 不能收回：%(why)s") % {"no": order.our_no,
                                                                  "why": e})
        return redirect("systems:system", code=system.code)
    messages.success(request, _("事件 %(no)s 已收回，请重新派遣。") % {"no": case.register_no})
    return redirect("cases:case", case.register_no)


@login_required
@require_POST
def set_mapping(request: HttpRequest, code: str) -> HttpResponse:
    check_work_systems(request.user)
    system = _system(code)
    adapter = getattr(system, "adapter", None)
    if adapter is None:
        messages.error(request, _("该系统还没有配置接口，不能设置分类映射。"))
        return redirect("systems:system", code=system.code)
    form = MappingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            mapping = do_set_mapping(adapter, data["category"], actor=request.user,
                                     their_code=data["their_code"],
                                     their_parent_code=data["their_parent_code"],
                                     their_name=data["their_name"],
                                     their_kind=data["their_kind"])
        except AdapterError as e:
            form.add_error(e.field if e.field in form.fields else None, str(e))
        else:
            messages.success(request, _("分类映射已保存：%(ours)s → %(theirs)s") % {
                "ours": mapping.category.code, "theirs": mapping.their_code})
            return redirect("systems:system", code=system.code)
    return _system_page(request, system, form=form, status=400)
