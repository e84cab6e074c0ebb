"""Shared by the records tests (visits, opinions, diary, outreach): the catalogues, logins
with a role on a grid, JSON calls."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wangge.fieldwork.actions.catalogue import do_seed_fieldwork
from wangge.org.actions import do_assign_role
from wangge.org.models import Department, Person, Role
from wangge.territory.models import Grid

SH = ZoneInfo("Asia/Shanghai")
API = "/api/v1/fieldwork"


def seeded() -> None:
    do_seed_fieldwork()


def now_iso(days_ago: int = 0) -> str:
    return (timezone.now().astimezone(SH) - dt.timedelta(days=days_ago)).isoformat()


def my_grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


def login_with_role(username: str, role: str, grid: Grid, department: str = "") -> Client:
    """A new login holding `role` on `grid` (a person of their own)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username)
        person = Person.objects.create(name=f"测试{username}"[:20], user=user)
        do_assign_role(person, role, grid, department=Department.objects.get(code=department)
                       if department else None,
                       employment="full_time" if role == Role.GRID_WORKER else "")
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    r = client.post(API + path, json.dumps(body), content_type="application/json")
    return r.status_code, r.json()


def get(client: Client, path: str) -> tuple[int, Any]:
    r = client.get(API + path)
    return r.status_code, r.json()


def sibling_community(grid: Grid) -> Grid:
    """Another community (level 3) of the same town as the grid's community."""
    community = grid.parent
    assert community is not None
    return Grid.objects.filter(parent=community.parent_id, level=3).exclude(
        pk=community.pk).order_by("code").first()  # type: ignore[return-value]
