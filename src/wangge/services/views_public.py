"""The service hall's public pages (`/services/`), for a resident on a phone without a login:
search, the guide of an item, apply online (网上预审), ask my grid worker (请网格员帮我办),
and follow either by its number and follow code.

Who may touch a record without a login: the browser that made it, and a browser that
showed its number with the right follow code. Both are remembered in the session
(`SESSION_MINE`), so a follow code never travels in a URL (it would land in logs and
Referer headers). The actions are called with `actor=None`: services.actions trusts the
caller to have made exactly this check.

Retries: the applicant and booking forms carry a form token; the record it made is kept in
the session under it (a reload or back-and-resend answers that record), and a short cache
lock stops two simultaneous taps from both creating one. Submitting is idempotent by state
(an already submitted application answers its result page).

Abuse: creates (applications opened, proxy bookings) are capped per address and hour
(services.public_limits), answered 429 with a page saying why and what else to do.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from wangge.org.access import public_card
from wangge.org.models import Department
from wangge.services import access, public_limits
from wangge.services.actions import applications, proxy
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.forms_public import (
    RATING_LABELS,
    TOKEN_FIELD,
    ApplicantForm,
    BookForm,
    RatingForm,
)
from wangge.services.guide import due_dates
from wangge.services.models import (
    Application,
    ApplicationEvent,
    ItemType,
    LifeEvent,
    MaterialFile,
    MaterialForm,
    ProxyEvent,
    ProxyRequest,
    ServiceItem,
)
from wangge.services.search import search_items

PAGE_SIZE = 20
#: the deepest page a resident may ask for (a crawler asking for page 10**9 gets page 50)
MAX_PAGE = 50
SESSION_MINE = "services_mine"
SESSION_TOKENS = "services_tokens"
#: how many records one browser keeps the right to (the oldest are forgotten first)
MINE_KEEP = 50
POPULAR_CACHE_S = 600
POPULAR_COUNT = 8
#: a second tap with the same form token waits this long at most for the first one's record
TOKEN_LOCK_S = 30

APPLICATION_WORDS = {
    Application.State.DRAFT: _l("还没有提交：请把材料上传齐全，再点“提交预审”。"),
    Application.State.SUBMITTED: _l("材料已提交，部门正在预审。结果出来后可在这里查看。"),
    Application.State.RETURNED: _l("部门请您补正部分材料：按下面写的原因重新上传，再次提交。"),
    Application.State.PASSED: _l("预审通过。请按办事指南办理后续手续，或等候部门联系。"),
    Application.State.REJECTED: _l("预审不予通过，原因写在下面。如有疑问请拨打咨询电话。"),
    Application.State.WITHDRAWN: _l("申请已撤回。"),
}
APPLICATION_STEPS = {
    "opened": _l("填写申请"), "submitted": _l("提交预审"), "resubmitted": _l("补正后再次提交"),
    "pass": _l("预审通过"), "return": _l("退回补正"), "reject": _l("不予通过"),
    "withdrawn": _l("撤回申请"), "escalated": _l("超时催办"),
}
PROXY_WORDS = {
    ProxyRequest.State.BOOKED: _l("已预约：网格员会先打电话，再按约定时间上门收材料。"),
    ProxyRequest.State.COLLECTED: _l("网格员已上门收齐材料，正在送部门预审。"),
    ProxyRequest.State.IN_REVIEW: _l("部门正在预审材料。"),
    ProxyRequest.State.RETURNED: _l("部门请补正部分材料，网格员会再联系您。"),
    ProxyRequest.State.HANDLING: _l("预审通过，部门正在办理。"),
    ProxyRequest.State.READY: _l("已办好，网格员会把证件或结果送到您家。"),
    ProxyRequest.State.DELIVERED: _l("已送到您手中。请为这次代办打个分。"),
    ProxyRequest.State.RATED: _l("已送达，感谢您的评价。"),
    ProxyRequest.State.REJECTED: _l("部门不予办理，网格员会向您说明原因。"),
    ProxyRequest.State.CANCELLED: _l("代办已取消。"),
}


# ------------------------------------------------------------------------ the session


def _mine_key(record: Application | ProxyRequest) -> str:
    return f"{'A' if isinstance(record, Application) else 'P'}:{record.pk}"


def _remember(request: HttpRequest, record: Application | ProxyRequest) -> None:
    mine = [k for k in request.session.get(SESSION_MINE, []) if k != _mine_key(record)]
    request.session[SESSION_MINE] = [*mine, _mine_key(record)][-MINE_KEEP:]


def _is_mine(request: HttpRequest, record: Application | ProxyRequest) -> bool:
    return _mine_key(record) in request.session.get(SESSION_MINE, [])


def _my_application(request: HttpRequest, no: str) -> Application:
    found = Application.objects.select_related("item", "version", "department").filter(
        no=no).first()
    if found is None or not _is_mine(request, found):
        raise Http404("no such application")
    return found


def _my_proxy(request: HttpRequest, no: str) -> ProxyRequest:
    found = ProxyRequest.objects.select_related("item", "grid").filter(no=no).first()
    if found is None or not _is_mine(request, found):
        raise Http404("no such proxy request")
    return found


def _token_record(request: HttpRequest, token: str) -> str | None:
    """The number a form token made earlier in this browser, if any."""
    return request.session.get(SESSION_TOKENS, {}).get(token) if token else None


def _token_made(request: HttpRequest, token: str, no: str) -> None:
    tokens = dict(request.session.get(SESSION_TOKENS, {}))
    tokens[token] = no
    request.session[SESSION_TOKENS] = dict(list(tokens.items())[-MINE_KEEP:])
    cache.set(f"services-form-token:{token}", no, TOKEN_LOCK_S)


def _claim_token(token: str) -> str | None:
    """Claim a form token for a create. None: this request makes the record. Otherwise the
    number the first request made ("" while it is still making it)."""
    key = f"services-form-token:{token}"
    if cache.add(key, "", TOKEN_LOCK_S):
        return None
    return cache.get(key, "")


def _release_token(token: str) -> None:
    """The create failed (bad input): the same token may try again."""
    cache.delete(f"services-form-token:{token}")


def _limited(request: HttpRequest) -> HttpResponse:
    return render(request, "services/public/limited.html",
                  {"per_hour": public_limits.per_hour()}, status=429)


# ------------------------------------------------------------------------ where from


def _place(token: str) -> tuple[Any, Any]:
    """(grid, building) behind a QR token, or (None, None) for none or an unknown one."""
    if not token:
        return None, None
    try:
        return access.public_place_by_qr(token)
    except Http404:
        return None, None


# ------------------------------------------------------------------------ search


def _search_args(request: HttpRequest) -> dict[str, Any]:
    q = request.GET.get("q", "").strip()[:50]
    event = request.GET.get("event", "")
    department = request.GET.get("department", "")[:40]
    item_type = request.GET.get("type", "")
    proxy_only = request.GET.get("proxy", "") in ("1", "on", "true")
    try:
        page = min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        page = 1
    return {"q": q, "event": event if event in LifeEvent.values else "",
            "department": department, "type": item_type if item_type in ItemType.values else "",
            "proxy": proxy_only, "page": page, "t": request.GET.get("t", "")[:64]}


def _run_search(args: dict[str, Any]) -> tuple[int, list[ServiceItem]]:
    result = search_items(args["q"], department=args["department"] or None,
                          type=args["type"] or None, event=args["event"] or None,
                          proxy=True if args["proxy"] else None, limit=PAGE_SIZE,
                          offset=(args["page"] - 1) * PAGE_SIZE)
    return result.total, result.items


def _popular() -> list[dict[str, str]]:
    """常办事项: the items most asked for (proxy requests and applications), counted every
    ten minutes, not on every visit; the proxy-eligible ones before any record exists."""
    found = cache.get("services-popular")
    if found is not None:
        return found
    counts: dict[int, int] = {}
    for model in (ProxyRequest, Application):
        for row in model.objects.values("item").annotate(n=Count("id")).order_by("-n")[:20]:
            counts[row["item"]] = counts.get(row["item"], 0) + row["n"]
    ranked = sorted(counts, key=lambda pk: -counts[pk])
    items = {i.pk: i for i in access.visible_items().filter(pk__in=ranked)}
    chosen = [items[pk] for pk in ranked if pk in items][:POPULAR_COUNT]
    if len(chosen) < POPULAR_COUNT:
        chosen += list(access.visible_items().filter(proxy_eligible=True)
                       .exclude(pk__in=[i.pk for i in chosen])
                       .order_by("code")[:POPULAR_COUNT - len(chosen)])
    found = [{"code": i.code, "name": i.name} for i in chosen]
    cache.set("services-popular", found, POPULAR_CACHE_S)
    return found


def _departments() -> list[dict[str, str]]:
    found = cache.get("services-departments")
    if found is None:
        found = list(Department.objects.filter(
            pk__in=access.visible_items().values("department")).order_by("code")
            .values("code", "name"))
        cache.set("services-departments", found, POPULAR_CACHE_S)
    return found


def _item_row(item: ServiceItem) -> dict[str, Any]:
    return {"code": item.code, "name": item.name, "department": item.department.name,
            "proxy": item.proxy_eligible, "online": item.online_prereview}


def _query_string(args: dict[str, Any], **changes: Any) -> str:
    merged = {**args, **changes}
    return urlencode({k: ("1" if v is True else v) for k, v in merged.items()
                      if v not in ("", None, False) and not (k == "page" and v == 1)})


@require_GET
def hall(request: HttpRequest) -> HttpResponse:
    """/services/: one big search box, life-event chips, department and 可上门代办 filters,
    ranked results with the total, pages. Works as a plain GET form; hall.js only makes the
    results follow the typing."""
    args = _search_args(request)
    total, items = _run_search(args)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    grid, building = _place(args["t"])
    searching = bool(args["q"] or args["event"] or args["department"] or args["proxy"]
                     or args["type"])
    return render(request, "services/public/hall.html", {
        "args": args, "total": total, "rows": [_item_row(i) for i in items],
        "page": args["page"], "pages": min(pages, MAX_PAGE), "searching": searching,
        "prev_qs": _query_string(args, page=args["page"] - 1) if args["page"] > 1 else None,
        "next_qs": (_query_string(args, page=args["page"] + 1)
                    if args["page"] < min(pages, MAX_PAGE) else None),
        "events": [(v, label, _query_string(args, event="" if args["event"] == v else v,
                                            page=1))
                   for v, label in LifeEvent.choices],
        "departments": _departments(), "popular": [] if searching else _popular(),
        "grid": grid, "building": building,
        "json_url": reverse("services_public:search_json"),
    })


@require_GET
def search_json(request: HttpRequest) -> JsonResponse:
    """The results as data for hall.js (the same search, the same filters)."""
    args = _search_args(request)
    total, items = _run_search(args)
    return JsonResponse({"total": total, "page": args["page"], "page_size": PAGE_SIZE,
                         "items": [_item_row(i) for i in items]},
                        json_dumps_params={"ensure_ascii": False})


# ------------------------------------------------------------------------ the guide


@require_GET
def guide(request: HttpRequest, code: str) -> HttpResponse:
    item = access.access_item(code)
    version = item.current
    forms = dict(MaterialForm.choices)
    materials = [{**m, "form_label": forms.get(m.get("form", ""), m.get("form", "")),
                  "required": m.get("required", True)} for m in version.materials]
    token = request.GET.get("t", "")[:64]
    return render(request, "services/public/guide.html", {
        "item": item, "v": version, "materials": materials,
        "type_label": ItemType(version.type).label if version.type in ItemType.values else "",
        "events": [LifeEvent(e).label for e in version.events if e in LifeEvent.values],
        "t_qs": urlencode({"t": token}) if token else "",
        "due": due_dates(version),
    })


# ------------------------------------------------------------------------ apply online


def _field_of(error: ServiceError) -> str | None:
    return error.field.rsplit(".", 1)[-1] if error.field.startswith("applicant") else None


def apply(request: HttpRequest, code: str) -> HttpResponse:
    """The applicant's name, ID number and phone; then the materials page."""
    item = access.access_item(code)
    if not item.current.online_prereview:
        raise Http404("no online pre-review")
    token = request.GET.get("t", "")[:64]
    grid, _building = _place(token)
    form = ApplicantForm(request.POST or None)
    if request.method == "POST":
        sent = request.POST.get(TOKEN_FIELD, "")
        if (earlier := _token_record(request, sent)):
            return redirect("services_public:application", no=earlier)
        if form.is_valid():
            if public_limits.over_limit(request):
                return _limited(request)
            claimed = _claim_token(sent)
            if claimed:
                return redirect("services_public:application", no=claimed)
            if claimed == "":
                return _in_progress(request)
            try:
                application = applications.do_open_application(
                    None, item_code=item.code, applicant={
                        "name": form.cleaned_data["name"],
                        "id_number": form.cleaned_data["id_number"],
                        "phone": form.cleaned_data["phone"]},
                    grid_id=grid.pk if grid is not None else None,
                    channel=Application.Channel.PUBLIC)
            except ServiceError as e:
                _release_token(sent)
                form.add_error(_field_of(e), e.msg)
            else:
                public_limits.count_create(request)
                _remember(request, application)
                _token_made(request, sent, application.no)
                return redirect("services_public:application", no=application.no)
    return render(request, "services/public/apply.html",
                  {"item": item, "form": form, "grid": grid}, status=200 if form.is_valid()
                  or not form.is_bound else 422)


