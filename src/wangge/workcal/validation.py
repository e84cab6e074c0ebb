"""Checking calendar rows and policy rows before anything is written: every problem is
reported at once, each naming its row and field (an API turns WorkcalError into a 422)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from wangge.workcal.deadlines import Unit
from wangge.workcal.models import Goal, OnBreach, StartsOn
from wangge.workcal.specs import DayRow

#: values a CSV cell may use for is_workday (a city's spreadsheet says 班/休 or 是/否)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "班", "上班"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "休", "放假"})
DAY_COLUMNS = ("date", "is_workday", "name")


@dataclass(frozen=True)
class Problem:
    row: int | None  # the row number as the user sees it (a CSV's line number), or None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.message}"


class WorkcalError(Exception):
    """The input was refused; nothing was written. `problems` lists every reason."""

    status_code = 422

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        shown = "; ".join(map(str, self.problems[:5]))
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s): {shown}{more}")


def check_day(day: dt.date, is_workday: bool, name: str, row: int | None = None) -> list[Problem]:
    problems = []
    if is_workday and day.weekday() < 5:
        problems.append(Problem(row, "is_workday", f"{day} is a weekday: only a Saturday or "
                                                   "Sunday can be a make-up working day"))
    if not name.strip():
        problems.append(Problem(row, "name", "the holiday's name is required (e.g. 春节)"))
    elif len(name.strip()) > 50:
        problems.append(Problem(row, "name", "at most 50 characters"))
    return problems


def parse_day_rows(rows: Iterable[Mapping[str, Any]], first_row: int = 2) -> list[DayRow]:
    """CSV-like rows (date, is_workday, name) → DayRows, or WorkcalError. Row numbers start
    at `first_row`: 2 is the first line under a CSV header."""
    problems: list[Problem] = []
    out: list[DayRow] = []
    seen: dict[dt.date, int] = {}
    for number, raw in enumerate(rows, start=first_row):
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        missing = [c for c in DAY_COLUMNS if c not in row]
        if missing:
            problems += [Problem(number, c, "column missing") for c in missing]
            continue
        day = _date(row["date"], number, problems)
        flag = _flag(row["is_workday"], number, problems)
        name = str(row["name"] or "").strip()
        if day is None or flag is None:
            continue
        if day in seen:
            problems.append(Problem(number, "date", f"{day} is already on row {seen[day]}"))
            continue
        seen[day] = number
        found = check_day(day, flag, name, number)
        problems += found
        if not found:
            out.append(DayRow(day, flag, name))
    if problems:
        raise WorkcalError(problems)
    if not out:
        raise WorkcalError([Problem(None, "rows", "the file has no days")])
    return out


def _date(value: Any, row: int, problems: list[Problem]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(Problem(row, "date", f"{value!r} is not a date (YYYY-MM-DD)"))
        return None


def _flag(value: Any, row: int, problems: list[Problem]) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    problems.append(Problem(row, "is_workday", f"{value!r}: expected 1 (working day) or 0 "
                                               "(day off)"))
    return None


# ---------------------------------------------------------------------- policies

CLOCK_FIELDS = ("code", "name", "amount", "unit", "starts_on", "goal")


def check_policy_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Policy rows as in policies.json → normalised rows, or WorkcalError. A problem's row
    is the policy's position (1-based), its field a path such as ``clocks[0].unit``."""
    if not isinstance(rows, list):
        raise WorkcalError([Problem(None, "policies", "expected a list of policies")])
    problems: list[Problem] = []
    out = []
    codes: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append(Problem(number, "policy", "must be an object"))
            continue

        def bad(field: str, message: str, number: int = number) -> None:
            problems.append(Problem(number, field, message))

        code = str(row.get("code") or "").strip()
        if not _is_code(code):
            bad("code", "required: up to 32 letters, digits, _ and -")
        elif code in codes:
            bad("code", f"{code} appears twice")
        codes.add(code)
        if not 0 < len(str(row.get("name") or "").strip()) <= 100:
            bad("name", "required, up to 100 characters")
        clocks = row.get("clocks")
        if not isinstance(clocks, list) or not clocks:
            bad("clocks", "at least one clock")
            clocks = []
        clean = []
        clock_codes: set[str] = set()
        for i, clock in enumerate(clocks):
            c = _check_clock(clock, f"clocks[{i}]", bad)
            if c and c["code"] in clock_codes:
                bad(f"clocks[{i}].code", f"{c['code']} appears twice in the policy")
            elif c:
                clock_codes.add(c["code"])
                clean.append({**c, "order": i})
        out.append({"code": code, "name": str(row.get("name") or "").strip(),
                    "description": str(row.get("description") or ""),
                    "active": bool(row.get("active", True)), "clocks": clean})
    if problems:
        raise WorkcalError(problems)
    return out


def _is_code(code: str) -> bool:
    return 0 < len(code) <= 32 and code.isascii() and code.replace("_", "").replace(
        "-", "").isalnum()


def _check_clock(clock: Any, where: str, bad: Callable[[str, str], None]
                 ) -> dict[str, Any] | None:
    if not isinstance(clock, Mapping):
        bad(where, "must be an object")
        return None
    errors: list[str] = []

    def fail(field: str, message: str) -> None:
        errors.append(field)
        bad(f"{where}.{field}", message)

    for f in CLOCK_FIELDS:
        if clock.get(f) in (None, ""):
            fail(f, "required")
    if "code" not in errors and not _is_code(str(clock["code"]).strip()):
        fail("code", "up to 32 letters, digits, _ and -")
    if "name" not in errors and len(str(clock["name"]).strip()) > 100:
        fail("name", "at most 100 characters")
    try:
        amount = Decimal(str(clock.get("amount")))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        amount = Decimal(0)
        if "amount" not in errors:
            fail("amount", "not a number")
    unit = clock.get("unit")
    if "amount" not in errors:
        if amount <= 0 or amount >= 100_000:
            fail("amount", "must be positive (and below 100,000)")
        elif unit in (Unit.WORKING_DAYS, Unit.NATURAL_DAYS) and amount != amount.to_integral():
            fail("amount", f"{unit} must be a whole number")
        elif amount != amount.quantize(Decimal("0.01")):
            fail("amount", "at most two decimal places")
    for f, choices in (("unit", [u.value for u in Unit]), ("starts_on", StartsOn.values),
                       ("goal", Goal.values), ("on_breach", OnBreach.values)):
        value = clock.get(f, "overdue" if f == "on_breach" else None)
        if f not in errors and value not in choices:
            fail(f, f"{value!r}: expected one of {', '.join(choices)}")
    try:
        warn = Decimal(str(clock.get("warn_fraction", "0.8")))
        if not warn.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        warn = Decimal(-1)
    if not Decimal(0) < warn < Decimal(1) or warn != warn.quantize(Decimal("0.01")):
        fail("warn_fraction", "a fraction between 0 and 1 with two decimals (e.g. 0.8)")
    if errors:
        return None
    return {"code": str(clock["code"]).strip(), "name": str(clock["name"]).strip(),
            "amount": amount, "unit": unit, "starts_on": clock["starts_on"],
            "goal": clock["goal"], "warn_fraction": warn,
            "on_breach": clock.get("on_breach", "overdue")}
