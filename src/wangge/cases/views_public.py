"""办理进度查询 `/cases/status/<no>`: a resident follows a case in plain words and, with its
follow code (关注码), reads the written reply and rates the case once it is closed.

What the page may show at all comes from `access.public_cases()` (never a confidential case,
never an internal kind of work); of such a case only the changes of state with their time
(`access.public_steps`), in a resident's words (`public_text.STATE_WORDS`) — never who
acted, a note, a phone or a name.

The follow code comes in a POST (the form) and never stays in an address: once it matched,
this browser holds it in the session (`resident_cases`: register_no → follow code, the same
dict the report page writes) and is sent on to the page by number alone. A wrong code
answers exactly as no code. Wrong codes are counted per client address and clock hour in
Django's cache (as services.public_limits counts creates); past WRONG_CODES_PER_HOUR the
code check answers 429 for the rest of the hour, so the six-character codes cannot be
guessed by trying (the states themselves stay readable: they need no code).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.cases import access, actions, public_limits
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case, Rating
from wangge.cases.public_text import STATE_WORDS, scrub
from wangge.cases.workflow import State

#: register_no → follow code of the cases this browser may open (written by the report page)
SESSION_CASES = "resident_cases"
SESSION_KEEP = 50
NO_MAX = 32
#: the level choices as big buttons, best first (Rating.Level: 5 = 非常满意)
LEVELS = [(int(v), label) for v, label in sorted(Rating.Level.choices, reverse=True)]


def _held_code(request: HttpRequest, register_no: str) -> str:
    return str(request.session.get(SESSION_CASES, {}).get(register_no, ""))


def _hold(request: HttpRequest, case: Case) -> None:
    held = {k: v for k, v in request.session.get(SESSION_CASES, {}).items()
            if k != case.register_no}
    held[case.register_no] = case.follow_code
    request.session[SESSION_CASES] = dict(list(held.items())[-SESSION_KEEP:])


def _find(register_no: str) -> Case | None:
    if not register_no:
        return None
    return (access.public_cases().select_related("category", "resident_report__public_category")
            .filter(register_no=register_no).first())


def _steps(case: Case) -> list[tuple[Any, str]]:
    """(time, words) of each change of state; a reopen in the resident's words."""
    return [(e.at, _("重新办理（您不满意）") if e.action == "reopen"
             else str(STATE_LABELS.get(e.to_state, e.to_state)))
            for e in access.public_steps(case)]


def _kind(case: Case) -> str:
    report = getattr(case, "resident_report", None)
    return report.public_category.name if report is not None else case.category.name


def _context(request: HttpRequest, case: Case) -> dict[str, Any]:
    opened = access.follow_code_opens(case, _held_code(request, case.register_no))
    ratings = list(case.ratings.all()) if opened else []
    last = ratings[-1] if ratings else None
    return {
        "case": case, "no": case.register_no, "kind": _kind(case),
        "state_label": STATE_LABELS.get(case.state, case.state),
        "state_words": STATE_WORDS.get(case.state, ""), "steps": _steps(case),
        "opened": opened,
        "reply": scrub(case.written_reply) if opened and case.written_reply else "",
        "can_rate": opened and case.state == State.CLOSED,
        "reopened": opened and last is not None and last.reopened
        and case.state not in (State.CLOSED, State.EVALUATED),
        "ratings": [(r.created_at, r.get_level_display(), r.reopened) for r in ratings],
        "levels": LEVELS,
    }


def _page(request: HttpRequest, register_no: str, status: int = 200,
          **extra: Any) -> HttpResponse:
    case = _find(register_no)
    context: dict[str, Any] = {"no": register_no, "levels": LEVELS}
    if case is not None:
        context.update(_context(request, case))
    elif register_no:
        context["missing"] = True
    context.update(extra)
    return render(request, "cases/status.html", context, status=status)


def _onward(register_no: str) -> HttpResponse:
    onward = redirect(reverse("cases_public:status_no", args=[register_no]))
    onward.status_code = 303  # see other: the browser asks again with GET
    return onward


def public_status(request: HttpRequest, register_no: str = "") -> HttpResponse:
    """The page by number (`/cases/status/<no>` or `?no=`); a POST of the form checks a
    follow code and sends the browser on to the number alone."""
    source = request.POST if request.method == "POST" else request.GET
    register_no = (register_no or source.get("no", "")).strip().upper()[:NO_MAX]
    if request.method != "POST":
        return _page(request, register_no)
    code = request.POST.get("code", "").strip()[:16]
    if not code:
        return _onward(register_no) if register_no else _page(request, "")
    if public_limits.too_many_wrong_codes(request):
        return render(request, "cases/status.html", {
            "no": register_no, "limited": True, "levels": LEVELS}, status=429)
    case = _find(register_no)
    if case is not None and access.follow_code_opens(case, code):
        _hold(request, case)
        return _onward(case.register_no)
    public_limits.count_wrong_code(request)
    return _page(request, register_no)  # a wrong code answers as no code


@require_POST
def rate(request: HttpRequest, register_no: str) -> HttpResponse:
    """满意度评价 by the resident: only with the follow code this browser holds."""
    register_no = register_no.strip().upper()[:NO_MAX]
    case = _find(register_no)
    if case is None or not access.follow_code_opens(case, _held_code(request, register_no)):
        return _page(request, register_no, status=403, rate_error=_(
            "请先输入关注码，再评价。"))
    try:
        rating = actions.do_rate(case, request.POST.get("level", ""),
                                 request.POST.get("comment", ""), via=Rating.Via.RESIDENT)
    except CaseError as e:
        field = {"level": _("满意度"), "comment": _("评价意见")}.get(e.field, e.field)
        return _page(request, register_no, status=422, rate_error=f"{field}：{e}",
                     comment=request.POST.get("comment", "")[:600])
    except (IllegalTransition, PermissionDenied):
        return _page(request, register_no, status=409, rate_error=_(
            "这件事现在不能评价：已经评价过了，或者还没有办结。"))
    messages.success(request, _("已重新交办处理，谢谢您的意见。") if rating.reopened
                     else _("谢谢您的评价！"))
    return _onward(register_no)
