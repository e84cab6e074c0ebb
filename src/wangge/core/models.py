"""Cross-app records: the audit log that every action appends to, and the outbox every
action writes its announcements to (delivered by the integration app's worker)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Append-only: who did what to which record, when and why."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class IdempotencyKey(models.Model):
    """A client's key for a create it may retry: the replay returns the first result."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    key = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.object_type}:{self.object_id}"


class DataKeyFingerprint(models.Model):
    """A fingerprint of a data key (or of the hash key), kept beside the sealed data so a
    missing or different key file is found at start-up instead of sealing over it.
    The fingerprint is an HMAC of a fixed label under the key: it never reveals the key."""

    class Kind(models.TextChoices):
        DATA = "data", _("数据密钥")
        HASH = "hash", _("检索密钥")

    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    key_id = models.PositiveIntegerField(_("密钥编号"))
    fingerprint = models.CharField(_("指纹"), max_length=64)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("密钥指纹")
        verbose_name_plural = _("密钥指纹")
        ordering = ["kind", "key_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key_id"], name="data_key_fingerprint_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key_id} {self.fingerprint}"


class OutboxMessage(models.Model):
    """A message announcing a change, written in the same transaction as the change.

    The worker fans each message out to one `Delivery` per matching subscription; from then
    on the delivery rows carry the attempts, the backoff and the outcome per target, and the
    message only records that the fan-out happened.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待分发")
        ROUTED = "routed", _("已分发")
        DONE = "done", _("无人订阅")

    topic = models.CharField(_("主题"), max_length=64, db_index=True)
    payload = models.JSONField(_("内容"), default=dict)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    routed_at = models.DateTimeField(_("分发时间"), null=True, blank=True)

    class Meta:
        # the table keeps the name it had when the outbox lived in integration: the move
        # into core changed no data (migrations core 0004, integration 0004)
        db_table = "integration_outboxmessage"
        verbose_name = _("发件箱消息")
        verbose_name_plural = _("发件箱消息")
        indexes = [
            # the fan-out scans only the few messages not yet routed, oldest first
            models.Index(
                fields=["id"], name="outbox_unrouted_idx", condition=models.Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"


class NumberCounter(models.Model):
    """The last number given per key ("TJ2026": the disputes of 2026), for gapless numbers
    a person reads out on the phone (core.numbers). Services and cases keep their own
    counters from before this one existed."""

    key = models.CharField(max_length=16, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key} {self.last}"
