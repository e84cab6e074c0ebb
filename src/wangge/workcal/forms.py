"""Console forms: one day, a year's coverage, and trying a policy's deadlines."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.workcal.actions import NORMAL
from wangge.workcal.models import CalendarDay, SlaPolicy


class DayForm(forms.Form):
    # the browser's date input wants ISO dates whatever the locale's display format
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("设为"), choices=[
        (CalendarDay.Kind.HOLIDAY, _("放假")), (CalendarDay.Kind.MAKEUP, _("调休上班")),
        (NORMAL, _("恢复常规（周一至周五上班）"))])
    name = forms.CharField(label=_("节日"), max_length=50, required=False,
                           help_text=_("如：春节；调休上班日填所属节日"))


class YearForm(forms.Form):
    year = forms.IntegerField(widget=forms.HiddenInput, min_value=1900, max_value=2200)
    covered = forms.BooleanField(label=_("本年度放假安排已完整录入"), required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False,
                           help_text=_("如：国务院办公厅通知文号"))


class TryForm(forms.Form):
    policy = forms.ChoiceField(label=_("时限策略"))
    at = forms.DateTimeField(label=_("起算时间"),
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                        format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [
            (p.code, f"{p.code} {p.name}") for p in SlaPolicy.objects.filter(active=True)]