def _in_progress(request: HttpRequest) -> HttpResponse:
    """A second tap while the first one is still being made: say so; the first one wins."""
    return render(request, "services/public/in_progress.html", status=409)


def _material_rows(application: Application) -> list[dict[str, Any]]:
    """Each material of the pinned guide with what this applicant did about it: the latest
    file, the verdict that counts, whether an upload is wanted now."""
    verdicts = applications.verdicts(application)
    upload_round = applications.upload_round(application)
    files: dict[str, MaterialFile] = {}
    for f in MaterialFile.objects.filter(application=application).order_by("round", "pk"):
        files[f.material_key] = f
    editable = application.state in applications.EDITABLE
    returned = application.state == Application.State.RETURNED
    forms = dict(MaterialForm.choices)
    rows = []
    for m in application.version.materials:
        key = m.get("key", "")
        check = verdicts.get(key)
        latest = files.get(key)
        fresh = latest is not None and latest.round == upload_round
        if returned:
            wanted = (check is not None and check.round == application.round
                      and check.verdict == "correct")
        else:
            wanted = editable
        rows.append({
            "key": key, "name": m.get("name", key),
            "form_label": forms.get(m.get("form", ""), ""), "count": m.get("count", 1),
            "required": m.get("required", True), "condition": m.get("condition", ""),
            "note": m.get("note", ""), "file": latest, "fresh": fresh,
            "verdict": check.get_verdict_display() if check else "",
            "verdict_code": check.verdict if check else "",
            "reason": check.reason if check else "", "upload": wanted,
        })
    return rows


