"""The resident's report form (/report/). Plain Django form fields, so the page works
without JavaScript (radio buttons, a file input, the building of the code as the place);
the script only adds GPS and a map pin. Every message is in Chinese and names its field,
because on a phone it may show far from the box it is about."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import PublicCategory
from wangge.registry.identity import IdentityError, normalise_phone

#: where the problem is: the building of the code, the grid of the code, or a point
WHERE_BUILDING, WHERE_GRID, WHERE_POINT = "building", "grid", "point"
CONTACT_LEAVE, CONTACT_ANONYMOUS = "contact", "anonymous"
CLIENT_KEY = r"^[0-9a-f]{32}$"


def attribute_name(category: str, code: str) -> str:
    """The form field of a category's intake field (one per category: codes may repeat)."""
    return f"attr__{category}__{code}"


class MultiplePhotos(forms.ClearableFileInput):
    allow_multiple_selected = True


class ReportForm(forms.Form):
    # the page's own random key (uuid4 hex): anything else is refused, so a form can never
    # name another channel's key (an Open311 client's `o311:…`) and replay its case
    client_key = forms.RegexField(regex=CLIENT_KEY, widget=forms.HiddenInput, error_messages={
        "invalid": _("表单已失效，请刷新页面后重新填写。"),
        "required": _("表单已失效，请刷新页面后重新填写。")})
    public_category = forms.ChoiceField(
        label=_("遇到了什么问题"), widget=forms.RadioSelect,
        error_messages={"required": _("问题类型：请选择一项。"),
                        "invalid_choice": _("问题类型：请在列表中选择。")})
    description = forms.CharField(
        label=_("具体说说（选填）"), required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("例如：单元门口的下水道堵了，"
                                                                  "污水流到路上")}))
    where = forms.ChoiceField(label=_("问题在哪里"), widget=forms.RadioSelect,
                              error_messages={"required": _("位置：请选择一种方式。")})
    lng = forms.FloatField(required=False, widget=forms.HiddenInput,
                           error_messages={"invalid": _("位置：经纬度须为数字。")})
    lat = forms.FloatField(required=False, widget=forms.HiddenInput,
                           error_messages={"invalid": _("位置：经纬度须为数字。")})
    photos = forms.FileField(
        label=_("照片（选填）"), required=False,
        widget=MultiplePhotos(attrs={"accept": "image/*", "capture": "environment"}))
    contact_mode = forms.ChoiceField(
        label=_("联系方式"), widget=forms.RadioSelect, initial=CONTACT_LEAVE,
        choices=[(CONTACT_LEAVE, _("留下联系方式（只给办理人员看，方便回访）")),
                 (CONTACT_ANONYMOUS, _("匿名反映（不留姓名和电话）"))])
    contact_name = forms.CharField(label=_("怎么称呼您（选填）"), required=False, max_length=50,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}),
                                   error_messages={"max_length": _("称呼：最多50个字。")})
    contact_phone = forms.CharField(
        label=_("手机号码（选填）"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"max_length": _("手机号码：请填写正确的号码。")})
    #: "report mine anyway" after the offer to follow a case nearby
    new_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: Iterable[PublicCategory] = (),
                 where_choices: list[tuple[str, str]] | None = None, challenge: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = list(categories)
        self.fields["public_category"].choices = [(c.code, c.name) for c in self.categories]
        choices = where_choices or [(WHERE_POINT, _("我的位置或地图上的点"))]
        self.fields["where"].choices = choices
        self.fields["where"].initial = choices[0][0]
        limit = settings.WANGGE_RESIDENT_DESCRIPTION_MAX  # read now: tests change it
        old = self.fields["description"]
        self.fields["description"] = forms.CharField(
            label=old.label, required=False, max_length=limit, widget=old.widget,
            error_messages={"max_length": _("具体说说：最多 %(limit_value)d 个字"
                                            "（现在 %(show_value)d 个）。")})
        for category in self.categories:
            for spec in sorted(category.intake_fields or [], key=lambda f: f.get("order", 0)):
                self.fields[attribute_name(category.code, spec["code"])] = _attribute(spec)
        if challenge:
            self.fields["captcha"] = CaptchaField(
                label=_("请输入图中的字符"),
                error_messages={"invalid": _("验证码：输入不正确，请看清后重新输入。"),
                                "required": _("验证码：请输入图中的字符。")})
        if not self.is_bound:
            self.fields["client_key"].initial = uuid.uuid4().hex

    def clean_contact_phone(self) -> str:
        # checked here as well as in the action, so a wrong phone shows with the other errors
        raw = self.cleaned_data.get("contact_phone", "").strip()
        if raw and self.data.get("contact_mode") != CONTACT_ANONYMOUS:
            try:
                normalise_phone(raw)
            except IdentityError:
                message = _("手机号码：请填写正确的手机或固定电话号码。")
                raise forms.ValidationError(message) from None
        return raw

    def attributes(self, category: str) -> dict[str, Any]:
        """The chosen category's intake fields as the action takes them (others ignored)."""
        prefix = attribute_name(category, "")
        return {name[len(prefix):]: value for name, value in self.cleaned_data.items()
                if name.startswith(prefix) and value not in (None, "")}

    def grouped(self) -> list[tuple[str, list[tuple[PublicCategory, list[Any]]]]]:
        """(group, [(category, its bound intake fields)]) in the categories' order."""
        groups: dict[str, list[tuple[PublicCategory, list[Any]]]] = {}
        for category in self.categories:
            bound = [self[name] for name in self.fields
                     if name.startswith(attribute_name(category.code, ""))]
            groups.setdefault(category.group, []).append((category, bound))
        return list(groups.items())


def _attribute(spec: dict[str, Any]) -> forms.Field:
    label = spec.get("description") or spec["code"]
    kind = spec.get("datatype", "string")
    if kind in ("singlevaluelist", "multivaluelist"):
        values = [(str(v["key"]), v.get("name", v["key"])) for v in spec.get("values", [])]
        if kind == "multivaluelist":
            return forms.MultipleChoiceField(label=label, required=False, choices=values,
                                             widget=forms.CheckboxSelectMultiple)
        return forms.ChoiceField(label=label, required=False,
                                 choices=[("", _("（不确定）")), *values])
    if kind == "number":
        return forms.FloatField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=500)
