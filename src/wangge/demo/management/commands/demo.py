"""`wangge demo load`: the synthetic city."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from wangge.demo.loader import (
    DEFAULT_CASES,
    DEFAULT_FIELDWORK_DAYS,
    DEFAULT_RESIDENTS,
    DEMO_PASSWORD,
    demo_logins,
    load_demo,
)
from wangge.territory.models import Grid


class Command(BaseCommand):
    help = "Load the synthetic city (Liling, or about 100,000 basic grids with --scale province)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="build and load the synthetic city")
        load.add_argument("--seed", type=int, default=2026)
        load.add_argument("--scale", choices=["liling", "province"], default="liling")
        load.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS,
                          help=f"synthetic residents (default {DEFAULT_RESIDENTS:,}; "
                               "1000000 for all of Liling)")
        load.add_argument("--cases", type=int, default=DEFAULT_CASES,
                          help=f"a year of synthetic cases (default {DEFAULT_CASES:,}; 0 for "
                               "none, and then none of the four demo stories either)")
        load.add_argument("--fieldwork-days", type=int, default=None,
                          help="days of grid workers' fieldwork before today (default "
                               f"{DEFAULT_FIELDWORK_DAYS} for liling, 0 for province)")
        load.add_argument("--no-external-systems", dest="external_systems",
                          action="store_false",
                          help="no 12345 / 数字城管 adapters, mappings or duty rules to them "
                               "(default: adapters pointing at `make demo`'s simulators)")
        load.add_argument("--if-empty", action="store_true",
                          help="do nothing when grids already exist")
        sub.add_parser("logins", help="list the demo logins and their password")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "logins":
            self._print_logins(demo_logins())
            return
        if Grid.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("grids already loaded; keeping the existing data")
                return
            self.stderr.write("the database already holds grids; load into an empty database")
            raise SystemExit(1)
        started = time.monotonic()
        self.stdout.write(f"building the synthetic city (scale {opts['scale']}, "
                          f"seed {opts['seed']}) …")
        bar = tqdm(unit=" rows", disable=opts["verbosity"] == 0)

        def tick(stage: str, n: int) -> None:
            bar.set_description_str(stage, refresh=False)
            bar.update(n)

        report = load_demo(seed=opts["seed"], scale=opts["scale"], residents=opts["residents"],
                           cases=opts["cases"], progress=tick,
                           fieldwork_days=opts["fieldwork_days"],
                           external_systems=opts["external_systems"])
        bar.close()
        history = report.cases
        cases = (f"{history.cases} cases ({history.events} timeline events; "
                 f"stories {', '.join(history.stories.values()) or 'skipped'})"
                 if history else "no cases")
        field = report.fieldwork
        fieldwork = (f"; fieldwork {field.since}..{field.until}: " + ", ".join(
            f"{n} {name}" for name, n in field.counts.items()) if field else "")
        ext = report.external
        external = ("; external systems: " + ", ".join(
            f"{code} at {url} ({ext.mappings.get(code, 0)} mappings)"
            for code, url in ext.adapters.items()) if ext and ext.adapters else "")
        d = report.disputes
        disputes = (f"; disputes {d.since}..{d.until}: " + ", ".join(
            f"{n} {name}" for name, n in d.counts.items() if not name.startswith("path_"))
            + f" ({d.seconds:.1f} s; story {'done' if d.story else 'skipped'})" if d else "")
        public = ("; public channels: " + ", ".join(
            f"{n} {name}" for name, n in report.public.items()) if report.public else "")
        self.stdout.write(self.style.SUCCESS(
            f"loaded {report.grids} grids, {report.people} staff, "
            f"{report.register.get('residents', 0)} residents and {cases}{fieldwork}{disputes}"
            f"{public}"
            f"{external} in "
            f"{time.monotonic() - started:.1f} s"
        ))
        self.stdout.write("demo logins: `wangge demo logins`")

    def _print_logins(self, logins: list[tuple[str, str]]) -> None:
        self.stdout.write(f"  demo logins (password {DEMO_PASSWORD}):")
        for username, label in logins:
            self.stdout.write(f"    {username:<20} {label}")
