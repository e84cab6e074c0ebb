"""Health, login with lockout, the console home, and the public QR page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from wangge.demo.loader import DEMO_PASSWORD
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def test_healthz_is_public_and_checks_the_database() -> None:
    r = Client().get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_console_needs_login() -> None:
    r = Client().get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_login_and_home_page_in_chinese() -> None:
    client = Client()
    r = client.post("/login/", {"username": "dispatcher", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    page = client.get("/").content.decode()
    assert "网格化服务管理平台" in page and "leaflet/leaflet.js" in page
    assert 'lang="zh-hans"' in page


def test_english_is_the_second_language() -> None:
    client = Client(headers={"Accept-Language": "en"})
    page = client.get("/login/").content.decode()
    assert 'lang="en"' in page and "Sign in" in page and "User name" in page
    assert "登录" in Client().get("/login/").content.decode()


def test_repeated_failed_logins_lock_the_account() -> None:
    client = Client()
    for _ in range(4):
        r = client.post("/login/", {"username": "leader", "password": "wrong"})
        assert r.status_code == 200 and "不正确" in r.content.decode()
    r = client.post("/login/", {"username": "leader", "password": "wrong"})
    assert r.status_code == 429  # the fifth failure locks
    r = client.post("/login/", {"username": "leader", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert "锁定" in r.content.decode()
    # other users are not affected
    ok = Client().post("/login/", {"username": "dispatcher", "password": DEMO_PASSWORD})
    assert ok.status_code == 302


def test_passwords_are_hashed_with_argon2() -> None:
    assert get_user_model().objects.get(username="admin").password.startswith("argon2")


def test_qr_page_signed_out_shows_grid_worker_and_station_only() -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = Client().get(f"/q/{grid.qr_token}")
    assert r.status_code == 200
    page = r.content.decode()
    worker = grid.role_assignments.get(responsible=True).person
    assert grid.name in page and "来龙门街道" in page and "胜利社区" in page
    assert worker.name in page and f"tel:{worker.work_phone}" in page
    assert "胜利社区网格化工作站" in page
    # nobody else: not the grid chief, police, mediator … of the same places
    others = [a.person.name for a in grid.parent.role_assignments.select_related("person")]
    others += [a.person.name for a in grid.parent.parent.role_assignments.select_related("person")]
    assert not [n for n in others if n in page and n != worker.name]
    assert 'name="viewport"' in page and 'lang="zh-hans"' in page


def test_qr_tokens_are_unguessable_and_unknown_ones_404() -> None:
    tokens = list(Grid.objects.values_list("qr_token", flat=True))
    assert len(set(tokens)) == len(tokens) and min(map(len, tokens)) >= 22
    assert Client().get("/q/not-a-token").status_code == 404
    assert Client().get(f"/q/{Grid.objects.get(level=4, name='胜利社区第1网格').code}")\
        .status_code == 404


def test_grid_panel_shows_people_and_counts(django_user_model) -> None:
    client = Client()
    client.force_login(django_user_model.objects.get(username="dispatcher"))
    town = Grid.objects.get(name="来龙门街道")
    page = client.get(f"/console/grids/{town.code}/").content.decode()
    assert "来龙门街道" in page and "督导员" in page
    basic = Grid.objects.filter(path__startswith=town.path, level=4).count()
    assert f'class="n-basic">{basic}<' in page
    assert f'class="n-workers">{basic}<' in page  # one responsible worker per basic grid