@require_GET
def application_page(request: HttpRequest, no: str) -> HttpResponse:
    """The materials page: one upload per material, then 提交预审. After a return, only the
    materials to correct, each with the reviewer's reason."""
    application = _my_application(request, no)
    if application.state not in applications.EDITABLE:
        return redirect("services_public:applied", no=no)
    return render(request, "services/public/application.html", {
        "a": application, "rows": _material_rows(application),
        "words": APPLICATION_WORDS.get(application.state, ""),
        "max_mb": applications.material_max_bytes() // (1024 * 1024),
    })


@require_POST
def upload(request: HttpRequest, no: str) -> HttpResponse:
    application = _my_application(request, no)
    key = request.POST.get("material_key", "")
    material = application.version.material(key)
    name = material.get("name", key) if material else key
    sent = request.FILES.get("file")
    if sent is None:
        messages.error(request, _("%(name)s：请先选择要上传的照片或 PDF 文件。") % {"name": name})
        return redirect("services_public:application", no=no)
    try:
        applications.do_upload_material(None, application, key, sent.read(),
                                        sent.content_type or "")
    except ServiceError as e:
        messages.error(request, f"{name}：{e.msg}")
    except IllegalStep as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("%(name)s：已上传。") % {"name": name})
    return redirect(reverse("services_public:application", kwargs={"no": no}) + f"#m-{key}")


