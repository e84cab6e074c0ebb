"""WANGGE_HTTPS=1 turns on the HTTPS deployment settings: `check --deploy` is clean, and
without it Django names what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WANGGE = Path(sys.executable).parent / "wangge"


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    base.update(WANGGE_DATA_DIR=str(tmp_path), WANGGE_ALLOWED_HOSTS="wangge.example.org",
                WANGGE_PUBLIC_URL="https://wangge.example.org", **env)
    return subprocess.run([str(WANGGE), "manage", "check", "--deploy", "--fail-level",
                           "WARNING"], env=base, capture_output=True, text=True, timeout=120)


def test_https_switch_makes_check_deploy_clean(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, WANGGE_HTTPS="1", WANGGE_TRUSTED_PROXIES="10.0.0.5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_https_without_a_trusted_proxy_is_a_warning(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, WANGGE_HTTPS="1")
    assert done.returncode != 0 and "wangge.W010" in done.stderr + done.stdout


def test_a_bad_trusted_proxy_stops_start_up_naming_it(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, WANGGE_TRUSTED_PROXIES="10.0.0.5,proxy.local")
    assert done.returncode != 0
    assert "wangge.E010" in done.stderr and "proxy.local" in done.stderr


def test_without_the_switch_check_deploy_names_what_is_missing(tmp_path: Path) -> None:
    done = deploy_check(tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr + done.stdout


@pytest.mark.django_db
def test_with_https_a_plain_request_is_redirected_and_cookies_are_secure(settings) -> None:
    from django.test import Client

    from wangge.demo.loader import DEMO_PASSWORD

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    assert Client().get("/login/").status_code == 301
    assert Client().get("/healthz").status_code == 200
    proxied = Client(HTTP_X_FORWARDED_PROTO="https")
    r = proxied.post("/login/", {"username": "dispatcher", "password": DEMO_PASSWORD},
                     secure=False)
    assert r.status_code == 302 and r.cookies["sessionid"]["secure"]
    assert "max-age=3600" in proxied.get("/login/")["Strict-Transport-Security"]
