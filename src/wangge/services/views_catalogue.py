"""The catalogue console (`/console/services/catalogue/`): the list with its filters and
counts, an item's guide with its versions and what each changed, the draft form, publishing,
withdrawing, and the catalogue as a file (download and upload-import).

Everyone logged in reads the published catalogue; editing is for the catalogue's editors
(services.access.can_edit_catalogue) and every edit page is a 404 for anyone else. The draft
form is a plain form: list fields (aliases, steps, materials, FAQ) are rows of inputs with
the same names, read back by position; a "more rows" button asks the server for blank rows,
and services/catalogue.js adds and removes rows in place where JavaScript runs. Thin: reads
through services.access and services.catalogue_queries, writes through
services.actions.catalogue."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.org.models import Department
from wangge.services import access, exchange
from wangge.services import catalogue_queries as queries
from wangge.services.actions.catalogue import (
    MATERIAL_DEFAULTS,
    do_discard_draft,
    do_import_catalogue,
    do_publish,
    do_reactivate_item,
    do_save_draft,
    do_withdraw_item,
    version_row,
)
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import ItemLevel, ItemType, ItemVersion, LifeEvent, MaterialForm

PER_PAGE = 50
#: blank rows the form offers after the filled ones, per list
BLANK_ROWS = {"aliases": 1, "steps": 1, "materials": 1, "faq": 1}
MAX_UPLOAD = 10 * 1024 * 1024


def _editor_only(request: HttpRequest) -> None:
    if not access.can_edit_catalogue(request.user):
        raise Http404("no such page")


def _query(request: HttpRequest) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    items = access.catalogue_items(request.user)
    f = {k: request.GET.get(k, "").strip() for k in ("q", "department", "type", "proxy",
                                                     "event", "state")}
    if f["q"]:
        items = items.filter(name__icontains=f["q"]) | items.filter(code__icontains=f["q"])
    if f["department"]:
        items = items.filter(department__code=f["department"])
    if f["type"]:
        items = items.filter(type=f["type"])
    if f["proxy"] in ("yes", "no"):
        items = items.filter(proxy_eligible=f["proxy"] == "yes")
    if f["event"]:
        items = items.filter(events_text__contains=f"|{f['event']}|")
    if f["state"] == "withdrawn":
        items = items.filter(active=False)
    elif f["state"] == "draft":
        items = items.filter(versions__state=ItemVersion.State.DRAFT)
    counts = queries.list_counts(items)
    rows = items.select_related("department", "current").order_by("code")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    drafts = set(ItemVersion.objects.filter(
        item__in=[it.pk for it in page], state=ItemVersion.State.DRAFT).values_list(
        "item_id", flat=True)) if access.can_edit_catalogue(request.user) else set()
    return render(request, "services/catalogue/list.html", {
        "page": page, "query": _query(request), "f": f, "counts": counts, "drafts": drafts,
        "departments": Department.objects.filter(
            pk__in=access.catalogue_items(request.user).values("department")).order_by("name"),
        "types": ItemType.choices, "events": LifeEvent.choices,
        "can_edit": access.can_edit_catalogue(request.user),
    })


@login_required
def item(request: HttpRequest, code: str) -> HttpResponse:
    it = access.access_catalogue_item(request.user, code)
    versions = list(access.item_versions(request.user, it).order_by("-number"))
    shown: ItemVersion | None = None
    number = request.GET.get("v", "")
    if number.isdigit():
        shown = next((v for v in versions if v.number == int(number)), None)
        if shown is None:
            raise Http404("no such version")
    shown = shown or it.current or (versions[0] if versions else None)
    previous = next((v for v in versions if shown and v.number < shown.number), None)
    draft = next((v for v in versions if v.state == ItemVersion.State.DRAFT), None)
    return render(request, "services/catalogue/item.html", {
        "item": it, "versions": versions, "shown": shown, "previous": previous,
        "draft": draft,
        "guide": queries.guide_fields(shown) if shown else [],
        "materials": [{**m, "line": queries.material_line({**MATERIAL_DEFAULTS, **m})}
                      for m in (shown.materials if shown else [])],
        "diff": queries.version_diff(previous, shown) if shown else [],
        "can_edit": access.can_edit_catalogue(request.user),
    })


# ---------------------------------------------------------------------------------------
# the draft form


def _int_or_raw(value: str) -> Any:
    value = value.strip()
    return int(value) if value.isdigit() else value


def _posted(request: HttpRequest) -> dict[str, Any]:
    """The form as exchange-format changes (what cannot be read stays raw for clean_item)."""
    p = request.POST
    data: dict[str, Any] = {k: p.get(k, "") for k in (
        "name", "type", "department", "level", "legal_basis", "conditions", "fee", "place",
        "hours", "phone")}
    for k in ("legal_days", "promised_days", "in_person_times", "prereview_days"):
        data[k] = _int_or_raw(p.get(k, ""))
    data["online_prereview"] = p.get("online_prereview") == "on"
    data["proxy_eligible"] = p.get("proxy_eligible") == "on"
    data["events"] = p.getlist("events")
    data["aliases"] = [a.strip() for a in p.getlist("alias") if a.strip()]
    data["steps"] = [s.strip() for s in p.getlist("step") if s.strip()]
    cols = [p.getlist(f"m_{k}") for k in ("key", "name", "form", "count", "required",
                                          "condition", "note")]
    data["materials"] = [
        {"key": key.strip(), "name": name, "form": form, "count": _int_or_raw(count),
         "required": required != "no", "condition": condition, "note": note}
        for key, name, form, count, required, condition, note in zip(*cols, strict=False)
        if key.strip() or name.strip()]
    data["faq"] = [{"q": q, "a": a} for q, a in zip(p.getlist("faq_q"), p.getlist("faq_a"),
                                                     strict=False) if q.strip() or a.strip()]
    return data


def _form_context(it: Any, data: dict[str, Any], blanks: dict[str, int], note: str,
                  error: ServiceError | None = None) -> dict[str, Any]:
    return {
        "item": it, "data": data, "note": note, "error": error,
        "error_label": queries.LABELS.get((error.field.split(".")[0]) if error else "", ""),
        "alias_rows": [*data["aliases"], *[""] * blanks["aliases"]],
        "step_rows": [*data["steps"], *[""] * blanks["steps"]],
        "material_rows": [*data["materials"], *[dict(MATERIAL_DEFAULTS, key="", name="")]
                          * blanks["materials"]],
        "faq_rows": [*data["faq"], *[{"q": "", "a": ""}] * blanks["faq"]],
        "blank_material": dict(MATERIAL_DEFAULTS, key="", name=""),
        "types": ItemType.choices, "levels": ItemLevel.choices, "forms": MaterialForm.choices,
        "events": LifeEvent.choices,
        "departments": Department.objects.filter(kind__in=[
            Department.Kind.DEPARTMENT, Department.Kind.CENTER]).order_by("name"),
    }


@login_required
def edit(request: HttpRequest, code: str) -> HttpResponse:
    _editor_only(request)
    it = access.access_catalogue_item(request.user, code)
    draft = it.versions.filter(state=ItemVersion.State.DRAFT).first()
    base = draft or it.current
    if base is None:
        raise Http404("nothing to edit")
    blanks = dict(BLANK_ROWS)
    if request.method != "POST":
        data = version_row(base, code=it.code)
        return render(request, "services/catalogue/edit.html",
                      _form_context(it, data, blanks, draft.change_note if draft else ""))
    data = _posted(request)
    note = request.POST.get("change_note", "").strip()
    more = request.POST.get("more", "")
    if more in blanks:
        blanks[more] += 3
        return render(request, "services/catalogue/edit.html",
                      _form_context(it, data, blanks, note))
    try:
        do_save_draft(request.user, it.code, {**data, "change_note": note})
    except ServiceError as e:
        return render(request, "services/catalogue/edit.html",
                      _form_context(it, data, blanks, note, e), status=422)
    except IllegalStep as e:
        messages.error(request, str(e))
        return redirect("services:catalogue_item", code=it.code)
    messages.success(request, _("草稿已保存，发布后生效。"))
    return redirect("services:catalogue_item", code=it.code)


def _draft(request: HttpRequest, code: str) -> ItemVersion:
    _editor_only(request)
    it = access.access_catalogue_item(request.user, code)
    draft = it.versions.filter(state=ItemVersion.State.DRAFT).first()
    if draft is None:
        raise Http404("no draft")
    return draft


@require_POST
@login_required
def publish(request: HttpRequest, code: str) -> HttpResponse:
    try:
        v = do_publish(request.user, _draft(request, code))
    except IllegalStep as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("第%(n)s版已发布，旧版本已废止并保留。") % {"n": v.number})
    return redirect("services:catalogue_item", code=code)


@require_POST
@login_required
def discard(request: HttpRequest, code: str) -> HttpResponse:
    try:
        do_discard_draft(request.user, _draft(request, code))
    except IllegalStep as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("草稿已删除。"))
    return redirect("services:catalogue_item", code=code)


@require_POST
@login_required
def set_active(request: HttpRequest, code: str) -> HttpResponse:
    _editor_only(request)
    it = access.access_catalogue_item(request.user, code)
    reason = request.POST.get("reason", "")
    try:
        if it.active:
            do_withdraw_item(request.user, it.code, reason)
            messages.success(request, _("事项已停办。"))
        else:
            do_reactivate_item(request.user, it.code, reason)
            messages.success(request, _("事项已恢复办理。"))
    except (ServiceError, IllegalStep) as e:
        messages.error(request, e.msg if isinstance(e, ServiceError) else str(e))
    return redirect("services:catalogue_item", code=code)


# ---------------------------------------------------------------------------------------
# the catalogue as a file


@login_required
def export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("json", "xlsx"):
        raise Http404("no such format")
    rows = exchange.catalogue_rows(access.catalogue_items(request.user))
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "json":
        response = HttpResponse(exchange.to_json(rows),
                                content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(exchange.to_xlsx(rows), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = f'attachment; filename="catalogue-{stamp}.{fmt}"'
    return response


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    _editor_only(request)
    context: dict[str, Any] = {"draft": True}
    if request.method == "POST":
        f = request.FILES.get("file")
        context["draft"] = request.POST.get("draft") == "on"
        if f is None:
            context["problems"] = [_("请选择 .xlsx 或 .json 文件")]
        elif f.size is not None and f.size > MAX_UPLOAD:
            context["problems"] = [_("文件不能超过10MB")]
        else:
            parsed = exchange.parse_file(f.name or "", f.read())
            problems = parsed.messages(parsed.errors)
            if not problems:
                try:
                    report = do_import_catalogue(parsed.rows, request.user,
                                                 publish=not context["draft"])
                except IllegalStep as e:
                    raise Http404("no such page") from e
                problems = parsed.messages(report.errors)
                context["report"] = report if report.ok else None
            context["problems"] = problems
        status = 422 if context.get("problems") else 200
        return render(request, "services/catalogue/import.html", context, status=status)
    return render(request, "services/catalogue/import.html", context)

