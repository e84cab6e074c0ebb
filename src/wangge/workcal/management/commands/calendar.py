"""`wangge calendar show YEAR | import FILE | export YEAR | seed`: the working-day calendar."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.workcal import actions, calendar
from wangge.workcal.deadlines import CalendarNotCovered
from wangge.workcal.models import CalendarDay, CalendarYear
from wangge.workcal.validation import WorkcalError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Command(BaseCommand):
    help = "Show, import, export or seed the working-day calendar (holidays and 调休)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="a year's holidays and make-up working days")
        show.add_argument("year", type=int)
        imp = sub.add_parser("import", help="enter official schedules from a CSV file "
                                            "(date,is_workday,name); each year in it is "
                                            "replaced whole and marked covered")
        imp.add_argument("file", type=Path)
        imp.add_argument("--note", default="", help="e.g. the notice's number")
        exp = sub.add_parser("export", help="a year as CSV, in the import format")
        exp.add_argument("year", type=int)
        exp.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")
        seed = sub.add_parser("seed", help="take years from the chinesecalendar package")
        seed.add_argument("--year", type=int, action="append", dest="years",
                          help="this year (repeatable; default: all from 2020 not present)")
        seed.add_argument("--replace", action="store_true",
                          help="overwrite years already present (their edits are lost)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, "_" + opts["action"])(opts)
        except WorkcalError as e:
            for p in e.problems:
                self.stderr.write(f"  {p}")
            raise CommandError(f"{len(e.problems)} problem(s); nothing was written") from e

    def _show(self, opts: dict[str, Any]) -> None:
        year = opts["year"]
        info = CalendarYear.objects.filter(year=year).first()
        if info is None:
            raise CommandError(f"{year}: no schedule entered; deadlines that need {year} "
                               "fail until it is (wangge calendar import FILE)")
        try:
            count = f", {calendar.current().working_days_in_year(year)} working days"
        except CalendarNotCovered:
            count = ""
        state = "covered" if info.covered else "NOT covered (being entered)"
        note = f" ({info.note})" if info.note else ""
        self.stdout.write(f"{year}: {state}, source {info.source}{note}{count}")
        for day in CalendarDay.objects.filter(date__year=year).order_by("date"):
            self.stdout.write(
                f"{day.date.isoformat()} {WEEKDAYS[day.date.weekday()]}  {day.kind:<8} "
                f"{day.name}")

    def _import(self, opts: dict[str, Any]) -> None:
        path: Path = opts["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as e:
            raise CommandError(f"{path}: no such file") from e
        except UnicodeDecodeError as e:
            raise CommandError(f"{path}: not UTF-8 text ({e})") from e
        result = actions.do_import_calendar(csv.DictReader(io.StringIO(text)),
                                            note=opts["note"])
        self.stdout.write(self.style.SUCCESS(
            f"imported {result.days} days; covered now: "
            f"{', '.join(map(str, result.years))} (calendar v{result.version})"))

    def _export(self, opts: dict[str, Any]) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["date", "is_workday", "name"])
        for day in CalendarDay.objects.filter(date__year=opts["year"]).order_by("date"):
            writer.writerow([day.date.isoformat(), int(day.is_workday), day.name])
        if opts["output"]:
            opts["output"].write_text(out.getvalue(), encoding="utf-8")
        else:
            self.stdout.write(out.getvalue(), ending="")

    def _seed(self, opts: dict[str, Any]) -> None:
        years = actions.do_seed_calendar_from_package(opts["years"], replace=opts["replace"])
        self.stdout.write(f"seeded from the package: {', '.join(map(str, years)) or 'nothing'}")
