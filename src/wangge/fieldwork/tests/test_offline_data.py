"""The worker's offline data (GET /api/v1/fieldwork/offline): only their own grid, masked as
the registry API shows it, each record with its version; small enough for a slow line
(2,000 residents + 560 households < 300 KB gzipped); an unchanged bundle is not sent again."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from wangge.fieldwork import access
from wangge.fieldwork.offline import offline_data
from wangge.registry.models import Building, House, Household, Resident

pytestmark = pytest.mark.django_db
URL = "/api/v1/fieldwork/offline"


def _get(client: Client, **query: str) -> tuple[int, dict[str, Any], int]:
    r = client.get(URL, query, HTTP_ACCEPT_ENCODING="gzip")
    body = r.content
    if r.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return r.status_code, json.loads(body) if body else {}, len(r.content)


def test_only_the_workers_own_grid_masked(login_as: Any) -> None:
    client = login_as("gridworker")
    status, data, _ = _get(client)
    assert status == 200
    user = get_user_model().objects.get(username="gridworker")
    grid = access.worker_grid(user)
    assert data["grid"]["c"] == grid.code
    assert {b["i"] for b in data["buildings"]} == set(
        Building.objects.filter(grid=grid).values_list("pk", flat=True))
    assert {r["i"] for r in data["residents"]} == set(
        Resident.objects.filter(grid=grid).values_list("pk", flat=True))
    assert {h["i"] for h in data["households"]} == set(
        Household.objects.filter(grid=grid).values_list("pk", flat=True))
    assert data["residents"], "the demo worker's grid has residents"
    for row in data["residents"]:
        assert "*" in row["id"], "ID numbers are masked"
        assert "p" not in row or "*" in row["p"], "phones are masked"
        resident = Resident.objects.get(pk=row["i"])
        assert row["v"] == resident.updated_at.isoformat()
    # nothing null is sent; labels once
    assert "null" not in json.dumps(data)
    assert data["labels"]["relation"]["head"] == "户主"
    assert data["categories"] and data["inspection"]


def test_unchanged_version_is_not_sent_again(login_as: Any) -> None:
    client = login_as("gridworker")
    _, first, _ = _get(client)
    status, again, _ = _get(client, since=first["v"])
    assert status == 200 and again == {"v": first["v"], "unchanged": True}
    # a change to the register makes a new version
    house = House.objects.get(pk=first["houses"][0]["i"])
    house.save()
    _, third, _ = _get(client, since=first["v"])
    assert third["v"] != first["v"] and "residents" in third


def test_someone_without_a_grid_gets_no_offline_data(login_as: Any) -> None:
    status, _, _ = _get(login_as("dispatcher"))
    assert status == 403
    assert Client().get(URL).status_code == 401


def test_size_budget_on_a_grid_of_2000_residents(login_as: Any) -> None:
    """2,000 residents in 560 households: the gzipped answer stays under 300 KB."""
    user = get_user_model().objects.get(username="gridworker")
    grid = access.worker_grid(user)
    _grow_grid(grid, residents=2000, households=560)
    client = login_as("gridworker")
    status, data, size = _get(client)
    assert status == 200
    assert len(data["residents"]) >= 2000 and len(data["households"]) >= 560
    assert size < 300 * 1024, f"{size} bytes gzipped"
    assert offline_data(user)["v"] == data["v"]


def _grow_grid(grid: Any, *, residents: int, households: int) -> None:
    """Fill the grid up to the counts with plausible rows (names, masked numbers)."""
    import datetime as dt
    import random

    from wangge.core import crypto

    rng = random.Random(12)
    have_r = Resident.objects.filter(grid=grid).count()
    have_h = Household.objects.filter(grid=grid).count()
    building = Building.objects.filter(grid=grid).first()
    houses = []
    for i in range(max(0, households - have_h)):
        houses.append(House(grid=grid, building=building, number=f"T{i:04d}", area=88.5,
                            use="self_occupied"))
    houses = House.objects.bulk_create(houses)
    new_h = Household.objects.bulk_create(
        [Household(grid=grid, house=h, number=f"HT{grid.pk}-{i:05d}")
         for i, h in enumerate(houses)])
    ring = crypto.keyring()
    surnames, given = "王李张刘陈杨黄赵周吴徐孙", "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超"
    rows = []
    for i in range(max(0, residents - have_r)):
        hh = new_h[i % len(new_h)] if new_h else None
        number = f"4302811960{i % 12 + 1:02d}{i % 28 + 1:02d}{i:04d}"[:18]
        phone = f"13{rng.randrange(10**9):09d}"
        rows.append(Resident(
            grid=grid, name=rng.choice(surnames) + rng.choice(given) + rng.choice(given),
            gender=rng.choice(["male", "female"]), birth_date=dt.date(1940 + i % 70, 1 + i % 12, 1),
            id_number_enc=crypto.seal(number, ring), id_number_hash=f"t{i:031d}",
            id_number_masked=number[:3] + "*" * 11 + number[-4:],
            phone_enc=crypto.seal(phone, ring), phone_hash=f"p{i:031d}",
            phone_masked=phone[:3] + "****" + phone[-4:],
            residence_type=rng.choice(["registered", "registered", "floating"]),
            house=hh.house if hh else houses[0], household=hh,
            relation=rng.choice(["head", "spouse", "child", "parent"])))
    Resident.objects.bulk_create(rows, batch_size=500)

