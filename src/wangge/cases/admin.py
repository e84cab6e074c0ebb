from django.contrib import admin

from wangge.cases.models import (
    Assignment,
    Case,
    CaseCategory,
    CaseEvent,
    Consultation,
    DutyRule,
    InspectionItem,
    Supervision,
)


@admin.register(CaseCategory)
class CaseCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "sla_policy", "confidential"]
    list_filter = ["confidential", "sla_policy"]
    search_fields = ["code", "name"]


@admin.register(DutyRule)
class DutyRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "grid", "department", "external_system"]
    raw_id_fields = ["grid"]


class EventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change through the actions (the timeline must see every change)."""

    list_display = ["register_no", "title", "category", "state", "grid", "created_at"]
    list_filter = ["state", "channel", "confidential"]
    search_fields = ["register_no", "title"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InspectionItem)
class InspectionItemAdmin(admin.ModelAdmin):
    list_display = ["grid_kind", "order", "name", "category"]
    list_filter = ["grid_kind"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(_ReadOnly):
    list_display = ["case", "department", "task", "deadline", "fed_back_at", "closed_at"]


@admin.register(Consultation)
class ConsultationAdmin(_ReadOnly):
    list_display = ["case", "held_on", "participants"]


@admin.register(Supervision)
class SupervisionAdmin(_ReadOnly):
    list_display = ["case", "level", "deadline", "opened_by", "opened_at"]
    list_filter = ["level"]
