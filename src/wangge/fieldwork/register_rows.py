"""The worker's register as the field app holds it: masked rows with short keys, each with
its version `v` (`updated_at` in ISO form, what a register edit sends back as its
base_version). Shared by the offline data (fieldwork.offline) and the register edits'
conflicts (fieldwork.actions.register_edits), which show the server's copy in this shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from wangge.registry import access as registry_access
from wangge.registry.models import Building, House, Household, Resident


def compact(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its empty values (the phone reads a missing key as empty)."""
    return {k: v for k, v in row.items() if v is not None and v != "" and v != []}


def version_of(obj: Model) -> str:
    """A register record's version: what an edit must name as its base_version."""
    return obj.updated_at.isoformat()  # type: ignore[attr-defined]


def day_iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _num(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def building_row(b: Building) -> dict[str, Any]:
    return compact({"i": b.pk, "c": b.code, "n": b.name, "a": b.address, "x": b.lng,
                    "y": b.lat, "f": b.floors, "u": b.use, "v": version_of(b)})


def house_row(h: House) -> dict[str, Any]:
    return compact({"i": h.pk, "b": h.building_id, "n": h.number, "ar": _num(h.area),
                    "u": h.use, "v": version_of(h)})


def household_row(h: Household) -> dict[str, Any]:
    return compact({"i": h.pk, "h": h.house_id, "n": h.number,
                    "lv": day_iso(h.last_visited_on), "v": version_of(h)})


def resident_row(r: Resident) -> dict[str, Any]:
    """Only the masked columns, as registry.queries.resident_rows shows them."""
    return compact({
        "i": r.pk, "n": r.name, "s": r.gender, "bd": day_iso(r.birth_date),
        "id": r.id_number_masked, "p": r.phone_masked,
        "e": None if r.ethnicity == "汉族" else r.ethnicity,  # the default, left out
        "t": r.residence_type, "r": r.relation, "h": r.house_id, "hh": r.household_id,
        "mi": day_iso(r.moved_in), "mo": day_iso(r.moved_out), "lv": day_iso(r.last_visited_on),
        "v": version_of(r),
    })


ROWS = {"building": (Building, building_row), "house": (House, house_row),
        "household": (Household, household_row), "resident": (Resident, resident_row)}


def register_row(user: AbstractBaseUser, kind: str, pk: int) -> dict[str, Any] | None:
    """One record as the worker's phone holds it (the server's copy of a conflict)."""
    model, row = ROWS[kind]
    obj = registry_access.visible(user, model).filter(pk=pk).first()
    return row(obj) if obj is not None else None
