"""How cleaners find related rows: one query each (API, forms) or preloaded maps (import)."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import QuerySet

from wangge.registry.models import Building, House, Household
from wangge.territory import lookup


class DbResolver:
    def grid_for_point(self, lng: float, lat: float) -> int | None:
        ids = lookup.locate_many(np.array([lng]), np.array([lat]))
        return None if ids[0] < 0 else int(ids[0])

    def building(self, code: str) -> Building | None:
        return Building.objects.filter(code=code).first()

    def house(self, building_code: str, number: str) -> House | None:
        return House.objects.filter(building__code=building_code, number=number).first()

    def household(self, number: str) -> Household | None:
        return Household.objects.filter(number=number).first()


class PreloadedResolver(DbResolver):
    """Answers from maps loaded once per import (and extended as rows are created)."""

    def __init__(self, *, building_codes: set[str] | None = None,
                 household_numbers: set[str] | None = None) -> None:
        """Everything, or only the buildings (with their houses) and households named."""
        buildings = _rows(Building.objects.only("id", "code", "grid_id"), "code",
                          building_codes)
        self.buildings: dict[str, Building] = {b.code: b for b in buildings}
        by_id = {b.pk: b.code for b in self.buildings.values()}
        houses = _rows(House.objects.only("id", "building_id", "number", "grid_id"),
                       "building_id", None if building_codes is None else set(by_id))
        self.houses: dict[tuple[str, str], House] = {
            (by_id[h.building_id], h.number): h for h in houses
        }
        households = _rows(Household.objects.only("id", "number", "grid_id"), "number",
                           household_numbers)
        self.households: dict[str, Household] = {h.number: h for h in households}
        self.points: dict[tuple[float, float], int | None] = {}

    def prime_points(self, lngs: list[float], lats: list[float]) -> None:
        """Locate all the import's points in one batch call."""
        ids = lookup.locate_many(np.array(lngs, dtype=float), np.array(lats, dtype=float))
        for lng, lat, gid in zip(lngs, lats, ids.tolist(), strict=True):
            self.points[(lng, lat)] = None if gid < 0 else gid

    def grid_for_point(self, lng: float, lat: float) -> int | None:
        if (lng, lat) not in self.points:
            self.points[(lng, lat)] = super().grid_for_point(lng, lat)
        return self.points[(lng, lat)]

    def building(self, code: str) -> Building | None:
        return self.buildings.get(code)

    def house(self, building_code: str, number: str) -> House | None:
        return self.houses.get((building_code, number))

    def household(self, number: str) -> Household | None:
        return self.households.get(number)


def _rows(qs: QuerySet, field: str, values: set[Any] | None) -> list[Any]:
    """All rows, or those whose `field` is in `values`, queried in chunks (SQLite caps the
    number of parameters in one statement)."""
    if values is None:
        return list(qs)
    values_list = sorted(v for v in values if v != "")
    out: list[Any] = []
    for i in range(0, len(values_list), 5000):
        out.extend(qs.filter(**{f"{field}__in": values_list[i:i + 5000]}))
    return out
