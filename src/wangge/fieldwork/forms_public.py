"""The resident's opinion / question form (/opinions/). Each message is in Chinese and names
its field ("内容：…"), because on a phone it may show far from the box it is about."""

from __future__ import annotations

import uuid
from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from wangge.fieldwork.actions.opinions import RESIDENT_CONTENT_MAX
from wangge.fieldwork.models import OpinionTopic
from wangge.registry.identity import IdentityError, normalise_phone

#: a form token: a double tap or a reload sends the same one, and makes one record
TOKEN_FIELD = "form_token"


class OpinionForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    topic = forms.ChoiceField(label=_("类别"), choices=[],
                              error_messages={"required": _("类别：请选择。"),
                                              "invalid_choice": _("类别：请从列表中选择。")})
    content = forms.CharField(
        label=_("内容"), max_length=RESIDENT_CONTENT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("内容：请填写。"),
                        "max_length": _("内容：最多 %(limit_value)d 个字。")})
    phone = forms.CharField(
        label=_("联系电话（选填，方便工作人员联系您；不会公开）"), max_length=30, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))

    def __init__(self, *args: Any, challenge: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if challenge:  # a burst from this address (cases.public_limits): a person types it
            self.fields["captcha"] = CaptchaField(
                label=_("请输入图中的字符"),
                error_messages={"invalid": _("验证码：输入不正确，请看清后重新输入。"),
                                "required": _("验证码：请输入图中的字符。")})
        self.fields["topic"].choices = [("", _t("请选择")), *OpinionTopic.objects.order_by(
            "order", "code").values_list("code", "name")]
        if not self.is_bound:
            self.fields[TOKEN_FIELD].initial = uuid.uuid4().hex

    def clean_content(self) -> str:
        content = self.cleaned_data["content"].strip()
        if not content:
            raise forms.ValidationError(_t("内容：请填写。"))
        return content

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except IdentityError:
            raise forms.ValidationError(
                _t("联系电话：请填写11位手机号码或带区号的固定电话。")) from None
