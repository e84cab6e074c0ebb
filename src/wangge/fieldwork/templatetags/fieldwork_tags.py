"""`{% load fieldwork_tags %}`: menu links only for those the pages would let in (the
user's roles are read once per request anyway)."""

from __future__ import annotations

from django import template

from wangge.fieldwork import access
from wangge.org.access import AnyUser

register = template.Library()


@register.filter
def sees_field_board(user: AnyUser) -> bool:
    """Attendance board and workload: workstation, grid chief, sub-center, center."""
    return access.can_see_board(user)


@register.filter
def works_in_field(user: AnyUser) -> bool:
    """A grid worker (or other field staff) who carries the field app."""
    return access.worker_grid(user) is not None


@register.filter
def opens_diary(user: AnyUser) -> bool:
    """The diary page: its keepers and their chain (nobody else, see fieldwork.access)."""
    return access.reviews_diary(user) or access.keeps_diary(user)


@register.filter
def opens_fieldwork(user: AnyUser) -> bool:
    """Whether the main menu offers the fieldwork pages at all (not to line departments)."""
    return access.can_see_board(user) or access.keeps_diary(user)
