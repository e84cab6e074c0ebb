"""`wangge analytics rebuild [--from DATE] | status`: the daily rollups (the headline's
DailyTally and the evaluation's MetricTally, day and month rows, rebuilt together)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.analytics.actions import RollupReport, current_state, do_rebuild


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as e:
        raise CommandError(f"--from: {text!r} is not a date (YYYY-MM-DD)") from e


class Command(BaseCommand):
    help = ("Rebuild the rollups (daily tallies and evaluation metrics) from the records, or "
            "show which days they hold.")

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute the tallies up to yesterday")
        rebuild.add_argument("--from", dest="since", type=parse_day, metavar="DATE",
                             help="the first day to recompute (default: the first record's)")
        sub.add_parser("status", help="the days the tallies hold")

    def handle(self, *args: Any, action: str, since: dt.date | None = None,
               **options: Any) -> None:
        if action == "rebuild":
            def progress(report: RollupReport) -> None:
                self.stdout.write(f"  {report}")

            reports = do_rebuild(since, progress=progress)
            self.stdout.write(self.style.SUCCESS(
                f"rebuilt {sum(r.days for r in reports)} days, "
                f"{sum(r.rows for r in reports)} tallies in "
                f"{sum(r.seconds for r in reports):.1f} s"))
        state = current_state()
        if state is None:
            self.stdout.write("rollups: none (the counters read the records)")
        else:
            self.stdout.write(f"rollups: {state.covers_from or 'first record'} to "
                              f"{state.last_day}, rolled up {state.rolled_at:%Y-%m-%d %H:%M}")
