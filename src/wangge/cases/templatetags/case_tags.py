"""`{% load case_tags %}{% unread_notifications user as n %}`: the header's count of unread
notifications (提醒), read through access like every other case read."""

from __future__ import annotations

from django import template

from wangge.cases import access
from wangge.org.access import AnyUser

register = template.Library()


@register.simple_tag
def unread_notifications(user: AnyUser) -> int:
    return access.notifications(user).filter(read_at__isnull=True).count()
