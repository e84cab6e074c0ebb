"""Forms of the public service-hall pages. A resident reads every message: each one is in
Chinese and names the field it is about ("身份证号码：…"), because on a phone the message may
show far from the box it is about."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from wangge.registry.identity import IdentityError, normalise_phone, parse_id_number

#: a form token: a double tap or a reload sends the same one, and makes one record
TOKEN_FIELD = "form_token"
#: how far ahead a resident may ask the worker to come
BOOK_AHEAD_DAYS = 60


def new_token() -> str:
    return uuid.uuid4().hex


class TokenForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields[TOKEN_FIELD].initial = new_token()


def _id_reason(exc: IdentityError, raw: str) -> str:
    """IdentityError's English reason in words a resident acts on."""
    text = str(exc)
    if text.startswith("must be 18 characters"):
        return _t("应为18位，您填写了%(n)s位。") % {"n": len(raw.replace(" ", ""))}
    if text.startswith("check character"):
        return _t("最后一位校验码不对，请逐位核对。")
    if "birth date" in text:
        return _t("其中的出生日期不对。")
    if "15-digit" in text:
        return _t("请填写18位的新号码。")
    return _t("格式不对，请核对。")


class ApplicantForm(TokenForm):
    """网上预审的申请人：姓名必填；身份证号码和手机号码必填并校验（预审部门要凭它们核对和联系）。"""

    name = forms.CharField(label=_("申请人姓名"), max_length=50,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}),
                           error_messages={"required": _("申请人姓名：请填写。")})
    id_number = forms.CharField(label=_("身份证号码"), max_length=30,
                                widget=forms.TextInput(attrs={"autocomplete": "off",
                                                              "autocapitalize": "characters"}),
                                error_messages={"required": _("身份证号码：请填写。")})
    phone = forms.CharField(label=_("手机号码"), max_length=30,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "tel"}),
                            error_messages={"required": _("手机号码：请填写，用于通知预审结果。")})

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if len(name) < 2:
            raise forms.ValidationError(_t("申请人姓名：请填写完整的姓名。"))
        return name

    def clean_id_number(self) -> str:
        raw = self.cleaned_data["id_number"]
        try:
            return parse_id_number(raw).number
        except IdentityError as exc:
            raise forms.ValidationError(_t("身份证号码：") + _id_reason(exc, raw)) from None

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except IdentityError:
            raise forms.ValidationError(
                _t("手机号码：请填写11位手机号码或带区号的固定电话。")) from None


class BookForm(TokenForm):
    """请网格员帮我办: who, how to reach them, when suits them, anything the worker should know."""

    name = forms.CharField(label=_("您的姓名"), max_length=50,
                           error_messages={"required": _("您的姓名：请填写。")})
    phone = forms.CharField(
        label=_("联系电话"), max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("联系电话：请填写，网格员会先打电话约时间。")})
    at = forms.DateTimeField(
        label=_("希望上门的时间（选填）"), required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("希望上门的时间：请选择日期和时间。")})
    note = forms.CharField(label=_("补充说明（选填）"), max_length=200, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    house = forms.TypedChoiceField(label=_("门牌（选填）"), required=False, coerce=int,
                                   empty_value=None, choices=[])

    def __init__(self, *args: Any, houses: list[tuple[int, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if houses:
            self.fields["house"].choices = [("", _t("（不选）")), *houses]
        else:
            del self.fields["house"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if len(name) < 2:
            raise forms.ValidationError(_t("您的姓名：请填写完整的姓名。"))
        return name

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except IdentityError:
            raise forms.ValidationError(
                _t("联系电话：请填写11位手机号码或带区号的固定电话。")) from None

    def clean_at(self) -> dt.datetime | None:
        at = self.cleaned_data.get("at")
        if at is None:
            return None
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        now = timezone.now()
        if at < now:
            raise forms.ValidationError(_t("希望上门的时间：请选一个还没到的时间。"))
        if at > now + dt.timedelta(days=BOOK_AHEAD_DAYS):
            raise forms.ValidationError(
                _t("希望上门的时间：请选%(n)s天以内的时间。") % {"n": BOOK_AHEAD_DAYS})
        return at


RATING_LABELS = {5: _("非常满意"), 4: _("满意"), 3: _("基本满意"), 2: _("不满意"),
                 1: _("非常不满意")}


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("满意度"), coerce=int, widget=forms.RadioSelect,
        choices=list(RATING_LABELS.items()),
        error_messages={"required": _("满意度：请选择一项。"),
                        "invalid_choice": _("满意度：请选择一项。")})
    comment = forms.CharField(label=_("评价（选填）"), max_length=300, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
