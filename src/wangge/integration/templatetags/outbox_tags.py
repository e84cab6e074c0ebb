"""`{% load outbox_tags %}{% if user|can_manage_outbox %}`: the nav link only for those
the page would let in (the user's roles are read once per request anyway)."""

from __future__ import annotations

from django import template

from wangge.integration import access
from wangge.org.access import AnyUser

register = template.Library()


@register.filter
def can_manage_outbox(user: AnyUser) -> bool:
    return access.can_manage_outbox(user)
