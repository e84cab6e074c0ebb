"""Admin for the calendar and the policies. Calendar edits go through the actions (audit,
outbox, version stamp). Policy edits are saved by the admin in its transaction and then
announced (audit entry and outbox row) through actions.announce_policy_change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.workcal import actions
from wangge.workcal.models import CalendarDay, CalendarState, CalendarYear, SlaClock, SlaPolicy
from wangge.workcal.validation import check_day


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "covered", "source", "note", "updated_at"]
    readonly_fields = ["source", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "year"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        actions.do_set_year(obj.year, covered=obj.covered, note=obj.note, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day = data.get("date") or (self.instance.date if self.instance.pk else None)
        if day and data.get("kind"):
            for p in check_day(day, data["kind"] == CalendarDay.Kind.MAKEUP,
                               data.get("name", "")):
                self.add_error("kind" if p.field == "is_workday" else p.field, p.message)
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "kind", "name", "is_workday"]
    list_filter = ["kind", "name"]
    date_hierarchy = "date"
    fields = ["date", "kind", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["date"] if obj else []

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        row = actions.do_set_day(obj.date, kind=obj.kind, name=obj.name, actor=request.user)
        obj.pk = row.pk if row else None

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        actions.do_set_day(obj.date, kind=actions.NORMAL, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in list(queryset):
            self.delete_model(request, day)


class SlaClockInline(admin.TabularInline):
    model = SlaClock
    extra = 0
    fields = ["order", "code", "name", "amount", "unit", "starts_on", "goal", "warn_fraction",
              "on_breach"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "updated_at"]
    inlines = [SlaClockInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        actions.announce_policy_change(request.user, [form.instance.code],
                                       "workcal.policy_admin_edit")

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        code = obj.code
        super().delete_model(request, obj)
        actions.announce_policy_change(request.user, [code], "workcal.policy_admin_delete")


@admin.register(CalendarState)
class CalendarStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "changed_at"]
    readonly_fields = ["version", "stamp", "changed_at"]
