"""Case console pages: queues, the case page with its allowed actions, the department inbox,
statistics, the report form and the printable notice. Thin: access decides, actions write."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

import shapely
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from wangge.cases import access, actions, kept_photos, queues
from wangge.cases.actions.clocks import MANUAL_SUPERVISION_DAYS
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.filters import CaseFilter
from wangge.cases.forms import ActionForm, FeedbackForm, ReportForm, SuperviseForm
from wangge.cases.labels import ACTION_LABELS, FIELD_LABELS, OPTIONAL_FIELDS, STATE_LABELS
from wangge.cases.models import Case, ResidentReport
from wangge.cases.notice import notice, shown_title
from wangge.cases.photos import check_photo, open_stored
from wangge.cases.routing import routing_text
from wangge.cases.urgency import CARD_NAMES, in_order, time_left
from wangge.cases.workflow import PHOTO_STAGES, STEPS, Actor
from wangge.core.schema import MAX_ID
from wangge.org.models import Department
from wangge.territory import access as territory_access
from wangge.workcal import calendar as workcal

PAGE = 50
log = logging.getLogger(__name__)


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return default


def _filtered_page(request: HttpRequest, qs: QuerySet[Case]) -> tuple[dict[str, Any], int]:
    """One page of a queue (already sorted by urgency) under the filters of the address,
    with the working time left of each row; refused filter values give a 400 naming them
    and an empty list, never a wider one."""
    filterset = CaseFilter(request.GET, queryset=qs, user=request.user)
    valid = filterset.is_valid()
    chosen = filterset.qs if valid else qs.none()
    page = Paginator(chosen.values_list("pk", flat=True), PAGE).get_page(
        request.GET.get("page"))
    calendar, now = workcal.current(), timezone.now()
    rows = [{"case": c, "title": shown_title(c), "state": STATE_LABELS.get(c.state, c.state),
             "card": CARD_NAMES[c.card], "left": time_left(calendar, now, c.due)}
            for c in in_order(chosen, page)]
    query = request.GET.copy()
    query.pop("page", None)
    return {"filter": filterset, "problems": filterset.problems(), "page": page, "rows": rows,
            "query": query.urlencode(), "filtered": any(
                v for k, v in request.GET.items() if k in filterset.filters)}, (
        200 if valid else 400)


@login_required
def queue_page(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("queue", "mine")
    name = name if name in queues.QUEUES else "mine"
    context, status = _filtered_page(
        request, queues.queue(request.user, name, timezone.localdate()))
    return render(request, "cases/queue.html", {"queue": name, **context}, status=status)


def _action_forms(user: Any, case: Case) -> list[dict[str, Any]]:
    forms = []
    for name in access.allowed_actions(user, case):
        fields = [(f, FIELD_LABELS.get(f, f), True) for f in STEPS[name].needs]
        fields += [(f, FIELD_LABELS.get(f, f), False) for f in OPTIONAL_FIELDS.get(name, ())]
        forms.append({"name": name, "label": ACTION_LABELS.get(name, name), "fields": fields})
    return forms


@login_required
def case_page(request: HttpRequest, register_no: str) -> HttpResponse:
    case = access.access_case(request.user, register_no)
    events = list(case.events.select_related("actor"))
    kinds = access.actor_kinds(request.user, case)
    stages = [s for s, (actors, states) in PHOTO_STAGES.items()
              if kinds & actors and case.state in states]
    departments = Department.objects.filter(kind=Department.Kind.DEPARTMENT).order_by("name")
    return render(request, "cases/case.html", {
        "case": case, "state_label": STATE_LABELS.get(case.state, case.state),
        "routed_by": routing_text(events), "photos": case.photos.all(),
        "timeline": [(e, ACTION_LABELS.get(e.action, e.action),
                      STATE_LABELS.get(e.to_state, e.to_state)) for e in events],
        "action_forms": _action_forms(request.user, case), "photo_stages": stages,
        "assignments": case.assignments.select_related("department"),
        "supervisions": case.supervisions.all(), "departments": departments,
        "external_orders": case.external_orders.select_related("system"),
        "clocks": case.clocks.all(), "now": timezone.now(),
        "my_departments": access.user_department_ids(request.user),
        "can_dispatch": Actor.DISPATCH in kinds,
        "can_supervise": access.can_supervise(request.user, case),
        "tile_url": settings.WANGGE_TILE_URL,
        "point": [case.lat, case.lng] if case.lat is not None else None,
        "grid_geojson": _grid_geojson(case),
        **_resident_facts(case),
    })


def _resident_facts(case: Case) -> dict[str, Any]:
    """A resident's report (居民反映): its category in the resident's words, source, masked
    contact, address, how many residents follow it, and the ratings with comments."""
    if case.channel != Case.Channel.RESIDENT:
        return {}
    report = (ResidentReport.objects.select_related("public_category")
              .filter(case=case).first())
    return {"resident_report": report,
            "public_follows": case.events.filter(action="public_follow").count(),
            "ratings": case.ratings.select_related("entered_by")}


def _grid_geojson(case: Case) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": case.grid.name},
            "geometry": shapely.geometry.mapping(case.grid.geometry)}


def _redirect_with(request: HttpRequest, register_no: str, error: Exception | None,
                   done: str = "") -> HttpResponse:
    if isinstance(error, CaseError):
        messages.error(request, f"{FIELD_LABELS.get(error.field, error.field)}: {error}")
    elif error is not None:
        messages.error(request, str(error))
    elif done:
        messages.success(request, done)
    return redirect("cases:case", register_no=register_no)


def _posted(request: HttpRequest, form: Form) -> dict[str, Any] | CaseError:
    """The form's cleaned fields that were posted (the action's own defaults stand for the
    rest), or the first bad field as a CaseError naming it."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return CaseError(field, " ".join(str(e) for e in errors))
    return {k: v for k, v in form.cleaned_data.items() if k in request.POST}


