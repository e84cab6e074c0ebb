"""The fieldwork catalogues a city starts with, as data (seed_data/*.json): visit kinds,
visit frequencies per special-group kind, opinion topics, outreach materials and the
default rule of the day on the city grid.

This module only reads the files; `actions.catalogue.do_seed_fieldwork` writes what is
missing (a city's own edits are never overwritten)."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "seed_data"


@cache
def _read(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def visit_kinds() -> list[dict[str, Any]]:
    return list(_read("visit_kinds"))


def visit_frequencies() -> list[dict[str, Any]]:
    """Rows of special_group_kind, every_days, visit_kind (a visit kind's code)."""
    return list(_read("visit_frequencies")["rows"])


def opinion_topics() -> list[dict[str, Any]]:
    return list(_read("opinion_topics"))


def materials() -> list[dict[str, Any]]:
    return list(_read("materials"))


def field_rule() -> dict[str, Any]:
    """The default FieldRule's fields (start_time as a time)."""
    row = {k: v for k, v in _read("field_rule").items() if not k.startswith("_")}
    row["start_time"] = dt.time.fromisoformat(row["start_time"])
    return row
