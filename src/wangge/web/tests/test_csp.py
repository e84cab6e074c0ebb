"""The Content-Security-Policy is on every response, and no page carries script the policy
would block: no inline <script>, no on* handler attributes, no style attributes."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from wangge.cases.models import Case
from wangge.settings import _tile_origin
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2]  # src/wangge


def directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict_policy(response) -> None:  # type: ignore[no-untyped-def]
    assert "Content-Security-Policy" in response, response
    d = directives(response["Content-Security-Policy"])
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert d["style-src"] == ["'self'"]
    assert d["object-src"] == ["'none'"] and d["frame-ancestors"] == ["'none'"]
    assert d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"]
    assert d["connect-src"] == ["'self'"]
    assert {"'self'", "data:", "blob:"} <= set(d["img-src"])


class InlineCode(HTMLParser):
    """Collects what a strict CSP would refuse to run or apply."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and not a.get("src") and a.get("type") != "application/json":
            self.problems.append(f"inline <script> {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


def a_case_no() -> str:
    return Case.objects.order_by("pk").values_list("register_no", flat=True).first() or ""


@pytest.mark.parametrize(("user", "path"), [
    (None, "/login/"),
    (None, "/cases/status/"),
    ("dispatcher", "/"),
    ("dispatcher", "/console/cases/"),
    ("dispatcher", "/console/cases/notice/"),
    ("dispatcher", "/console/cases/sla/"),
    ("dispatcher", "/console/cases/stats/"),
    ("dispatcher", "/console/cases/notifications/"),
    ("dispatcher", "/console/calendar/"),
    ("dispatcher", "/console/registry/"),
    ("gridworker", "/console/cases/new/"),
    ("gridworker", "/console/registry/buildings/new/"),
    ("gridworker", "/console/registry/residents/new/"),
    ("admin", "/console/outbox/"),
    ("admin", "/console/cases/rules/"),
    ("dispatcher", "case"),
])
def test_console_pages_carry_the_policy_and_no_inline_code(login_as, user, path) -> None:  # type: ignore[no-untyped-def]
    client = login_as(user) if user else Client()
    if path == "case":
        path = f"/console/cases/{a_case_no()}/"
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    assert_strict_policy(r)
    assert inline_code(r.content.decode()) == []


def test_the_checker_catches_inline_code() -> None:
    page = ('<script>alert(1)</script><script type="application/json">{}</script>'
            '<script src="/static/x.js"></script><img src=x onerror=alert(1)>'
            '<p style="color:red"><a href="javascript:alert(1)">x</a>')
    assert len(inline_code(page)) == 4


def test_grid_panel_fragment_escapes_a_hostile_name(login_as) -> None:  # type: ignore[no-untyped-def]
    grid = Grid.objects.get(name="胜利社区第1网格")
    grid.name = 'x<img src=x onerror=alert(1)>"'
    grid.save(update_fields=["name"])
    r = login_as("dispatcher").get(f"/console/grids/{grid.code}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<img" not in html and "x&lt;img src=x onerror=alert(1)&gt;&quot;" in html
    assert inline_code(html) == []
    assert_strict_policy(r)


def test_api_responses_carry_the_policy(login_as) -> None:  # type: ignore[no-untyped-def]
    r = login_as("dispatcher").get("/api/v1/grids/top.geojson")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert_strict_policy(r)
    denied = Client().get("/api/v1/grids/top.geojson")
    assert denied.status_code in {401, 403}
    assert_strict_policy(denied)


def test_admin_login_and_a_changelist_carry_the_policy(login_as) -> None:  # type: ignore[no-untyped-def]
    for client, path in [(Client(), "/admin/login/"), (login_as("admin"), "/admin/"),
                         (login_as("admin"), "/admin/territory/grid/"),
                         (login_as("admin"), "/admin/auth/user/add/")]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert_strict_policy(r)
        assert inline_code(r.content.decode()) == [], path


def test_no_template_has_inline_script_or_handlers() -> None:
    problems: dict[str, list[str]] = {}
    for template in SRC.glob("*/templates/**/*.html"):
        found = inline_code(template.read_text(encoding="utf-8"))
        if found:
            problems[str(template.relative_to(SRC))] = found
    assert problems == {}


@pytest.mark.parametrize(("template", "origin"), [
    ("", None),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.cn:8443/{z}/{x}/{y}.png", "https://*.tile.example.cn:8443"),
    ("http://user:pw@tiles.local/{z}/{x}/{y}", "http://tiles.local"),
    ("javascript:alert(1)", None),
])
def test_tile_origin_is_derived_from_the_tile_url(template: str, origin: str | None) -> None:
    assert _tile_origin(template) == origin
