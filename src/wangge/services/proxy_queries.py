"""Reads of proxy requests shared by the API and the console: one request in full (the
timeline with who did what, the 委托书, the originals, the delivery, the application's
link) and the board's columns. Nothing here writes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from wangge.services import access
from wangge.services.actions import proxy as actions
from wangge.services.actions import proxy_sync
from wangge.services.models import ProxyRequest


def _url(pk: int, what: str) -> str:
    return f"/api/v1/services/proxies/{pk}/{what}"


def detail(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    """Everything a reader in scope sees of one request: the timeline with who did what,
    the 委托书, the originals, the delivery and the application's link."""
    proxy = access.access_proxy(user, pk)
    p = (ProxyRequest.objects.select_related(
        "item__current", "grid", "house__building", "appointment", "application__version",
        "worker", "authorization").prefetch_related("events__actor").get(pk=proxy.pk))
    row = proxy_sync.proxy_row(p)
    auth = getattr(p, "authorization", None)
    delivered = p.delivered_at is not None
    row.update({
        "worker": p.worker.name, "channel": p.channel, "note": p.note,
        # the resident's key to their status page and rating: for who tells it to them at
        # the door (the worker, the station), not for every reader of the request
        "follow_code": p.follow_code if access.can_work_at_door(user, p) else None,
        "overdue": bool(p.stage_due_at and p.stage_due_at < timezone.now()),
        "timeline": [{"at": e.at, "action": e.action,
                      "label": actions.ACTION_LABELS.get(e.action, e.action),
                      "from_state": e.from_state, "to_state": e.to_state, "note": e.note,
                      "actor": (e.actor.get_full_name() or e.actor.get_username())
                      if e.actor else None} for e in p.events.all()],
        "authorization": ({"signer_name": auth.signer_name, "signed_at": auth.signed_at,
                           "text": auth.text, "signature_url": _url(p.pk, "signature")}
                          if auth else None),
        "delivery": ({"recipient_name": p.recipient_name, "delivered_at": p.delivered_at,
                      "originals_returned_at": p.originals_returned_at,
                      "signature_url": _url(p.pk, "delivery-signature"),
                      "photo_url": _url(p.pk, "delivery-photo")} if delivered else None),
        "rating_label": actions.RATING_LABELS.get(p.rating) if p.rating else None,
        "rating_comment": p.rating_comment,
    })
    return row



S = ProxyRequest.State

#: the board's columns: code, heading, the states it holds
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("booked", "预约", (S.BOOKED,)),
    ("collected", "已收件", (S.COLLECTED, S.RETURNED)),
    ("review", "预审中", (S.IN_REVIEW, S.HANDLING)),
    ("ready", "待送达", (S.READY,)),
    ("delivered", "已送达", (S.DELIVERED, S.RATED)),
]
#: cards per column (the total is always shown); of the delivered, only the latest: the
#: board is for what still needs doing, and on a phone the columns stack
COLUMN_CARDS = 60
DELIVERED_CARDS = 10


def card(p: ProxyRequest, now: Any) -> dict[str, Any]:
    return {"id": p.pk, "no": p.no, "state": p.state,
            "state_label": ProxyRequest.State(p.state).label,
            "item": actions.short_name(p.item), "applicant": p.applicant_name,
            "phone": p.phone_masked, "address": p.address,
            "building": p.house.building.name if p.house_id else "",
            "worker": p.worker.name, "grid": p.grid.name,
            "at": p.appointment.at if p.appointment_id else None,
            "due": p.stage_due_at,
            "overdue": bool(p.stage_due_at and p.stage_due_at < now),
            "rating": actions.RATING_LABELS.get(p.rating) if p.rating else ""}


def board(qs: Any) -> list[dict[str, Any]]:
    """Columns of cards, the overdue of each column first, then by appointment."""
    now = timezone.now()
    out = []
    for code, label, states in COLUMNS:
        rows = qs.filter(state__in=states)
        if code == "delivered":
            rows = rows.order_by("-delivered_at", "-pk")
        else:
            rows = rows.order_by("stage_due_at", "appointment__at", "pk")
        limit = DELIVERED_CARDS if code == "delivered" else COLUMN_CARDS
        page = list(rows.select_related("item__current", "house__building", "worker", "grid",
                                        "appointment")[:limit])
        out.append({"code": code, "label": label, "total": rows.count(),
                    "cards": [card(p, now) for p in page]})
    return out
