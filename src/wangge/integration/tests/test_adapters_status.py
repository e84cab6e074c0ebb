"""The status query reconciliation asks (`base.query_status`): their words per number,
"unknown" for numbers they do not know, at most 500 numbers a request, Unreachable when no
readable answer comes back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wangge.integration.adapters import base
from wangge.integration.tests.adapters_peer import Peer, running_peer, wire

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer() -> Iterator[Peer]:
    with running_peer() as p:
        yield p


def knows_even_numbers(path: str, body: Any) -> tuple[int, Any]:
    numbers = body["numbers"]
    return 200, {
        "orders": [{"number": n, "status": "处置中", "updated_at": "2026-11-30T10:12:00+08:00"}
                   for n in numbers if int(n[2:]) % 2 == 0],
        "unknown": [n for n in numbers if int(n[2:]) % 2],
    }


def test_their_words_and_unknowns_in_batches_of_500(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    peer.answer = knows_even_numbers
    numbers = [f"GD{n:06d}" for n in range(1, 1202)]
    seen = base.query_status(adapter, numbers)
    hits = peer.hits("/api/work-orders/status")
    assert [len(h.json["numbers"]) for h in hits] == [500, 500, 201]
    assert all(h.signed for h in hits)
    assert seen["GD000002"] == "处置中" and seen["GD000001"] == "unknown"
    assert len(seen) == 1201


def test_city_management_asks_its_own_path(peer: Peer) -> None:
    adapter = wire(peer, "city_management")
    peer.answer = lambda path, body: (200, {"orders": [
        {"number": "AJ2026000001", "status": "结案"}], "unknown": []})
    assert base.query_status(adapter, ["AJ2026000001", "AJ2026000002"]) == {
        "AJ2026000001": "结案"}
    assert len(peer.hits("/api/cases/status")) == 1


def test_nothing_to_ask_asks_nothing(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    assert base.query_status(adapter, []) == {}
    assert peer.requests == []


@pytest.mark.parametrize("reply", [(500, None), (401, {"error": {"message": "bad"}}),
                                   (200, b"not json"), (200, {"orders": "none"})])
def test_no_readable_answer_is_unreachable(peer: Peer, reply: tuple[int, Any]) -> None:
    adapter = wire(peer, "hotline_12345")
    peer.script = [reply]
    with pytest.raises(base.Unreachable):
        base.query_status(adapter, ["GD000001"])


def test_a_refused_connection_is_unreachable(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    adapter.endpoint = "http://127.0.0.1:9"
    with pytest.raises(base.Unreachable, match="refused"):
        base.query_status(adapter, ["GD000001"])
