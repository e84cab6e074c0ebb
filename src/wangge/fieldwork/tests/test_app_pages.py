"""The field app's own pages (/app/): the shell for a signed-in worker and a login link for
everyone else, the manifest, the service worker (scope /app/, Workbox from our static
files, never a CDN) and the files it precaches."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_signed_out_the_app_offers_the_login() -> None:
    r = Client().get("/app/")
    assert r.status_code == 200
    assert 'href="/login/?next=/app/"' in r.content.decode()


def test_the_shell_has_every_screen_and_no_inline_script(login_as: Any) -> None:
    r = login_as("gridworker").get("/app/")
    html = r.content.decode()
    assert r.status_code == 200 and "csrftoken" in r.cookies
    for screen in ("home", "checkin", "patrol", "visit", "opinion", "diary", "outreach",
                   "report", "grid", "sync"):
        assert f'data-screen="{screen}"' in html
    # CSP script-src 'self': scripts only from files, data only as JSON
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html and "<style" not in html
    assert 'accept="image/*"' in html and "capture=" in html


def test_manifest_and_icons() -> None:
    r = Client().get("/app/manifest.webmanifest")
    data = json.loads(r.content)
    assert r["Content-Type"].startswith("application/manifest+json")
    assert data["scope"] == "/app/" and data["start_url"] == "/app/"
    assert "网格通" in data["name"]
    for icon in data["icons"]:
        got = Client().get(icon["src"])
        assert got.status_code == 200 and got.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert Client().get("/app/icon-7.png").status_code == 404


def test_service_worker_precaches_our_own_files() -> None:
    r = Client().get("/app/sw.js")
    body = r.content.decode()
    assert r.status_code == 200 and r["Service-Worker-Allowed"] == "/app/"
    assert r["Content-Type"].startswith("application/javascript")
    assert "://" not in body, "nothing from another origin (Workbox's default is a CDN)"
    urls = re.findall(r'"url": "([^"]+)"', body)
    assert "/app/" in urls
    static = [u.removeprefix("/static/") for u in urls if u.startswith("/static/")]
    assert "dexie/dexie.min.js" in static
    for path in static:
        assert finders.find(path), f"{path} is not among the static files (npm ci?)"
    for module in re.findall(r'"(/static/workbox-[a-z]+/[^"]+\.js)"', body):
        assert finders.find(module.removeprefix("/static/")), module
