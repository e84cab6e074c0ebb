"""`{% load open311_tags %}{% if user|manages_api_keys %}`: the nav link to the keys page
only for those the page lets in."""

from __future__ import annotations

from django import template

from wangge.integration.access import can_manage_api_keys
from wangge.org.access import AnyUser

register = template.Library()


@register.filter
def manages_api_keys(user: AnyUser) -> bool:
    return can_manage_api_keys(user)
