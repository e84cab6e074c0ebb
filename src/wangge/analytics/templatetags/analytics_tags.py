"""`{% load analytics_tags %}{% if user|sees_analytics %}`: the 统计考核 nav link only for
those analytics.access.analytics_scope lets in; `{{ value|figure }}` shows a figure as the
downloads write it ("—" for a value that does not exist, such as a rate of nothing)."""

from __future__ import annotations

from django import template
from django.core.exceptions import PermissionDenied

from wangge.analytics.access import analytics_scope
from wangge.org.access import AnyUser

register = template.Library()


@register.filter
def sees_analytics(user: AnyUser) -> bool:
    try:
        analytics_scope(user)
    except PermissionDenied:
        return False
    return True


@register.filter
def figure(value: object) -> str:
    """A cell as text: None is "—"; numbers as Python writes them (as the CSV does)."""
    if value is None or value == "":
        return "—"
    return str(value)
