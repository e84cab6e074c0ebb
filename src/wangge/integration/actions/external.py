"""Every write about external systems' adapters: their configuration, category mappings,
the log of calls they make to us, and resending a failed order.

The orders themselves are the case's (`wangge.cases.actions.external`); an adapter's
subscription (the outbox routing to its sender) is kept in step with the adapter here, so an
operator configures one thing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from wangge.cases.actions import external as case_external
from wangge.cases.models import CaseCategory, ExternalOrder
from wangge.core import audit, crypto, outbox
from wangge.integration.actions import _revive  # the one way a dead delivery comes back
from wangge.integration.models import (
    Adapter,
    CategoryMapping,
    Delivery,
    InboundCall,
    Subscription,
)
from wangge.org.models import Department

#: the outbox topics an adapter's sender takes: orders to send, replies to orders they sent
ADAPTER_TOPIC = "external.*"
#: options an adapter understands (docs/external-systems.md); anything else is refused
OPTIONS = {
    "pass_phone": bool,  # 12345: the reporter's name and phone passed on (else masked)
    "status_query": bool,  # they offer a status query: reconciliation asks it
    "reconcile_every_s": int,  # at most one reconciliation per this many seconds
    "timeout_s": float,  # per request (at most WANGGE_WEBHOOK_TIMEOUT_S)
}


class AdapterError(ValueError):
    """Bad adapter input; `field` names the field (the console and API answer 400/422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def subscription_name(system: Department) -> str:
    return f"adapter:{system.code}"


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    for name, value in options.items():
        kind = OPTIONS.get(name)
        if kind is None:
            raise AdapterError("options", f"unknown option {name!r}; one of {sorted(OPTIONS)}")
        if kind is bool and not isinstance(value, bool):
            raise AdapterError("options", f"{name} must be true or false")
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)
                                     or value < 0):
            raise AdapterError("options", f"{name} must be a number ≥ 0")
    return options


@transaction.atomic
def do_save_adapter(*, system: Department, kind: str, endpoint: str, secret: str | None = None,
                    options: dict[str, Any] | None = None, enabled: bool = True,
                    actor: AbstractBaseUser | None = None) -> Adapter:
    """Create or change the adapter of an external system; `secret=None` keeps the sealed
    one. Its subscription follows (kind = the adapter's kind, active = enabled)."""
    if not system.is_external:
        raise AdapterError("system", f"{system.code} is not an external system")
    if kind not in Adapter.Kind.values:
        raise AdapterError("kind", f"unknown kind {kind!r}; one of {Adapter.Kind.values}")
    try:
        URLValidator(schemes=["http", "https"])(endpoint)
    except ValidationError as e:
        raise AdapterError("endpoint", f"not an http(s) URL: {endpoint!r}") from e
    adapter = Adapter.objects.select_for_update().filter(system=system).first() or \
        Adapter(system=system)
    if not secret and not adapter.secret_enc:
        raise AdapterError("secret", "an adapter needs a secret to sign with")
    created = adapter.pk is None
    adapter.kind, adapter.endpoint, adapter.enabled = kind, endpoint.rstrip("/"), enabled
    adapter.options = check_options(dict(options if options is not None else adapter.options))
    if secret:
        adapter.secret_enc = crypto.seal(secret)
    adapter.save()
    Subscription.objects.update_or_create(
        name=subscription_name(system),
        defaults={"topic": ADAPTER_TOPIC, "kind": kind, "url": adapter.endpoint,
                  "active": enabled, "external_system": system})
    audit.record("adapter.create" if created else "adapter.change", actor=actor,
                 object_type="adapter", object_id=adapter.pk, system=system.code, kind=kind,
                 endpoint=adapter.endpoint, enabled=enabled, options=adapter.options,
                 secret_changed=bool(secret))
    return adapter


def adapter_secret(adapter: Adapter) -> str:
    return crypto.open_sealed(adapter.secret_enc)


