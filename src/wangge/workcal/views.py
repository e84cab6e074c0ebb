"""The calendar console page: a year's holidays and make-up days, the SLA policies, a
deadline try-out, and (for center admins) forms to change one day or a year's coverage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.workcal import actions, calendar, policies
from wangge.workcal.access import can_edit_calendar
from wangge.workcal.deadlines import SHANGHAI, CalendarNotCovered, Unit
from wangge.workcal.forms import DayForm, TryForm, YearForm
from wangge.workcal.models import CalendarDay, CalendarYear, SlaPolicy
from wangge.workcal.validation import WorkcalError

WEEKDAYS = (gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
            gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日"))


def _year(value: str | None) -> int:
    try:
        year = int(value or "")
    except ValueError:
        return timezone.localdate().year
    return year if 1900 <= year <= 2200 else timezone.localdate().year


def shown_deadline(due: dt.datetime, unit: str) -> str:
    """A working-day deadline reads as "24:00 of its last day", as people say it."""
    local = due.astimezone(SHANGHAI)
    if unit == Unit.WORKING_DAYS:
        return f"{(local - dt.timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def _try(request: HttpRequest) -> dict[str, Any]:
    form = TryForm(request.GET if "policy" in request.GET else None)
    out: dict[str, Any] = {"try_form": form, "tried": None, "try_error": ""}
    if form.is_bound and form.is_valid():
        try:
            rows = policies.deadlines(form.cleaned_data["policy"], form.cleaned_data["at"])
        except CalendarNotCovered as e:
            out["try_error"] = _(
                "工作日历未覆盖 %(year)s 年，无法计算：请先录入该年度放假安排。") % {"year": e.year}
        except policies.UnknownPolicy as e:
            out["try_error"] = str(e)
        else:
            out["tried"] = [(s, shown_deadline(d, s.unit), d.isoformat()) for s, d in rows]
    return out


def _render(request: HttpRequest, year: int, *, day_form: DayForm | None = None,
            year_form: YearForm | None = None, status: int = 200) -> HttpResponse:
    info = CalendarYear.objects.filter(year=year).first()
    try:
        workdays: int | None = calendar.current().working_days_in_year(year)
    except CalendarNotCovered:
        workdays = None
    days = [(d, WEEKDAYS[d.date.weekday()], d.date.weekday() >= 5)
            for d in CalendarDay.objects.filter(date__year=year).order_by("date")]
    return render(request, "workcal/calendar.html", {
        "year": year, "info": info, "workdays": workdays, "days": days,
        "years": CalendarYear.objects.order_by("year"),
        "policies": SlaPolicy.objects.prefetch_related("clocks"),
        "can_edit": can_edit_calendar(request.user),
        "day_form": day_form or DayForm(initial={"date": dt.date(year, 1, 1)}),
        "year_form": year_form or YearForm(initial={
            "year": year, "covered": bool(info and info.covered),
            "note": info.note if info else ""}),
        **_try(request),
    }, status=status)


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    return _render(request, _year(request.GET.get("year")))


def _errors_to_form(form: forms.Form, error: WorkcalError) -> None:
    for p in error.problems:
        field = {"is_workday": "kind"}.get(p.field, p.field)
        form.add_error(field if field in form.fields else None, p.message)


@login_required
@require_POST
def set_day(request: HttpRequest) -> HttpResponse:
    actions.check_edit_calendar(request.user)
    form = DayForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["date"]
        try:
            actions.do_set_day(day, kind=form.cleaned_data["kind"],
                               name=form.cleaned_data["name"], actor=request.user)
        except WorkcalError as e:
            _errors_to_form(form, e)
        else:
            messages.success(request, _("已保存 %(date)s。") % {"date": day.isoformat()})
            return redirect(f"{reverse('workcal:calendar')}?year={day.year}")
    year = form.cleaned_data["date"].year if "date" in form.cleaned_data else _year(None)
    return _render(request, year, day_form=form, status=400)


@login_required
@require_POST
def set_year(request: HttpRequest) -> HttpResponse:
    actions.check_edit_calendar(request.user)
    form = YearForm(request.POST)
    if not form.is_valid():
        return _render(request, _year(request.POST.get("year")), year_form=form, status=400)
    year = form.cleaned_data["year"]
    actions.do_set_year(year, covered=form.cleaned_data["covered"],
                        note=form.cleaned_data["note"], actor=request.user)
    messages.success(request, _("已保存 %(year)s 年度设置。") % {"year": year})
    return redirect(f"{reverse('workcal:calendar')}?year={year}")
