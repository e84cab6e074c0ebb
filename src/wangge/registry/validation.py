"""Field rules for registry records, shared by the API, the console forms and bulk import.

Cleaners take raw values (strings from a form, a spreadsheet cell or JSON) and return model
field values, or raise RegistryError naming every bad field. They look up related rows
through a Resolver, so bulk import can answer from preloaded maps instead of one query per
row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from django.utils import timezone, translation

from wangge.core import crypto
from wangge.registry.identity import (
    IdentityError,
    mask_id_number,
    mask_phone,
    normalise_phone,
    parse_id_number,
)
from wangge.registry.models import Building, House, Household, KeyPlace, Organisation, Resident


class RegistryError(Exception):
    """Bad input; `errors` maps each bad field to its reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class Resolver(Protocol):
    def grid_for_point(self, lng: float, lat: float) -> int | None: ...
    def building(self, code: str) -> Building | None: ...
    def house(self, building_code: str, number: str) -> House | None: ...
    def household(self, number: str) -> Household | None: ...


class _Errors(dict[str, str]):
    def raise_if_any(self) -> None:
        if self:
            raise RegistryError(dict(self))


def _text(data: dict[str, Any], key: str, errors: _Errors, *, required: bool = True,
          max_length: int = 200) -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors[key] = "required"
    elif len(value) > max_length:
        errors[key] = f"at most {max_length} characters"
    return value


@lru_cache(maxsize=64)
def _choice_map(choices: type, language: str | None) -> dict[str, str]:
    """Code or label (in the active language, and the Chinese original) → code. Cached:
    building it per row costs more than all the crypto of an import."""
    out = {code: code for code in choices.values}
    for code, label in choices.choices:
        out[str(label)] = code
        out[getattr(label, "_args", [str(label)])[0]] = code  # the zh-Hans msgid
    return out


def _choice(data: dict[str, Any], key: str, choices: type, errors: _Errors,
            *, required: bool = True, default: str = "") -> str:
    value = str(data.get(key) or "").strip()
    if not value:
        if required and not default:
            errors[key] = "required"
        return default
    # Accept the code ("rented") or the label ("出租").
    code = _choice_map(choices, translation.get_language()).get(value)
    if code is None:
        errors[key] = f"must be one of {', '.join(choices.values)}"
        return value
    return code


