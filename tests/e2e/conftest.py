"""End-to-end fixtures: a real `wangge serve` (gunicorn) process on its own database,
set up through the CLI exactly as `make demo` does, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

if TYPE_CHECKING:  # playwright is optional: the browser tests skip themselves without it
    from playwright.sync_api import Browser, BrowserContext

CHROMIUM = "/usr/lib/chromium/chromium"


def _patient_expect() -> None:
    """Playwright's `expect` waits on a condition for 5 s by default. Here the browser, the
    server, the database and CI's other lane share two cores, and a page after a POST (a
    rating that reopens a case, a report with a photo) was seen to need longer under that
    load: wait on the same conditions, for up to 20 s. A fast page answers as fast as
    before; only a real failure takes longer to report."""
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser tests skip themselves without playwright
        return
    expect.set_options(timeout=20_000)


_patient_expect()
BIN = Path(sys.executable).parent


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def cli(self, *args: str, check: bool = True, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "wangge"), *args], env=env or self.env, check=check,
                              capture_output=True, text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(name: str) -> str | None:
    """A separate database for the server; None means SQLite in its data dir."""
    base = os.environ.get("WANGGE_DATABASE_URL", "")
    if not base.startswith("postgres"):
        return None
    import psycopg

    parsed = urlparse(base)
    db = f"{parsed.path.lstrip('/')}_{name}"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return parsed._replace(path=f"/{db}").geturl()


def _drop_database(url: str | None) -> None:
    if url is None:
        return
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def make_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["WANGGE_DATABASE_URL"] = database_url
    return env


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("server-data")
    db_url = _database_url("e2e")
    port = _free_port()
    env = make_env(data_dir, db_url)
    env["WANGGE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    # every browser test reports and sends opinions from 127.0.0.1: the burst captcha
    # (cases.public_limits, tested in the app's tests) would meet whichever test came fourth
    env["WANGGE_RESIDENT_CHALLENGE_AFTER"] = "0"
    srv = Server(url=f"http://127.0.0.1:{port}", env=env)
    srv.cli("setup")
    # the demo as `make demo` loads it, but with 62 days of fieldwork instead of 400: every
    # page and story the browser tests walk reads this month and the last, whole on the
    # 31st too (the full year
    # of check-ins, patrols and visits cost each CI lane about a minute to load and roll up)
    srv.cli("demo", "load", "--fieldwork-days", "62")
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(BIN / "wangge"), "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(srv.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "server.log").read_text())
            time.sleep(0.3)
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        _drop_database(db_url)


def signed_in(browser: Browser, server: Server, role: str, **context: object
              ) -> BrowserContext:
    """A new browser context (zh-CN, Shanghai time; `context` adds viewport, downloads …)
    whose session is the demo user `role`, signed in through the login form."""
    from tests.e2e.test_browser import PASSWORD  # here: test_browser imports this module

    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
    page = ctx.new_page()
    page.goto(server.url + "/login/")
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(server.url + "/**")
    page.close()
    return ctx


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium as root)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}

