"""Run as a script in a fresh data dir (test_external_systems_migration): migrate to the
schema before external systems became departments, write an external system with a rule,
a case and a subscription pointing at it, migrate to the end, print what they point at."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

BEFORE = [("org", "0001_initial"), ("cases", "0007_case_follow_code"),
          ("integration", "0004_outbox_moves_to_core")]

executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
executor.loader.build_graph()
old = executor.loader.project_state(BEFORE).apps
city = old.get_model("territory", "Grid").objects.create(
    code="430281", name="醴陵市", level=0, kind="city", path="/430281/", boundary=b"",
    min_lng=0, min_lat=0, max_lng=1, max_lat=1, label_lng=0, label_lat=0, qr_token="t")
old.get_model("org", "Department").objects.create(code="water", name="自来水公司",
                                                  kind="department", grid=city)
user = old.get_model("auth", "User").objects.create(username="system:hotline_12345")
system = old.get_model("integration", "ExternalSystem").objects.create(
    code="hotline_12345", name="12345热线", service_user=user)
category = old.get_model("cases", "CaseCategory").objects.create(code="0101", name="暴露垃圾")
rule = old.get_model("cases", "DutyRule").objects.create(category=category, grid=city,
                                                         external_system=system)
case = old.get_model("cases", "Case").objects.create(
    register_no="LL-2026-000001", category=category, grid=city, title="t", channel="external",
    state="dispatched", external_system=system, routed_by=rule)
sub = old.get_model("integration", "Subscription").objects.create(
    name="to-12345", topic="case.*", kind="log", external_system=system)

call_command("migrate", verbosity=0)

from wangge.cases.models import Case, DutyRule  # noqa: E402
from wangge.integration.models import Subscription  # noqa: E402
from wangge.org.models import Department  # noqa: E402

dept = Department.objects.get(code="hotline_12345")
print(json.dumps({
    "kind": dept.kind, "name": dept.name, "grid": dept.grid.code,
    "service_user": dept.service_user.username,
    "rule": DutyRule.objects.get(pk=rule.pk).department.code,
    "case": Case.objects.get(pk=case.pk).department.code,
    "subscription": Subscription.objects.get(pk=sub.pk).external_system.code,
    "water": Department.objects.get(code="water").kind,
}, ensure_ascii=False))
