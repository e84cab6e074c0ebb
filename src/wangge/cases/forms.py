"""Console forms for cases: the phone-sized report form and the inputs of the case page's
actions. Text limits come from core.schema, as the API's do."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.cases.actions.intake import allowed_channels
from wangge.cases.models import Case, CaseCategory, Supervision
from wangge.core.models import IdempotencyKey
from wangge.core.schema import form_text
from wangge.org.access import AnyUser
from wangge.org.models import Department


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Small classes grouped under their big class, as the classification list reads."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for c in CaseCategory.objects.filter(parent__isnull=False).select_related("parent"):
        groups.setdefault(f"{c.parent.code} {c.parent.name}", []).append((c.code, c.name))
    return list(groups.items())


def own_channel(user: AnyUser) -> str | None:
    """The channel a user always reports through (the intake action's allowed_channels:
    grid workers as grid workers, people without a role as residents), or None when they
    choose it (the desks say how the matter came in)."""
    allowed = allowed_channels(user)
    return allowed[0] if len(allowed) == 1 else None


class ReportForm(forms.Form):
    """上报. For a user who always reports as themselves the channel is not asked: the form
    sets it, whatever was posted."""

    category = forms.ChoiceField(label=_("事件分类"))
    title = form_text(Case, "title", label=_("标题"))
    description = form_text(label=_("描述"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Case.Channel.choices)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    client_key = form_text(IdempotencyKey, "key", widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: AnyUser | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *category_choices()]
        self.fields["client_key"].initial = uuid.uuid4().hex  # a double tap makes one case
        self.own_channel = own_channel(user) if user is not None else None
        if self.own_channel is not None:
            del self.fields["channel"]
        elif user is not None:  # only the channels the action will take from this user
            allowed = set(allowed_channels(user))
            self.fields["channel"].choices = [
                (v, label) for v, label in Case.Channel.choices if v in allowed]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.own_channel is not None:
            cleaned["channel"] = self.own_channel
        return cleaned


class ActionForm(forms.Form):
    """Everything a case action may take; the view passes on only what was posted."""

    reason = form_text(Case, "closeout_reason", required=False)  # may become the closeout
    feedback = form_text(required=False)
    reply = form_text(required=False)
    closeout_reason = form_text(Case, "closeout_reason", required=False)
    department = form_text(Department, "code", required=False)
    satisfaction = forms.CharField(max_length=8, required=False)
    followup_note = form_text(required=False)
    planned_date = forms.CharField(max_length=32, required=False)


class FeedbackForm(forms.Form):
    feedback = form_text(required=False)


class SuperviseForm(forms.Form):
    level = forms.CharField(max_length=16, required=False)
    reason = form_text(Supervision, "reason", required=False)
    deadline = forms.CharField(max_length=32, required=False)
