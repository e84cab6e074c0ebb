"""Cross-app records: the audit log that every action appends to."""

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
