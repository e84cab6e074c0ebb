"""Console forms for cases: the phone-sized report form."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import Case, CaseCategory


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Small classes grouped under their big class, as the classification list reads."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for c in CaseCategory.objects.filter(parent__isnull=False).select_related("parent"):
        groups.setdefault(f"{c.parent.code} {c.parent.name}", []).append((c.code, c.name))
    return list(groups.items())


class ReportForm(forms.Form):
    category = forms.ChoiceField(label=_("事件分类"))
    title = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(label=_("描述"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Case.Channel.choices)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    client_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *category_choices()]
        self.fields["client_key"].initial = uuid.uuid4().hex  # a double tap makes one case
