"""Fixtures of the acceptance stories and the scope tests (test_stories.py, test_scope.py),
imported by those two files: the demo's 胜利社区第1网格 with its chain (the demo logins
gridworker / station / subcenter / mediator (the town's) / center_admin / dispatcher …)
plus the people the demo lacks: a mediator on the basic grid, one on the community
(workstation 调委会), a grid worker of a neighbouring grid and a login for the labour
bureau (人社局) that a referral reaches. All synthetic; created inside each test's
transaction."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from PIL import Image

from wangge.disputes.actions.seeds import do_seed_disputes
from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.registry.models import Resident
from wangge.territory.models import Grid

User = get_user_model()

#: the subcontractor of the labour-wage story (synthetic) and its sealed phone
SUBCONTRACTOR = "醴陵市恒达劳务有限公司"
SUBCONTRACTOR_PHONE = "13907330418"
OUTSIDER = "欧阳晓峰"
OUTSIDER_PHONE = "13574120906"


@dataclass
class World:
    basic: Grid
    village: Grid
    town: Grid
    city: Grid
    neighbour: Grid
    resident: Resident
    users: dict[str, AbstractBaseUser]
    people: dict[str, Person]
    hr: Department

    def u(self, name: str) -> AbstractBaseUser:
        """A fresh user object (roles are cached per user object, as per request)."""
        return User.objects.get(pk=self.users[name].pk)


def _person_with_login(username: str, name: str, role: str, grid: Grid,
                       department: Department | None = None) -> tuple[AbstractBaseUser, Person]:
    user = User.objects.create(username=username)
    person = Person.objects.create(name=name, user=user, department=department)
    RoleAssignment.objects.create(person=person, role=role, grid=grid, department=department,
                                  started_on=dt.date(2026, 1, 1))
    return user, person


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    do_seed_disputes()
    worker = User.objects.get(username="gridworker")
    basic = worker.person.roles.get(role=Role.GRID_WORKER, ended_on__isnull=True).grid
    village = basic.parent
    town = village.parent
    city = Grid.objects.get(level=0)
    users: dict[str, AbstractBaseUser] = {
        u.username: u for u in User.objects.filter(username__in=[
            "gridworker", "station", "subcenter", "mediator", "center_admin", "admin",
            "dispatcher", "department", "grid_chief", "supervisor", "leader"])}
    people = {name: u.person for name, u in users.items() if name != "admin"}
    users["grid_mediator"], people["grid_mediator"] = _person_with_login(
        "stories_grid_mediator", "测试网格调解员", Role.MEDIATOR, basic)
    users["ws_mediator"], people["ws_mediator"] = _person_with_login(
        "stories_ws_mediator", "测试社区调解员", Role.MEDIATOR, village)
    neighbour = Grid.objects.filter(parent=village, level=4).exclude(pk=basic.pk).order_by(
        "code").first()
    assert neighbour is not None
    users["other_worker"], people["other_worker"] = _person_with_login(
        "stories_other_worker", "测试邻格网格员", Role.GRID_WORKER, neighbour)
    hr = Department.objects.get(code="human-resources")
    users["hr"], people["hr"] = _person_with_login(
        "stories_hr", "测试人社局人员", Role.DEPARTMENT_STAFF, city, hr)
    resident = Resident.objects.filter(grid=basic).order_by("pk").first()
    assert resident is not None
    return World(basic=basic, village=village, town=town, city=city, neighbour=neighbour,
                 resident=resident, users=users, people=people, hr=hr)


def labour_item(w: World, **over: Any) -> dict[str, Any]:
    """The labour-wage dispute as a screening lists it: 8 workers' unpaid wages."""
    item: dict[str, Any] = {
        "kind": "labour", "risk": "high",
        "subject": "拖欠8名工人工资",
        "account": "某小区二期工程劳务分包方拖欠8名工人2026年8月至10月工资，工人多次讨要未果，"
                   "扬言到工地聚集。",
        "amount": "86400.00",
        "parties": [
            {"role": "applicant", "kind": "person", "resident_id": w.resident.pk},
            {"role": "respondent", "kind": "organisation", "name": SUBCONTRACTOR,
             "phone": SUBCONTRACTOR_PHONE},
        ],
    }
    item.update(over)
    return item


def dispute_payload(w: World, grid: Grid | None = None, **over: Any) -> dict[str, Any]:
    """A dispute recorded outside a screening (do_record_dispute)."""
    p = labour_item(w, risk="medium", source="visit")
    p["grid_id"] = (grid or w.basic).pk
    p.update(over)
    return p


def outsider_party(role: str = "respondent", **over: Any) -> dict[str, Any]:
    from wangge.registry.identity import make_id_number

    party = {"role": role, "kind": "person", "name": OUTSIDER, "phone": OUTSIDER_PHONE,
             "id_number": make_id_number("430281", dt.date(1985, 3, 4), 17, "male")}
    party.update(over)
    return party


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()
