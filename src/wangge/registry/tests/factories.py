"""Registry records made through the actions, as a superuser, for tests."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from wangge.registry import actions
from wangge.registry.identity import make_id_number
from wangge.registry.models import Building, House, Resident
from wangge.territory.models import Grid

_serial = itertools.count(1)


def admin():
    return get_user_model().objects.get(username="admin")


def id_number(birth: dt.date = dt.date(1980, 5, 17), gender: str = "male") -> str:
    n = next(_serial)
    # area 430211, not the demo's 430281: test people never collide with demo people
    return make_id_number("430211", birth + dt.timedelta(days=n), n % 100, gender)


def building(grid: Grid, code: str | None = None) -> Building:
    code = code or f"T{next(_serial):06d}"
    return actions.do_create("building", {
        "code": code, "name": f"{grid.name}{code}", "address": f"测试路{code}号",
        "lng": grid.label_lng, "lat": grid.label_lat, "floors": 6, "use": "residential",
    }, admin())


def house(b: Building, number: str = "1-101") -> House:
    return actions.do_create("house", {"building": b.code, "number": number, "area": "88.5",
                                       "use": "self_occupied"}, admin())


def resident(h: House, *, name: str = "测试人", number: str | None = None,
             phone: str = "17090000001", **extra: object) -> Resident:
    return actions.do_create("resident", {
        "name": name, "id_number": number or id_number(), "phone": phone,
        "residence_type": "registered", "building": h.building.code, "house": h.number,
        "relation": "head", **extra,
    }, admin())


def person_in(grid_name: str, **kw: object) -> Resident:
    grid = Grid.objects.get(name=grid_name)
    return resident(house(building(grid)), **kw)