@require_POST
def submit(request: HttpRequest, no: str) -> HttpResponse:
    application = _my_application(request, no)
    try:
        applications.do_submit(None, application)
    except ServiceError as e:
        messages.error(request, e.msg)
        return redirect("services_public:application", no=no)
    except IllegalStep:
        application.refresh_from_db()
        if application.state in applications.EDITABLE:
            raise
        # a second tap or a reload after the first submit went through: its result page
    return redirect("services_public:applied", no=no)


@require_GET
def applied(request: HttpRequest, no: str) -> HttpResponse:
    """The result: the number and the follow code, to keep."""
    application = _my_application(request, no)
    if application.state in applications.EDITABLE and application.submitted_at is None:
        return redirect("services_public:application", no=no)
    return render(request, "services/public/applied.html", {
        "a": application, "words": APPLICATION_WORDS.get(application.state, "")})


# ------------------------------------------------------------------------ ask my grid worker


def book(request: HttpRequest, code: str) -> HttpResponse:
    """请网格员帮我办. The grid comes from the QR code the resident scanned (`t`), else the
    resident picks their community, then their grid (two plain selects that work without
    JavaScript)."""
    item = access.access_item(code)
    if not item.proxy_eligible:
        raise Http404("not proxy-eligible")
    token = (request.POST.get("t") or request.GET.get("t", ""))[:64]
    grid, building = _place(token)
    community = (request.POST.get("community") or request.GET.get("community", ""))[:20]
    grid_code = (request.POST.get("grid") or request.GET.get("grid", ""))[:20]
    channel = ProxyRequest.Channel.QR if grid is not None else ProxyRequest.Channel.GUIDE
    if grid is None and grid_code:
        try:
            grid = access.public_basic_grid(grid_code)
        except Http404:
            grid = None
    houses = access.public_houses(building) if building is not None else None
    form = BookForm(request.POST or None, houses=houses)
    if grid is None:
        return render(request, "services/public/book_where.html", {
            "item": item, "communities": access.public_communities(), "community": community,
            "grids": access.public_basic_grids(community) if community else [],
        })
    status = 200
    if request.method == "POST":
        sent = request.POST.get(TOKEN_FIELD, "")
        if (earlier := _token_record(request, sent)):
            return redirect("services_public:booked", no=earlier)
        if form.is_valid():
            if public_limits.over_limit(request):
                return _limited(request)
            claimed = _claim_token(sent)
            if claimed:
                return redirect("services_public:booked", no=claimed)
            if claimed == "":
                return _in_progress(request)
            made = _book(request, item, grid, channel, form)
            if made is not None:
                _token_made(request, sent, made.no)
                return redirect("services_public:booked", no=made.no)
            _release_token(sent)
        status = 422
    card = public_card(grid)
    return render(request, "services/public/book.html", {
        "item": item, "form": form, "grid": grid, "building": building, "card": card,
        "t": token if building is not None or channel == ProxyRequest.Channel.QR else "",
        "grid_code": grid.code if channel == ProxyRequest.Channel.GUIDE else "",
    }, status=status)


