"""The deliveries of outbox messages, subscriptions, periodic job runs and API tokens.
External systems are org departments of kind `external`; the outbox table itself is core's
(`wangge.core.models.OutboxMessage`, re-exported here while callers move)."""

from __future__ import annotations

import fnmatch

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.core.models import OutboxMessage
from wangge.org.models import Department

__all__ = ["Adapter", "ApiToken", "CategoryMapping", "Delivery", "InboundCall", "JobRun",
           "OutboxMessage", "Subscription"]


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 digest is stored; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    label = models.CharField(_("说明"), max_length=100, blank=True)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True)
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    #: none: the token lives until revoked (a city's policy may require an expiry)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Subscription(models.Model):
    """Routing as data: messages whose topic matches go to this target through a sender.

    `topic` is an exact topic (`case.created`) or a shell-style pattern (`case.*`, `*`).
    The webhook secret is sealed at rest like personal data (the `_enc` suffix puts it under
    `wangge keys rotate`) and is never shown back.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    topic = models.CharField(_("主题"), max_length=64, help_text=_("如 case.* 或 case.created"))
    kind = models.CharField(_("发送方式"), max_length=32, default="log")
    url = models.URLField(_("地址"), max_length=500, blank=True)
    secret_enc = models.BinaryField(_("签名密钥（密文）"), null=True, blank=True,
                                    editable=False)
    active = models.BooleanField(_("启用"), default=True)
    #: the external system (a department of kind `external`) this subscription feeds
    external_system = models.ForeignKey(
        Department, verbose_name=_("外部系统"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="subscriptions",
        limit_choices_to={"kind": Department.Kind.EXTERNAL},
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("订阅")
        verbose_name_plural = _("订阅")

    def __str__(self) -> str:
        return f"{self.name} ({self.topic} → {self.kind})"

    def matches(self, topic: str) -> bool:
        return fnmatch.fnmatchcase(topic, self.topic)


class Delivery(models.Model):
    """One message to one subscription: its own attempts, backoff and outcome.

    A worker claims a due row by writing a lease (`leased_until`, `leased_by`) in a short
    transaction, sends outside it, then records the outcome. A worker that dies leaves the
    lease to run out, and the row is due again: delivery is at least once, with the
    message's idempotency key on every attempt.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待投递")
        DELIVERED = "delivered", _("已送达")
        DEAD = "dead", _("死信")

    message = models.ForeignKey(OutboxMessage, verbose_name=_("消息"), on_delete=models.CASCADE,
                                related_name="deliveries")
    subscription = models.ForeignKey(Subscription, verbose_name=_("订阅"),
                                     on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    leased_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    leased_by = models.CharField(_("处理进程"), max_length=100, blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递")
        verbose_name_plural = _("投递")
        constraints = [
            # the fan-out may be repeated after a crash: never two rows for one target
            models.UniqueConstraint(fields=["message", "subscription"], name="delivery_once")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx",
                         condition=models.Q(status="pending")),
            models.Index(fields=["status", "-last_attempt_at"], name="delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.subscription_id} ({self.status})"


class JobRun(models.Model):
    """The last run of one periodic job (a dotted path from WANGGE_WORKER_JOBS): several
    workers claim a run through this row, so a job runs at most once per interval."""

    name = models.CharField(_("任务"), max_length=200, unique=True)
    last_started_at = models.DateTimeField(_("最近开始"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("最近结束"), null=True, blank=True)
    last_ok = models.BooleanField(_("最近成功"), null=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_result = models.CharField(_("最近结果"), max_length=200, blank=True)
    last_worker = models.CharField(_("处理进程"), max_length=100, blank=True)
    runs = models.PositiveIntegerField(_("运行次数"), default=0)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name


class Adapter(models.Model):
    """One configured external system (12345, 数字城管 …): how we talk to it, as data.

    `kind` picks the adapter (its format and senders, WANGGE_ADAPTERS); the department is
    the system in our org (kind `external`, with the service user its call-backs act as).
    The secret signs what we send and checks what it sends (HMAC-SHA256), sealed at rest.
    Saving an adapter keeps its subscription (the outbox routing to its sender) in step."""

    class Kind(models.TextChoices):
        HOTLINE_12345 = "hotline_12345", _("12345市民服务热线")
        CITY_MANAGEMENT = "city_management", _("数字城管")

    system = models.OneToOneField(
        Department, verbose_name=_("外部系统"), on_delete=models.PROTECT, related_name="adapter",
        limit_choices_to={"kind": Department.Kind.EXTERNAL},
    )
    kind = models.CharField(_("接口类型"), max_length=32, choices=Kind.choices)
    #: base URL of their interface; the adapter appends its paths (docs/external-systems.md)
    endpoint = models.URLField(_("接口地址"), max_length=500)
    secret_enc = models.BinaryField(_("签名密钥（密文）"), null=True, blank=True, editable=False)
    #: field options, e.g. {"pass_phone": false, "status_query": true, "reconcile_every_s": 600}
    options = models.JSONField(_("字段选项"), default=dict, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("外部系统接口")
        verbose_name_plural = _("外部系统接口")

    def __str__(self) -> str:
        return f"{self.system} ({self.kind})"

    def option(self, name: str, default: object = None) -> object:
        return (self.options or {}).get(name, default)


class CategoryMapping(models.Model):
    """Our small class → their type codes, per adapter (data the dispatcher can fix).

    12345: `their_code` is their 事项分类 code, `their_kind` the 诉求类型 (咨询, 求助, 投诉,
    举报, 建议, 表扬). 数字城管: `their_parent_code` the 大类, `their_code` the 小类,
    `their_kind` 部件 or 事件."""

    adapter = models.ForeignKey(Adapter, verbose_name=_("接口"), on_delete=models.CASCADE,
                                related_name="mappings")
    category = models.ForeignKey("cases.CaseCategory", verbose_name=_("我方小类"),
                                 on_delete=models.CASCADE, related_name="+")
    their_code = models.CharField(_("对方分类编码"), max_length=32)
    their_parent_code = models.CharField(_("对方大类编码"), max_length=32, blank=True)
    their_name = models.CharField(_("对方分类名称"), max_length=100, blank=True)
    their_kind = models.CharField(_("对方类型"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("分类映射")
        verbose_name_plural = _("分类映射")
        constraints = [models.UniqueConstraint(fields=["adapter", "category"],
                                               name="mapping_once_per_category")]

    def __str__(self) -> str:
        return f"{self.category_id} → {self.their_code}"


class InboundCall(models.Model):
    """Every call an external system made to us (a status call-back, an order), accepted or
    refused: the console's exchange log, and what makes a repeated call-back act once
    (unique per system and their event id)."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", _("状态回调")
        ORDER = "order", _("来单")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("已处理")
        UNCHANGED = "unchanged", _("无变化")
        DUPLICATE = "duplicate", _("重复")
        REFUSED = "refused", _("拒绝")

    adapter = models.ForeignKey(Adapter, verbose_name=_("接口"), on_delete=models.CASCADE,
                                related_name="inbound_calls")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    #: their id of this call (call-backs), or the order number (orders); blank when refused
    #: before it could be read
    event_id = models.CharField(_("回调编号"), max_length=64, blank=True)
    order_no = models.CharField(_("工单号"), max_length=40, blank=True)
    status = models.CharField(_("状态"), max_length=16, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(_("响应码"))
    reason = models.TextField(_("原因"), blank=True)
    #: the body as received (size-capped), for the operator reading a refusal
    body = models.TextField(_("内容"), blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("外部来访")
        verbose_name_plural = _("外部来访")
        constraints = [models.UniqueConstraint(
            fields=["adapter", "kind", "event_id"], name="inbound_call_once",
            condition=models.Q(outcome__in=["applied", "unchanged"]))]
        indexes = [models.Index(fields=["adapter", "-received_at"], name="inbound_recent")]

    def __str__(self) -> str:
        return f"{self.adapter_id} {self.kind} {self.event_id} {self.outcome}"
