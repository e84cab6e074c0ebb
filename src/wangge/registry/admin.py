"""Read-only admin for the registry: edits go through the console and API (actions, scope,
history); sealed and hashed columns are never shown."""

from __future__ import annotations

from django.contrib import admin

from wangge.registry.models import (
    Building,
    House,
    Household,
    KeyPlace,
    Organisation,
    RegistryChange,
    Resident,
    SpecialGroup,
    UnmaskLog,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_exclude(self, request, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name.endswith(("_enc", "_hash"))]


@admin.register(Building)
class BuildingAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "address", "grid", "floors", "use"]
    search_fields = ["code", "name", "address"]
    list_filter = ["use"]


@admin.register(House)
class HouseAdmin(ReadOnlyAdmin):
    list_display = ["building", "number", "area", "use", "grid"]
    list_filter = ["use"]


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["number", "house", "grid"]
    search_fields = ["number"]


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = ["name", "gender", "birth_date", "id_number_masked", "phone_masked",
                    "residence_type", "grid"]
    list_filter = ["residence_type", "gender"]
    search_fields = ["name"]


@admin.register(SpecialGroup)
class SpecialGroupAdmin(ReadOnlyAdmin):
    list_display = ["id", "resident", "grid", "since"]  # the kind stays sealed here


@admin.register(KeyPlace)
class KeyPlaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "address", "grid"]
    list_filter = ["kind"]


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "credit_code", "grid"]
    list_filter = ["kind"]


@admin.register(RegistryChange)
class RegistryChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "object_type", "object_id", "action", "source"]
    list_filter = ["object_type", "action", "source"]


@admin.register(UnmaskLog)
class UnmaskLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "resident_id", "fields", "purpose"]
    search_fields = ["purpose", "actor__username"]
