"""Cases in the admin: read-only, except the duty list, which saves through the actions
(check, audit, outbox) like its console page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from wangge.cases.actions.config import do_delete_duty_rule, do_set_duty_rule
from wangge.cases.actions.rating import do_set_feedback_rule
from wangge.cases.errors import CaseError
from wangge.cases.models import (
    Assignment,
    Case,
    CaseCategory,
    CaseEvent,
    Consultation,
    DutyRule,
    FeedbackRule,
    InspectionItem,
    Supervision,
)
from wangge.core.admin import ReadOnlyAdminMixin


@admin.register(CaseCategory)
class CaseCategoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The classification list is loaded by `wangge setup` (do_seed_classification)."""

    list_display = ["code", "name", "parent", "sla_policy", "confidential"]
    list_filter = ["confidential", "sla_policy"]
    search_fields = ["code", "name"]


@admin.register(DutyRule)
class DutyRuleAdmin(admin.ModelAdmin):
    """Saves and deletes through do_set_duty_rule / do_delete_duty_rule. A rule's category
    and grid are its key: to move a rule, delete it and add another."""

    fields = ["category", "grid", "department"]  # a department of any kind, external too
    list_display = ["category", "grid", "department"]
    raw_id_fields = ["grid"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["category", "grid"] if obj else []

    def save_model(self, request: HttpRequest, obj: DutyRule, form: Any, change: bool) -> None:
        try:
            rule = do_set_duty_rule(
                request.user, category=obj.category.code, grid=obj.grid.code,
                department=obj.department.code)
        except (CaseError, PermissionDenied) as e:
            raise PermissionDenied(str(e)) from e
        obj.pk = rule.pk

    def delete_model(self, request: HttpRequest, obj: DutyRule) -> None:
        do_delete_duty_rule(request.user, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DutyRule]) -> None:
        for rule in queryset.select_related("category", "grid"):
            do_delete_duty_rule(request.user, rule)


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "note"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: cases change through the actions (the timeline must see every change)."""

    list_display = ["register_no", "title", "category", "state", "grid", "created_at"]
    list_filter = ["state", "channel", "confidential"]
    search_fields = ["register_no", "title"]
    inlines = [EventInline]


@admin.register(InspectionItem)
class InspectionItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The inspection list is loaded by `wangge setup` (do_seed_inspection_items)."""

    list_display = ["grid_kind", "order", "name", "category"]
    list_filter = ["grid_kind"]


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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


@admin.register(FeedbackRule)
class FeedbackRuleAdmin(admin.ModelAdmin):
    """回访与不满意重办的规则 (one row): saved through do_set_feedback_rule (checked, audited,
    announced), never deleted or added beside the one."""

    list_display = ["pk", "reopen_levels", "reopen_within_days", "max_reopens",
                    "followup_after_days", "followup_channels"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not FeedbackRule.objects.exists()  # (the first read creates it with defaults)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FeedbackRule, form: Any,
                   change: bool) -> None:
        try:
            do_set_feedback_rule(
                request.user, reopen_levels=list(obj.reopen_levels or []),
                reopen_within_days=obj.reopen_within_days, max_reopens=obj.max_reopens,
                followup_after_days=obj.followup_after_days,
                followup_channels=list(obj.followup_channels or []))
        except CaseError as e:
            raise PermissionDenied(f"{e.field}: {e}") from e
