"""Deadline computations per second: `wangge.workcal.deadlines.WorkCalendar.deadline`.

Run from the repository root::

    .venv/bin/python benchmarks/deadlines.py [--moments N] [--baseline N] [--repeat R]

The calendar is built from the installed chinesecalendar package (2020 up to its last
year), exactly as the data migration seeds it, without a database. The moments are uniform
random instants between 2025-01-01 and 2026-11-30 (Asia/Shanghai), as aware UTC datetimes,
as they come out of the database. For each unit the script times ``deadline(moment, amount,
unit)`` over all moments in a plain Python loop (best of --repeat), and, as the baseline, a
naive day-by-day implementation of the same rule over the first --baseline moments. It
cross-checks both on those moments. A table goes to stdout and the figures to
``benchmarks/results/deadlines-<date>.json``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from wangge.workcal.deadlines import SHANGHAI, OfficeHours, WorkCalendar
from wangge.workcal.seed import SEED_FROM_YEAR, package_days, package_version, package_years

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_PER_S = 200_000
#: (label, amount, unit): Liling's clocks, plus a working-hour and a natural-day clock
CASES = [("working_days", 7, "working_days"), ("working_days", 3, "working_days"),
         ("hours", 24, "hours"), ("working_hours", 8, "working_hours"),
         ("natural_days", 7, "natural_days")]
OFFICE = "08:30-12:00,14:30-17:30"


# --------------------------------------------------------------------------- baseline


class NaiveCalendar:
    """The rule walked one day at a time with a dict of exceptions: what a first version
    would write, and the reference the fast one must agree with."""

    def __init__(self, exceptions: Mapping[dt.date, bool], office: OfficeHours):
        self.exceptions = dict(exceptions)
        self.periods = [(dt.timedelta(microseconds=a), dt.timedelta(microseconds=b))
                        for a, b in office.periods]

    def is_workday(self, day: dt.date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def deadline(self, moment: dt.datetime, amount: float, unit: str) -> dt.datetime:
        local = moment.astimezone(SHANGHAI)
        if unit == "hours":
            return local + dt.timedelta(hours=amount)
        if unit == "natural_days":
            return local + dt.timedelta(days=amount)
        if unit == "working_days":
            day, counted = local.date(), 0
            while counted < amount:
                day += dt.timedelta(days=1)
                counted += self.is_workday(day)
            end = day + dt.timedelta(days=1)
            return dt.datetime(end.year, end.month, end.day, tzinfo=SHANGHAI)
        need, day = dt.timedelta(hours=amount), local.date()
        while True:
            if self.is_workday(day):
                midnight = dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
                for a, b in self.periods:
                    start, end = max(midnight + a, local), midnight + b
                    if end > start:
                        if end - start >= need:
                            return start + need
                        need -= end - start
            day += dt.timedelta(days=1)


# --------------------------------------------------------------------------- helpers


def random_moments(n: int, seed: int) -> list[dt.datetime]:
    rng = np.random.default_rng(seed)
    lo = dt.datetime(2025, 1, 1, tzinfo=SHANGHAI).timestamp()
    hi = dt.datetime(2026, 11, 30, tzinfo=SHANGHAI).timestamp()
    seconds = rng.integers(int(lo), int(hi), n)
    return [dt.datetime.fromtimestamp(int(s), dt.UTC) for s in seconds]


def best_rate(fn: Callable[[], None], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu,
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "calendar": package_version()}


def fmt(rate: float) -> str:
    return f"{rate / 1e3:>10,.0f} k/s"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moments", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=100_000,
                        help="moments for the naive baseline and the cross-check")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    machine = machine_info()
    print(f"machine: {machine['cpus']} CPUs, {machine['cpu']}; load {machine['loadavg_at_start']}"
          f"; Python {machine['python']}; {machine['calendar']}")
    years = package_years(SEED_FROM_YEAR)
    exceptions = {r.date: r.is_workday for r in package_days(years)}
    office = OfficeHours.parse(OFFICE)
    t0 = time.perf_counter()
    cal = WorkCalendar(years[0], years[-1], exceptions, office_hours=office)
    build_ms = (time.perf_counter() - t0) * 1000
    naive = NaiveCalendar(exceptions, office)
    print(f"calendar {years[0]}–{years[-1]}: {len(exceptions)} exceptions, built in "
          f"{build_ms:.1f} ms")
    moments = random_moments(args.moments, args.seed)
    sample = moments[:args.baseline]

    rows = []
    print(f"\n{'unit':<28}{'WorkCalendar':>14}{'naive loop':>14}{'speed-up':>10}  target")
    deadline, slow = cal.deadline, naive.deadline  # bound once, as a caller would
    for label, amount, unit in CASES:

        def fast_loop(amount: float = amount, unit: str = unit) -> None:
            for m in moments:
                deadline(m, amount, unit)

        def naive_loop(amount: float = amount, unit: str = unit) -> None:
            for m in sample:
                slow(m, amount, unit)

        fast = best_rate(fast_loop, len(moments), args.repeat)
        base = best_rate(naive_loop, len(sample), 1)
        wrong = sum(cal.deadline(m, amount, unit) != naive.deadline(m, amount, unit)
                    for m in sample)
        ok = fast >= TARGET_PER_S and wrong == 0
        name = f"{label} ({amount})"
        print(f"{name:<28}{fmt(fast)}{fmt(base)}{fast / base:>9.1f}×  "
              f"{'PASS' if ok else 'FAIL'}{f'  {wrong} DISAGREE' if wrong else ''}")
        rows.append({"unit": unit, "amount": amount, "per_s": round(fast),
                     "naive_per_s": round(base), "speedup": round(fast / base, 1),
                     "disagreements": wrong, "pass": ok})

    results = {"benchmark": "deadlines", "date": dt.date.today().isoformat(),
               "machine": machine, "moments": args.moments, "baseline_moments": args.baseline,
               "repeat": args.repeat, "seed": args.seed, "office_hours": OFFICE,
               "calendar_years": [years[0], years[-1]], "calendar_build_ms": round(build_ms, 2),
               "target_per_s": TARGET_PER_S, "units": rows}
    out = args.output or RESULTS_DIR / f"deadlines-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
