"""Who may see and act on the outbox console: the center's administrators and superusers.

The console shows technical internals (message topics, idempotency keys, receivers' error
answers, job results): dispatchers and leaders work from the queues and dashboards, and the
retry button re-sends data to outside systems: both stay with the staff who run the
integration."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from wangge.org.access import AnyUser, can_see_path, roles_of
from wangge.org.models import Role
from wangge.territory.models import Grid

OUTBOX_ROLES = frozenset({Role.ADMIN})


def can_manage_outbox(user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(roles_of(user) & OUTBOX_ROLES)


def check_manage_outbox(user: AnyUser) -> None:
    if not can_manage_outbox(user):
        raise PermissionDenied("the outbox console is for the center's administrators")


#: who manages API keys (Open311 clients, external systems) on /console/open311/keys/: the
#: administrators of the center itself (a key acts as a whole system, city-wide; an admin of
#: a sub-grid, and dispatchers, may not mint one)
API_KEY_ROLES = frozenset({Role.ADMIN})


def _holds_on_the_city(user: AnyUser, roles: frozenset[str]) -> bool:
    """A superuser, or one of `roles` held on the city grid (the center itself)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    city = Grid.objects.filter(level=0).only("path").first()
    return city is not None and can_see_path(user, city.path, roles)


def can_manage_api_keys(user: AnyUser) -> bool:
    return _holds_on_the_city(user, API_KEY_ROLES)


def check_manage_api_keys(user: AnyUser) -> None:
    if not can_manage_api_keys(user):
        raise PermissionDenied("API keys are managed by the center's administrators")


#: who works the external systems' console pages (/console/systems/): the center's
#: dispatchers and administrators, held on the city grid (the systems serve the whole city;
#: a sub-center's or a workstation's staff dispatch to them but do not fix their mappings or
#: resend for the city)
SYSTEMS_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


def can_work_systems(user: AnyUser) -> bool:
    return _holds_on_the_city(user, SYSTEMS_ROLES)


def check_work_systems(user: AnyUser) -> None:
    if not can_work_systems(user):
        raise PermissionDenied("the external systems' pages are for the center's dispatchers "
                               "and administrators")
