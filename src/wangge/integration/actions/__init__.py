"""Every write to tokens, subscriptions, deliveries and job runs (external systems are org
departments: `wangge.org.actions.do_ensure_external_department`).

Delivery rows move pending → delivered | dead, and dead → pending on a retry from the
console. A worker claims a pending row by leasing it (next_attempt_at pushed to the lease's
end, so a dead worker's claim simply falls due again) and records the outcome only while the
row is still its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from wangge.core import audit, crypto
from wangge.core.models import OutboxMessage
from wangge.integration import backoff, senders, tokens
from wangge.integration.locking import skip_locked
from wangge.integration.models import (
    ApiToken,
    Delivery,
    JobRun,
    Subscription,
)
from wangge.org.models import Department

#: how stale last_used_at may get: enough to tell which tokens are alive
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def do_create_token(
    user: AbstractBaseUser, *, label: str = "", actor: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires": "the expiry must lie in the future"})
    secret, prefix, digest = tokens.new_secret()
    token = ApiToken.objects.create(user=user, label=label, prefix=prefix, digest=digest,
                                    expires_at=expires_at)
    audit.record(
        "token.create", actor=actor, object_type="api_token", object_id=prefix,
        user=user.get_username(), label=label,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def do_revoke_token(token: ApiToken, *, actor: AbstractBaseUser | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoke", actor=actor, object_type="api_token", object_id=token.prefix)
    return token


def do_touch_token(token: ApiToken) -> None:
    """Note that a token was used; at most once a minute, so reads don't all become writes."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


# --- subscriptions ------------------------------------------------------------------------


class SubscriptionError(ValueError):
    """Bad subscription input; `field` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_subscription(*, kind: str, topic: str, url: str, has_secret: bool) -> None:
    """Raise SubscriptionError naming the first bad field."""
    if kind not in senders.kinds():
        raise SubscriptionError("kind", f"unknown kind {kind!r}; one of {senders.kinds()}")
    if not topic.strip():
        raise SubscriptionError("topic", "a topic or pattern is required")
    if kind == "webhook" and not url:
        raise SubscriptionError("url", "a webhook needs a URL")
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as e:
            raise SubscriptionError("url", f"not an http(s) URL: {url!r}") from e
    if kind == "webhook" and not has_secret:
        raise SubscriptionError("secret", "a webhook needs a secret to sign with")


@transaction.atomic
def do_save_subscription(
    *, name: str, topic: str, kind: str, url: str = "", secret: str | None = None,
    active: bool = True, external_system: Department | None = None,
    actor: AbstractBaseUser | None = None, instance: Subscription | None = None,
) -> Subscription:
    """Create (or, with `instance`, change) a subscription. `secret=None` keeps the sealed
    secret as it is; the secret never reaches the audit log."""
    sub = instance or Subscription()
    url = url.strip()
    check_subscription(kind=kind, topic=topic, url=url,
                       has_secret=bool(secret or sub.secret_enc))
    if not name.strip():
        raise SubscriptionError("name", "a name is required")
    if external_system is not None and not external_system.is_external:
        raise SubscriptionError("external_system", f"{external_system.code} is not an "
                                "external system")
    sub.name, sub.topic, sub.kind, sub.url = name.strip(), topic.strip(), kind, url
    sub.active, sub.external_system = active, external_system
    if secret:
        sub.secret_enc = crypto.seal(secret)
    created = sub.pk is None
    sub.save()
    audit.record(
        "subscription.create" if created else "subscription.change", actor=actor,
        object_type="subscription", object_id=sub.pk, name=sub.name, topic=sub.topic,
        kind=kind, url=sub.url, active=active, secret_changed=bool(secret),
    )
    return sub


@transaction.atomic
def do_set_subscription_active(sub: Subscription, active: bool, *,
                               actor: AbstractBaseUser | None = None) -> Subscription:
    """Switch a subscription on or off. Off: no new deliveries for it; the ones already
    made are still tried (they were promised before the switch)."""
    if sub.active != active:
        sub.active = active
        sub.save(update_fields=["active"])
        audit.record("subscription.activate" if active else "subscription.deactivate",
                     actor=actor, object_type="subscription", object_id=sub.pk, name=sub.name)
    return sub


# --- fan-out: one delivery per matching subscription --------------------------------------


@dataclass(frozen=True)
class Routed:
    messages: int
    deliveries: int


def do_route_pending(*, limit: int, now: datetime | None = None) -> Routed:
    """Fan out up to `limit` messages not yet routed. One transaction: a crash leaves the
    messages pending and no delivery behind, and a repeat creates nothing twice (the
    (message, subscription) constraint)."""
    now = now or timezone.now()
    subs = list(Subscription.objects.filter(active=True).select_related("external_system"))
    with transaction.atomic():
        msgs = list(skip_locked(OutboxMessage.objects.filter(
            status=OutboxMessage.Status.PENDING).order_by("id")).values_list(
                "id", "topic", "payload")[:limit])
        if not msgs:
            return Routed(0, 0)
        rows = [Delivery(message_id=mid, subscription_id=s.pk, next_attempt_at=now)
                for mid, topic, payload in msgs for s in subs
                if s.matches(topic) and _for_system(s, payload)]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        routed = {d.message_id for d in rows}
        for status, ids in ((OutboxMessage.Status.ROUTED, routed),
                            (OutboxMessage.Status.DONE, {m for m, _, _ in msgs} - routed)):
            if ids:
                OutboxMessage.objects.filter(id__in=ids).update(status=status, routed_at=now)
    return Routed(len(msgs), len(rows))


def _for_system(sub: Subscription, payload: object) -> bool:
    """A message addressed to one external system (`external.order`: payload "system") goes
    only to the subscriptions feeding that system; every other message to all that match."""
    system = payload.get("system") if isinstance(payload, dict) else None
    if system is None or sub.external_system is None:
        return True
    return sub.external_system.code == system


# --- deliveries: claim, record, release, retry --------------------------------------------


def lease_length() -> timedelta:
    return timedelta(seconds=settings.WANGGE_OUTBOX_LEASE_S)


def do_claim_deliveries(worker: str, *, limit: int,
                        now: datetime | None = None) -> list[Delivery]:
    """Lease up to `limit` due deliveries to `worker`, oldest due first.

    The attempt is counted here, before sending: a message that kills the worker every time
    still runs out of attempts and ends in the dead-letter queue."""
    now = now or timezone.now()
    until = now + lease_length()
    with transaction.atomic():
        due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        ids = list(skip_locked(due.order_by("next_attempt_at", "id"))
                   .values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids).update(
            leased_by=worker, leased_until=until, next_attempt_at=until,
            attempts=F("attempts") + 1, last_attempt_at=now,
        )
    return list(Delivery.objects.filter(id__in=ids, leased_by=worker)
                .select_related("message", "subscription").order_by("id"))


def do_record_outcome(delivery: Delivery, worker: str, outcome: senders.Outcome,
                      now: datetime | None = None) -> str | None:
    """Write what the send did; returns the new status, or None if the row was no longer
    this worker's (its lease ran out and another worker took it over)."""
    now = now or timezone.now()
    pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
    if outcome.ok:
        # Delivered is true whoever holds the lease now: let the other worker skip it.
        done = pending.update(status=Delivery.Status.DELIVERED, delivered_at=now,
                              leased_until=None, last_error="",
                              last_status_code=outcome.status_code)
        return Delivery.Status.DELIVERED if done else None
    mine = pending.filter(leased_by=worker)
    attempts = delivery.attempts
    if outcome.permanent or attempts >= settings.WANGGE_OUTBOX_MAX_ATTEMPTS:
        status, next_at = Delivery.Status.DEAD, now
    else:
        status = Delivery.Status.PENDING
        next_at = now + timedelta(seconds=backoff.delay(attempts,
                                                        retry_after=outcome.retry_after))
    done = mine.update(status=status, next_attempt_at=next_at, leased_until=None,
                       last_error=outcome.error or "failed", last_status_code=outcome.status_code)
    return status if done else None


