"""Integration in the admin: read-only, except subscriptions (saved through
do_save_subscription) and tokens (revoked through do_revoke_token). Tokens are issued with
`wangge tokens create`; external systems are org departments of kind `external`
(`wangge tokens create --system` makes one through do_ensure_external_department)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.core.models import OutboxMessage
from wangge.integration import actions, senders
from wangge.integration.models import ApiToken, Delivery, JobRun, Subscription


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "topic", "status", "created_at", "routed_at"]
    list_filter = ["status", "topic"]
    search_fields = ["idempotency_key"]


class SubscriptionForm(forms.ModelForm):
    """The secret is write-only: a blank field keeps the sealed one, nothing shows it."""

    kind = forms.ChoiceField(label=_("发送方式"), choices=[])
    url = forms.URLField(label=_("地址"), required=False, max_length=500, assume_scheme="https")
    new_secret = forms.CharField(label=_("签名密钥"), required=False,
                                 widget=forms.PasswordInput(render_value=False),
                                 help_text=_("留空则保持原密钥；密钥加密保存，不再显示。"))

    class Meta:
        model = Subscription
        fields = ["name", "topic", "kind", "url", "active", "external_system"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k) for k in senders.kinds()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            actions.check_subscription(
                kind=data.get("kind", ""), topic=data.get("topic", ""),
                url=data.get("url", ""),
                has_secret=bool(data.get("new_secret") or self.instance.secret_enc))
        except actions.SubscriptionError as e:
            self.add_error("new_secret" if e.field == "secret" else e.field, str(e))
        return data


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "topic", "kind", "url", "active", "external_system"]
    list_filter = ["active", "kind"]

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any,
                   change: bool) -> None:
        # through the action (the form has checked the same rules): sealing, audit
        data = form.cleaned_data
        actions.do_save_subscription(
            name=data["name"], topic=data["topic"], kind=data["kind"], url=data["url"],
            secret=data["new_secret"] or None, active=data["active"],
            external_system=data["external_system"], actor=request.user, instance=obj,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deliveries point at it; switch it off (active) instead


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: deliveries change through the worker and the outbox console page."""

    list_display = ["id", "message", "subscription", "status", "attempts", "next_attempt_at",
                    "last_status_code", "leased_by"]
    list_filter = ["status", "subscription"]
    list_select_related = ["message", "subscription"]
    raw_id_fields = ["message"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "last_started_at", "last_finished_at", "last_ok", "runs",
                    "last_worker"]
    readonly_fields = ["name", "last_started_at", "last_finished_at", "last_ok", "last_error",
                       "last_result", "last_worker", "runs"]


@admin.action(description=_("吊销所选令牌"))
def revoke_tokens(modeladmin: admin.ModelAdmin, request: HttpRequest,
                  queryset: QuerySet[ApiToken]) -> None:
    for token in queryset:
        actions.do_revoke_token(token, actor=request.user)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only; the one change, revoking, is an admin action through do_revoke_token."""

    list_display = ["prefix", "user", "label", "created_at", "last_used_at", "expires_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    exclude = ["digest"]
    actions = [revoke_tokens]
