"""回访 desk `/console/cases/followups/`: the follow-up calls due — cases from the rule's
channels (FeedbackRule.followup_channels, by default residents) closed at least
`followup_after_days` working days ago and not yet rated, oldest first — each with a form
to record the call (level + note → do_rate via followup, which may reopen the case under
the same rule); and the unsatisfied ratings (不满意, 非常不满意) of the last 30 days.

Scope: access.followup_cases (the user's dispatching subtree). The resident's phone is shown
masked only: cases have no unmask-with-purpose read yet (registry and services do), so the
dispatcher calls through the hotline system that holds the number, not from this page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.cases import access, actions
from wangge.cases.actions.rating import followup_due_before
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Rating
from wangge.cases.notice import shown_title

#: rows shown per list (the counts above say how many there are in all)
ROWS = 100
UNSATISFIED_DAYS = 30
LEVELS = [(int(v), label) for v, label in sorted(Rating.Level.choices, reverse=True)]


def _context(request: HttpRequest) -> dict[str, Any]:
    rule = actions.feedback_rule()
    now = timezone.now()
    due = access.followups_due(request.user, list(rule.followup_channels or []),
                               followup_due_before(now, rule.followup_after_days))
    since = now - dt.timedelta(days=UNSATISFIED_DAYS)
    unsatisfied = access.unsatisfied_ratings(request.user, since)
    due_rows = [{"case": c, "title": shown_title(c), "report": getattr(c, "resident_report", None)}
                for c in due.select_related("grid", "resident_report__public_category")[:ROWS]]
    bad_rows = [{"rating": r, "title": shown_title(r.case),
                 "state": STATE_LABELS.get(r.case.state, r.case.state)}
                for r in unsatisfied[:ROWS]]
    return {"rule": rule, "due": due_rows, "due_count": due.count(),
            "unsatisfied": bad_rows, "unsatisfied_count": unsatisfied.count(),
            "reopened_count": unsatisfied.filter(reopened=True).count(),
            "levels": LEVELS, "days": UNSATISFIED_DAYS, "rows_shown": ROWS}


@login_required
def followups_page(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/followups.html", _context(request))


@login_required
@require_POST
def record_call(request: HttpRequest, register_no: str) -> HttpResponse:
    """Record a follow-up call: the level the resident gave and the dispatcher's note."""
    case = access.access_case(request.user, register_no)
    try:
        rating = actions.do_rate(case, request.POST.get("level", ""),
                                 request.POST.get("note", ""), via=Rating.Via.FOLLOWUP,
                                 actor=request.user)
    except CaseError as e:
        field = {"level": _("满意度"), "comment": _("回访记录")}.get(e.field, e.field)
        return render(request, "cases/followups.html", {
            **_context(request), "error": f"{register_no} {field}：{e}"}, status=422)
    except IllegalTransition:
        return render(request, "cases/followups.html", {
            **_context(request),
            "error": _("%(no)s 已评价或未办结，无需回访。") % {"no": register_no}}, status=409)
    except PermissionDenied:
        return render(request, "cases/followups.html", {
            **_context(request),
            "error": _("%(no)s 不由您回访。") % {"no": register_no}}, status=403)
    messages.success(request, (_("%(no)s 已记录回访，居民不满意，已重新交办处理。")
                               if rating.reopened else _("%(no)s 已记录回访。"))
                     % {"no": register_no})
    return redirect("cases:followups")