def do_release(deliveries: list[Delivery], worker: str) -> int:
    """Give back leased rows not sent (shutting down): due again at once, attempt uncounted."""
    now = timezone.now()
    return Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=Delivery.Status.PENDING, leased_by=worker,
    ).update(next_attempt_at=now, leased_until=None, attempts=F("attempts") - 1)


@transaction.atomic
def do_retry_delivery(delivery: Delivery, *, actor: AbstractBaseUser | None) -> bool:
    """Put a dead delivery back in the queue with a fresh set of attempts."""
    row = Delivery.objects.select_for_update().filter(
        pk=delivery.pk, status=Delivery.Status.DEAD).first()
    if row is None:
        return False
    audit.record("outbox.retry", actor=actor, object_type="delivery", object_id=row.pk,
                 message=row.message_id, subscription=row.subscription_id,
                 attempts=row.attempts, last_error=row.last_error[:200])
    _revive(Delivery.objects.filter(pk=row.pk))
    return True


@transaction.atomic
def do_retry_dead(*, actor: AbstractBaseUser | None,
                  subscription: Subscription | None = None) -> int:
    """Put every dead delivery (of one subscription, or all) back in the queue."""
    dead = Delivery.objects.filter(status=Delivery.Status.DEAD)
    if subscription is not None:
        dead = dead.filter(subscription=subscription)
    ids = list(dead.values_list("id", flat=True))
    if ids:
        audit.record("outbox.retry_all", actor=actor, object_type="delivery",
                     count=len(ids), subscription=subscription.pk if subscription else None,
                     first_ids=ids[:50])
        _revive(Delivery.objects.filter(id__in=ids, status=Delivery.Status.DEAD))
    return len(ids)


def _revive(qs: QuerySet[Delivery]) -> None:
    qs.update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(),
              leased_until=None)


# --- periodic jobs --------------------------------------------------------------------------


def do_claim_job_run(job: JobRun, worker: str, *, every: timedelta,
                     now: datetime | None = None) -> bool:
    """Claim this interval's run of a job: one conditional UPDATE, so among several
    workers exactly one wins, on PostgreSQL and SQLite alike. False: not due, or taken."""
    now = now or timezone.now()
    return bool(JobRun.objects.filter(pk=job.pk).filter(
        Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - every)
    ).update(last_started_at=now, last_worker=worker, runs=F("runs") + 1))


def do_finish_job_run(job: JobRun, *, ok: bool, result: str = "", error: str = "") -> None:
    JobRun.objects.filter(pk=job.pk).update(
        last_finished_at=timezone.now(), last_ok=ok, last_result=result[:200],
        last_error=error[:2000],
    )
