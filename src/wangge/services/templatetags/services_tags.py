"""`{% load services_tags %}`: which service-hall links a user sees (the menu's 便民服务 entry,
the landing page's choices): only pages that would let the user in, decided by
services.access. Other slices add their filters here."""

from __future__ import annotations

from django import template

from wangge.org.access import AnyUser
from wangge.services import access

register = template.Library()


@register.filter
def reviews_applications(user: AnyUser) -> bool:
    """The reviewer inbox: a department's pre-reviewers and the center's admins."""
    return access.is_reviewer(user)


@register.filter
def sees_proxy_board(user: AnyUser) -> bool:
    """The proxy board: workstation, grid chief, sub-center, center."""
    return access.sees_some_proxy_board(user)


@register.filter
def edits_catalogue(user: AnyUser) -> bool:
    return access.can_edit_catalogue(user)


@register.filter
def sees_services(user: AnyUser) -> bool:
    """Whether the main menu offers 便民服务 at all."""
    return (access.is_reviewer(user) or access.sees_some_proxy_board(user)
            or access.can_edit_catalogue(user))
