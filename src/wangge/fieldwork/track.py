"""A patrol's GPS track, kept small: thinned on arrival, stored as an encoded polyline.

Points arrive as `[epoch_ms, lng, lat, accuracy_m]`. A point is dropped when its accuracy
is worse than `MAX_ACCURACY_M` (a fix that far off would draw a building as passed that
was not) or when it lies closer than `MIN_STEP_M` to the last kept point (standing still
at a door produces a point every 5 s for nothing). What is kept is stored as

- `Patrol.track`: the Google encoded-polyline algorithm (precision 1e-5, ~1 m), written
  here (about 30 lines) rather than taken from PyPI: it is small, well specified, and we
  need the same code to append to an existing track;
- `Patrol.track_times`: seconds since the first point, delta-encoded, comma-separated.

A full day (8 h, a point every 5 s while walking) is ~5,760 points; thinning and these
encodings keep it to a few KB (tests/test_track.py checks < 20 KB).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

#: fixes less accurate than this are dropped (metres)
MAX_ACCURACY_M = 50.0
#: a point closer than this to the last kept one is dropped (metres)
MIN_STEP_M = 5.0
PRECISION = 1e5
EARTH_RADIUS_M = 6_371_008.8

Point = tuple[float, float]  # (lng, lat)


def haversine_m(a: Point, b: Point) -> float:
    lng1, lat1, lng2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def path_length_m(points: Sequence[Point]) -> float:
    return sum(haversine_m(points[i - 1], points[i]) for i in range(1, len(points)))


# -- the encoded polyline algorithm (lat first, as the algorithm specifies) ---------------

def _encode_value(v: int) -> str:
    v = ~(v << 1) if v < 0 else v << 1
    out = []
    while v >= 0x20:
        out.append(chr((0x20 | (v & 0x1F)) + 63))
        v >>= 5
    out.append(chr(v + 63))
    return "".join(out)


def encode(points: Iterable[Point], previous: Point | None = None) -> str:
    """Encode (lng, lat) points. With `previous` (the last point already encoded), the
    result continues an existing string: `encode(a) + encode(b, a[-1]) == encode(a + b)`."""
    plat, plng = (0, 0) if previous is None else (round(previous[1] * PRECISION),
                                                   round(previous[0] * PRECISION))
    out = []
    for lng, lat in points:
        ilat, ilng = round(lat * PRECISION), round(lng * PRECISION)
        out.append(_encode_value(ilat - plat) + _encode_value(ilng - plng))
        plat, plng = ilat, ilng
    return "".join(out)


def decode(text: str) -> list[Point]:
    points: list[Point] = []
    index = lat = lng = 0
    while index < len(text):
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(text[index]) - 63
                index += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lng += deltas[1]
        points.append((lng / PRECISION, lat / PRECISION))
    return points


# -- times: seconds since the first point, delta-encoded ---------------------------------

def encode_times(offsets: Sequence[int], previous: int | None = None) -> str:
    """Comma-separated deltas of whole seconds; continues after `previous` when given."""
    last = 0 if previous is None else previous
    parts = []
    for t in offsets:
        parts.append(str(t - last))
        last = t
    text = ",".join(parts)
    return ("," + text) if previous is not None and text else text


def decode_times(text: str) -> list[int]:
    out, total = [], 0
    for part in filter(None, text.split(",")):
        total += int(part)
        out.append(total)
    return out


# -- thinning ---------------------------------------------------------------------------

def thin(raw: Iterable[Sequence[float]], last: Point | None = None,
         last_ms: int | None = None) -> list[tuple[int, float, float]]:
    """The points worth keeping, as (epoch_ms, lng, lat), in time order; `last` is the last
    point already kept (so a new batch continues the old one). Points not later than
    `last_ms` are dropped (a phone resending a batch adds nothing)."""
    kept: list[tuple[int, float, float]] = []
    for p in sorted(raw, key=lambda p: p[0]):
        ms, lng, lat = int(p[0]), float(p[1]), float(p[2])
        acc = float(p[3]) if len(p) > 3 and p[3] is not None else 0.0
        if acc > MAX_ACCURACY_M or (last_ms is not None and ms <= last_ms):
            continue
        if last is not None and haversine_m(last, (lng, lat)) < MIN_STEP_M:
            continue
        kept.append((ms, lng, lat))
        last, last_ms = (lng, lat), ms
    return kept
