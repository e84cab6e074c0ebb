"""The admin is never a second, unaudited write path: every admin class either refuses add,
change and delete, or saves through the actions (an audit row is written)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client, RequestFactory

from wangge.cases.models import CaseCategory, DutyRule
from wangge.core.models import AuditEntry
from wangge.integration.actions import do_create_token
from wangge.integration.models import ApiToken, OutboxMessage
from wangge.org.models import Department, Person
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

# The admin classes that write, each through its app's do_* actions (tested below or in the
# app's own tests). Every other admin class (and inline) of a wangge model is read-only.
THROUGH_ACTIONS = {
    "cases.DutyRuleAdmin",  # do_set_duty_rule / do_delete_duty_rule
    "cases.FeedbackRuleAdmin",  # do_set_feedback_rule (cases/tests/test_rating.py)
    "org.DepartmentAdmin",  # do_save_department
    "org.PersonAdmin",  # do_save_person (its roles inline is read-only)
    "org.RoleAssignmentAdmin",  # do_assign_role / do_end_role (org/tests/test_roles.py)
    "territory.GridAdmin",  # do_update_grid, names only
    "integration.SubscriptionAdmin",  # do_save_subscription
    "workcal.CalendarYearAdmin",  # do_set_year
    "workcal.CalendarDayAdmin",  # do_set_day
    "workcal.SlaPolicyAdmin",  # saved by the admin, announced by announce_policy_change
}


def _name(model_admin: Any) -> str:
    return f"{model_admin.model._meta.app_label}.{type(model_admin).__name__}"


@pytest.fixture
def superuser(django_user_model) -> AbstractBaseUser:  # type: ignore[no-untyped-def]
    return django_user_model.objects.get(username="admin")


@pytest.fixture
def client(superuser: AbstractBaseUser) -> Client:
    c = Client()
    c.force_login(superuser)
    return c


def test_every_other_admin_class_refuses_add_change_and_delete(superuser) -> None:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert superuser.is_superuser
    ours = {m: a for m, a in admin.site._registry.items() if m.__module__.startswith("wangge.")}
    writers = {_name(a) for a in ours.values()} & THROUGH_ACTIONS
    assert writers == THROUGH_ACTIONS  # the allow-list names no class that is gone
    for model_admin in ours.values():
        inlines = [i(model_admin.model, admin.site) for i in model_admin.inlines]
        if _name(model_admin) == "workcal.SlaPolicyAdmin":
            inlines = []  # its clocks are part of the policy the save announces
        for inline in inlines:
            assert not inline.has_add_permission(request, None), inline
            assert not inline.has_change_permission(request, None), inline
            assert not inline.has_delete_permission(request, None), inline
        if _name(model_admin) in THROUGH_ACTIONS:
            continue
        assert not model_admin.has_add_permission(request), _name(model_admin)
        assert not model_admin.has_change_permission(request), _name(model_admin)
        assert not model_admin.has_delete_permission(request), _name(model_admin)


@pytest.mark.parametrize("url", [
    "/admin/cases/casecategory/add/", "/admin/cases/inspectionitem/add/",
    "/admin/core/outboxmessage/add/",
    "/admin/integration/apitoken/add/",
])
def test_read_only_admin_pages_refuse_to_add(client: Client, url: str) -> None:
    assert client.post(url, {"code": "x", "name": "x"}).status_code == 403


def test_deleting_an_outbox_row_or_a_category_is_refused(client: Client) -> None:
    message = OutboxMessage.objects.first()
    assert message is not None
    r = client.post(f"/admin/core/outboxmessage/{message.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
    category = CaseCategory.objects.first()
    r = client.post(f"/admin/cases/casecategory/{category.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403 and CaseCategory.objects.filter(pk=category.pk).exists()


def test_duty_rule_admin_saves_and_deletes_through_the_actions(client: Client) -> None:
    category = CaseCategory.objects.filter(duty_rules__isnull=True).first()
    town = Grid.objects.filter(level=2).first()
    water = Department.objects.get(code="water")
    r = client.post("/admin/cases/dutyrule/add/", {
        "category": category.pk, "grid": town.pk, "department": water.pk})
    assert r.status_code == 302, r.context["adminform"].form.errors
    rule = DutyRule.objects.get(category=category, grid=town)
    assert AuditEntry.objects.filter(action="cases.duty_rule_set",
                                     object_id=str(rule.pk)).exists()
    assert OutboxMessage.objects.filter(topic="cases.duty_rule_set").exists()
    # a rule names one department (a line department or an external system's): none is
    # refused with the field named, nothing saved
    other = Grid.objects.filter(level=2).last()
    r = client.post("/admin/cases/dutyrule/add/", {"category": category.pk, "grid": other.pk})
    assert r.status_code == 200 and "department" in r.context["adminform"].form.errors
    assert not DutyRule.objects.filter(category=category, grid=other).exists()
    r = client.post(f"/admin/cases/dutyrule/{rule.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not DutyRule.objects.filter(pk=rule.pk).exists()
    assert AuditEntry.objects.filter(action="cases.duty_rule_deleted",
                                     object_id=str(rule.pk)).exists()


def test_department_and_person_edits_are_audited(client: Client) -> None:
    water = Department.objects.get(code="water")
    r = client.post(f"/admin/org/department/{water.pk}/change/", {
        "code": water.code, "name": "市水务局（改）", "kind": water.kind, "grid": water.grid_id,
        "phone": "0731-1234567", "address": water.address})
    assert r.status_code == 302, r.context["adminform"].form.errors
    water.refresh_from_db()
    assert water.name == "市水务局（改）"
    entry = AuditEntry.objects.get(action="department.change", object_id=str(water.pk))
    assert entry.detail["fields"] == ["name", "phone"]

    person = Person.objects.filter(roles__isnull=False).first()
    page = client.get(f"/admin/org/person/{person.pk}/change/")
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    total = person.roles.count()
    r = client.post(f"/admin/org/person/{person.pk}/change/", {
        "name": person.name, "work_phone": "13900000000",
        "user": person.user_id or "", "department": person.department_id or "",
        f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": total,
        f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    assert r.status_code == 302, r.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.work_phone == "13900000000"
    assert AuditEntry.objects.filter(action="person.change", object_id=str(person.pk)).exists()
    assert person.roles.count() == total  # the inline wrote nothing


def test_tokens_are_only_revoked_through_the_action(client: Client, superuser) -> None:
    issued = do_create_token(superuser, label="测试")
    r = client.post("/admin/integration/apitoken/", {
        "action": "revoke_tokens", "_selected_action": [issued.token.pk]})
    assert r.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoke",
                                     object_id=issued.token.prefix).exists()
    r = client.post(f"/admin/integration/apitoken/{issued.token.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403 and ApiToken.objects.filter(pk=issued.token.pk).exists()
