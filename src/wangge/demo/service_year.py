"""A year of applications and proxy requests for the demo (placeholder until the demo
slice lands)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable


def load_service_year(*, seed: int, since: dt.date, until: dt.date,
                      progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    return {}