def _float(data: dict[str, Any], key: str, errors: _Errors, lo: float, hi: float) -> float:
    try:
        value = float(data.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors[key] = "must be a number"
        return 0.0
    if not lo <= value <= hi:  # also rejects NaN
        errors[key] = f"must be between {lo} and {hi}"
    return value


def _date(data: dict[str, Any], key: str, errors: _Errors) -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        errors[key] = "must be a date YYYY-MM-DD"
        return None


def clean_building(data: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    errors = _Errors()
    out: dict[str, Any] = {
        "code": _text(data, "code", errors, max_length=40),
        "name": _text(data, "name", errors, max_length=100),
        "address": _text(data, "address", errors),
        "lng": _float(data, "lng", errors, -180, 180),
        "lat": _float(data, "lat", errors, -90, 90),
        "use": _choice(data, "use", Building.Use, errors),
    }
    try:
        floors = int(str(data.get("floors", "")).strip())
        if not 1 <= floors <= 200:
            raise ValueError
        out["floors"] = floors
    except ValueError:
        errors["floors"] = "must be a whole number 1–200"
    if "lng" not in errors and "lat" not in errors:
        grid_id = resolver.grid_for_point(out["lng"], out["lat"])
        if grid_id is None:
            errors["lat"] = "the location lies outside the territory"
        out["grid_id"] = grid_id
    errors.raise_if_any()
    return out


def clean_house(data: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    errors = _Errors()
    building_code = _text(data, "building", errors, max_length=40)
    out: dict[str, Any] = {
        "number": _text(data, "number", errors, max_length=20),
        "use": _choice(data, "use", House.Use, errors),
    }
    try:
        area = Decimal(str(data.get("area", "")).strip())
        if not Decimal("0.5") <= area <= Decimal("100000"):
            raise InvalidOperation
        out["area"] = area.quantize(Decimal("0.01"))
    except InvalidOperation:
        errors["area"] = "must be a floor area in m² (0.5–100000)"
    if building_code:
        building = resolver.building(building_code)
        if building is None:
            errors["building"] = f"no building with code {building_code}"
        else:
            out["building_id"] = building.pk
            out["grid_id"] = building.grid_id
    errors.raise_if_any()
    return out


def clean_resident(data: dict[str, Any], resolver: Resolver,
                   ring: crypto.Keyring | None = None) -> dict[str, Any]:
    errors = _Errors()
    out: dict[str, Any] = {
        "name": _text(data, "name", errors, max_length=50),
        "ethnicity": _text(data, "ethnicity", errors, required=False, max_length=20) or "汉族",
        "residence_type": _choice(data, "residence_type", Resident.ResidenceType, errors),
        "relation": _choice(data, "relation", Resident.Relation, errors, required=False),
        "moved_in": _date(data, "moved_in", errors),
        "moved_out": _date(data, "moved_out", errors),
    }
    raw_id = _text(data, "id_number", errors, max_length=40)
    if raw_id:
        try:
            info = parse_id_number(raw_id, today=timezone.localdate())
        except IdentityError as e:
            errors["id_number"] = str(e)
        else:
            out["id_number"] = info.number
            out["gender"] = info.gender
            out["birth_date"] = info.birth_date
            # a stated gender or birth date must agree with the number
            stated_gender = _choice(data, "gender", Resident.Gender, errors, required=False)
            if stated_gender and stated_gender != info.gender:
                errors["gender"] = "does not match the ID number"
            stated_birth = _date(data, "birth_date", errors)
            if stated_birth and stated_birth != info.birth_date:
                errors["birth_date"] = "does not match the ID number"
    raw_phone = _text(data, "phone", errors, required=False, max_length=30)
    out["phone"] = ""
    if raw_phone:
        try:
            out["phone"] = normalise_phone(raw_phone)
        except IdentityError as e:
            errors["phone"] = str(e)
    if out["moved_in"] and out["moved_out"] and out["moved_out"] < out["moved_in"]:
        errors["moved_out"] = "is before the moved-in date"
    building_code = _text(data, "building", errors, max_length=40)
    house_number = _text(data, "house", errors, max_length=20)
    if building_code and house_number:
        house = resolver.house(building_code, house_number)
        if house is None:
            errors["house"] = f"no house {house_number} in building {building_code}"
        else:
            out["house_id"] = house.pk
            out["grid_id"] = house.grid_id
    household_number = _text(data, "household", errors, required=False, max_length=30)
    out["household_id"] = None
    if household_number:
        household = resolver.household(household_number)
        if household is None:
            errors["household"] = f"no household {household_number}"
        else:
            out["household_id"] = household.pk
    errors.raise_if_any()
    return seal_resident(out, ring)


def seal_resident(values: dict[str, Any], ring: crypto.Keyring | None = None) -> dict[str, Any]:
    """Replace plaintext id_number/phone by their sealed, hashed and masked forms."""
    ring = ring or crypto.keyring()
    values = dict(values)
    number = values.pop("id_number")
    values["id_number_enc"] = crypto.seal(number, ring)
    values["id_number_hash"] = crypto.blind_index(number, ring)
    values["id_number_masked"] = mask_id_number(number)
    phone = values.pop("phone")
    values["phone_enc"] = crypto.seal(phone, ring) if phone else None
    values["phone_hash"] = crypto.blind_index(phone, ring) if phone else ""
    values["phone_masked"] = mask_phone(phone) if phone else ""
    return values


def _clean_place(data: dict[str, Any], resolver: Resolver, kinds: type) -> tuple[dict, _Errors]:
    errors = _Errors()
    out: dict[str, Any] = {
        "name": _text(data, "name", errors, max_length=100),
        "kind": _choice(data, "kind", kinds, errors),
        "address": _text(data, "address", errors),
        "lng": _float(data, "lng", errors, -180, 180),
        "lat": _float(data, "lat", errors, -90, 90),
    }
    if "lng" not in errors and "lat" not in errors:
        out["grid_id"] = resolver.grid_for_point(out["lng"], out["lat"])
        if out["grid_id"] is None:
            errors["lat"] = "the location lies outside the territory"
    return out, errors


def clean_key_place(data: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    out, errors = _clean_place(data, resolver, KeyPlace.Kind)
    errors.raise_if_any()
    return out


def clean_organisation(data: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    out, errors = _clean_place(data, resolver, Organisation.Kind)
    code = _text(data, "credit_code", errors, required=False, max_length=18).upper()
    if code and not (len(code) == 18 and code.isalnum()):
        errors["credit_code"] = "a unified social credit code has 18 letters and digits"
    out["credit_code"] = code
    errors.raise_if_any()
    return out
