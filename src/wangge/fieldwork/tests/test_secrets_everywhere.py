"""A sweep over EVERY fieldwork read — each GET operation of the OpenAPI under
/api/v1/fieldwork/ and /api/v1/stats/, every fieldwork console page, the field app, the
console home — as everyone who must not know: a confidential task (and its report) and a
worker's diary never show. The operations are read from the OpenAPI, so an endpoint added
later is swept without anyone remembering to add it here."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from wangge.api import api
from wangge.fieldwork.tests.conftest import REPORT, SECRET

pytestmark = pytest.mark.django_db

DIARY = "三号楼李阿姨家里有矛盾，私下记一笔"

SECRET_BLIND = ["station", "grid_chief", "other_worker", "water", "department", "subcenter",
                "supervisor"]
DIARY_BLIND = ["other_worker", "subcenter", "dispatcher", "center_admin", "leader", "water",
               "grid_police", "supervisor"]


def _get_operations() -> list[str]:
    paths = api.get_openapi_schema()["paths"]
    return sorted(p for p, ops in paths.items() if "get" in ops
                  and p.startswith(("/api/v1/fieldwork/", "/api/v1/stats/")))


def _console_pages() -> list[str]:
    """Every fieldwork console route, as a path with its ids to fill."""
    def walk(patterns: list, prefix: str) -> list[str]:
        out: list[str] = []
        for p in patterns:
            if isinstance(p, URLResolver) and "fieldwork" in str(p.pattern):
                out += walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and prefix:
                out.append(prefix + str(p.pattern))
        return out
    return walk(get_resolver().url_patterns, "")


def _fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>|\{(\w+)\}",
                  lambda m: str(ids.get(m.group(1) or m.group(2), ids["pk"])), path)


@pytest.fixture
def diary(login_as) -> dict:  # type: ignore[no-untyped-def]
    r = login_as("gridworker").post("/api/v1/fieldwork/diary", json.dumps(
        {"day": timezone.localdate().isoformat(), "text": DIARY}),
        content_type="application/json")
    assert r.status_code == 201, r.json()
    return r.json()


def _sweep(client, ids: dict[str, int], words: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every read; the ones that showed one of `words` (or failed with a 5xx)."""
    worker = ids["worker"]
    urls = [_fill(p, ids) + "?limit=500" for p in _get_operations()]
    urls += [f"/api/v1/fieldwork/plan?worker={worker}",
             f"/api/v1/fieldwork/plan?worker={worker}&date={timezone.localdate()}"]
    urls += [_fill("/" + p, ids) for p in _console_pages()]
    urls += [f"/console/fieldwork/workers/{worker}/month/?month="
             f"{timezone.localdate():%Y-%m}", "/console/fieldwork/workload/?by=grid",
             "/", "/app/", "/?view=map"]
    leaks = []
    for url in urls:
        r = client.get(url)
        body = r.content.decode(errors="replace")
        if "json" in r.get("Content-Type", ""):  # the API escapes non-ASCII: read it back
            body = json.dumps(r.json(), ensure_ascii=False)
        if r.status_code >= 500 or any(w in body for w in words):
            leaks.append(f"{url} → {r.status_code}")
    return leaks


def _ids(secret: dict, diary: dict) -> dict[str, int]:
    worker = get_user_model().objects.get(username="gridworker").person.pk
    return {"pk": secret["id"], "worker": worker, "person_id": worker,
            "plan_id": _plan_id(worker), "item_id": 1, "size": 192, "sha256": 0,
            "step": 0, "diary": diary["id"]}


def _plan_id(worker: int) -> int:
    from wangge.fieldwork.models import DayPlan
    plan = DayPlan.objects.filter(worker_id=worker).order_by("-day").first()
    return plan.pk if plan else 1


def test_the_sweep_reaches_every_fieldwork_read() -> None:
    ops = _get_operations()
    assert {"/api/v1/fieldwork/tasks", "/api/v1/fieldwork/plan", "/api/v1/fieldwork/offline",
            "/api/v1/fieldwork/diary", "/api/v1/stats/headline"} <= set(ops)
    pages = _console_pages()
    assert {f"console/fieldwork/{p}" for p in (
        "attendance/", "diary/", "coverage/", "plans/<int:plan_id>/")} <= set(pages)


@pytest.mark.parametrize("username", SECRET_BLIND)
def test_no_read_shows_a_confidential_task(login_as, in_plan, secret, diary, username
                                           ) -> None:  # type: ignore[no-untyped-def]
    leaks = _sweep(login_as(username), _ids(secret, diary), [SECRET, REPORT])
    assert not leaks, leaks


@pytest.mark.parametrize("username", DIARY_BLIND)
def test_no_read_shows_another_workers_diary(login_as, secret, diary, username
                                             ) -> None:  # type: ignore[no-untyped-def]
    leaks = _sweep(login_as(username), _ids(secret, diary), [DIARY])
    assert not leaks, leaks


def test_the_sweep_can_find_them(login_as, in_plan, secret, diary) -> None:  # type: ignore[no-untyped-def]
    """The same sweep as the worker who owns both finds both: it would catch a leak."""
    found = _sweep(login_as("gridworker"), _ids(secret, diary), [SECRET])
    assert any("/api/v1/fieldwork/tasks" in u for u in found)
    assert any("/api/v1/fieldwork/plan" in u for u in found)
    assert any("/api/v1/fieldwork/diary" in u
               for u in _sweep(login_as("gridworker"), _ids(secret, diary), [DIARY]))
