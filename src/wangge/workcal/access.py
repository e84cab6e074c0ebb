"""Who may edit the calendar: the center's administrators (the admin role held on the city
grid) and superusers. Everyone signed in may read it: deadlines concern every user."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from wangge.org.access import can_see_path
from wangge.org.models import Role
from wangge.territory.models import Grid, Level

_ADMIN = frozenset({Role.ADMIN})


def can_edit_calendar(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    city = Grid.objects.filter(level=Level.CITY).values_list("path", flat=True).first()
    return city is not None and can_see_path(user, city, roles=_ADMIN)
