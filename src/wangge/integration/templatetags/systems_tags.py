"""`{% load systems_tags %}{% if user|works_systems %}`: the nav link to the external systems'
pages only for those the pages let in."""

from __future__ import annotations

from django import template

from wangge.integration import access
from wangge.org.access import AnyUser

register = template.Library()


@register.filter
def works_systems(user: AnyUser) -> bool:
    return access.can_work_systems(user)
