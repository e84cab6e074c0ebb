"""Seed the working-day calendar (every year from 2020 the installed chinesecalendar holds)
and the SLA policies of policies.json, so that every database, the test database included,
has them right after `migrate`. `wangge setup` tops up later package years with the same
helpers (wangge.workcal.actions.seed_defaults)."""

import uuid

from django.db import migrations

# Fields the models have at this migration: later keys in policies.json are left out here
# and arrive through `wangge sla seed --replace`.
POLICY_FIELDS = ("name", "description", "active")
CLOCK_FIELDS = ("code", "name", "amount", "unit", "starts_on", "goal", "warn_fraction",
                "on_breach", "order")


def seed(apps, schema_editor):
    from wangge.workcal import seed as data
    from wangge.workcal.validation import check_policy_rows

    CalendarYear = apps.get_model("workcal", "CalendarYear")
    CalendarDay = apps.get_model("workcal", "CalendarDay")
    CalendarState = apps.get_model("workcal", "CalendarState")
    SlaPolicy = apps.get_model("workcal", "SlaPolicy")
    SlaClock = apps.get_model("workcal", "SlaClock")
    AuditEntry = apps.get_model("core", "AuditEntry")

    present = set(CalendarYear.objects.values_list("year", flat=True))
    years = [y for y in data.package_years() if y not in present]
    if years:
        CalendarDay.objects.bulk_create(
            CalendarDay(date=r.date, is_workday=r.is_workday, kind=r.kind, name=r.name)
            for r in data.package_days(years))
        CalendarYear.objects.bulk_create(
            CalendarYear(year=y, source="package", note=data.package_version(), covered=True)
            for y in years)
        CalendarState.objects.update_or_create(pk=1, defaults={"version": 1,
                                                               "stamp": uuid.uuid4().hex})
    created = []
    for row in check_policy_rows(data.policy_rows()):
        if SlaPolicy.objects.filter(code=row["code"]).exists():
            continue
        policy = SlaPolicy.objects.create(code=row["code"],
                                          **{k: row[k] for k in POLICY_FIELDS})
        SlaClock.objects.bulk_create(
            SlaClock(policy=policy, **{k: c[k] for k in CLOCK_FIELDS if k in c})
            for c in row["clocks"])
        created.append(row["code"])
    if years or created:
        AuditEntry.objects.create(action="workcal.migration_seed", object_type="calendar",
                                  object_id="1", detail={"years": years, "policies": created,
                                                         "package": data.package_version()})


class Migration(migrations.Migration):

    dependencies = [
        ("workcal", "0001_initial"),
        ("core", "0002_idempotencykey"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
