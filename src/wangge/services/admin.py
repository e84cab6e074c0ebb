"""Read-only admin for the service hall. Every change has an action with its rules, timeline
and audit entry (the catalogue console, the review inbox, the proxy board, the field app), so
the admin only looks: it is never a second, unaudited write path. Sealed and hashed columns
of applicants are never shown, only their masks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.services.models import (
    Application,
    ApplicationEvent,
    Authorization,
    ItemVersion,
    MaterialCheck,
    MaterialFile,
    NumberCounter,
    ProxyEvent,
    ProxyRequest,
    SearchTerm,
    ServiceItem,
    StageClock,
    Synonym,
)


class ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name.endswith(("_enc", "_hash"))]


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ItemVersion
    fields = ["number", "state", "change_note", "created_by", "created_at", "published_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(ServiceItem)
class ServiceItemAdmin(ReadOnly):
    list_display = ["code", "name", "department", "type", "level", "proxy_eligible",
                    "online_prereview", "active", "console"]
    list_filter = ["type", "level", "proxy_eligible", "online_prereview", "active",
                   "department"]
    search_fields = ["code", "name"]
    inlines = [VersionInline]

    @admin.display(description=_("编辑"))
    def console(self, obj: ServiceItem) -> str:
        """Editing happens on the catalogue console (drafts, publishing, history)."""
        return format_html('<a href="{}">{}</a>',
                           reverse("services:catalogue_item", args=[obj.code]), _("事项目录"))


@admin.register(ItemVersion)
class ItemVersionAdmin(ReadOnly):
    list_display = ["item", "number", "state", "change_note", "created_by", "published_at"]
    list_filter = ["state"]
    search_fields = ["item__code", "name"]


@admin.register(Synonym)
class SynonymAdmin(ReadOnly):
    list_display = ["group", "phrase"]
    search_fields = ["group", "phrase"]


@admin.register(SearchTerm)
class SearchTermAdmin(ReadOnly):
    list_display = ["term", "item", "weight"]
    search_fields = ["term"]


@admin.register(StageClock)
class StageClockAdmin(ReadOnly):
    list_display = ["stage", "working_days", "warn_hours"]


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnly):
    list_display = ["key", "last"]


class ApplicationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApplicationEvent
    fields = ["at", "actor", "action", "from_state", "to_state", "note"]
    readonly_fields = fields
    extra = 0


@admin.register(Application)
class ApplicationAdmin(ReadOnly):
    list_display = ["no", "item", "department", "state", "round", "applicant_name",
                    "id_number_masked", "phone_masked", "submitted_at", "due_at"]
    list_filter = ["state", "channel", "department"]
    search_fields = ["no"]
    inlines = [ApplicationEventInline]


@admin.register(MaterialFile)
class MaterialFileAdmin(ReadOnly):
    """Listed without the file itself: files are served only through services.access."""

    list_display = ["application", "material_key", "round", "content_type", "size",
                    "uploaded_at"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["file"]


@admin.register(MaterialCheck)
class MaterialCheckAdmin(ReadOnly):
    list_display = ["application", "material_key", "round", "verdict", "reviewer", "at"]
    list_filter = ["verdict"]


class ProxyEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ProxyEvent
    fields = ["at", "actor", "action", "from_state", "to_state", "note"]
    readonly_fields = fields
    extra = 0


@admin.register(ProxyRequest)
class ProxyRequestAdmin(ReadOnly):
    list_display = ["no", "item", "grid", "worker", "state", "applicant_name",
                    "phone_masked", "created_at", "delivered_at", "rating"]
    list_filter = ["state", "channel"]
    search_fields = ["no"]
    inlines = [ProxyEventInline]


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnly):
    list_display = ["proxy", "signer_name", "signed_at"]
