"""`{% load disputes_tags %}`: the main menu's link to the dispute pages, only for those
who may see disputes at all (the grid chain, mediators, the center; not line departments,
whom a referral reaches as a case)."""

from __future__ import annotations

from django import template

from wangge.org.access import TERRITORY_READ_ROLES, AnyUser, roles_of

register = template.Library()


@register.filter
def opens_disputes(user: AnyUser) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or roles_of(user) & TERRITORY_READ_ROLES)
