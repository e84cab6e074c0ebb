"""Read shapes for registry records (masked), shared by the API, console and export."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from wangge.core import crypto
from wangge.org.access import AnyUser
from wangge.registry import access
from wangge.registry.actions import special_group_kinds
from wangge.registry.identity import IdentityError, normalise_phone
from wangge.registry.models import Resident, SpecialGroup


def search_residents(user: AnyUser, *, q: str = "", id_number: str = "", phone: str = "",
                     grid: str = "", special_group: str = "") -> QuerySet[Resident]:
    """Residents in scope matching the filters. ID number and phone match exactly, through
    their keyed hashes; a special-group filter only ever narrows to what the user may see."""
    qs = access.visible_residents(user).select_related("grid", "house__building")
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(house__building__address__contains=q))
    if id_number:
        qs = qs.filter(id_number_hash=crypto.blind_index(id_number.strip().upper()))
    if phone:
        try:
            qs = qs.filter(phone_hash=crypto.blind_index(normalise_phone(phone)))
        except IdentityError:
            qs = qs.none()
    if grid:
        qs = qs.filter(grid__path__contains=f"/{grid}/")
    if special_group:
        groups = list(access.visible_special_groups(user).filter(resident__in=qs))
        kinds = special_group_kinds(groups)
        ids = [rid for rid, ks in kinds.items() if special_group in ks]
        qs = qs.filter(pk__in=ids)
    return qs.order_by("grid__path", "name", "id")


def resident_rows(user: AnyUser, residents: list[Resident]) -> list[dict[str, Any]]:
    show_groups = access.can_see_special_groups(user)
    kinds: dict[int, list[str]] = {}
    if show_groups and residents:
        groups = access.visible_special_groups(user).filter(resident__in=residents)
        kinds = special_group_kinds(list(groups))
    labels = dict(SpecialGroup.Kind.choices)
    return [
        {
            "id": r.pk, "name": r.name, "gender": r.gender, "birth_date": r.birth_date,
            "id_number": r.id_number_masked, "phone": r.phone_masked,
            "ethnicity": r.ethnicity, "residence_type": r.residence_type,
            "relation": r.relation, "grid": r.grid.code, "grid_name": r.grid.name,
            "building": r.house.building.code, "address": r.house.building.address,
            "house": r.house.number, "house_id": r.house_id,
            "household_id": r.household_id,
            "special_groups": (
                [str(labels[k]) for k in kinds.get(r.pk, [])] if show_groups else None
            ),
        }
        for r in residents
    ]


def collection_counts(user: AnyUser, day: Any) -> list[dict[str, Any]]:
    """Per-person records created/updated/deleted on a day (采集更新), within scope."""
    rows = (
        access.visible_history(user)
        .annotate(day=TruncDate("at"))
        .filter(day=day, actor__isnull=False)
        .values("actor__username", "actor__person__name", "action")
        .annotate(n=Count("id"))
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault(r["actor__username"], {
            "username": r["actor__username"], "name": r["actor__person__name"],
            "create": 0, "update": 0, "delete": 0,
        })
        entry[r["action"]] += r["n"]
    return sorted(out.values(), key=lambda e: -(e["create"] + e["update"] + e["delete"]))
