"""`wangge sla policies | deadline --policy CODE --at MOMENT | seed`: SLA policies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.workcal import actions, policies, seed
from wangge.workcal.deadlines import SHANGHAI, CalendarNotCovered, Unit
from wangge.workcal.models import SlaPolicy
from wangge.workcal.validation import WorkcalError


def parse_moment(text: str) -> dt.datetime:
    """ISO 8601; without an offset the time is Asia/Shanghai."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise CommandError(f"--at: {text!r} is not an ISO 8601 time "
                           "(e.g. 2026-09-30T16:00 or 2026-09-30T08:00Z)") from e
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _amount(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


class Command(BaseCommand):
    help = "List SLA policies, compute their deadlines, or seed them from a JSON file."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("policies", help="the policies and their clocks")
        dl = sub.add_parser("deadline", help="each clock's deadline from a moment")
        dl.add_argument("--policy", required=True, metavar="CODE")
        dl.add_argument("--at", required=True, metavar="MOMENT",
                        help="ISO 8601; a time without offset is Asia/Shanghai")
        dl.add_argument("--json", action="store_true", help="machine-readable output")
        sd = sub.add_parser("seed", help="create policies from a JSON file (policies.json)")
        sd.add_argument("--file", type=Path, default=seed.POLICIES_FILE)
        sd.add_argument("--replace", action="store_true",
                        help="also overwrite policies that exist (new clocks apply to new "
                             "cases; running clocks keep their snapshot)")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "_" + opts["action"])(opts)

    def _policies(self, opts: dict[str, Any]) -> None:
        for policy in SlaPolicy.objects.prefetch_related("clocks"):
            state = "" if policy.active else "  [switched off]"
            self.stdout.write(f"{policy.code}  {policy.name}{state}")
            for c in policy.clocks.all():
                s = c.spec()
                self.stdout.write(
                    f"  {s.code:<10} {s.name}  {_amount(s.amount)} {s.unit}  from {s.starts_on}"
                    f"  until {s.goal}  warn at {s.warn_fraction:.0%}  on breach {s.on_breach}")

    def _deadline(self, opts: dict[str, Any]) -> None:
        moment = parse_moment(opts["at"]).astimezone(SHANGHAI)
        try:
            rows = policies.deadlines(opts["policy"], moment)
        except policies.UnknownPolicy as e:
            known = ", ".join(SlaPolicy.objects.values_list("code", flat=True))
            raise CommandError(f"{e} (known: {known})") from e
        except CalendarNotCovered as e:
            raise CommandError(str(e)) from e
        if opts["json"]:
            self.stdout.write(json.dumps({
                "policy": opts["policy"], "at": moment.isoformat(),
                "clocks": [{**spec.to_dict(), "deadline": due.isoformat()}
                           for spec, due in rows]}, ensure_ascii=False))
            return
        name = SlaPolicy.objects.values_list("name", flat=True).get(code=opts["policy"])
        self.stdout.write(f"{opts['policy']} {name}\tfrom {moment.isoformat()}")
        for spec, due in rows:
            note = ""
            if spec.unit == Unit.WORKING_DAYS:
                note = f"  (24:00 of {(due - dt.timedelta(days=1)).date().isoformat()})"
            self.stdout.write(f"{spec.code}\t{due.isoformat()}\t{spec.name} "
                              f"{_amount(spec.amount)} {spec.unit}{note}")

    def _seed(self, opts: dict[str, Any]) -> None:
        try:
            rows = json.loads(opts["file"].read_text(encoding="utf-8"))
            result = actions.do_seed_policies(rows, replace=opts["replace"])
        except FileNotFoundError as e:
            raise CommandError(f"{opts['file']}: no such file") from e
        except json.JSONDecodeError as e:
            raise CommandError(f"{opts['file']}: not valid JSON ({e})") from e
        except WorkcalError as e:
            for p in e.problems:
                self.stderr.write(f"  policy {p}")
            raise CommandError(f"{len(e.problems)} problem(s); nothing was written") from e
        self.stdout.write(f"created: {', '.join(result.created) or '-'}; updated: "
                          f"{', '.join(result.updated) or '-'}; kept: "
                          f"{', '.join(result.kept) or '-'}")