@transaction.atomic
def do_set_mapping(adapter: Adapter, category: CaseCategory, *, their_code: str,
                   their_parent_code: str = "", their_name: str = "", their_kind: str = "",
                   actor: AbstractBaseUser | None = None) -> CategoryMapping:
    """Map one of our small classes to their codes (a new row or a change)."""
    if category.parent_id is None:
        raise AdapterError("category", "map a small class, not a large one")
    if not their_code.strip():
        raise AdapterError("their_code", "required")
    mapping, _ = CategoryMapping.objects.update_or_create(
        adapter=adapter, category=category,
        defaults={"their_code": their_code.strip(), "their_parent_code": their_parent_code.strip(),
                  "their_name": their_name.strip(), "their_kind": their_kind.strip()})
    audit.record("adapter.mapping", actor=actor, object_type="adapter", object_id=adapter.pk,
                 category=category.code, their_code=mapping.their_code,
                 their_parent_code=mapping.their_parent_code, their_kind=mapping.their_kind)
    return mapping


#: the keys of a mapping table's row (`integration/mappings/*.json`); others (`our_name`,
#: for the reader) are ignored
MAPPING_KEYS = ("their_code", "their_parent_code", "their_name", "their_kind")


@transaction.atomic
def do_load_mappings(adapter: Adapter, rows: list[dict[str, Any]], *,
                     actor: AbstractBaseUser | None = None) -> int:
    """Load a mapping table (rows of `category` = our small class code plus MAPPING_KEYS)
    through do_set_mapping: new rows are added, mapped classes changed, others kept. Every
    row is checked first: an unknown or large class or a blank code refuses the whole table
    (AdapterError naming the row), nothing written. Returns the number of rows loaded."""
    codes = [str(row.get("category") or "") for row in rows]
    smalls = {c.code: c for c in CaseCategory.objects.filter(code__in=codes)}
    seen: set[str] = set()
    for i, (code, row) in enumerate(zip(codes, rows, strict=True)):
        category = smalls.get(code)
        if category is None:
            raise AdapterError("category", f"row {i + 1}: no category {code!r}")
        if category.parent_id is None:
            raise AdapterError("category", f"row {i + 1}: {code} is a large class; "
                                           "map its small classes")
        if code in seen:
            raise AdapterError("category", f"row {i + 1}: {code} is mapped twice")
        seen.add(code)
        if not str(row.get("their_code") or "").strip():
            raise AdapterError("their_code", f"row {i + 1} ({code}): required")
    for code, row in zip(codes, rows, strict=True):
        do_set_mapping(adapter, smalls[code], actor=actor,
                       **{key: str(row.get(key) or "") for key in MAPPING_KEYS})
    return len(rows)


@transaction.atomic
def do_delete_mapping(mapping: CategoryMapping, *, actor: AbstractBaseUser | None = None) -> None:
    audit.record("adapter.mapping_delete", actor=actor, object_type="adapter",
                 object_id=mapping.adapter_id, category=mapping.category.code)
    mapping.delete()


def do_record_inbound(adapter: Adapter, *, kind: str, outcome: str, http_status: int,
                      event_id: str = "", order_no: str = "", status: str = "",
                      reason: str = "", body: str = "") -> InboundCall:
    """One call they made to us, as we answered it (its own statement: a refusal is logged
    even though nothing else was written)."""
    return InboundCall.objects.create(
        adapter=adapter, kind=kind, outcome=outcome, http_status=http_status,
        event_id=storable(event_id)[:64], order_no=storable(order_no)[:40],
        status=storable(status)[:16], reason=storable(reason)[:2000],
        body=storable(body)[:4000])


def storable(text: str) -> str:
    """What any caller sent, made storable on every database: a refusal's log must never
    fail on the junk it refuses (a NUL, a lone surrogate)."""
    return text.encode("utf-8", "replace").decode().replace("\x00", "\ufffd")


@transaction.atomic
def do_resend_order(order: ExternalOrder, *, actor: AbstractBaseUser) -> ExternalOrder:
    """The dispatcher resends a failed order (usually after fixing the mapping): the order
    is pending again and its dead delivery goes back in the queue with fresh attempts (the
    same message, so the same idempotency key: a receiver that did take it the first time
    answers as it did then). No dead delivery left (the subscription was switched off, the
    dead letter purged): a new message is queued."""
    order = case_external.do_mark_resend(order, actor)
    dead = Delivery.objects.filter(
        status=Delivery.Status.DEAD, subscription__name=subscription_name(order.system),
        message__topic="external.order", message__payload__order=order.pk)
    if dead.exists():
        audit.record("outbox.retry", actor=actor, object_type="external_order",
                     object_id=order.pk, our_no=order.our_no)
        _revive(dead)
    else:
        outbox.enqueue("external.order", {
            "register_no": order.case.register_no, "order": order.pk,
            "system": order.system.code, "our_no": order.our_no})
    return order
