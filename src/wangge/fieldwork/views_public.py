"""/opinions/: a signed-out resident sends a 社情民意 opinion or asks a question (咨询), and
reads the answer with its number and follow code.

Where from: the QR code the resident scanned (`?t=`, a basic grid's code or a building's
door code, as on the report page), else the resident picks their community, then their grid
(two plain selects that work without JavaScript, as the service hall's "请网格员帮我办").

Retries: the form carries a token; the number it made is kept in the session under it (a
reload or back-and-resend answers that record) and a short cache claim stops two
simultaneous taps from both creating one — the service hall's pattern, because an anonymous
sender has no user to key `core.IdempotencyKey` on.

Who may read an opinion without its follow code: only the browser that sent it (the session),
so the follow code never travels in an address; the status page takes it in a POST.

Abuse: the report page's limits (cases.public_limits), counted together with residents'
reports: a burst from one address asks for a captcha, past the caps per address and hour
and per phone and day the send is refused (429) with a page saying why and whom to call.
Nothing on these pages names a staff member: the opinion's collector stays inside.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from wangge.cases import public_limits
from wangge.cases.access import public_cases
from wangge.cases.public_text import scrub
from wangge.fieldwork import access
from wangge.fieldwork.actions.opinions import do_resident_opinion
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.forms_public import TOKEN_FIELD, OpinionForm
from wangge.fieldwork.models import Opinion
from wangge.org.access import public_card
from wangge.registry.models import Building
from wangge.territory.models import Grid

SESSION_MINE = "opinions_mine"
SESSION_TOKENS = "opinions_tokens"
#: how many opinions one browser keeps the right to read (the oldest are forgotten first)
MINE_KEEP = 50
#: a second tap with the same form token waits this long at most for the first one's record
TOKEN_LOCK_S = 30

KIND_TITLES = {Opinion.Kind.OPINION: _l("反映社情民意"), Opinion.Kind.QUESTION: _l("我要咨询")}
KIND_HINTS = {
    Opinion.Kind.OPINION: _l("对社区、村里的事有看法或建议，写在这里。网格员会收集整理，"
                             "转给工作站和有关部门研究，并给您答复。"),
    Opinion.Kind.QUESTION: _l("有政策、办事方面的问题，写在这里。工作站会给您书面答复，"
                              "凭编号和查询码在本站查看。"),
}
#: a resident's words for each state
STATE_WORDS = {
    Opinion.State.RECORDED: _l("已经收到，网格员会整理后转给工作站。"),
    Opinion.State.FORWARDED: _l("已经转给工作站和有关部门，正在研究，答复后可在这里查看。"),
    Opinion.State.ANSWERED: _l("已经答复，答复内容在下面。"),
}


# ------------------------------------------------------------------------ session, tokens


def _remember(request: HttpRequest, no: str) -> None:
    mine = [n for n in request.session.get(SESSION_MINE, []) if n != no]
    request.session[SESSION_MINE] = [*mine, no][-MINE_KEEP:]


def _mine(request: HttpRequest, no: str) -> Opinion:
    if no not in request.session.get(SESSION_MINE, []):
        raise Http404("not this browser's")
    found = access.resident_opinion(no)
    if found is None:
        raise Http404("no such opinion")
    return found


def _claim_token(token: str) -> str | None:
    """None: this request makes the record. Otherwise the number the first request made
    ("" while it is still making it)."""
    key = f"opinions-form-token:{token}"
    if cache.add(key, "", TOKEN_LOCK_S):
        return None
    return cache.get(key, "")


def _token_made(request: HttpRequest, token: str, no: str) -> None:
    tokens = dict(request.session.get(SESSION_TOKENS, {}))
    tokens[token] = no
    request.session[SESSION_TOKENS] = dict(list(tokens.items())[-MINE_KEEP:])
    cache.set(f"opinions-form-token:{token}", no, TOKEN_LOCK_S)


# ------------------------------------------------------------------------ where from


def _place(request: HttpRequest) -> tuple[Grid | None, Building | None, dict[str, str]]:
    """(basic grid, building or None, the query that carries the place on) from `t` (a QR
    token) or `grid` (a basic grid's code from the picker); (None, None, {}) otherwise."""
    source = request.POST if request.method == "POST" else request.GET
    token = source.get("t", "").strip()[:64]
    grid, building = access.public_place(token=token)
    if grid is not None:
        return grid, building, {"t": token}
    grid, _none = access.public_place(grid_code=source.get("grid", "").strip()[:20])
    return (grid, None, {"grid": grid.code}) if grid is not None else (None, None, {})


# ------------------------------------------------------------------------ pages


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Choose 社情民意 or 咨询 for the grid of the code; without a code, pick the grid first."""
    grid, building, carry = _place(request)
    if grid is None:
        community = request.GET.get("community", "")[:20]
        return render(request, "fieldwork/public/where.html", {
            "communities": access.public_communities(), "community": community,
            "grids": access.public_basic_grids(community) if community else [],
            "unknown_code": bool(request.GET.get("t")),
        })
    qs = urlencode(carry)
    return render(request, "fieldwork/public/start.html", {
        "grid": grid, "building": building, "qs": qs,
        "chain": public_card(grid)["chain"],
    })


def send(request: HttpRequest, kind: str) -> HttpResponse:
    """The form of one kind. A bad field answers 422 with the form and the field named."""
    if kind not in Opinion.Kind.values:
        raise Http404("no such kind")
    grid, building, carry = _place(request)
    if grid is None and request.method == "GET":
        return redirect(reverse("opinions_public:start"))
    phone = request.POST.get("phone", "")[:30]
    decision = public_limits.check_resident_limits(request, phone)
    form = OpinionForm(request.POST or None, challenge=decision.challenge)
    status, place_error = 200, ""
    if request.method == "POST":
        sent = request.POST.get(TOKEN_FIELD, "")[:64]
        if sent and (earlier := request.session.get(SESSION_TOKENS, {}).get(sent)):
            return redirect("opinions_public:done", no=earlier)
        if decision.refused:
            return render(request, "fieldwork/public/limited.html",
                          {"reason": decision.refused}, status=429)
        status = 422
        if grid is None:
            place_error = str(_l("网格：请先选择您所在的社区（村）和网格，或扫描楼栋上的二维码。"))
        elif form.is_valid():
            claimed = _claim_token(sent) if sent else None
            if claimed:
                return redirect("opinions_public:done", no=claimed)
            if claimed == "":
                return render(request, "fieldwork/public/in_progress.html", status=409)
            try:
                data = form.cleaned_data
                made = do_resident_opinion(grid=grid, kind=kind, topic=data["topic"],
                                           content=data["content"], phone=data["phone"])
            except FieldworkError as e:
                if sent:
                    cache.delete(f"opinions-form-token:{sent}")
                if e.field in form.fields:
                    form.add_error(e.field, f"{form.fields[e.field].label}：{e.msg}")
                else:
                    place_error = e.msg
            else:
                public_limits.count_resident_report(request, phone)
                _remember(request, made.public_no or "")
                if sent:
                    _token_made(request, sent, made.public_no or "")
                return redirect("opinions_public:done", no=made.public_no)
    return render(request, "fieldwork/public/form.html", {
        "kind": kind, "title": KIND_TITLES[Opinion.Kind(kind)],
        "hint": KIND_HINTS[Opinion.Kind(kind)], "form": form, "grid": grid,
        "building": building, "carry": carry, "place_error": place_error,
        "back": reverse("opinions_public:start") + ("?" + urlencode(carry) if carry else ""),
    }, status=status)


@require_GET
def done(request: HttpRequest, no: str) -> HttpResponse:
    """The number and the follow code, to keep (only in the browser that sent it)."""
    opinion = _mine(request, no)
    return render(request, "fieldwork/public/done.html", {
        "o": opinion, "kind_label": opinion.get_kind_display(),
        "words": STATE_WORDS.get(Opinion.State(opinion.state), "")})


def _result(opinion: Opinion) -> dict[str, Any]:
    """What the resident may read: the state in plain words, the answer once given (phones,
    ID numbers and e-mail addresses in it masked), a case's register number if it became
    one the public may follow. Never who collected or answered it."""
    case = opinion.case
    followable = case is not None and public_cases().filter(pk=case.pk).exists()
    return {
        "o": opinion, "kind_label": opinion.get_kind_display(),
        "state_label": opinion.get_state_display(),
        "words": STATE_WORDS.get(Opinion.State(opinion.state), ""),
        "content": scrub(opinion.content),
        "answer": scrub(opinion.answer) if opinion.state == Opinion.State.ANSWERED else "",
        "case_no": case.register_no if followable and case is not None else "",
    }


def status(request: HttpRequest) -> HttpResponse:
    """查询答复: the number and follow code come in a POST (never in an address); the browser
    that sent the opinion reads it by `?no=` alone. A wrong number or code: 404, the form
    again, and nothing about whether the number exists."""
    if request.method == "POST":
        no = request.POST.get("no", "").strip().upper()[:24]
        code = request.POST.get("code", "").strip()[:16]
        found = access.public_opinion(no, code) if no and code else None
        if found is None:
            return render(request, "fieldwork/public/status.html",
                          {"no": no, "missing": True}, status=404)
        return render(request, "fieldwork/public/status.html", {"no": no, **_result(found)})
    no = request.GET.get("no", "").strip().upper()[:24]
    if no:
        try:
            found = _mine(request, no)
        except Http404:
            return render(request, "fieldwork/public/status.html", {"no": no})
        return render(request, "fieldwork/public/status.html", {"no": no, **_result(found)})
    return render(request, "fieldwork/public/status.html", {"no": ""})
