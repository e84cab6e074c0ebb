from django.contrib import admin

from wangge.org.models import Department, Person, RoleAssignment


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["grid", "department"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "grid", "phone"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["grid"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "work_phone", "department", "user"]
    search_fields = ["name", "work_phone"]
    raw_id_fields = ["user", "department"]
    inlines = [RoleInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["person", "role", "grid", "employment", "responsible", "started_on",
                    "ended_on"]
    list_filter = ["role", "employment", "responsible"]
    search_fields = ["person__name", "grid__code", "grid__name"]
    raw_id_fields = ["person", "grid", "department"]
