"""The console's forms for the next moves on a dispute. They only parse what a person typed
(required, lengths, dates); every rule is the do_* function's, whose DisputeError names
the field the page shows the message beside. Each form has the step as its prefix, so the
fields of the several forms on the dispute page have ids of their own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.disputes.models import FollowUp, Referral, Signature

TEXT = 5000


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kw: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kw)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kw: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kw)


def _now_local() -> Any:
    return timezone.localtime().replace(second=0, microsecond=0)


class StepForm(forms.Form):
    """A step's form: `step` is its URL part and prefix; `payload()` what the do_* takes."""

    step = ""
    title: Any = ""
    button: Any = _("提交")

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw.setdefault("prefix", self.step)
        super().__init__(*args, **kw)

    def payload(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def add_refusal(self, field: str, message: str) -> None:
        """A do_*'s refusal beside its field (its first part: `parties.0.name` → parties),
        or above the form when no field of the form has that name."""
        name = (field or "").split(".")[0]
        if name not in self.fields and name.removesuffix("_id") in self.fields:
            name = name.removesuffix("_id")  # mediator_id → mediator, party_id → party
        self.add_error(name if name in self.fields else None, message)


class AcceptForm(StepForm):
    step = "accept"
    title = _("受理调解")
    button = _("受理")
    mediator = forms.TypedChoiceField(label=_("调解员"), coerce=int, required=False,
                                      empty_value=None)

    def __init__(self, *args: Any, mediators: list[tuple[int, str]] = (), **kw: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kw)
        self.fields["mediator"].choices = [("", _("本人或本级第一位调解员")), *mediators]


class AssignForm(StepForm):
    step = "assign"
    title = _("改派调解员")
    button = _("改派")
    mediator = forms.TypedChoiceField(label=_("调解员"), coerce=int)

    def __init__(self, *args: Any, mediators: list[tuple[int, str]] = (), **kw: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kw)
        self.fields["mediator"].choices = [("", _("请选择")), *mediators]


class EscalateForm(StepForm):
    step = "escalate"
    title = _("逐级上报")
    button = _("上报上一级")
    reason = forms.CharField(label=_("上报原因"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 2}))


class SessionForm(StepForm):
    step = "session"
    title = _("记录调解")
    button = _("保存调解记录")
    held_at = forms.DateTimeField(label=_("调解时间"), widget=DateTimeLocal(),
                                  initial=_now_local)
    place = forms.CharField(label=_("地点"), max_length=200)
    attendees = forms.CharField(label=_("参加人员"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 2}))
    notes = forms.CharField(label=_("调解情况"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 4}))

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"held_at": d["held_at"].isoformat(), "place": d["place"],
                "attendees": d["attendees"], "notes": d["notes"], "photo_hashes": []}


class AgreementForm(StepForm):
    step = "agree"
    title = _("达成调解协议")
    button = _("生成调解协议书")
    terms = forms.CharField(label=_("协议内容"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 5}))
    perform_by = forms.DateField(label=_("履行期限"), required=False, widget=DateInput())


class SignForm(StepForm):
    step = "sign"
    title = _("上传签名扫描件")
    button = _("上传签名")
    party = forms.TypedChoiceField(label=_("当事人"), coerce=int)
    file = forms.FileField(label=_("签名扫描件（JPEG/PNG）"))

    def __init__(self, *args: Any, parties: list[tuple[int, str]] = (), **kw: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kw)
        self.fields["party"].choices = [("", _("请选择")), *parties]
        # a phone photographs the signed page; a desk picks the scanner's file
        self.fields["file"].widget.attrs.update({"accept": "image/jpeg,image/png,image/webp",
                                                 "capture": "environment"})

    def add_refusal(self, field: str, message: str) -> None:
        name = (field or "").split(".")[0]
        mapped = {"image_hash": "file", "image": "file", "signed_at": "file"}.get(name, name)
        super().add_refusal(mapped, message)


class ReferForm(StepForm):
    step = "refer"
    title = _("调解不成，移交")
    button = _("移交")
    body = forms.ChoiceField(label=_("移交至"), choices=[("", _("请选择")),
                                                        *Referral.Body.choices])
    department = forms.TypedChoiceField(label=_("部门（移交职能部门时）"), coerce=int,
                                        required=False, empty_value=None)
    reason = forms.CharField(label=_("移交原因"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 2}))

    def __init__(self, *args: Any, departments: list[tuple[int, str]] = (), **kw: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kw)
        self.fields["department"].choices = [("", _("不适用")), *departments]


class WithdrawForm(StepForm):
    step = "withdraw"
    title = _("撤回")
    button = _("撤回纠纷")
    reason = forms.CharField(label=_("撤回原因"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 2}))


class FollowUpForm(StepForm):
    step = "follow_up"
    title = _("回访")
    button = _("保存回访")
    at = forms.DateTimeField(label=_("回访时间"), widget=DateTimeLocal(), initial=_now_local)
    honoured = forms.ChoiceField(label=_("履行情况"), choices=[("", _("请选择")),
                                                              *FollowUp.Honoured.choices])
    note = forms.CharField(label=_("回访情况"), max_length=TEXT, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"at": d["at"].isoformat(), "honoured": d["honoured"], "note": d["note"]}


class SensitiveForm(StepForm):
    step = "sensitive"
    title = _("敏感标记")
    button = _("保存")
    sensitive = forms.BooleanField(label=_("敏感（仅登记人、调解员和管理员可见）"),
                                   required=False, help_text=_("勾选或取消后填写原因并保存。"))
    reason = forms.CharField(label=_("原因"), max_length=TEXT, widget=forms.Textarea(
        attrs={"rows": 2}))


class RevealForm(StepForm):
    step = "reveal"
    title = _("查看联系方式")
    button = _("查看")
    purpose = forms.CharField(label=_("查看事由"), max_length=200)


#: the steps a form posts to, in the order the page offers them
STEP_FORMS: dict[str, type[StepForm]] = {f.step: f for f in (
    AcceptForm, AssignForm, SessionForm, AgreementForm, SignForm, FollowUpForm, ReferForm,
    EscalateForm, WithdrawForm, SensitiveForm)}

SIGN_METHOD = Signature.Method.SCAN
