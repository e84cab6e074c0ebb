"""Who may see, unmask and edit registry data. The only place that decides it.

Reading follows org.access.in_reach: territory roles read their subtrees; a line department
(urban management, the water company …) reads only the grids of the cases it handles, open
or recently closed — the people and places of its cases, not the register; public security
keeps its territory's register (masked), which its duty needs. Grid police keep their grids'
register and, with the other SPECIAL_GROUP_ROLES, its special groups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from wangge.org.access import AnyUser, can_see_path, in_reach, in_scope, reaches, scope_paths
from wangge.org.models import Role
from wangge.registry.models import (
    Building,
    GridOwned,
    House,
    Household,
    KeyPlace,
    Organisation,
    RegistryChange,
    Resident,
    SpecialGroup,
    UnmaskLog,
)
from wangge.territory.models import Grid

#: special-group data is need-to-know: these roles, within the subtrees where they hold them
SPECIAL_GROUP_ROLES = frozenset({
    Role.GRID_POLICE, Role.MEDIATOR, Role.GRID_CHIEF, Role.DISPATCHER, Role.ADMIN, Role.LEADER,
})
#: who keeps the register current (leaders and line departments read)
EDIT_ROLES = frozenset({
    Role.GRID_WORKER, Role.INFO_OFFICER, Role.GRID_CHIEF, Role.STATION_STAFF,
    Role.SUBCENTER_STAFF, Role.DISPATCHER, Role.ADMIN,
})
UNMASK_PERMISSION = "registry.unmask_personal_data"

MODELS: dict[str, type[GridOwned]] = {
    "building": Building, "house": House, "household": Household, "resident": Resident,
    "key_place": KeyPlace, "organisation": Organisation,
}


def visible(user: AnyUser, model: type[GridOwned]) -> QuerySet:
    return model.objects.filter(in_reach(user))


def visible_residents(user: AnyUser) -> QuerySet[Resident]:
    return visible(user, Resident)


def access_record(user: AnyUser, model: type[GridOwned], pk: int) -> GridOwned:
    """The record if the user may see it; 404 otherwise."""
    obj = visible(user, model).filter(pk=pk).first()
    if obj is None:
        raise Http404("no such record")
    return obj


def may_know_registered(user: AnyUser, resident_id: int) -> bool:
    """Whether the user may be told that this person is already registered (when they try
    to register the same ID number): only if they may see the existing record. Others get
    an answer that says neither that nor where."""
    return visible_residents(user).filter(pk=resident_id).exists()


def can_see_special_groups(user: AnyUser, grid: Grid | None = None) -> bool:
    if grid is None:
        paths = scope_paths(user, SPECIAL_GROUP_ROLES)
        return paths is None or bool(paths)
    return can_see_path(user, grid.path, SPECIAL_GROUP_ROLES)


def visible_special_groups(user: AnyUser) -> QuerySet[SpecialGroup]:
    return SpecialGroup.objects.filter(in_scope(user, "grid__path", roles=SPECIAL_GROUP_ROLES))


def can_edit(user: AnyUser, grid: Grid) -> bool:
    return can_see_path(user, grid.path, EDIT_ROLES)


def editable_grids(user: AnyUser) -> QuerySet[Grid]:
    return Grid.objects.filter(in_scope(user, roles=EDIT_ROLES))


def can_unmask(user: AnyUser, resident: Resident) -> bool:
    """Unmasking needs the permission and the person in the user's scope."""
    return bool(user.has_perm(UNMASK_PERMISSION)) and reaches(user, resident.grid)


def visible_history(user: AnyUser) -> QuerySet[RegistryChange]:
    return RegistryChange.objects.filter(in_reach(user))


def visible_unmask_logs(user: AnyUser) -> QuerySet[UnmaskLog]:
    """The unmask log is for admins: superusers and center admins, within their scope."""
    if not user.is_authenticated:
        return UnmaskLog.objects.none()
    if user.is_superuser:
        return UnmaskLog.objects.all()
    return UnmaskLog.objects.filter(
        in_scope(user, "resident__grid__path", roles=frozenset({Role.ADMIN}))
    )


def public_building_by_qr(token: str) -> Building:
    """The building behind a door QR code, for the signed-out public page."""
    building = Building.objects.select_related("grid").filter(qr_token=token).first()
    if building is None:
        raise Http404("unknown code")
    return building
