"""External systems are departments of kind `external` serving the city, each with its own
service user: made (or completed) by do_ensure_external_department, never by turning a line
department into one, and the admin cannot change what the system's tokens depend on."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client

from wangge.core.models import AuditEntry
from wangge.org.actions import RoleError, do_ensure_external_department
from wangge.org.models import Department
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def test_a_new_system_serves_the_city_with_a_service_user_once() -> None:
    dept = do_ensure_external_department("police_110", name="110接处警系统")
    assert dept.kind == Department.Kind.EXTERNAL and dept.is_external
    assert dept.grid == Grid.objects.get(level=0)
    assert dept.service_user.username == "system:police_110"
    assert not dept.service_user.has_usable_password()
    assert AuditEntry.objects.filter(action="department.create", object_id=str(dept.pk)).exists()
    again = do_ensure_external_department("police_110", name="别的名字")
    assert again == dept and again.name == "110接处警系统"  # found, not renamed
    assert get_user_model().objects.filter(username="system:police_110").count() == 1


def test_a_line_department_never_becomes_a_system() -> None:
    with pytest.raises(RoleError) as e:
        do_ensure_external_department("water")
    assert e.value.field == "code"
    assert Department.objects.get(code="water").service_user is None
    with pytest.raises(CommandError, match="--system"):
        call_command("tokens", "create", "--system", "water", stdout=io.StringIO(),
                     stderr=io.StringIO())
    # nor can the database hold a service user on a line department
    water = Department.objects.get(code="water")
    water.service_user = get_user_model().objects.create(username="sneaky")
    with pytest.raises(IntegrityError), transaction.atomic():
        water.save()


def test_a_system_added_in_the_admin_gets_its_service_user_from_the_tokens_command() -> None:
    Department.objects.create(code="gov_hotline", name="政务热线", kind="external",
                              grid=Grid.objects.get(level=0))
    call_command("tokens", "create", "--system", "gov_hotline", stdout=io.StringIO(),
                 stderr=io.StringIO())
    assert Department.objects.get(code="gov_hotline").service_user.username == \
        "system:gov_hotline"


def test_the_admin_keeps_a_systems_code_kind_and_service_user(django_user_model) -> None:
    admin = django_user_model.objects.create_superuser("test-ext-admin", password="x")
    client = Client()
    client.force_login(admin)
    system = Department.objects.get(code="hotline_12345")
    user = system.service_user
    r = client.post(f"/admin/org/department/{system.pk}/change/", {
        "code": "renamed", "name": "12345热线", "kind": "department", "grid": system.grid_id,
        "phone": "", "address": "", "service_user": ""})
    assert r.status_code == 302
    system.refresh_from_db()
    assert (system.code, system.kind, system.service_user) == ("hotline_12345", "external", user)
