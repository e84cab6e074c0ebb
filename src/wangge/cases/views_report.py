"""居民反映 (/report/): a resident reports a problem from a QR page (`?t=<code>`: the grid,
or the building of a door code) or directly, without a login, on a phone.

One form (forms_report.ReportForm) that works without JavaScript; resident_report.js adds
GPS, a map pin and the nearby check before sending. The case is made by
`actions.do_resident_report` only; this module parses, checks the abuse limits
(cases.public_limits), offers a case of the same kind nearby first ("已有人报告：关注这一件")
and remembers in the session what this browser reported (`resident_cases`: register
number → follow code, read by the status page so the reporter sees the reply and rates
without retyping) and followed (`followed_cases`).

Retries: the form carries a client key (the page's uuid4 hex, nothing else accepted); a
double tap or a resubmit after a network error answers the first case (the action replays
it) — never a second one, never a captcha — but only to the browser that made it: the same
key from elsewhere gets 409 and learns nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wangge.cases import access, actions, public_limits
from wangge.cases.actions.resident import replayed_report
from wangge.cases.errors import CaseError
from wangge.cases.forms_report import (
    CLIENT_KEY,
    CONTACT_ANONYMOUS,
    WHERE_BUILDING,
    WHERE_GRID,
    WHERE_POINT,
    ReportForm,
    attribute_name,
)
from wangge.cases.models import Case, ResidentReport
from wangge.cases.public_text import STATE_WORDS
from wangge.registry.access import public_building_by_qr
from wangge.territory.access import public_grid_by_qr
from wangge.territory.models import Grid

SESSION_CASES = "resident_cases"
SESSION_FOLLOWED = "followed_cases"
SESSION_LAST = "report_last"
#: a form whose captcha was passed before the nearby offer: "report mine anyway" needs no second
SESSION_PASSED = "report_captcha_passed"
KEEP = 20

#: the action's field names → the form's
FIELDS = {"public_category": "public_category", "description": "description",
          "lat": "where", "lng": "where", "contact.name": "contact_name",
          "contact.phone": "contact_phone", "photos": "photos"}


def _place(token: str) -> tuple[Grid | None, Any]:
    """(grid, building) behind a QR code: a door code gives both, a grid code the grid."""
    if not token:
        return None, None
    try:
        building = public_building_by_qr(token)
        return building.grid, building
    except Http404:
        pass
    try:
        return public_grid_by_qr(token), None
    except Http404:
        return None, None


def _where_choices(grid: Grid | None, building: Any) -> list[tuple[str, str]]:
    choices = []
    if building is not None:
        choices.append((WHERE_BUILDING, _("就在这栋楼：%(name)s") % {"name": building.name}))
    elif grid is not None:
        choices.append((WHERE_GRID, _("在%(grid)s内（说不清具体位置）") % {"grid": grid.name}))
    choices.append((WHERE_POINT, _("用我现在的位置，或在地图上点选")))
    return choices


def _photo_message(e: CaseError) -> str:
    """The photo checks' reasons (English, shared with the API) in a resident's words."""
    text = str(e)
    if text.startswith("at most"):
        return _("照片：最多 %(n)s 张。") % {"n": settings.WANGGE_PHOTOS_PER_STAGE}
    if text.startswith("a photo may be"):
        return _("照片：每张最多 %(mb)s MB，请换一张较小的。") % {
            "mb": settings.WANGGE_PHOTO_MAX_BYTES // (1024 * 1024)}
    if text.startswith("only JPEG"):
        return _("照片：只接受 JPEG、PNG 或 WebP 格式。")
    if "pixels" in text:
        return _("照片：图片太大（像素过多）。")
    return _("照片：有一个文件不是可识别的图片。")


def _remember(request: HttpRequest, case: Case) -> None:
    cases = {k: v for k, v in request.session.get(SESSION_CASES, {}).items()
             if k != case.register_no}
    cases[case.register_no] = case.follow_code
    request.session[SESSION_CASES] = dict(list(cases.items())[-KEEP:])
    request.session[SESSION_LAST] = case.register_no


def _notice(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "cases/public/notice.html",
                  {"title": title, "message": message}, status=status)


def _limited(request: HttpRequest, message: str) -> HttpResponse:
    return _notice(request, _("提交太频繁"), message, 429)


def summary(case: Case) -> dict[str, Any]:
    """What the offer shows of a case nearby: its kind, its state in words, its date."""
    report = ResidentReport.objects.filter(case=case).select_related("public_category").first()
    return {"register_no": case.register_no,
            "category": report.public_category.name if report else case.category.name,
            "state": str(STATE_WORDS.get(case.state, "")),
            "date": case.created_at.date().isoformat()}


def _point(form: ReportForm, building: Any) -> tuple[float | None, float | None]:
    data = form.cleaned_data
    if data["where"] == WHERE_BUILDING and building is not None:
        return building.lng, building.lat
    if data["where"] == WHERE_POINT:
        return data.get("lng"), data.get("lat")
    return None, None


def report(request: HttpRequest) -> HttpResponse:
    token = (request.POST.get("t") or request.GET.get("t", ""))[:64]
    grid, building = _place(token)
    anonymous = request.POST.get("contact_mode") == CONTACT_ANONYMOUS
    phone = "" if anonymous else request.POST.get("contact_phone", "")[:20]
    decision = public_limits.check_resident_limits(request, phone)
    key = request.POST.get("client_key", "")
    key = key if re.fullmatch(CLIENT_KEY, key) else ""
    challenge = decision.challenge and request.session.get(SESSION_PASSED) != key
    form = ReportForm(request.POST or None, categories=access.public_categories()
                      .select_related("category").order_by("order", "code"),
                      where_choices=_where_choices(grid, building), challenge=challenge)
    status = 200
    if request.method == "POST":
        if (earlier := replayed_report(key)) is not None:
            # a retry from the browser that made it answers its case; the same key from any
            # other browser learns nothing (the follow code is the case's secret)
            if earlier.register_no in request.session.get(SESSION_CASES, {}):
                _remember(request, earlier)
                return redirect("report:done")
            return _notice(request, _("已经提交过"),
                           _("这份表单已经提交过了。如需再反映，请重新打开页面填写。"), 409)
        if decision.refused:
            return _limited(request, decision.refused)
        made = _made(request, form, grid, building, token, phone, anonymous, challenge)
        if isinstance(made, HttpResponse):
            return made
        status = 422
    return render(request, "cases/public/report.html", {
        "form": form, "t": token, "grid": grid, "building": building,
        "max_photos": settings.WANGGE_PHOTOS_PER_STAGE, "tile_url": settings.WANGGE_TILE_URL,
        "center": _center(grid, building)}, status=status)


def _made(request: HttpRequest, form: ReportForm, grid: Grid | None, building: Any,
          token: str, phone: str, anonymous: bool, challenge: bool) -> HttpResponse | None:
    """The case (a redirect to the done page), the nearby offer, or None: the form has the
    errors."""
    uploads = request.FILES.getlist("photos")
    if len(uploads) > settings.WANGGE_PHOTOS_PER_STAGE:
        form.add_error("photos", _("照片：最多 %(n)s 张。")
                       % {"n": settings.WANGGE_PHOTOS_PER_STAGE})
    if not form.is_valid():
        return None
    data = form.cleaned_data
    code = data["public_category"]
    lng, lat = _point(form, building)
    if challenge:  # passed now; the nearby offer's "report mine anyway" re-sends this form
        request.session[SESSION_PASSED] = data["client_key"]
    if not data["new_anyway"] and (nearby := actions.nearby_open(code, lng, lat)) is not None:
        return render(request, "cases/public/offer.html", {
            "case": summary(nearby), "t": token, "max_photos": settings.WANGGE_PHOTOS_PER_STAGE,
            "resend": [(k, v) for k, values in request.POST.lists() for v in values
                       if k not in ("csrfmiddlewaretoken", "new_anyway")
                       and not k.startswith("captcha")]})
    if data["where"] == WHERE_BUILDING and building is not None:
        where = actions.Where(building=building)
    elif data["where"] == WHERE_GRID and grid is not None:
        where = actions.Where(grid=grid)
    else:
        where = actions.Where(lng=lng, lat=lat)
    contact = None if anonymous else actions.Contact(name=data["contact_name"], phone=phone)
    if contact is not None and not (contact.name.strip() or contact.phone.strip()):
        contact = None
    try:
        reported = actions.do_resident_report(
            public_category=code, description=data["description"], where=where,
            source="qr" if grid is not None else "web", contact=contact,
            photos=[f.read() for f in request.FILES.getlist("photos")],
            extras=actions.Extras(attributes=form.attributes(code)),
            client_key=data["client_key"],
            client_address=public_limits.client_address(request))
    except CaseError as e:
        _add_error(form, e, code)
        return None
    if not reported.replayed:
        public_limits.count_resident_report(request, phone)
    request.session.pop(SESSION_PASSED, None)
    _remember(request, reported.case)
    return redirect("report:done")


def _add_error(form: ReportForm, e: CaseError, category: str) -> None:
    if e.field == "photos":
        form.add_error("photos", _photo_message(e))
        return
    if e.field.startswith("attributes."):
        name = attribute_name(category, e.field.split(".", 1)[1])
        if name in form.fields:
            form.add_error(name, str(e))
            return
    field = FIELDS.get(e.field)
    if field == "where" and form.cleaned_data.get("lat") is None:
        # the action's words mention an address, which this form does not ask for
        form.add_error("where", _("位置：请点“使用我现在的位置”，或在地图上点一下问题所在的位置。"))
        return
    form.add_error(field if field in form.fields else None, str(e))


def _center(grid: Grid | None, building: Any) -> tuple[float, float] | None:
    """Where the map opens: the building, the grid, else the city."""
    if building is not None and building.lng is not None:
        return building.lng, building.lat
    found = grid or Grid.objects.filter(level=0).first()
    if found is not None and found.label_lng is not None:
        return found.label_lng, found.label_lat
    return None


@require_GET
def done(request: HttpRequest) -> HttpResponse:
    """The register number and follow code of the last report made in this browser."""
    no = request.session.get(SESSION_LAST, "")
    code = request.session.get(SESSION_CASES, {}).get(no)
    case = (access.public_cases().select_related("category").filter(register_no=no).first()
            if code else None)
    return render(request, "cases/public/done.html", {
        "case": case, "follow_code": code, "what": summary(case)["category"] if case else ""})


@require_GET
def nearby(request: HttpRequest) -> JsonResponse:
    """For the form's script: the open case of the same kind near a point, if any (what the
    offer shows and nothing else)."""
    try:
        lng, lat = float(request.GET["lng"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        return JsonResponse({"case": None})
    found = actions.nearby_open(request.GET.get("public_category", "")[:32], lng, lat)
    return JsonResponse({"case": summary(found) if found is not None else None})


@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    """关注这一件: "me too" on the case nearby instead of a second report."""
    no = request.POST.get("register_no", "")[:32]
    if no in request.session.get(SESSION_FOLLOWED, []):  # a double tap: followed already
        return redirect("cases_public:status_no", register_no=no)
    decision = public_limits.check_resident_limits(request)
    if decision.refused:
        return _limited(request, decision.refused)
    case = access.public_cases().filter(register_no=no).first()
    if case is None:
        return _notice(request, _("无法关注"), _("没有找到这件事，请重新反映。"), 404)
    try:
        actions.do_public_follow(case)
    except CaseError as e:
        return _notice(request, _("无法关注"), str(e), 422)
    public_limits.count_resident_report(request, burst=False)
    followed = [n for n in request.session.get(SESSION_FOLLOWED, []) if n != case.register_no]
    request.session[SESSION_FOLLOWED] = [*followed, case.register_no][-KEEP:]
    return redirect("cases_public:status_no", register_no=case.register_no)
