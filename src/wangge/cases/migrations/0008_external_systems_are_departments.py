"""Duty rules and cases that pointed at an external system point at its department (kind
`external`, made from it in integration 0005). The columns go in 0009: PostgreSQL refuses
to alter a table in the transaction that updated its rows (pending deferred FK checks)."""

from django.db import migrations


def repoint(apps, schema_editor):
    Department = apps.get_model("org", "Department")
    ExternalSystem = apps.get_model("integration", "ExternalSystem")
    by_system = {s.pk: Department.objects.get(code=s.code).pk
                 for s in ExternalSystem.objects.all()}
    for model in (apps.get_model("cases", "DutyRule"), apps.get_model("cases", "Case")):
        for system, dept in by_system.items():
            model.objects.filter(external_system_id=system).update(department_id=dept)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_case_follow_code"),
        ("integration", "0005_external_systems_become_departments"),
        ("org", "0002_external_departments"),
    ]

    operations = [
        # first, or the rule would have two targets for a moment
        migrations.RemoveConstraint(model_name="dutyrule", name="duty_rule_one_target"),
        migrations.RunPython(repoint, migrations.RunPython.noop),
    ]
