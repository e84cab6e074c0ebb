"""Shared set-up of the proxy tests: the worker's grid and a building of it with residents,
the 老年证 item (the demo catalogue's, or a test item when the catalogue is not loaded),
photos uploaded from the worker's phone by hash, and JSON calls to the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone
from PIL import Image

from wangge.fieldwork.actions.uploads import do_upload
from wangge.org.models import Person, Role, RoleAssignment
from wangge.registry.models import Resident
from wangge.services.actions.proxy import next_morning
from wangge.services.models import ServiceItem
from wangge.services.tests.prereview_helpers import make_item
from wangge.territory.models import Grid

API = "/api/v1/services/proxies"
ELDERLY_CARD = "老年人优待证（老年证）办理与年审"


def user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def worker_grid() -> Grid:
    return user("gridworker").person.roles.get(role=Role.GRID_WORKER,
                                               ended_on__isnull=True).grid


def elderly_item() -> ServiceItem:
    """老年证年审 from the demo catalogue (search helper's NAMED_PROXY_ITEMS), else a test
    item of 民政 with the same kind of checklist."""
    try:
        from wangge.demo.catalogue import NAMED_PROXY_ITEMS

        found = ServiceItem.objects.filter(code=NAMED_PROXY_ITEMS[ELDERLY_CARD],
                                           current__isnull=False).first()
    except ImportError:
        found = None
    return found or make_item("T-MZ-PROXY")


def required_keys(item: ServiceItem) -> list[str]:
    return [m["key"] for m in item.current.materials if m.get("required")]


def building_residents(n: int = 5) -> list[Resident]:
    """n residents of one building of the worker's grid (oldest first: the seniors)."""
    grid = worker_grid()
    row = (Resident.objects.filter(grid=grid).values("house__building")
           .annotate(n=Count("id")).filter(n__gte=n).order_by("-n").first())
    assert row is not None, "the demo grid has no building with enough residents"
    return list(Resident.objects.filter(grid=grid, house__building=row["house__building"])
                .order_by("birth_date", "id")[:n])


_seq = [0]


def photo(username: str = "gridworker") -> str:
    """Upload a fresh picture from that user's phone; its SHA-256, as the envelopes name it."""
    _seq[0] += 1
    out = io.BytesIO()
    Image.new("RGB", (32 + _seq[0] % 50, 24 + _seq[0] // 50), (_seq[0] * 37 % 256, 90, 160)
              ).save(out, format="PNG")
    raw = out.getvalue()
    do_upload(user(username), raw, "image/png")
    return hashlib.sha256(raw).hexdigest()


def post(client: Any, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    r = client.post(url, json.dumps(body), content_type="application/json")
    return r.status_code, r.json()


def get(client: Any, url: str) -> tuple[int, Any]:
    r = client.get(url)
    return r.status_code, r.json()


def visit_day() -> dt.date:
    return timezone.localdate(next_morning(timezone.now()))


def at(minutes: int = 0) -> str:
    return (next_morning(timezone.now()) + dt.timedelta(minutes=minutes)).isoformat()


def materials(item: ServiceItem, username: str = "gridworker") -> dict[str, list[str]]:
    return {k: [photo(username)] for k in required_keys(item)}


def other_worker_login(django_user_model: Any) -> Any:
    """A login for the responsible worker of another basic grid of the same community."""
    mine = user("gridworker").person.roles.get(role=Role.GRID_WORKER, ended_on__isnull=True)
    row = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True,
                                        grid__parent=mine.grid.parent).exclude(
        person=mine.person).select_related("person").first()
    login = django_user_model.objects.create(username="other_worker")
    Person.objects.filter(pk=row.person_id).update(user=login)
    return login