#: the action's field names → the booking form's
BOOK_FIELDS = {"applicant.name": "name", "applicant.phone": "phone", "at": "at", "note": "note",
               "house_id": "house"}


def _book(request: HttpRequest, item: ServiceItem, grid: Any, channel: str,
          form: BookForm) -> ProxyRequest | None:
    data = form.cleaned_data
    try:
        made = proxy.do_book_proxy(
            None, item_code=item.code, grid_id=grid.pk,
            applicant={"name": data["name"], "phone": data["phone"]}, at=data.get("at"),
            channel=channel, house_id=data.get("house") or None, note=data.get("note", ""))
    except ServiceError as e:
        field = BOOK_FIELDS.get(e.field)
        form.add_error(field if field in form.fields else None, e.msg)
        return None
    except IllegalStep as e:
        form.add_error(None, str(e))
        return None
    public_limits.count_create(request)
    _remember(request, made)
    return made


@require_GET
def booked(request: HttpRequest, no: str) -> HttpResponse:
    proxy_request = _my_proxy(request, no)
    return render(request, "services/public/booked.html", {
        "p": proxy_request, "card": public_card(proxy_request.grid),
        "words": PROXY_WORDS.get(proxy_request.state, "")})


# ------------------------------------------------------------------------ status


def _application_steps(application: Application) -> list[tuple[Any, str, str]]:
    steps = []
    for e in ApplicationEvent.objects.filter(application=application,
                                             action__in=APPLICATION_STEPS):
        steps.append((e.at, str(APPLICATION_STEPS[e.action]),
                      e.note if e.action in ("return", "reject") else ""))
    return steps


