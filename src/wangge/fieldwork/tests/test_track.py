"""The patrol track: encoded polyline round trip, thinning, distance, a full day stays small."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from wangge.fieldwork import track

coord = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False))


@given(st.lists(coord, max_size=50), st.lists(coord, max_size=50))
def test_encode_decode_round_trip_and_append(a, b) -> None:  # type: ignore[no-untyped-def]
    got = track.decode(track.encode(a))
    assert len(got) == len(a)
    for (lng, lat), (glng, glat) in zip(a, got, strict=True):
        assert abs(lng - glng) <= 0.6e-5 and abs(lat - glat) <= 0.6e-5
    # appending to an existing string equals encoding the whole
    if a:
        assert track.encode(a) + track.encode(b, a[-1]) == track.encode(a + b)


def test_the_reference_example() -> None:
    # Google's documented example: (38.5, -120.2), (40.7, -120.95), (43.252, -126.453)
    pts = [(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)]
    assert track.encode(pts) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"


@given(st.lists(st.integers(-10**6, 10**6), max_size=80), st.lists(st.integers(0, 10**5),
                                                                    max_size=30))
def test_times_round_trip_and_append(a, b) -> None:  # type: ignore[no-untyped-def]
    assert track.decode_times(track.encode_times(a)) == a
    if a:
        b = [a[-1] + x for x in b]
        joined = track.encode_times(a) + track.encode_times(b, a[-1])
        assert track.decode_times(joined) == a + b


def test_thinning_drops_inaccurate_and_too_close_points() -> None:
    lng, lat = 113.5, 27.65
    step = 1e-5  # ~1 m of latitude
    raw = [[1000, lng, lat, 10], [2000, lng, lat + 2 * step, 10],    # 2 m: dropped
           [3000, lng, lat + 8 * step, 80],                          # 80 m accuracy: dropped
           [4000, lng, lat + 8 * step, 10],                          # 8 m: kept
           [500, lng, lat - 50 * step, 5]]                           # earliest: sorted first
    kept = track.thin(raw)
    assert [p[0] for p in kept] == [500, 1000, 4000]
    # a batch resent after what was kept adds nothing
    assert track.thin(raw, last=(kept[-1][1], kept[-1][2]), last_ms=kept[-1][0]) == []


def test_distance_of_a_known_path() -> None:
    # one degree of latitude along a meridian is ~111.2 km; a 1 km square walk is 4 km
    assert abs(track.path_length_m([(113.0, 27.0), (113.0, 28.0)]) - 111_195) < 50
    d_lat = 1000 / 111_195
    d_lng = d_lat / math.cos(math.radians(27.65))
    square = [(113.5, 27.65), (113.5, 27.65 + d_lat), (113.5 + d_lng, 27.65 + d_lat),
              (113.5 + d_lng, 27.65), (113.5, 27.65)]
    assert abs(track.path_length_m(square) - 4000) < 5


def test_a_full_day_stays_small() -> None:
    """8 hours, a point every 5 s of someone walking (~1.2 m/s, with GPS jitter and pauses):
    thinned and encoded, the track and its times stay under 20 KB together."""
    rng = random.Random(7)
    lng, lat, heading = 113.5, 27.65, 0.0
    raw, ms = [], 1_767_000_000_000
    for n in range(8 * 3600 // 5):
        if n % 120 < 100:  # walks 100 of every 120 samples, stands at a door for the rest
            heading += rng.uniform(-0.4, 0.4)
            lat += 6 * math.cos(heading) / 111_195
            lng += 6 * math.sin(heading) / (111_195 * math.cos(math.radians(lat)))
        jitter = rng.gauss(0, 2) / 111_195
        raw.append([ms, lng + jitter, lat + jitter, rng.choice([5, 8, 12, 20, 65])])
        ms += 5000
    kept = track.thin(raw)
    text = track.encode([(p[1], p[2]) for p in kept])
    times = track.encode_times([(p[0] - raw[0][0]) // 1000 for p in kept])
    assert 3000 < len(kept) < len(raw)
    assert len(text.encode()) + len(times.encode()) < 20_000, (len(text), len(times))
