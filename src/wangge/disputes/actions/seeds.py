"""The 13 kinds (seed_data/kinds.json), a monthly screening rule on the root grids and the
stage clocks, for `wangge setup` and the demo. Never overwrites a city's own edits."""

from __future__ import annotations


def do_seed_disputes() -> dict[str, int]:
    """{"kinds": n added, "rules": n, "clocks": n}"""
    raise NotImplementedError
