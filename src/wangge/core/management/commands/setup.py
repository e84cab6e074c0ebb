"""`wangge setup`: bring the database schema and static files up to date, and seed what an
app declares as its defaults where they are missing (the working-day calendar and the SLA
policies). An app declares them with a `seed_defaults()` method on its AppConfig that
returns a line to show ("" when nothing was missing): core knows no app by name."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate the database, collect static files, seed the calendar and SLA policies."

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", interactive=False, verbosity=max(0, opts["verbosity"] - 1))
        call_command("collectstatic", interactive=False, verbosity=0)
        # a city's own edits are never overwritten here: only what is missing is added
        for config in apps.get_app_configs():
            seed = getattr(config, "seed_defaults", None)
            if callable(seed) and (note := seed()):
                self.stdout.write(note)
        self.stdout.write(self.style.SUCCESS("database and static files are up to date"))
