"""Org in the admin: departments and people save through do_save_department /
do_save_person (audit), roles through do_assign_role / do_end_role; nothing is deleted
(history: end a role instead)."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.org.actions import (
    RoleError,
    check_role,
    do_assign_role,
    do_end_role,
    do_save_department,
    do_save_person,
)
from wangge.org.models import Department, Person, RoleAssignment


class RoleInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Shown on the person; assigning and ending roles is done under 角色分配 (the actions)."""

    model = RoleAssignment
    extra = 0
    raw_id_fields = ["grid", "department"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "grid", "phone", "service_user"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["grid"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # an external system's service user is made by do_ensure_external_department
        # (`wangge tokens create --system`); its tokens name the user, so the system keeps
        # its kind and code once it has one
        if obj is not None and obj.service_user_id:
            return ["service_user", "kind", "code"]
        return ["service_user"]

    def save_model(self, request: HttpRequest, obj: Department, form: Any,
                   change: bool) -> None:
        do_save_department(obj, changed=form.changed_data, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "work_phone", "department", "user"]
    search_fields = ["name", "work_phone"]
    raw_id_fields = ["user", "department"]
    inlines = [RoleInline]

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        do_save_person(obj, changed=form.changed_data, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """Assigning and ending roles go through the actions (handover, audit, outbox)."""

    list_display = ["person", "role", "grid", "employment", "responsible", "started_on",
                    "ended_on"]
    list_filter = ["role", "employment", "responsible"]
    search_fields = ["person__name", "grid__code", "grid__name"]
    raw_id_fields = ["person", "grid", "department"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # A role's who/what/where never changes: end it and assign a new one (history).
        if obj is None:
            return []
        return ["person", "role", "grid", "department", "employment", "responsible",
                "started_on"]

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[override]
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict:
                data = super().clean()
                if self.instance.pk is None and data.get("grid") is not None:
                    try:
                        check_role(data.get("role", ""), data["grid"],
                                   employment=data.get("employment", ""),
                                   responsible=bool(data.get("responsible")))
                    except RoleError as e:
                        raise ValidationError({e.field: str(e)}) from e
                return data

        return CheckedForm

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            assigned = do_assign_role(
                obj.person, obj.role, obj.grid, department=obj.department,
                employment=obj.employment, responsible=obj.responsible,
                started_on=obj.started_on, actor=request.user,
            )
            obj.pk = assigned.pk
        elif obj.ended_on is not None:
            do_end_role(RoleAssignment.objects.get(pk=obj.pk), ended_on=obj.ended_on,
                        actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history is kept; end the role instead
