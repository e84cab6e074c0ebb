"""The admin is never a second, unaudited write path: every admin class either refuses add,
change and delete (`ReadOnlyAdminMixin`) or saves through the app's `do_*` actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.core.models import AuditEntry


class ReadOnlyAdminMixin:
    """No add, change or delete for anyone, superusers included; viewing stays. Works for
    model admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only, written by the actions."""

    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]
    readonly_fields = ["at", "actor", "action", "object_type", "object_id", "detail"]
