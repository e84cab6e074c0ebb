"""`wangge fieldwork plans [--date D] | areas --grid CODE | seed`: the morning's day plans
(what the worker's morning job does, on demand), a grid's patrol areas, the catalogues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wangge.fieldwork.actions.catalogue import do_seed_fieldwork
from wangge.fieldwork.actions.plan import build_day_plans, do_build_patrol_areas
from wangge.territory.models import Grid


class Command(BaseCommand):
    help = "Build day plans or patrol areas, or seed the fieldwork catalogues."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        plans = sub.add_parser("plans", help="build the day plans not built yet (every worker)")
        plans.add_argument("--date", type=dt.date.fromisoformat,
                           help="YYYY-MM-DD (default: today in Asia/Shanghai)")
        areas = sub.add_parser("areas", help="(re)group a basic grid's buildings into areas")
        areas.add_argument("--grid", required=True, help="the basic grid's code")
        sub.add_parser("seed", help="add missing visit kinds, frequencies, topics, materials")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "plans":
            day = opts["date"] or timezone.localdate()
            self.stdout.write(f"{day}: {build_day_plans(day)} plan(s) built")
        elif opts["action"] == "areas":
            grid = Grid.objects.filter(code=opts["grid"], level=4).first()
            if grid is None:
                raise CommandError(f"{opts['grid']}: no such basic grid")
            made = do_build_patrol_areas(grid)
            self.stdout.write(f"{grid.code}: {len(made)} patrol area(s)")
        else:
            added = do_seed_fieldwork()
            self.stdout.write(", ".join(f"{k} +{v}" for k, v in added.items()))