def _proxy_steps(proxy_request: ProxyRequest) -> list[tuple[Any, str]]:
    """The state changes, in the timeline's words; who took them stays inside (no staff
    names here)."""
    labels = dict(ProxyRequest.State.choices)
    steps = []
    for e in ProxyEvent.objects.filter(proxy=proxy_request).order_by("at", "id"):
        if e.to_state and (e.to_state != e.from_state or not e.from_state):
            steps.append((e.at, str(proxy.ACTION_LABELS.get(e.action)
                                    or labels.get(e.to_state, e.to_state))))
    return steps


def _find(request: HttpRequest, no: str, code: str) -> Application | ProxyRequest | None:
    """By number and follow code; by number alone when this browser holds it already."""
    model: type[Application] | type[ProxyRequest] = (
        ProxyRequest if no.startswith("DB") else Application)
    if code:
        try:
            return (access.public_proxy(no, code) if model is ProxyRequest
                    else access.public_application(no, code))
        except Http404:
            return None
    found = model.objects.filter(no=no).first()
    return found if found is not None and _is_mine(request, found) else None


def status(request: HttpRequest) -> HttpResponse:
    """办件查询: an application (steps in plain words, each material's verdict and reason,
    corrections after a return) or a proxy request (its steps, the grid worker's public card,
    the rating after delivery). A wrong number or code answers 404 with the form again.

    The follow code comes in a POST (the form) and never stays in an address: once it
    matched, this browser holds the record and is sent on to `?no=` alone, so the code is
    in no history, bookmark or server log (an old link with `&code=` is sent on likewise)."""
    source = request.POST if request.method == "POST" else request.GET
    no = source.get("no", "").strip().upper()[:24]
    code = source.get("code", "").strip()[:16]
    context: dict[str, Any] = {"no": no}
    if not no:
        return render(request, "services/public/status.html", context)
    found = _find(request, no, code)
    if found is None:
        context["missing"] = True
        return render(request, "services/public/status.html", context, status=404)
    _remember(request, found)
    if code:
        onward = redirect(reverse("services_public:status") + "?" + urlencode({"no": found.no}))
        onward.status_code = 303  # see other: the browser asks with GET
        return onward
    if isinstance(found, Application):
        context.update(a=found, words=APPLICATION_WORDS.get(found.state, ""),
                       steps=_application_steps(found), rows=_material_rows(found),
                       state_label=found.get_state_display())
    else:
        context.update(p=found, words=PROXY_WORDS.get(found.state, ""),
                       steps=_proxy_steps(found), card=public_card(found.grid),
                       state_label=found.get_state_display(),
                       rating_label=RATING_LABELS.get(found.rating or 0, ""),
                       rate_form=RatingForm() if found.state == ProxyRequest.State.DELIVERED
                       else None)
    return render(request, "services/public/status.html", context)


@require_POST
def rate(request: HttpRequest, no: str) -> HttpResponse:
    proxy_request = _my_proxy(request, no)
    form = RatingForm(request.POST)
    back = reverse("services_public:status") + "?" + urlencode({"no": no})
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        proxy.do_rate_proxy(None, proxy_request, form.cleaned_data["rating"],
                            form.cleaned_data["comment"])
    except (ServiceError, IllegalStep) as e:
        messages.error(request, e.msg if isinstance(e, ServiceError) else str(e))
    else:
        messages.success(request, _("谢谢您的评价！"))
    return redirect(back)
