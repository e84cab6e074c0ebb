"""The patrol rota: a basic grid's buildings in sub-areas (片区), one walked per working day.

Grouping is a spatial sweep: the buildings are cut into east-west bands by latitude, each
band is walked west→east then east→west (a snake, so the path never jumps back across the
grid), and the snake is cut into `n` runs of equal size. Consecutive buildings on a snake
are neighbours, so each run is a compact patch a worker can walk in a morning. It is
deterministic (same buildings → same areas) and needs no library.

With `n = areas_for(every_days)` areas and one area walked per working day, an area comes
round again after `n` working days, which always fit into `every_days` calendar days.
Which area is due is not a calendar formula but history: the area whose buildings were
passed longest ago (BuildingPass), so a day missed is caught up the next working day
instead of being skipped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

BuildingPoint = tuple[int, float, float]  # (building id, lng, lat)


def areas_for(every_days: int) -> int:
    """How many areas a rota of `every_days` calendar days has room for: the most `n` such
    that `n` working days never span more than `every_days` (a cycle starting on a Friday
    is the longest: every 5 working days take 7 calendar days, a remainder crosses a
    weekend)."""
    def span(n: int) -> int:
        return 7 * (n // 5) + (n % 5 + 2 if n % 5 else 0)

    n = 1
    while span(n + 1) <= every_days:
        n += 1
    return n


def group(buildings: Sequence[BuildingPoint], n: int) -> list[list[int]]:
    """The buildings in at most `n` groups of (nearly) equal size, spatially compact, in
    walking order. Fewer buildings than `n` give one group per building."""
    if not buildings:
        return []
    n = max(1, min(n, len(buildings)))
    bands = max(1, round(math.sqrt(n)))
    by_lat = sorted(buildings, key=lambda b: (b[2], b[1], b[0]))
    size = math.ceil(len(by_lat) / bands)
    snake: list[BuildingPoint] = []
    for i in range(bands):
        band = sorted(by_lat[i * size:(i + 1) * size], key=lambda b: (b[1], b[2], b[0]))
        snake.extend(band if i % 2 == 0 else reversed(band))
    # cut into n runs whose sizes differ by at most one
    base, extra = divmod(len(snake), n)
    out, start = [], 0
    for k in range(n):
        end = start + base + (1 if k < extra else 0)
        out.append([b[0] for b in snake[start:end]])
        start = end
    return out


def match_names(old: Mapping[str, set[int]], new: Sequence[list[int]]) -> list[str]:
    """A name for each new group: an old area's name where it shares most buildings with
    it (greedy by overlap, each old name used once), else the next free "片区N". Rebuilding
    an unchanged grid therefore gives every area its old name back."""
    pairs = sorted(((len(old[name] & set(g)), -i, name) for i, g in enumerate(new)
                    for name in old), reverse=True)
    names: dict[int, str] = {}
    used: set[str] = set()
    for overlap, neg_i, name in pairs:
        i = -neg_i
        if overlap == 0 or i in names or name in used:
            continue
        names[i] = name
        used.add(name)
    counter = 1
    out = []
    for i in range(len(new)):
        if i not in names:
            while f"片区{counter}" in used or f"片区{counter}" in old:
                counter += 1
            names[i] = f"片区{counter}"
            used.add(names[i])
        out.append(names[i])
    return out


def due_area(areas: Mapping[int, Sequence[int]], last_passed: Mapping[int, dt.datetime],
             order: Mapping[int, int] | None = None) -> int | None:
    """The area whose buildings were passed longest ago. An area's age is the median of
    its buildings' last passes (never passed counts as oldest): one building the track
    missed does not hold the whole area back forever, and one building passed on the way
    to another area does not make its area look walked."""
    if not areas:
        return None
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)

    def age(area_id: int) -> tuple[dt.datetime, int, int]:
        stamps = sorted(last_passed.get(b, oldest) for b in areas[area_id]) or [oldest]
        return stamps[(len(stamps) - 1) // 2], (order or {}).get(area_id, 0), area_id

    return min(areas, key=age)
