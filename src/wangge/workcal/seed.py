"""Where the default data comes from: the chinesecalendar package (the State Council's
schedules as a maintained package keeps them) and policies.json. Pure reads, no writes, so
that the data migration and the actions share them."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from wangge.workcal.specs import DayRow

#: the first year `wangge setup` takes from the package
SEED_FROM_YEAR = 2020
POLICIES_FILE = Path(__file__).resolve().parent / "policies.json"

#: the package names holidays in English; the console speaks Chinese
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_version() -> str:
    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except PackageNotFoundError:
        return ""


def package_years(since: int = SEED_FROM_YEAR) -> list[int]:
    """The years (from `since`) whose schedule the installed package holds."""
    try:
        from chinese_calendar.constants import holidays
    except ImportError:
        return []
    return sorted({d.year for d in holidays if d.year >= since})


def package_days(years: set[int] | list[int]) -> list[DayRow]:
    """The package's holidays and make-up working days of those years, by date."""
    from chinese_calendar.constants import holidays, workdays

    wanted = set(years)
    rows = [DayRow(d, False, HOLIDAY_NAMES_ZH.get(str(n), str(n)))
            for d, n in holidays.items() if d.year in wanted]
    rows += [DayRow(d, True, HOLIDAY_NAMES_ZH.get(str(n), str(n)))
             for d, n in workdays.items() if d.year in wanted]
    return sorted(rows, key=lambda r: r.date)


def policy_rows(path: Path = POLICIES_FILE) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))
