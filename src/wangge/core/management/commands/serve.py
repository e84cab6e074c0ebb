"""`wangge serve`: gunicorn serving the WSGI app; whitenoise serves the static files."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Imported here, after collectstatic: whitenoise indexes the static files when the
        # WSGI app is built.
        from wangge.wsgi import application

        return application


class Command(BaseCommand):
    help = "Run the production web server (gunicorn) on HOST:PORT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("WANGGE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("WANGGE_PORT", 8000)))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WANGGE_WEB_WORKERS", 2))
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{opts['host']}:{opts['port']}"
        self.stdout.write(f"wangge serving on http://{bind}/")
        _Gunicorn({
            "bind": bind,
            "workers": opts["workers"],
            "threads": 4,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            "graceful_timeout": 10,
        }).run()
