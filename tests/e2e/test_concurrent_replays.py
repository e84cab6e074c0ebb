"""Twenty phones retrying one create at the same moment against a real server (gunicorn, two
workers with threads): one record, one 201, every replay a 200 with the first body, no 5xx.
And twenty creates of one ID number without a key: one 201, the rest 422 naming id_number.

Run on PostgreSQL (WANGGE_DATABASE_URL=postgresql://...): SQLite serialises writers, so
the race this guards against cannot happen there (the test still runs and must pass)."""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Server
from wangge.registry.identity import make_id_number

N = 20


def _token(server: Server) -> str:
    return server.cli("tokens", "create", "--user", "gridworker").stdout.strip().splitlines()[-1]


def _call(server: Server, token: str, method: str, path: str,
          body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        server.url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def _fire(n: int, send: Callable[[int], tuple[int, Any]]) -> list[tuple[int, Any]]:
    """n calls released at once from n threads."""
    barrier = threading.Barrier(n)
    out: list[tuple[int, Any]] = [(0, None)] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _tally(results: list[tuple[int, Any]]) -> str:
    counts = collections.Counter(status for status, _ in results)
    return ", ".join(f"{s}×{n}" for s, n in sorted(counts.items()))


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    return _token(server)


@pytest.fixture(scope="module")
def place(server: Server, token: str) -> dict[str, Any]:
    """A point, a building and a house in the grid worker's grid."""
    status, top = _call(server, token, "GET", "/api/v1/grids/top.geojson")
    assert status == 200, top
    lng, lat = top["features"][0]["properties"]["label"]
    status, buildings = _call(server, token, "GET", "/api/v1/registry/buildings?limit=1")
    assert status == 200 and buildings, buildings
    status, building = _call(server, token, "GET",
                             f"/api/v1/registry/buildings/{buildings[0]['id']}")
    assert status == 200 and building["houses"], building
    return {"lng": lng, "lat": lat, "building": building["code"],
            "house": building["houses"][0]["number"]}


def _fresh_id_number() -> str:
    """A random synthetic number (area 430211 is not the demo's)."""
    n = uuid.uuid4().int
    return make_id_number("430211", dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000),
                          (n >> 20) % 100, "male" if n % 2 else "female")


def _bodies(place: dict[str, Any], tag: str) -> dict[str, dict[str, Any]]:
    point = {"lng": place["lng"], "lat": place["lat"]}
    return {
        "residents": {"name": "并发居民", "residence_type": "registered",
                      "id_number": _fresh_id_number(),
                      "building": place["building"], "house": place["house"]},
        "buildings": {"code": f"RACE-{tag}", "name": "并发楼", "address": "并发路1号",
                      "floors": 6, "use": "residential", **point},
        "houses": {"building": place["building"], "number": f"R-{tag}", "area": 80,
                   "use": "self_occupied"},
        "key-places": {"name": f"并发场所{tag}", "kind": "school", "address": "并发路2号",
                       **point},
        "organisations": {"name": f"并发组织{tag}", "kind": "enterprise", "address": "并发路3号",
                          "credit_code": "", **point},
    }


@pytest.mark.parametrize("path", ["residents", "buildings", "houses", "key-places",
                                  "organisations"])
def test_twenty_concurrent_replays_make_one_record_and_answer_alike(
        server: Server, token: str, place: dict[str, Any], path: str) -> None:
    tag = uuid.uuid4().hex[:8]
    body = {**_bodies(place, tag)[path], "client_key": f"race-{tag}"}
    url = f"/api/v1/registry/{path}"
    results = _fire(N, lambda _i: _call(server, token, "POST", url, body))
    print(f"{path}: {_tally(results)}")
    statuses = [s for s, _ in results]
    assert not [s for s in statuses if s >= 500], results
    assert statuses.count(201) == 1, _tally(results)
    assert statuses.count(200) == N - 1, _tally(results)
    bodies = {json.dumps(b, sort_keys=True) for _, b in results}
    assert len(bodies) == 1, bodies
    # exactly one record: a later replay still answers the same id, and the list has it once
    status, again = _call(server, token, "POST", url, body)
    assert status == 200 and again == results[0][1]
    if path in ("key-places", "organisations"):
        _, rows = _call(server, token, "GET", f"{url}?limit=500")
        assert [r["name"] for r in rows].count(body["name"]) == 1
    elif path == "buildings":
        _, rows = _call(server, token, "GET", f"{url}?q={quote('并发楼')}&limit=500")
        assert [r["code"] for r in rows].count(body["code"]) == 1
    elif path == "residents":
        _, rows = _call(server, token, "GET", f"{url}?q={quote('并发居民')}&limit=500")
        assert [r["id"] for r in rows].count(again["id"]) == 1


def test_twenty_concurrent_creates_of_one_id_number_without_keys(
        server: Server, token: str, place: dict[str, Any]) -> None:
    body = _bodies(place, uuid.uuid4().hex[:8])["residents"]
    results = _fire(N, lambda _i: _call(server, token, "POST", "/api/v1/registry/residents",
                                        body))
    print(f"residents without keys: {_tally(results)}")
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 1, _tally(results)
    assert statuses.count(422) == N - 1, _tally(results)
    for status, answer in results:
        if status == 422:
            assert [e["loc"][-1] for e in answer["detail"]] == ["id_number"], answer


def test_twenty_concurrent_buildings_with_one_code_without_keys(
        server: Server, token: str, place: dict[str, Any]) -> None:
    body = _bodies(place, uuid.uuid4().hex[:8])["buildings"]
    results = _fire(N, lambda _i: _call(server, token, "POST", "/api/v1/registry/buildings",
                                        body))
    print(f"buildings without keys: {_tally(results)}")
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 1, _tally(results)
    assert statuses.count(422) == N - 1, _tally(results)
    for status, answer in results:
        if status == 422:
            assert [e["loc"][-1] for e in answer["detail"]] == ["code"], answer
