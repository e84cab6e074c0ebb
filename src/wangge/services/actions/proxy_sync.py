"""Proxy requests as the field app holds them (the answer of every `proxy.*` envelope and the
`proxies` section of the offline bundle) and the envelope kinds themselves: a worker's steps
at the door, queued offline and applied by the fieldwork sync engine through the actions
in services.actions.proxy. A replayed envelope answers the first record."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils.translation import gettext as _

from wangge.fieldwork.access import person_of, worker_grid
from wangge.fieldwork.actions.sync import resolve_key
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.services import access
from wangge.services.actions.proxy import (
    ACTION_LABELS,
    OPEN_STATES,
    allowed_steps,
    do_book_proxy,
    do_collect,
    do_deliver,
    do_rate_proxy,
    do_recollect,
    do_submit_proxy,
    short_name,
)
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import ProxyRequest
from wangge.territory.models import Grid

# -- the request as the phone holds it -------------------------------------------------------

def proxy_row(p: ProxyRequest) -> dict[str, Any]:
    """The answer of every envelope kind and the offline section's rows (masked data only:
    the applicant's name, as the worker's register shows it, and masked ID and phone)."""
    version = p.application.version if p.application_id else p.item.current
    building = p.house.building if p.house_id else None
    appointment = p.appointment
    events = list(p.events.all())
    return {
        "id": p.pk, "no": p.no, "state": p.state,
        "state_label": str(ProxyRequest.State(p.state).label),
        "item": {"code": p.item.code, "name": p.item.name, "short_name": short_name(p.item),
                 "materials": [{k: m.get(k) for k in ("key", "name", "form", "count",
                                                      "required", "condition", "note")}
                               for m in (version.materials if version else [])]},
        "applicant_masked": {"name": p.applicant_name, "id_number": p.id_number_masked,
                             "phone": p.phone_masked},
        "address": p.address, "building": building.name if building else None,
        "building_id": building.pk if building else None,
        "grid": p.grid.code, "worker_id": p.worker_id, "resident_id": p.resident_id,
        "house_id": p.house_id,
        "at": appointment.at.isoformat() if appointment else None,
        "originals": list(p.originals),
        "originals_returned": p.originals_returned_at is not None,
        "application": ({"id": p.application_id, "no": p.application.no,
                         "state": p.application.state} if p.application_id else None),
        "stage_due_at": p.stage_due_at.isoformat() if p.stage_due_at else None,
        "rating": p.rating,
        "allowed": allowed_steps(p.state),
        "events": [{"at": e.at.isoformat(), "action": e.action,
                    "label": ACTION_LABELS.get(e.action, e.action)} for e in events],
    }


def _full(pk: int) -> ProxyRequest:
    return (ProxyRequest.objects.select_related(
        "item__current", "grid", "house__building", "appointment", "application__version")
        .prefetch_related("events").get(pk=pk))


def proxy_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return proxy_row(_full(pk))


def open_proxies(user: AbstractBaseUser, grid: Grid) -> list[dict[str, Any]]:
    """The offline section `proxies`: the worker's open requests with the checklist."""
    person = person_of(user)
    if person is None:
        return []
    # the grid's open requests: also those booked to a worker who has since left the grid
    rows = (access.visible_proxies(user).filter(Q(worker=person) | Q(grid=grid),
                                                state__in=OPEN_STATES)
            .select_related("item__current", "grid", "house__building", "appointment",
                            "application__version")
            .prefetch_related("events").order_by("appointment__at", "id"))
    return [_without_nulls(proxy_row(p)) for p in rows]


def _without_nulls(value: Any) -> Any:
    """The bundle's convention (fieldwork.offline): rows carry no empty values; the app reads
    a missing key as it reads null."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# -- field-app envelopes ---------------------------------------------------------------------

OBJECT_TYPE = "services.proxy"


def _fieldwork_errors(apply: Callable[[AbstractBaseUser, Envelope], int]
                      ) -> Callable[[AbstractBaseUser, Envelope], int]:
    """The sync engine knows fieldwork's refusals: a ServiceError names the payload's field
    (invalid), an IllegalStep is a conflict answered with the request as it stands."""
    @functools.wraps(apply)
    def wrapped(user: AbstractBaseUser, env: Envelope) -> int:
        try:
            return apply(user, env)
        except ServiceError as e:
            raise FieldworkError(e.field, e.msg, e.code) from None
        except IllegalStep as e:
            pk = _proxy_id(user, env.payload, quiet=True)
            current = proxy_answer(user, pk) if pk else {}
            raise Conflict(str(e), current) from None
    return wrapped


def _proxy_id(user: AbstractBaseUser, p: dict[str, Any], quiet: bool = False) -> int | None:
    try:
        if p.get("proxy_key"):
            return resolve_key(user, str(p["proxy_key"]), OBJECT_TYPE, "proxy_key")
        pk = p.get("proxy_id")
        if not isinstance(pk, int) or isinstance(pk, bool) or pk < 1:
            raise ServiceError("proxy_id", _("须指明代办（proxy_id 或 proxy_key）"), "required")
        return pk
    except (FieldworkError, ServiceError):
        if quiet:
            return None
        raise


def _target(user: AbstractBaseUser, p: dict[str, Any]) -> ProxyRequest:
    """The request the envelope names, in the user's scope (else Http404: not_found)."""
    pk = _proxy_id(user, p)
    assert pk is not None
    return access.access_proxy(user, pk)


@register("proxy.book", OBJECT_TYPE, answer=proxy_answer)
@_fieldwork_errors
def apply_book(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    grid_id = p.get("grid_id")
    if grid_id is None and (own := worker_grid(user)) is not None:
        grid_id = own.pk
    return do_book_proxy(
        user, item_code=p.get("item_code", ""), grid_id=grid_id,
        applicant=p.get("applicant"), at=p.get("at"),
        channel=p.get("channel", ProxyRequest.Channel.IN_PERSON),
        house_id=p.get("house_id"), resident_id=p.get("resident_id"),
        note=p.get("note", "")).pk


@register("proxy.collect", f"{OBJECT_TYPE}.collect", answer=proxy_answer)
@_fieldwork_errors
def apply_collect(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return do_collect(user, _target(user, p), materials=p.get("materials"),
                      signature=p.get("signature"), signer_name=p.get("signer_name"),
                      originals=p.get("originals"), at=p.get("at")).pk


@register("proxy.submit", f"{OBJECT_TYPE}.submit", answer=proxy_answer)
@_fieldwork_errors
def apply_submit(user: AbstractBaseUser, env: Envelope) -> int:
    return do_submit_proxy(user, _target(user, env.payload)).pk


@register("proxy.recollect", f"{OBJECT_TYPE}.recollect", answer=proxy_answer)
@_fieldwork_errors
def apply_recollect(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return do_recollect(user, _target(user, p), materials=p.get("materials")).pk


@register("proxy.deliver", f"{OBJECT_TYPE}.deliver", answer=proxy_answer)
@_fieldwork_errors
def apply_deliver(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return do_deliver(user, _target(user, p), recipient_name=p.get("recipient_name"),
                      signature=p.get("signature"), photo=p.get("photo"),
                      originals_returned=p.get("originals_returned", False)).pk


@register("proxy.rate", f"{OBJECT_TYPE}.rate", answer=proxy_answer)
@_fieldwork_errors
def apply_rate(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return do_rate_proxy(user, _target(user, p), p.get("rating"), p.get("comment", "")).pk
