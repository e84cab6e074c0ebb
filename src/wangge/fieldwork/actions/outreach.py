"""宣传: the materials catalogue (edited by the center) and distributions
(`distribution.create`: material, count, household or place, day)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.fieldwork import access
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Distribution, Material
from wangge.registry import access as registry_access
from wangge.registry.models import Household

#: one distribution's largest count (a whole village's leaflets at a market stall)
MAX_COUNT = 100_000


def distribution_row(d: Distribution) -> dict[str, Any]:
    return {"id": d.pk, "worker_id": d.worker_id, "grid": d.grid.code,
            "grid_name": d.grid.name, "material": d.material.code,
            "material_name": d.material.name, "count": d.count,
            "household_id": d.household_id, "place": d.place, "day": d.day.isoformat()}


def distribution_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return distribution_row(Distribution.objects.select_related("grid", "material").get(pk=pk))


@register("distribution.create", "fieldwork.distribution", answer=distribution_answer)
def apply_distribution(user: AbstractBaseUser, env: Envelope) -> int:
    return do_record_distribution(user, env.payload).pk


def do_record_distribution(user: AbstractBaseUser, p: dict[str, Any]) -> Distribution:
    worker = access.person_of(user)
    if worker is None:
        raise PermissionDenied("only field staff hand out materials")
    day = read.day(p, "day")
    assert day is not None
    if day > timezone.localdate() + dt.timedelta(days=1):
        raise FieldworkError("day", "lies in the future", "future")
    material = Material.objects.filter(code=read.code(p, "material"), active=True).first()
    if material is None:
        raise FieldworkError("material", "must be the code of a material in use", "choice")
    count = read.integer(p, "count", low=1, high=MAX_COUNT)
    place = read.text(p, "place", max_length=100)
    household = None
    if (household_id := read.optional_id(p, "household_id")) is not None:
        try:
            household = registry_access.access_record(user, Household, household_id)
        except Http404:
            raise FieldworkError("household_id", "no such household in your grid",
                                 "not_found") from None
        grid = household.grid
    else:
        grid = access.home_grid(user)
        if grid is None:
            raise FieldworkError("household_id", "required (you have no grid of your own)",
                                 "required")
    if not access.can_write_field(user, grid):
        raise PermissionDenied("you do no field work in this grid")
    d = Distribution.objects.create(worker=worker, grid=grid, material=material, count=count,
                                    household=household, place=place, day=day)
    audit.record("fieldwork.distributed", actor=user, object_type="fieldwork.distribution",
                 object_id=d.pk, material=material.code, count=count, grid=grid.code)
    outbox.enqueue("fieldwork.distributed", distribution_row(d))
    return d


def do_save_material(user: AbstractBaseUser, code: str, *, name: str, topic: str,
                     active: bool = True) -> Material:
    """Add a material or change one (by code): the center's catalogue."""
    if not access.can_edit_catalogue(user):
        raise PermissionDenied("only the center edits the materials catalogue")
    p = {"code": code, "name": name, "topic": topic}
    code = read.text(p, "code", max_length=32, required=True)
    if not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        raise FieldworkError("code", "letters, digits, - and _ only", "invalid")
    fields = {"name": read.text(p, "name", max_length=100, required=True),
              "topic": read.text(p, "topic", max_length=50, required=True),
              "active": bool(active)}
    with transaction.atomic():
        material, created = Material.objects.update_or_create(code=code, defaults=fields)
        audit.record("fieldwork.material_saved", actor=user, object_type="fieldwork.material",
                     object_id=material.pk, code=code, created=created, **fields)
    return material
