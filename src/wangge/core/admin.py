from django.contrib import admin

from wangge.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]
    readonly_fields = ["at", "actor", "action", "object_type", "object_id", "detail"]

    def has_add_permission(self, request) -> bool:  # append-only, written by actions
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