@login_required
@require_POST
def act(request: HttpRequest, register_no: str, action: str) -> HttpResponse:
    case = access.access_case(request.user, register_no)
    fields = _posted(request, ActionForm(request.POST))
    if isinstance(fields, CaseError):
        return _redirect_with(request, register_no, fields)
    try:
        actions.do_transition(case, action, request.user, **fields)
    except (CaseError, IllegalTransition, PermissionDenied) as e:
        return _redirect_with(request, register_no, e)
    return _redirect_with(request, register_no, None, str(ACTION_LABELS.get(action, action)))


@login_required
@require_POST
def upload_photos(request: HttpRequest, register_no: str) -> HttpResponse:
    case = access.access_case(request.user, register_no)
    try:
        actions.do_add_photos(case, request.user, stage=request.POST.get("stage", ""),
                              photos=[f.read() for f in request.FILES.getlist("photos")])
    except (CaseError, IllegalTransition, PermissionDenied) as e:
        return _redirect_with(request, register_no, e)
    return _redirect_with(request, register_no, None, str(ACTION_LABELS["photos"]))


@login_required
def photo(request: HttpRequest, register_no: str, pk: int) -> FileResponse:
    if pk > MAX_ID:
        raise Http404("no such photo")
    found = access.access_photo(request.user, register_no, pk)
    response = FileResponse(open_stored(found), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def assignment_step(request: HttpRequest, register_no: str, pk: int, step: str) -> HttpResponse:
    case = access.access_case(request.user, register_no)
    assignment = case.assignments.select_related("department", "case__grid").filter(
        pk=pk).first() if pk <= MAX_ID else None
    try:
        if assignment is None:
            raise CaseError("assignment", "no such assignment")
        if step == "feedback":
            posted = _posted(request, FeedbackForm(request.POST))
            if isinstance(posted, CaseError):
                raise posted
            actions.do_assignment_feedback(assignment, request.user,
                                           feedback=posted.get("feedback", ""))
        else:
            actions.do_close_assignment(assignment, request.user)
    except (CaseError, PermissionDenied) as e:
        return _redirect_with(request, register_no, e)
    return _redirect_with(request, register_no, None, str(ACTION_LABELS[f"assignment_{step}"]))


@login_required
@require_POST
def supervise(request: HttpRequest, register_no: str) -> HttpResponse:
    case = access.access_case(request.user, register_no)
    try:
        posted = _posted(request, SuperviseForm(request.POST))
        if isinstance(posted, CaseError):
            raise posted
        # no date posted: three working days from the calendar (calendar days if the year
        # is missing from it)
        default = actions.supervision_deadline(timezone.now(), MANUAL_SUPERVISION_DAYS)[0]
        actions.do_supervise(case, request.user, level=posted.get("level", ""),
                             reason=posted.get("reason", ""),
                             deadline=_date(posted.get("deadline"), default))
    except (CaseError, PermissionDenied) as e:
        return _redirect_with(request, register_no, e)
    return _redirect_with(request, register_no, None, str(ACTION_LABELS["supervise"]))


#: the register numbers this session reported: its success pages (a reporter who may not
#: read the case now — confidential, outside their scope — still gets its number and code)
REPORTED_SESSION_KEY = "cases_reported"
REPORTED_REMEMBERED = 20
#: intake's refusals as the reporter in the street reads them (the API keeps the codes)
REPORT_MESSAGES = {
    "the location lies outside the territory": _("这个位置不在本平台的辖区内，请重新定位。"),
    "a location is required (the reporter has no grid)":
        _("请使用当前位置：您没有负责的网格，事件需要位置才能确定所属网格。"),
    "not a readable picture": _("有一个文件不是可识别的图片，未保留。"),
    "only JPEG, PNG or WebP photos are accepted": _("只接受 JPEG、PNG 或 WebP 照片。"),
}


def _report_message(e: CaseError) -> str:
    return str(REPORT_MESSAGES.get(str(e), e))


@login_required
def new_case(request: HttpRequest) -> HttpResponse:
    """上报: phone-sized, with photos, a map of the location and its grid; a double tap
    makes one case (the client key); photos that passed their check are kept on the server
    when the form comes back with an error (kept_photos), and the retry refers to them."""
    form = ReportForm(request.POST or None, user=request.user)
    kept: list[kept_photos.Kept] = []
    photo_errors: list[str] = []
    if request.method == "POST":
        client_key = request.POST.get("client_key", "")
        kept = kept_photos.load(request.user, client_key, request.POST.getlist("kept_photo"))
        known = {k.sha256 for k in kept}
        uploads = [raw for raw in (f.read() for f in request.FILES.getlist("photos"))
                   if hashlib.sha256(raw).hexdigest() not in known]  # the same photo again
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = actions.do_report(
                    data, request.user, channel=data["channel"], client_key=data["client_key"],
                    photos=[k.content for k in kept] + uploads)
            except CaseError as e:
                if e.field == "photos":
                    photo_errors.append(_report_message(e))
                else:  # the coordinates are folded away: their errors stand above the form
                    field = e.field if e.field in form.fields and e.field not in (
                        "lat", "lng") else None
                    form.add_error(field, _report_message(e))
            else:
                kept_photos.discard(request.user, client_key)
                _remember_reported(request, case.register_no)
                return redirect("cases:reported", register_no=case.register_no)
        for raw in uploads:  # keep what passed its check for the retry
            try:
                checked = check_photo(raw)
            except CaseError as e:
                photo_errors.append(_report_message(e))
                continue
            if len(kept) < settings.WANGGE_PHOTOS_PER_STAGE and (
                    kept_one := kept_photos.keep(request.user, client_key, checked)):
                kept.append(kept_one)
    return render(request, "cases/new.html", {
        "form": form, "kept": kept, "photo_errors": list(dict.fromkeys(photo_errors)),
        "tile_url": settings.WANGGE_TILE_URL})


def _remember_reported(request: HttpRequest, register_no: str) -> None:
    seen = [n for n in request.session.get(REPORTED_SESSION_KEY, []) if n != register_no]
    request.session[REPORTED_SESSION_KEY] = [register_no, *seen][:REPORTED_REMEMBERED]


@login_required
def reported(request: HttpRequest, register_no: str) -> HttpResponse:
    """上报成功: the register number, the follow code (关注码) and the way to the case —
    for the cases this session reported only."""
    if register_no not in request.session.get(REPORTED_SESSION_KEY, []):
        raise Http404("no such report in this session")
    case = Case.objects.select_related("grid", "category").get(register_no=register_no)
    return render(request, "cases/reported.html", {
        "case": case, "title": shown_title(case),
        "can_see": access.can_see_case(request.user, case)})


@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    box = queues.inbox(request.user)
    context, status = _filtered_page(request, box["cases"])
    return render(request, "cases/inbox.html", {
        **context, "assignments": box["assignments"], "today": timezone.localdate(),
    }, status=status)


def _subtree(request: HttpRequest) -> Any:
    """The subtree a board or statistics page is about: ?grid=CODE (drill down), else a
    town's or a community's staff's own, else None (the whole city, broken down by town)."""
    if code := request.GET.get("grid"):
        return territory_access.access_grid(request.user, code)
    if len(tops := list(territory_access.top_grids(request.user))) == 1 and tops[0].level:
        return tops[0]
    return None


@login_required
def stats_page(request: HttpRequest) -> HttpResponse:
    under = _subtree(request)
    s = queues.statistics(request.user, timezone.now(), under)
    s["by_state"] = [(STATE_LABELS.get(k, k), n) for k, n in s["by_state"].items()]
    return render(request, "cases/stats.html", {"s": s, "under": under})


@login_required
def sla_page(request: HttpRequest) -> HttpResponse:
    """SLA board: late cases (超期), then clocks in warning, due today and paused — by
    department and by subtree: the towns of the city, or with ?grid=CODE the grids one level
    below that one (drill down)."""
    under = _subtree(request)
    board = queues.sla_board(request.user, timezone.now(), under)
    board["breached"]["rows"] = [(row, shown_title(row.case))
                                 for row in board["breached"]["cases"]]
    for key in ("warning", "due_today", "paused"):
        board[key]["rows"] = [(c, shown_title(c.case)) for c in board[key]["clocks"]]
    trail = territory_access.visible_trail(request.user, under) if under else []
    return render(request, "cases/sla.html", {"board": board, "now": timezone.now(),
                                              "under": under, "trail": trail,
                                              "rows_shown": queues.SLA_BOARD_ROWS})


@login_required
def notice_page(request: HttpRequest) -> HttpResponse:
    """督办通报: a printable page for a period."""
    today = timezone.localdate()
    end = _date(request.GET.get("to"), today)
    start = _date(request.GET.get("from"), end - dt.timedelta(days=30))
    lines = notice(request.user, start, end, timezone.now())
    for line in lines:
        line.rows = [(row.case.register_no, shown_title(row.case), row.reasons)
                     for row in line.overdue]
        line.sups = [(s.case.register_no, shown_title(s.case), s.get_level_display(), s.deadline)
                     for s in line.supervised]
    return render(request, "cases/notice.html", {"start": start, "end": end, "lines": lines,
                                                 "now": timezone.now()})
