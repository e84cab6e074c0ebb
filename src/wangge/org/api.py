"""People and roles, as far as the caller's scope reaches."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from wangge.core.schema import Id, ModelText, responses
from wangge.org.access import access_person, roles_of, scope_paths, visible_assignments
from wangge.territory.access import access_grid
from wangge.territory.models import Grid

router = Router(tags=["org"])


class MeOut(Schema):
    username: str
    name: str | None
    roles: list[str]
    scope: list[str] | None  # grid codes at the roots of the scope; null = everything


@router.get("/me", response=responses(MeOut), summary="当前用户与管辖范围")
def me(request: HttpRequest) -> Any:
    user = request.auth
    person = getattr(user, "person", None)
    paths = scope_paths(user)
    return {
        "username": user.get_username(),
        "name": person.name if person else None,
        "roles": sorted(roles_of(user)),
        "scope": None if paths is None else [p.strip("/").split("/")[-1] for p in paths],
    }


class RoleOut(Schema):
    role: str
    grid: str
    grid_name: str
    employment: str
    responsible: bool
    started_on: str
    ended_on: str | None


class PersonOut(Schema):
    id: int
    name: str
    work_phone: str
    roles: list[RoleOut]


def _role(a: Any) -> dict[str, Any]:
    return {
        "role": a.role, "grid": a.grid.code, "grid_name": a.grid.name,
        "employment": a.employment, "responsible": a.responsible,
        "started_on": a.started_on.isoformat(),
        "ended_on": a.ended_on.isoformat() if a.ended_on else None,
    }


@router.get("/people", response=responses(list[PersonOut]), summary="人员列表 (按网格)")
def list_people(request: HttpRequest, grid: ModelText(Grid, "code"),  # type: ignore[valid-type]
                include_ended: bool = False) -> Any:
    """People with a role on the grid (history too with include_ended)."""
    g = access_grid(request.auth, grid)
    rows = visible_assignments(request.auth).filter(grid=g)
    if not include_ended:
        rows = rows.filter(ended_on__isnull=True)
    people: dict[int, dict[str, Any]] = {}
    for a in rows.order_by("person__name", "started_on"):
        entry = people.setdefault(
            a.person_id,
            {"id": a.person_id, "name": a.person.name, "work_phone": a.person.work_phone,
             "roles": []},
        )
        entry["roles"].append(_role(a))
    return list(people.values())


@router.get("/people/{person_id}", response=responses(PersonOut), summary="人员详情与任职历史")
def person_detail(request: HttpRequest, person_id: Id) -> Any:
    person = access_person(request.auth, person_id)
    rows = visible_assignments(request.auth).filter(person=person).order_by("started_on")
    return {"id": person.pk, "name": person.name, "work_phone": person.work_phone,
            "roles": [_role(a) for a in rows]}
