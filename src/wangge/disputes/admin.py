"""Read-only admin of the disputes app: every change goes through actions (audited), so
the admin only shows. Configuration (kinds, screening rules, stage clocks) is edited in the
console through the actions, or seeded by `wangge setup`."""

from __future__ import annotations

from django.contrib import admin

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.disputes.models import (
    Agreement,
    Alert,
    Assignment,
    Dispute,
    DisputeKind,
    Event,
    FollowUp,
    Party,
    Referral,
    Screening,
    ScreeningRule,
    Session,
    Signature,
    StageClock,
)


@admin.register(DisputeKind)
class DisputeKindAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order", "code", "name", "sensitive", "money", "case_category", "active")


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("grid", "period")


@admin.register(StageClock)
class StageClockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("stage", "working_days", "warn_fraction")


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("grid", "period_start", "nil", "screened_at")
    list_filter = ("nil", "period")
    raw_id_fields = ("grid",)


class PartyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Party
    # masked forms only: the whole name and the sealed / hashed columns stay out
    fields = ("role", "kind", "resident", "name_masked", "phone_masked", "id_number_masked")
    readonly_fields = fields
    raw_id_fields = ("resident",)


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Event
    fields = ("at", "kind", "actor", "note")
    readonly_fields = fields


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "kind", "grid", "risk", "state", "level", "due_at")
    list_filter = ("state", "risk", "level", "kind")
    search_fields = ("number",)
    exclude = ("account",)
    inlines = [PartyInline, EventInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        from wangge.disputes.access import visible_disputes

        return visible_disputes(request.user).select_related("kind", "grid")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dispute", "mediator", "level", "assigned_at", "ended_at")


@admin.register(Session)
class SessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dispute", "held_at", "level", "mediator")


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "dispute", "made_at", "signed_at")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("agreement", "party", "method", "signed_at")


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dispute", "body", "department", "referred_at")


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dispute", "at", "honoured")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dispute", "grid", "raised_at", "seen_at")
