"""`wangge setup`: bring the database schema and static files up to date, and seed the
working-day calendar and the SLA policies where they are missing."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from wangge.workcal.actions import seed_defaults


class Command(BaseCommand):
    help = "Migrate the database, collect static files, seed the calendar and SLA policies."

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", interactive=False, verbosity=max(0, opts["verbosity"] - 1))
        call_command("collectstatic", interactive=False, verbosity=0)
        # Years a newer chinesecalendar brought, and policies not yet present; a city's own
        # edits are never overwritten here.
        years, policies = seed_defaults()
        if years or policies.created:
            self.stdout.write(f"seeded calendar years {years or '-'}, "
                              f"SLA policies {policies.created or '-'}")
        self.stdout.write(self.style.SUCCESS("database and static files are up to date"))
